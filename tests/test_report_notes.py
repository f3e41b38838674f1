"""Numbers in the report's notes (data-quality notes, why a part could not be computed): a
count a library message declares goes through the count rule; every other number is published
as written when a message declares it, masked otherwise, and never as another number."""

from __future__ import annotations

import re
import shutil
import string
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes.report.build  # noqa: F401  (every module's messages registered)
from outcomes._internal.quality import NoteTemplate, note_parts
from outcomes.report import Evaluation
from outcomes.report.release import MARKER, Release
from outcomes.report.sections.common import guard
from outcomes.report.sections.quality import release_quality

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"
WHOLE = re.compile(r"(?<!\w)(?<!\d\.)(?:\d{1,3}(?:,\d{3})+|\d+)(?!\w)(?!\.\d)")


def _rule(k: int, rel: Release) -> str:
    """The count rule by hand (threshold 7, base 5 unless given)."""
    if k == 0:
        return MARKER if rel.rule == "mhsds" else "0"
    if k <= rel.threshold:
        return MARKER
    return str(
        max(int(k / rel.base + 0.5) * rel.base, -(-(rel.threshold + 1) // rel.base) * rel.base)
    )


def test_the_brief_s_example_is_never_published_as_other_numbers():
    text = "waves 1 and 2 in 2026; 7 rows; threshold 11; score 40 out of range 0 to 27"
    # the old rule gave 'waves * and * in 2025; * rows; threshold 10; score 40 out of range
    # 0 to 25': a year, a threshold and a range bound published as other numbers
    assert Release().note_text(text) == (
        "waves * and * in *; * rows; threshold *; score * out of range 0 to *"
    )
    declared = NoteTemplate(
        "waves {w0} and {w1} in {year}; {n} rows; threshold {t}; score {s} out of range {lo} "
        "to {hi}", counts=["n"], values=["w0", "w1", "year", "t", "s", "lo", "hi"],
        register=False,
    )  # fmt: skip
    message = declared(w0=1, w1=2, year=2026, n=7, t=11, s=40, lo=0, hi=27)
    assert message == text  # the library user's text is the plain message
    published = "".join(
        _rule(int(p.text), Release()) if p.kind == "count" else p.text
        for p in note_parts(text, [declared])
    )
    assert published == "waves 1 and 2 in 2026; * rows; threshold 11; score 40 out of range 0 to 27"
    big = declared(w0=1, w1=2, year=2026, n=43, t=11, s=40, lo=0, hi=27)
    parts = note_parts(big, [declared])
    assert [p.text for p in parts if p.kind == "count"] == ["43"]  # 45 when released


def _fill(t: NoteTemplate, counts: dict[str, int]) -> dict[str, object]:
    fields = [f for _, f, _, _ in string.Formatter().parse(t.template) if f]
    return {f: counts[f] if f in t.counts else (13 if f in t.values else "x") for f in fields}


@pytest.mark.parametrize("template", NoteTemplate.registry, ids=lambda t: t.template[:40])
@pytest.mark.parametrize("count", [0, 3, 7, 8, 12, 43])
def test_every_library_message_through_the_report_path(template, count):
    # raised as a warning inside an analysis (guard), recorded, and released with the notes
    rel = Release()
    fields = _fill(template, dict.fromkeys(template.counts, count))
    with guard(rel, "part"):
        warnings.warn(template(**fields), UserWarning, stacklevel=2)
    release_quality(None, rel)
    what = rel.get("quality_notes").frame.iloc[0]["what"]
    want = template.template.format(
        **{f: _rule(count, rel) if f in template.counts else v for f, v in fields.items()}
    )
    assert what == want
    if template.values:
        assert "13" in what  # a declared number that is not a count, as written


def test_an_error_s_note_declares_its_numbers_too():
    rel = Release()
    from outcomes.economics.per_outcome import _TOO_FEW

    with guard(rel, "costs"):
        raise ValueError(f"{_TOO_FEW(k=12)}; 3 children given")
    assert rel.failures["costs"] == [
        "ValueError: cost_per_outcome needs outcome data for at least 12 children; * children given"
    ]


@pytest.fixture(scope="module")
def demo_notes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notes")
    data = tmp / "data"
    shutil.copytree(ROOT / "synthetic_data/demo", data)
    h = pd.read_csv(data / "responses_honosca.csv")
    # planted duplicates: the pairing warning (a count of record x scale entries)
    pd.concat([h, h.iloc[[0, 1, 2]]], ignore_index=True).to_csv(
        data / "responses_honosca.csv", index=False
    )
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    ev = Evaluation.from_config(cfg, tmp / "out")
    return ev.release.get("quality_notes").frame


def test_the_demo_s_notes_publish_its_numbers_as_they_are(demo_notes):
    what = demo_notes["what"].tolist()
    # the staff survey's need of 8 answered items and the primary survey's 16 schools (the old
    # rule published 10 and 15); the counts of respondents by the count rule
    assert "15 respondent(s) answered fewer than 8 items: no confidence score" in what
    assert any(w.startswith("only 16 schools: cluster-robust SEs") for w in what)
    assert any("near 0.05 with caution" in w for w in what)
    assert "ICC estimate -0.0010 is negative; truncated at 0" in what
    assert "310 response(s) without a partner at the other wave left out" in what
    pairing = [w for w in what if "not paired because of data problems" in w]
    assert pairing and all(re.match(r"(\*|\d*[05]) record x scale", w) for w in pairing)


def _masked(text: str, rel: Release) -> str:
    """Free text as published, by hand: each whole number masked (a 0 kept but under MHSDS)."""
    keep_zero = rel.rule != "mhsds"

    def one(m: re.Match) -> str:
        return m.group(0) if keep_zero and int(m.group(0).replace(",", "")) == 0 else MARKER

    return WHOLE.sub(one, text)


@given(
    pieces=st.lists(
        st.one_of(
            st.tuples(
                st.just("template"),
                st.sampled_from(NoteTemplate.registry),
                st.integers(0, 10_000),
                st.integers(-50, 3000),
            ),
            st.tuples(st.just("free"), st.text(alphabet="ab 0123456789;:.,()", max_size=30)),
        ),  # fmt: skip
        max_size=5,
    ),
    mhsds=st.booleans(),
)
@settings(max_examples=300)
def test_declared_counts_follow_the_rule_and_no_other_number_is_altered(pieces, mhsds):
    rel = Release(rule="mhsds", threshold=4, base=5) if mhsds else Release()
    text, want, free = "", "", ""
    for p in [*pieces, None]:
        if p is not None and p[0] == "free":
            free += p[1]  # (free pieces side by side are one text)
            continue
        # a number no message declares: as written or masked, never another number
        text, want, free = text + free, want + _masked(free, rel), ""
        if p is None:
            break
        _, t, k, v = p
        fields = _fill(t, dict.fromkeys(t.counts, k))
        fields.update(dict.fromkeys(t.values, v))
        text += f" {t(**fields)} "
        # a declared count by the count rule (1..threshold, and 0 under MHSDS, never shown);
        # a declared number that is not a count as written
        shown = {f: _rule(k, rel) if f in t.counts else x for f, x in fields.items()}
        want += f" {t.template.format(**shown)} "
    assert rel.note_text(text) == want
    assert "".join(p.text for p in note_parts(text)) == text  # the pieces are the text
    assert Release(enabled=False).note_text(text) == text
