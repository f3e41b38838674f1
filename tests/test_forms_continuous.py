"""Forms for continuous answers (ORS, CORS, SRS: a 10 cm line read to the mm): export as
numbers with range and step checks, import with the same rule as scoring, and describe them in
the codebook and the printable form."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import outcomes as oc
import outcomes.forms as forms


def test_xlsform_decimal_with_constraint_converts(tmp_path: Path) -> None:
    s = forms.xlsform_sheets("ors")["survey"]
    q1 = s[s["name"] == "ors_q1"].iloc[0]
    assert q1["type"] == "decimal"
    assert ". >= 0 and . <= 10" in q1["constraint"] and "div 0.1" in q1["constraint"]
    assert q1["constraint_message"] == "a number from 0 to 10 in steps of 0.1"
    forms.export(["ors", "cors", "sdq_parent"], "xlsform", tmp_path / "pack.xlsx")  # pyxform


def test_redcap_import_reads_marks_and_refuses_off_grid_values() -> None:
    export = pd.DataFrame(
        {
            "record_id": ["1", "2", "3"],
            "ors_q1": ["6.3", "10", "10.55"],
            "ors_q2": ["0", "0.0", "5"],
            "ors_q3": ["7.1", "2", "11"],
            "ors_q4": ["10.0", "3", "5"],
            "ors_complete": ["2", "2", "2"],
        }
    )
    with pytest.raises(oc.InvalidResponsesError, match="10.55"):
        forms.read_export(export, "ors")
    got = forms.read_export(export, "ors", errors="flag")
    scored = oc.score(got, "ors", errors="flag")
    # 6.3 + 0 + 7.1 + 10.0 = 23.4; 10 + 0 + 2 + 3 = 15; row 3 has two bad marks
    assert scored["total"].tolist()[:2] == pytest.approx([23.4, 15.0])
    assert pd.isna(scored["total"].iloc[2])


def test_codebook_and_printable_describe_the_line() -> None:
    cb = forms.codebook("ors")
    assert set(cb["value_label"]) == {"a number from 0 to 10 in steps of 0.1"}
    md = forms.codebook_markdown("ors")
    assert "a number from 0 to 10 in steps of 0.1" in md and "as answered" in md
    html = forms.html_questionnaire("cors")
    assert "in steps of 0.1" in html


def test_score_level_only_instruments_have_no_form() -> None:
    with pytest.raises(forms.FormsError, match="score level only"):
        forms.redcap_dictionary(["phq_9", "yp_core"])
