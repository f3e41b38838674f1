"""The report in three formats (HTML, PDF, Word) from one release, and laid out for people."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html
from typer.testing import CliRunner

import outcomes as oc
from outcomes.errors import InvalidParameterError
from outcomes.report.export import FORMATS, ExportError, parse_formats, pdf_page_count
from outcomes.report.labels import COLUMN_LABELS, column_label, format_value
from outcomes.report.release import NOT_APPLICABLE

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs it in CI)"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (.ci/run installs it in CI)")
    out = tmp_path_factory.mktemp("report")
    html = oc.build_report(DEMO, out, progress=False, formats="html,pdf,docx")
    return html, lxml_html.fromstring(html.read_text(encoding="utf-8"))


def _cells(table) -> list[list[str]]:
    rows = table.xpath("./thead/tr") + table.xpath("./tbody/tr")
    return [[" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")] for tr in rows]


def test_the_word_file_holds_every_section_table_and_figure(built):
    docx = pytest.importorskip("docx")
    html, tree = built
    d = docx.Document(html.with_suffix(".docx"))
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    sections = [" ".join(h.text_content().split()) for h in tree.xpath("//section/h2")]
    assert len(sections) == 15 and headings == sections
    tables = tree.xpath('//table[contains(@class, "oc-table")]')
    assert len(tables) > 20 and len(d.tables) == len(tables)
    for t_html, t_docx in zip(tables, d.tables, strict=True):  # every cell, in order
        assert [[c.text for c in row.cells] for row in t_docx.rows] == _cells(t_html)
    figures = tree.xpath("//figure/img")
    assert len(figures) >= 4 and len(d.inline_shapes) == len(figures)
    captions = {p.text for p in d.paragraphs if p.style.name == "Caption"}
    for cap in tree.xpath("//figcaption|//table/caption"):
        assert " ".join(cap.text_content().split()) in captions


def test_the_pdf_has_the_report_pages(built):
    html, tree = built
    pdf = html.with_suffix(".pdf").read_bytes()
    pages = pdf_page_count(pdf)
    assert pages >= 10  # ten sections, 35 tables and five figures do not fit in fewer
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(html.with_suffix(".pdf"))
    assert len(reader.pages) == pages
    first = reader.pages[0].extract_text()
    assert "Northshire Mental Health Support Teams" in first  # the same title page
    text = " ".join(p.extract_text() for p in reader.pages)
    for h in tree.xpath("//section/h2"):  # every section printed
        assert h.text_content().split()[0] in text


def test_pdf_page_count_reads_the_page_tree():
    # Hand-built: a root /Pages with /Count 3 holding a /Pages child with /Count 2.
    pdf = (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n"
        b"4 0 obj << /Type /Pages /Parent 2 0 R /Kids [5 0 R 6 0 R] /Count 2 >> endobj\n"
    )
    assert pdf_page_count(pdf) == 3
    assert pdf_page_count(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj") == 0  # no tree read
    with pytest.raises(ExportError, match="not a PDF"):
        pdf_page_count(b"<html>")


@given(st.lists(st.sampled_from(FORMATS), min_size=1))
def test_formats_always_include_the_html_in_one_order(asked):
    got = parse_formats(asked)
    assert got[0] == "html" and set(got) == {"html", *asked}
    assert list(got) == [f for f in FORMATS if f in got]
    assert parse_formats(",".join(a.upper() for a in asked)) == got


@given(st.text(min_size=1).filter(lambda s: s.strip().lower() not in FORMATS and "," not in s))
def test_unknown_formats_are_refused(name):
    if not name.strip():
        with pytest.raises(InvalidParameterError, match="empty"):
            parse_formats(name)
        return
    with pytest.raises(InvalidParameterError, match="unknown report format"):
        parse_formats(["html", name])


def test_a_misspelt_format_is_refused_by_the_command_line_before_anything_runs(tmp_path):
    from outcomes.cli import app

    result = CliRunner().invoke(app, ["report", str(DEMO), "-o", str(tmp_path / "r"),
                                      "--format", "html,word"])  # fmt: skip
    assert result.exit_code == 1
    assert "unknown report format 'word'" in result.output
    assert not (tmp_path / "r").exists()


def test_build_report_refuses_formats_that_are_not_text_or_a_list():
    with pytest.raises(InvalidParameterError, match="formats"):
        oc.build_report(DEMO, "build/never", progress=False, formats=3)


@needs_chromium
@pytest.mark.parametrize(
    "width, media",
    [(1024, "screen"), (680, "print")],  # 680 px: A4 less 15 mm margins, at 96 px per inch
)
def test_no_table_is_wider_than_the_page(built, width, media):
    from playwright.sync_api import sync_playwright

    html, _ = built
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.emulate_media(media=media)
        page.goto(html.as_uri())
        widths = page.evaluate(
            """() => {
              const page = document.documentElement.clientWidth;
              const tables = Array.from(document.querySelectorAll('table.oc-table'));
              return {page: page, body: document.documentElement.scrollWidth,
                      tables: tables.map(t => [t.dataset.name, t.getBoundingClientRect().right,
                                                t.scrollWidth, t.clientWidth])};
            }"""
        )
        browser.close()
    assert len(widths["tables"]) > 20 and widths["page"] == width
    too_wide = [t for t in widths["tables"] if t[1] > widths["page"] + 0.5 or t[2] > t[3] + 1]
    assert too_wide == [], too_wide
    assert widths["body"] <= widths["page"]  # nothing scrolls sideways


# ---------------------------------------------------------------------------- for people
def _table_cells(tree, col: str) -> list[str]:
    """The cells under every header whose column name (data-col) is ``col``."""
    out = []
    for table in tree.xpath('//table[contains(@class, "oc-table")]'):
        cols = [th.get("data-col") for th in table.xpath("./thead/tr/th")]
        if col in cols:
            k = cols.index(col)
            out += [" ".join(tr[k].text_content().split()) for tr in table.xpath("./tbody/tr")]
    return out


def test_every_header_is_a_label_not_a_column_name(built):
    _, tree = built
    heads = tree.xpath('//table[contains(@class, "oc-table")]/thead/tr/th')
    assert len(heads) > 200
    unlabelled = {th.get("data-col") for th in heads if th.get("data-col") not in COLUMN_LABELS}
    assert unlabelled == set()
    assert all(th.text_content() == column_label(th.get("data-col")) for th in heads)
    assert "children_seen_1plus" not in "".join(th.text_content() for th in heads)


def test_honosca_scales_are_named_from_the_instrument_yaml(built):
    _, tree = built
    scales = _table_cells(tree, "scale")
    assert "Scale 1: disruptive, antisocial or aggressive behaviour" in scales  # honosca.yaml
    assert not [s for s in scales if re.fullmatch(r"scale_\d+", s)]
    assert "Strengths and Difficulties Questionnaire" in _table_cells(tree, "instrument")


def test_proportions_are_shown_as_percentages(built):
    _, tree = built
    shown = 0
    for col in ("prop_agree", "within_standard", "acceptance_rate", "prevalence", "rate"):
        for cell in _table_cells(tree, col):
            if cell in ("*", NOT_APPLICABLE):
                continue
            assert re.fullmatch(r"\d{1,3}(\.\d)?%", cell), (col, cell)
            shown += 1
    assert shown > 20


def test_waves_follow_the_config_order(built):
    _, tree = built
    for table in tree.xpath('//table[contains(@class, "oc-table")]'):
        cols = [th.get("data-col") for th in table.xpath("./thead/tr/th")]
        if "wave" not in cols:
            continue
        k = cols.index("wave")
        c = cols.index("cohort") if "cohort" in cols else None
        seen: dict[str, list[str]] = {}
        for tr in table.xpath("./tbody/tr"):
            key = tr[c].text_content() if c is not None else ""
            w = tr[k].text_content()
            if not seen.get(key) or seen[key][-1] != w:
                seen.setdefault(key, []).append(w)
        for waves in seen.values():  # the demo configures [baseline, 12m]
            assert waves == sorted(waves, key=["baseline", "12m"].index), (
                table.get("data-name"),
                waves,
            )


def test_every_figure_has_a_title_axis_labels_and_a_caption():
    from matplotlib.figure import Figure as MplFigure

    from outcomes.report.render import Section, figure_gaps

    fig = MplFigure()
    fig._from_release = True
    ax = fig.add_subplot()
    ax.set_xlabel("Month")
    with pytest.raises(ValueError, match="a title, a y-axis label, a caption"):
        Section("x").figure(fig, "")
    ax.set_title("Referrals")
    ax.set_ylabel("Referrals")
    assert figure_gaps(fig, "Referrals by month") == []


def test_a_figure_is_saved_as_matplotlib_tight_would_save_it():
    """The report measures a figure's tight box without matplotlib's unseen first draw: the
    PNG must be the one ``bbox_inches="tight"`` gives, byte for byte (legend placed "best",
    rotated tick labels past the figure's edge, a wrapped title, a label outside the axes)."""
    import io

    from matplotlib.figure import Figure as MplFigure

    from outcomes._internal.drawing import png, save_options

    def drawn():
        fig = MplFigure(figsize=(5, 3))
        ax = fig.add_subplot()
        ax.plot(range(12), [k % 5 for k in range(12)], label="referrals")
        ax.bar(range(12), [k % 3 for k in range(12)], label="decided")
        ax.set_xticks(range(12), [f"month number {k}" for k in range(12)], rotation=45, ha="right")
        ax.set_title("A long title that wraps " * 4, wrap=True)
        ax.set_xlabel("Month")
        ax.set_ylabel("Referrals")
        ax.annotate("outside", (11, 4), xytext=(40, 0), textcoords="offset points")
        ax.legend()
        return fig

    tight = io.BytesIO()
    drawn().savefig(tight, bbox_inches="tight", **save_options())
    assert png(drawn()) == tight.getvalue()


@given(st.floats(0, 1))
def test_a_proportion_is_a_percentage_within_half_a_unit(p):
    text = format_value(p, percent=True)
    assert text.endswith("%")
    digits = 1 if "." in text else 0
    assert abs(float(text[:-1]) - 100 * p) <= 0.5 * 10**-digits + 1e-9


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_a_number_is_rounded_to_two_decimals_at_most(x):
    text = format_value(x).replace(",", "")
    assert abs(float(text) - x) <= max(0.005, abs(x) * 0.0005) + 1e-9


# ---------------------------------------------------------------------------- any kind of site
FAMILY = ROOT / "examples" / "family_pilot.yaml"


def test_the_family_pilot_builds_in_every_format_without_school_sections(tmp_path):
    docx = pytest.importorskip("docx")
    formats = "html,pdf,docx" if CHROMIUM else "html,docx"
    html = oc.build_report(FAMILY, tmp_path / "fam", progress=False, formats=formats)
    text = html.read_text(encoding="utf-8")
    tree = lxml_html.fromstring(text)
    ids = [s.get("id") for s in tree.xpath("//section")]
    assert ids == [
        "executive-summary", "success-measures", "reach", "access", "before-and-after",
        "monitoring-charts", "by-school-and-team", "outcomes", "experience", "equity", "costs",
        "data-quality", "appendix",
    ]  # fmt: skip
    assert "School population" not in text and "Workforce confidence" not in text
    assert (tmp_path / "fam" / "tables" / "reach_by_site.csv").is_file()
    assert not list((tmp_path / "fam" / "tables").glob("*school*"))
    assert _table_cells(tree, "site_id")[:1] == ["CC01"]  # sites, headed "Site"
    assert "could not be shown" not in text
    d = docx.Document(html.with_suffix(".docx"))
    assert [p.text for p in d.paragraphs if p.style.name == "Heading 1"] == [
        " ".join(h.text_content().split()) for h in tree.xpath("//section/h2")
    ]


def _family_cfg(**changes) -> dict:
    import yaml

    cfg = yaml.safe_load(FAMILY.read_text())
    cfg["data_dir"] = str(ROOT / "synthetic_data" / "family_pilot")
    cfg.update(changes)
    return cfg


def test_an_unknown_site_kind_is_refused_with_a_suggestion():
    from outcomes.report import ConfigError, load_config

    with pytest.raises(ConfigError, match="unknown site kind 'childrens_centre'; did you mean "
                                          "'children_centre'"):  # fmt: skip
        load_config(_family_cfg(site_kind="childrens_centre"))


def test_school_tables_are_refused_for_a_programme_without_schools():
    from outcomes.report import ConfigError, load_config

    cfg = _family_cfg()
    cfg["tables"]["school_survey"] = "school_survey.csv"
    with pytest.raises(ConfigError, match="tables school_survey describe schools"):
        load_config(cfg)


def test_a_programme_without_schools_needs_a_site_column(tmp_path):
    import pandas as pd

    from outcomes.report import ConfigError
    from outcomes.report.inputs import load_inputs

    ref = pd.read_csv(ROOT / "synthetic_data" / "family_pilot" / "referrals.csv")
    ref.rename(columns={"site_id": "centre"}).to_csv(tmp_path / "referrals.csv", index=False)
    cfg = _family_cfg(data_dir=str(tmp_path))
    cfg["tables"] = {"referrals": "referrals.csv"}
    with pytest.raises(ConfigError) as err:
        load_inputs(oc.report.load_config(cfg))
    assert any("required unknown column 'site_id'" in p for p in err.value.problems)


def test_the_committed_family_pilot_is_what_its_command_makes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_family_pilot",
                                                  ROOT / "scripts" / "make_family_pilot.py")  # fmt: skip
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)
    committed = ROOT / "synthetic_data" / "family_pilot"
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in committed.iterdir() if p.suffix == ".csv")
    for name in made:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name


# ---------------------------------------------------------------------------- plain words
#: the statistical and clinical vocabulary a commissioner may not know, listed here apart
#: from the glossary so that a term a section starts to use is caught (word-bounded regexes)
JARGON = (
    r"confidence interval", r"CI", r"Kaplan-Meier", r"median", r"percentile", r"quartile",
    r"censor\w*", r"bootstrap", r"Wilson", r"Newcombe", r"baseline", r"follow-up", r"wave",
    r"cohort", r"rater", r"paired", r"d_z", r"effect size", r"SD", r"standard deviation",
    r"SE", r"standard error", r"reliable change", r"NHS CYP outcomes metric", r"prevalence",
    r"difference in differences", r"cluster-adjusted", r"weighted", r"odds ratio", r"p-value",
    r"regression", r"imputation", r"missing at random", r"sensitivity analysis", r"suppressed",
    r"special cause", r"common cause", r"XmR", r"p-chart", r"assurance", r"funnel",
    r"percentage points", r"SDQ", r"HoNOSCA", r"RCADS", r"PHQ-9", r"GAD-7", r"SWEMWBS", r"GBO",
    r"CHI-ESQ", r"Cohen's d", r"Cramér's V", r"ICC", r"GEE", r"IQR", r"interquartile",
    r"t-test", r"Wilcoxon", r"chi-square", r"hazard", r"Holm", r"logistic",
)  # fmt: skip


def _visible_text(node) -> str:
    return " ".join(node.text_content().split())


def test_every_technical_term_the_report_uses_is_in_its_glossary(built):
    from outcomes.report.sections.scorecard import GLOSSARY

    _, tree = built
    glossary = [li for li in tree.xpath("//section[@id='success-measures']//li")
                if _visible_text(li).split(":")[0] in GLOSSARY]  # fmt: skip
    assert len(glossary) == len(GLOSSARY)  # the whole glossary is in the report
    for li in glossary:
        li.drop_tree()
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    text = _visible_text(tree)
    used = [t for t in JARGON if re.search(rf"(?<![\w-]){t}(?![\w-])", text)]
    assert len(used) > 25, used  # the scan sees the report's vocabulary
    keys = " | ".join(GLOSSARY)
    # a term is explained when a glossary entry is named by it (singular or plural)
    missing = [t for t in used if not re.search(rf"(?<![\w-]){t.rstrip('s')}", keys, re.I)]
    missing = [t for t in missing if t != r"censor\w*" or "censored" not in keys]
    assert missing == [], f"used in the report but not in the glossary: {missing}"


def test_the_executive_summary_and_key_findings_speak_plain_english(built):
    _, tree = built
    summary = _visible_text(tree.xpath("//section[@id='executive-summary']")[0])
    findings = [_visible_text(p) for p in tree.xpath("//section[@id='success-measures']//p")
                if "Key findings" in _visible_text(p)]  # fmt: skip
    for text in [summary, *findings]:
        assert not re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_.]+\b", text), text  # no ids
        for term in ("d_z", "difference in differences", "estimand", "Kaplan-Meier", "p = "):
            assert term not in text, (term, text)
    assert "Emotional problems" in summary or "emotional problems" in summary
    assert "lower scores are better, so this is an improvement" in summary


def test_no_table_caption_or_heading_shows_a_raw_column_name_or_id(built):
    # tables for readers: everything but the data-quality list and the appendix, where the
    # input files and columns are named on purpose so that an analyst can find them
    _, tree = built
    ids = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
    found, seen = [], 0
    for sec in tree.xpath("//section"):
        if sec.get("id") in ("data-quality", "appendix"):
            continue
        for code in sec.xpath(".//code"):  # config keys quoted as such, for the analyst
            code.drop_tree()
        for el in sec.xpath(
            ".//table//th|.//table//td|.//caption|.//figcaption|.//h2|.//h3|.//p|.//li"
        ):
            seen += 1
            found += [(sec.get("id"), m) for m in ids.findall(_visible_text(el))]
    assert seen > 2000 and found == [], found


def test_every_figure_of_the_demo_has_a_caption_and_alternative_text(built):
    # Section.figure refuses a figure without a title, axis labels and a caption (tested
    # above), so the build finishing says each drawn figure has them; here, the page: each
    # figure is an image with its caption as alternative text and a caption beneath it
    _, tree = built
    figures = tree.xpath("//figure")
    assert len(figures) >= 8
    for f in figures:
        caption = " ".join(f.xpath("./figcaption")[0].text_content().split())
        assert len(caption.split()) >= 5, caption
        assert " ".join(f.xpath("./img/@alt")[0].split()) == caption


def test_the_contents_link_to_every_section_in_order(built):
    _, tree = built
    sections = [s.get("id") for s in tree.xpath("//section")]
    links = [a.get("href").lstrip("#") for a in tree.xpath("//div[@class='oc-title']/nav/a")]
    assert links == sections and "success-measures" in links
