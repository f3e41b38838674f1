"""Issue 13 item 6: every input row of every reader is in the output or in the mapping report
with a reason, and every unreadable cell of a kept row is in the report's issues.

For each platform a generated set of SWEMWBS answers (labels, codes, blanks, junk) is written
in the platform's own file layout (docs: /work/shared/specs/forms.md), with the platform's own
rows that are not responses (REDCap rows of another repeating form, Qualtrics previews), and
read back with ``platform="auto"`` and ``errors="flag"``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes as oc
import outcomes.forms as forms

INST = oc.load_instrument("swemwbs")
ITEMS = [f"q{i}" for i in range(1, 8)]
LABELS = {o.code: o.label for o in INST.response_sets[INST.item("q1").response_set].options}
# text cells: a label, a code, blank, spaces, and two unreadable answers
TEXT_CELLS = ["Often", "rarely", "4", "1", "", "  ", "Sometimes", "7"]
UNREADABLE = {"Sometimes", "7"}
PLATFORMS = ["redcap", "redcap_labels", "odk", "kobo", "qualtrics", "spss", "msforms", "table"]


@st.composite
def exports(draw):
    platform = draw(st.sampled_from(PLATFORMS))
    n = draw(st.integers(1, 8))
    cells = [draw(st.lists(st.sampled_from(TEXT_CELLS), min_size=7, max_size=7)) for _ in range(n)]
    # per row: a response (0), or a row the platform marks as not one (1)
    other = draw(st.lists(st.sampled_from([0, 0, 1]), min_size=n, max_size=n))
    return platform, cells, other


def _blank(c: str) -> bool:
    return not c.strip()


def _write(folder: Path, platform: str, cells: list[list[str]], other: list[int]) -> Path:
    n = len(cells)
    if platform in ("redcap", "redcap_labels"):
        # a row of another repeating form holds none of this form's fields
        rows = [[""] * 7 if o else r for r, o in zip(cells, other, strict=True)]
        form = ["other_form" if o else ("swemwbs" if i % 2 else "") for i, o in enumerate(other)]
        if platform == "redcap":
            df = pd.DataFrame(rows, columns=[f"swemwbs_{q}" for q in ITEMS])
            df.insert(0, "redcap_repeat_instrument", form)
            df.insert(0, "record_id", [str(i + 1) for i in range(n)])
            df["swemwbs_complete"] = "2"
        else:
            df = pd.DataFrame(rows, columns=[INST.item(q).label.capitalize() for q in ITEMS])
            df.insert(0, "Repeat Instrument", [f.replace("_", " ").title() for f in form])
            df.insert(0, "Record ID", [str(i + 1) for i in range(n)])
            df["Complete?"] = "Complete"
        path = folder / "redcap.csv"
        df.to_csv(path, index=False)
    elif platform in ("odk", "kobo"):
        sep, key = ("-", "KEY") if platform == "odk" else ("/", "_uuid")
        df = pd.DataFrame(cells, columns=[f"swemwbs{sep}swemwbs_{q}" for q in ITEMS])
        df.insert(0, key, [f"uuid:{i}" for i in range(n)])
        path = folder / f"{platform}.csv"
        # Kobo's default CSV export uses ';'
        df.to_csv(path, index=False, sep=";" if platform == "kobo" else ",")
    elif platform == "qualtrics":
        tags = ["Status", "ResponseId", *ITEMS]
        texts = ["Response Type", "Response ID", *[INST.item(q).label for q in ITEMS]]
        ids = [json.dumps({"ImportId": t}) for t in tags]
        status = ["Survey Preview" if o else "IP Address" for o in other]
        data = [[s, f"R_{i}", *r] for i, (s, r) in enumerate(zip(status, cells, strict=True))]
        path = folder / "qualtrics.csv"
        pd.DataFrame([texts, ids, *data], columns=tags).to_csv(path, index=False)
    elif platform == "spss":
        # numbers with value labels; "rarely" -> 2, "Often" -> 4; -99 declared user-missing
        as_code = {"Often": 4.0, "rarely": 2.0, "4": 4.0, "1": 1.0, "": np.nan, "  ": np.nan}
        as_code |= {"Sometimes": -99.0, "7": 7.0}
        df = pd.DataFrame([[as_code[c] for c in r] for r in cells], columns=ITEMS)
        path = folder / "export.sav"
        pyreadstat.write_sav(
            df,
            str(path),
            variable_value_labels={q: {float(k): v for k, v in LABELS.items()} for q in ITEMS},
            missing_ranges={q: [-99.0] for q in ITEMS},
        )
    elif platform == "msforms":
        df = pd.DataFrame(cells, columns=[INST.item(q).label for q in ITEMS])
        df.insert(0, "Completion time", "1/5/25 10:04:00")
        df.insert(0, "Start time", "1/5/25 10:00:00")
        df.insert(0, "Id", range(1, n + 1))
        path = folder / "msforms.xlsx"
        df.to_excel(path, index=False)
    else:
        path = folder / "table.csv"
        pd.DataFrame(cells, columns=ITEMS).to_csv(path, index=False)
    return path


def _expected_drops(platform: str, cells, other) -> set[int]:
    out = set()
    for i, (r, o) in enumerate(zip(cells, other, strict=True)):
        marks_other = o and platform in ("redcap", "redcap_labels", "qualtrics")
        # SPSS: -99 is user-missing, so a row of blanks and "Sometimes" answers nothing
        empty = all(_blank(c) or (platform == "spss" and c == "Sometimes") for c in r)
        if marks_other or empty:
            out.add(i)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_every_row_is_kept_or_dropped_with_a_reason(export) -> None:
    platform, cells, other = export
    n = len(cells)
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), platform, cells, other)
        df, rep = forms.read_export(path, "swemwbs", errors="flag", return_report=True)
    expected_platform = platform.split("_")[0].replace("kobo", "odk")
    assert rep.platform == expected_platform
    assert rep.n_rows_read == n
    kept, dropped = set(df.index), set(rep.dropped["row"])
    assert kept.isdisjoint(dropped) and kept | dropped == set(range(n))
    assert rep.dropped["reason"].str.strip().str.len().gt(0).all()
    assert dropped == _expected_drops(platform, cells, other)
    # every unreadable cell of a kept row is listed, and nothing else is
    bad = {
        (i, q)
        for i, r in enumerate(cells)
        if i in kept
        for q, c in zip(ITEMS, r, strict=True)
        if c in UNREADABLE and not (platform == "spss" and c == "Sometimes")
    }
    assert set(zip(rep.issues["row"], rep.issues["item"], strict=True)) == bad
