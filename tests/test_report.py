"""The 12-month evaluation report, built end to end from the bundled synthetic programme."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest
import yaml

import outcomes as oc
from _report_data import fitting_targets
from outcomes.report import ConfigError, Evaluation, load_config

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"
SECTION_IDS = [
    "executive-summary", "success-measures", "reach", "access", "before-and-after",
    "monitoring-charts", "by-school-and-team", "outcomes", "experience", "workforce",
    "school-population", "equity", "costs", "data-quality", "appendix",
]  # fmt: skip
# Column headers that hold counts of people or records in the published tables (written
# here, independently of the report code, from the report's table layouts).
COUNT_COLUMNS = {
    "received", "decided", "accepted", "not_accepted", "pending", "inappropriate", "referrals",
    "children_referred", "children_seen_1plus", "children_seen_2plus", "n", "n_seen",
    "n_waiting", "n_closed_unseen", "cases", "agree", "certainly_true", "reliable_improvement",
    "recovered", "no_reliable_change", "reliable_deterioration", "paired", "records", "children",
    "cells", "first_contacts", "second_contacts", "discharges", "children_first_seen",
    "waiting_at_end", "n_referrals", "n_paired", "n_improvement", "n_no_change",
    "n_deterioration", "rows", "invalid_cells", "rows_excluded", "n_baseline", "n_followup",
    "with_baseline", "completed", "not_completed", "seen_in_step", "rows_read", "rows_used",
}  # fmt: skip


def report_tables(text: str) -> list[pd.DataFrame]:
    """The report's tables with their column names (kept in each header's data-col) as
    headers, not the labels a reader sees."""
    named = re.sub(r'<th data-col="([^"]*)">.*?</th>', r"<th>\1</th>", text, flags=re.S)
    named = named.replace('class="oc-table oc-wide"', 'class="oc-table"')
    return pd.read_html(io.StringIO(named), attrs={"class": "oc-table"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    html = oc.build_report(DEMO, out, progress=False)
    return out, html, html.read_text(encoding="utf-8")


def test_report_has_every_section_and_no_code(built):
    out, html, text = built
    assert html.name == "12_month_evaluation.html"
    for anchor in SECTION_IDS:
        assert f'id="{anchor}"' in text, anchor
    assert "Northshire Mental Health Support Teams" in text
    assert "ev.reach()" not in text and "jp-InputArea jp-Cell-inputArea" not in text  # no code
    assert "<script src=" not in text and 'src="http' not in text  # nothing from the network
    assert (out / "12_month_evaluation.ipynb").is_file()
    assert (out / "tables" / "reach_by_school.csv").is_file()


def test_figures_are_embedded_images(built):
    _, _, text = built
    pngs = re.findall(r'<img[^>]*src="data:image/png;base64,([^"]+)"', text)
    assert len(pngs) >= 5
    for b64 in pngs:
        img = mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert img.std() > 0  # not a blank canvas


def test_no_published_count_is_between_1_and_7(built):
    _, _, text = built
    tables = report_tables(text)
    assert len(tables) >= 20
    checked = 0
    for t in tables:
        for col in t.columns:
            if str(col) not in COUNT_COLUMNS:
                continue
            values = pd.to_numeric(t[col].astype(str).str.replace(",", ""), errors="coerce")
            small = values[(values >= 1) & (values <= 7)]
            assert small.empty, (col, small.tolist())
            shown = values.dropna()
            assert ((shown % 5) == 0).all(), (col, shown.tolist())
            checked += len(shown)
    assert checked > 200


def test_no_small_count_in_the_prose(built):
    _, _, text = built
    prose = re.sub(r"<table.*?</table>", " ", text, flags=re.S)
    prose = re.sub(r"<[^>]+>", " ", prose)
    for m in re.finditer(
        r"\b(\d+) (?:\w+ )?(?:child|children|referrals?|people|person|staff|pupils?|families|non-completer)",
        prose,
    ):
        assert not 1 <= int(m.group(1)) <= 7, m.group(0)


def test_no_identifiers_in_the_report_or_tables(built):
    out, _, text = built
    ref = pd.read_csv(ROOT / "synthetic_data" / "demo" / "referrals.csv")
    ids = set(ref["person_id"]) | set(ref["referral_id"])
    leaked = [i for i in list(ids)[:500] if i in text]
    assert not leaked
    for csv in (out / "tables").glob("*.csv"):
        body = csv.read_text()
        assert not any(i in body for i in list(ids)[:200]), csv.name


def test_same_inputs_give_the_same_numbers(built, tmp_path):
    out, _, text = built
    ev = Evaluation.from_config(DEMO, tmp_path)
    shown = "".join(section().to_html() for section in ev.all_sections())
    for csv in sorted((out / "tables").glob("*.csv")):
        again = tmp_path / "tables" / csv.name
        assert again.read_text() == csv.read_text(), csv.name
    # The page shows each table as its section rendered it: the build adds nothing, drops
    # nothing and does not re-render (an evaluation built outside the notebook, compared).
    page, direct = report_tables(text), report_tables(shown)
    assert len(page) == len(direct) >= 40
    for a, b in zip(page, direct, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_input_files_are_hashed_in_the_appendix(built):
    _, _, text = built
    import hashlib

    digest = hashlib.sha256((ROOT / "synthetic_data/demo/referrals.csv").read_bytes()).hexdigest()
    assert digest in text
    assert f"outcomes {oc.__version__}" in text


def _config(tmp_path, **changes) -> Path:
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "demo")
    for k, v in changes.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    p = tmp_path / "evaluation.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_every_problem_is_listed_before_any_analysis(tmp_path):
    bad = _config(
        tmp_path,
        tables={
            "referrals": "nope.csv",
            "responses": {"honosca": "responses_gbo.csv", "sdq_x": "a.csv"},
        },
        period={"start": "2026-01-01", "end": "2025-01-01"},
    )
    with pytest.raises(ConfigError) as err:
        oc.build_report(bad, tmp_path / "out", progress=False)
    msg = str(err.value)
    assert "period" in msg and "not after its start" in msg
    assert not (tmp_path / "out" / "12_month_evaluation.html").exists()
    ok_period = _config(
        tmp_path,
        tables={
            "referrals": "nope.csv",
            "responses": {"honosca": "responses_gbo.csv", "sdq_x": "a.csv"},
        },
    )
    with pytest.raises(ConfigError) as err:
        load_and_check(ok_period)
    msg = str(err.value)
    assert "referrals: file not found" in msg
    assert "responses:honosca" in msg and "missing" in msg  # GBO file has no HoNOSCA items
    assert "unknown instrument 'sdq_x'" in msg


def load_and_check(path):
    from outcomes.report.inputs import load_inputs

    return load_inputs(load_config(path))


def test_invalid_cells_stop_the_report_or_are_flagged(tmp_path):
    src = pd.read_csv(ROOT / "synthetic_data/demo/responses_honosca.csv")
    src.loc[3, "q2"] = 6
    data = tmp_path / "data"
    shutil.copytree(ROOT / "synthetic_data/demo", data)
    src.to_csv(data / "responses_honosca.csv", index=False)
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    cfg["tables"]["responses"] = {"honosca": "responses_honosca.csv"}
    cfg["outcomes"]["headline"] = "honosca.total"  # the headline must be among the responses
    fitting_targets(cfg)
    p = tmp_path / "e.yaml"
    p.write_text(yaml.safe_dump(cfg))
    with pytest.raises(
        ConfigError, match=r"responses:honosca: 1 invalid cell\(s\): row 3 column q2 value 6"
    ):
        load_and_check(p)
    cfg["invalid_cells"] = "flag"
    p.write_text(yaml.safe_dump(cfg))
    inputs = load_and_check(p)
    # the flagged cell is counted in the data-quality record and listed (row and column only)
    notes = inputs.quality.to_frame()
    flagged = notes[(notes["where"] == "responses:honosca") & notes["what"].str.contains("invalid")]
    assert flagged["rows"].sum() == 1
    assert inputs.issues[["table", "row", "column"]].values.tolist() == [
        ["responses:honosca", 3, "q2"]
    ]


def test_absent_sections_are_left_out_with_a_note(tmp_path):
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "demo")
    cfg["tables"] = {"referrals": "referrals.csv"}
    fitting_targets(cfg)
    ev = Evaluation.from_config(cfg, tmp_path)
    for method in ("workforce", "school_population", "experience", "outcomes"):
        html = getattr(ev, method)().to_html()
        assert "Left out:" in html
    assert "received" in ev.reach().to_html()


def test_free_text_is_held_back_for_review_unless_quoting_is_switched_on(built, tmp_path):
    out, _, text = built
    esq_text = pd.read_csv(ROOT / "synthetic_data/demo/responses_chi_esq_parent.csv")["good"]
    sample = [t for t in esq_text.dropna().unique() if len(t) > 25][:20]
    assert sample and not any(t in text for t in sample)
    assert (out / "for_review" / "esq_comments.csv").is_file()
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "demo")
    cfg["experience"] = {"quote_free_text": True}
    html = Evaluation.from_config(cfg, tmp_path).experience().to_html()
    assert "Free-text comments (sample)" in html


def test_switching_disclosure_off_is_explicit_and_warned(tmp_path):
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "demo")
    cfg["tables"] = {"referrals": "referrals.csv"}
    fitting_targets(cfg)
    cfg["disclosure"] = {"enabled": False}
    ev = Evaluation.from_config(cfg, tmp_path)
    html = ev.executive_summary().to_html()
    assert "must not be published" in html


def test_report_renders_in_headless_chromium(built, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs it in CI)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, html, _ = built
    artefacts = ROOT / "build" / "test-artefacts"
    artefacts.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri())
        loaded = page.evaluate(
            "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
        )
        sections = page.evaluate("document.querySelectorAll('section.oc-section').length")
        page.screenshot(path=str(artefacts / "report.png"))
        browser.close()
    assert loaded and all(loaded)
    assert sections == len(SECTION_IDS)
    assert errors == []


def test_a_nine_referral_pilot_builds_and_publishes_no_small_number(tmp_path):
    """The whole build (notebook and HTML) of a pilot with 9 referrals in one school."""
    from outcomes.synthetic import simulate_programme

    data = simulate_programme(seed=1, n_schools=1, secondary_share=0.0, pupils_per_primary=120,
                              referral_rate=0.08, truth_mc_size=0)  # fmt: skip
    assert len(data.referrals) == 9
    folder = tmp_path / "data"
    folder.mkdir()
    for name, t in data.tables().items():
        t.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(folder)
    cfg["tables"] = {
        **{n: f"{n}.csv" for n in ("referrals", "schools", "staff_survey")},
        "responses": {k: f"responses_{k}.csv" for k, v in data.responses.items() if len(v)},
    }
    # Every configured reason must occur in the data: the pilot's own reasons, of the demo's.
    present = set(data.referrals["not_accepted_reason"].dropna())
    demo_reasons = cfg["service"]["inappropriate_reasons"]
    cfg["service"]["inappropriate_reasons"] = [r for r in demo_reasons if r in present]
    fitting_targets(cfg)
    html = oc.build_report(cfg, tmp_path / "out", progress=False).read_text(encoding="utf-8")
    for t in report_tables(html):
        for col in t.columns:
            if str(col) in COUNT_COLUMNS:
                values = pd.to_numeric(t[col].astype(str).str.replace(",", ""), errors="coerce")
                assert values[(values >= 1) & (values <= 7)].empty, (col, values.tolist())
    assert "could not be shown" not in html  # every section rendered
