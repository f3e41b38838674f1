"""Importing exports: bad input gets clear errors naming what was found; every column, cell and
row is accounted for in the mapping report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import outcomes as oc
import outcomes.forms as forms


def swemwbs_rows(n: int = 3, value: str = "Often", prefix: str = "swemwbs_") -> dict:
    return {f"{prefix}q{i}": [value] * n for i in range(1, 8)}


# ----------------------------------------------------------------------------- no match / wrong form
def test_file_with_no_matching_columns_lists_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    pd.DataFrame({"name": ["a"], "colour": ["blue"], "size": [3]}).to_csv(path, index=False)
    with pytest.raises(oc.DataStructureError) as e:
        forms.read_export(path, "honosca")
    msg = str(e.value)
    assert "no column matches an item of honosca" in msg
    assert "['name', 'colour', 'size']" in msg
    assert "honosca_q1" in msg and "columns=" in msg


def test_redcap_export_of_another_form_is_named(tmp_path: Path) -> None:
    export = pd.DataFrame(
        {"record_id": ["1", "2"], **swemwbs_rows(2, "3"), "swemwbs_complete": ["2", "2"]}
    )
    path = tmp_path / "redcap.csv"
    export.to_csv(path, index=False)
    with pytest.raises(oc.DataStructureError) as e:
        forms.read_export(path, "honosca")
    msg = str(e.value)
    assert "REDCap export holds form(s) ['swemwbs'], not 'honosca'" in msg
    assert "swemwbs_q1" in msg


def test_redcap_export_of_a_sibling_version_is_not_taken_for_it() -> None:
    """honosca_parent_q1 is not honosca's q1: the prefix must be the instrument's own."""
    export = pd.DataFrame(
        {
            "record_id": ["1"],
            **{f"honosca_parent_q{i}": ["0"] for i in range(1, 16)},
            "honosca_parent_complete": ["2"],
        }
    )
    with pytest.raises(oc.DataStructureError, match="honosca_parent"):
        forms.read_export(export, "honosca")
    assert len(forms.read_export(export, "honosca_parent")) == 1


def test_missing_required_items_are_listed() -> None:
    raw = pd.DataFrame({"q1": [1], "q2": [2], "extra": ["x"]})
    with pytest.raises(oc.DataStructureError) as e:
        forms.read_export(raw, "swemwbs")
    msg = str(e.value)
    assert "5 required item(s) of swemwbs have no column: ['q3', 'q4', 'q5', 'q6', 'q7']" in msg
    assert "'q1': 'q1'" in msg and "extra" in msg


def test_two_columns_for_one_item_is_an_error() -> None:
    raw = pd.DataFrame({**swemwbs_rows(1, "3", ""), "swemwbs_q1": ["4"]})
    with pytest.raises(oc.DataStructureError, match=r"q1: \['q1', 'swemwbs_q1'\]"):
        forms.read_export(raw, "swemwbs")


def test_empty_export_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("record_id,swemwbs_q1\n")
    with pytest.raises(oc.DataStructureError, match="no data rows"):
        forms.read_export(path, "swemwbs")
    with pytest.raises(oc.OutcomesError, match="no such file"):
        forms.read_export(tmp_path / "nothing.csv", "swemwbs")
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(oc.OutcomesError, match="unsupported file type"):
        forms.read_export(tmp_path / "a.json", "swemwbs")
    with pytest.raises(oc.OutcomesError, match="unknown platform 'surveymonkey'"):
        forms.read_export(path, "swemwbs", platform="surveymonkey")
    (tmp_path / "bad.sav").write_text("not spss")
    with pytest.raises(oc.OutcomesError, match="SPSS"):
        forms.read_export(tmp_path / "bad.sav", "swemwbs")


# ----------------------------------------------------------------------------- cells
def test_unknown_label_is_an_error_listing_value_column_and_answers() -> None:
    raw = pd.DataFrame({"record_id": ["1", "2", "3"], **swemwbs_rows(3, "Often")})
    raw.loc[1, "swemwbs_q3"] = "Sometimes"
    raw.loc[2, "swemwbs_q3"] = "Sometimes"
    with pytest.raises(oc.InvalidResponsesError) as e:
        forms.read_export(raw, "swemwbs")
    msg = str(e.value)
    assert "column 'swemwbs_q3' (item q3): 'Sometimes' in 2 row(s), first row 1" in msg
    assert "unknown label" in msg
    assert "3 = Some of the time" in msg  # the accepted answers
    assert len(e.value.issues) == 2


def test_flag_reads_bad_cells_as_missing_and_reports_them() -> None:
    raw = pd.DataFrame({"record_id": ["1", "2", "3"], **swemwbs_rows(3, "Often")})
    raw.loc[1, "swemwbs_q3"] = "Sometimes"
    raw.loc[2, "swemwbs_q5"] = "7"  # out of range
    df, rep = forms.read_export(raw, "swemwbs", errors="flag", return_report=True)
    assert np.isnan(df.loc[1, "q3"]) and np.isnan(df.loc[2, "q5"])
    assert df.loc[0, "q3"] == 4
    assert rep.unknown_labels.to_dict("records") == [
        {"column": "swemwbs_q3", "item": "q3", "value": "Sometimes", "n": 1}
    ]
    reasons = dict(zip(rep.issues["column"], rep.issues["reason"], strict=True))
    assert reasons["swemwbs_q5"].startswith("out of range")
    assert "2 unreadable cell(s)" in rep.summary()
    assert oc.score(df, "swemwbs")["raw"].isna().tolist() == [False, True, True]


def test_text_and_booleans_in_code_columns() -> None:
    raw = pd.DataFrame({f"q{i}": [1.0, 2.0] for i in range(1, 8)}).astype(object)
    raw.loc[0, "q2"] = "two"
    raw.loc[1, "q4"] = True
    with pytest.raises(oc.InvalidResponsesError) as e:
        forms.read_export(raw, "swemwbs")
    issues = e.value.issues
    assert set(issues["column"]) == {"q2", "q4"}
    assert issues.set_index("column").loc["q4", "reason"].startswith("wrong type")


def test_labels_are_case_and_space_insensitive_and_aliases_work() -> None:
    raw = pd.DataFrame({f"q{i}": ["  strongly AGREE "] for i in range(1, 11)})
    raw["q3"] = ["N/A"]  # alias of 'Not applicable' (9); pandas would read it as missing
    df = forms.read_export(raw, "workforce_confidence")
    assert df["q1"].item() == 5 and df["q3"].item() == 9


def test_alternative_coding_applies_to_numbers_only() -> None:
    raw = pd.DataFrame({f"q{i}": ["1"] for i in range(1, 13)})  # MHSDS 1 = Certainly true
    raw["q2"] = ["Not true"]
    df = forms.read_export(raw, "chi_esq_parent", coding="mhsds")
    assert df["q1"].item() == 2 and df["q2"].item() == 0
    raw["q3"] = ["4"]
    with pytest.raises(oc.InvalidResponsesError, match="not a code of coding 'mhsds'"):
        forms.read_export(raw, "chi_esq_parent", coding="mhsds")
    with pytest.raises(oc.OutcomesError, match="no alternative coding 'nope'"):
        forms.read_export(raw, "chi_esq_parent", coding="nope")


# ----------------------------------------------------------------------------- rows
def test_redcap_rows_of_other_repeating_instruments_are_dropped_with_reason() -> None:
    raw = pd.DataFrame(
        {
            "record_id": ["1", "1", "1"],
            "redcap_repeat_instrument": ["", "swemwbs", "goals"],
            "redcap_repeat_instance": ["", "1", "1"],
            **swemwbs_rows(3, "2"),
        }
    )
    df, rep = forms.read_export(raw, "swemwbs", return_report=True)
    assert rep.platform == "redcap"
    assert df.index.tolist() == [0, 1]
    assert rep.dropped.to_dict("records") == [
        {"row": 2, "reason": "row of another repeating instrument: goals"}
    ]
    assert "1 row(s) dropped" in rep.summary() and "2 kept" in rep.summary()


def _repeating_export() -> pd.DataFrame:
    """A REDCap raw export shaped like REDCap's repeating-instruments example project: the
    form is called "wellbeing" (not "swemwbs"); record 1 also has a "medications" instance."""
    blank = [""] * 7
    answers = {f"swemwbs_q{i}": ["", "4", "3", "", "5", "2", ""] for i in range(1, 8)}
    return pd.DataFrame(
        {
            "record_id": ["1", "1", "1", "2", "2", "2", "1"],
            "redcap_repeat_instrument": [
                "", "wellbeing", "wellbeing", "", "wellbeing", "wellbeing", "medications"
            ],
            "redcap_repeat_instance": ["", "1", "2", "", "1", "2", "1"],
            "age": ["12", "", "", "14", "", "", ""],
            **answers,
            "wellbeing_complete": ["", "2", "2", "", "2", "1", ""],
            "med_name": blank[:6] + ["sertraline"],
            "medications_complete": blank[:6] + ["2"],
        }
    )  # fmt: skip


def test_redcap_repeating_form_named_differently_keeps_its_rows(tmp_path: Path) -> None:
    # issue 13 item 6: this used to keep 0 of 4 rows (all "another repeating instrument")
    path = tmp_path / "repeating.csv"
    _repeating_export().to_csv(path, index=False)
    df, rep = forms.read_export(path, "swemwbs", return_report=True)
    assert rep.platform == "redcap"
    assert df.index.tolist() == [1, 2, 4, 5]
    assert df["q1"].tolist() == [4.0, 3.0, 5.0, 2.0]
    assert df["wellbeing_complete"].tolist() == ["2", "2", "2", "1"]  # carried, not unmatched
    assert "wellbeing_complete" not in rep.unmatched
    assert rep.dropped.to_dict("records") == [
        {"row": 0, "reason": "no answer to any item of swemwbs"},
        {"row": 3, "reason": "no answer to any item of swemwbs"},
        {"row": 6, "reason": "row of another repeating instrument: medications"},
    ]
    assert any("repeating form(s) ['wellbeing']" in n for n in rep.notes)
    assert rep.n_rows_read == len(df) + len(rep.dropped) == 7
    # without dropping empty rows, the base rows stay and the medications row is still dropped
    df, rep = forms.read_export(path, "swemwbs", return_report=True, drop_empty=False)
    assert df.index.tolist() == [0, 1, 2, 3, 4, 5]
    assert rep.dropped["row"].tolist() == [6]


def test_redcap_label_export_repeating_form_display_name(tmp_path: Path) -> None:
    raw = _repeating_export().rename(
        columns={"record_id": "Record ID", "redcap_repeat_instrument": "Repeat Instrument"}
    )
    raw["Repeat Instrument"] = raw["Repeat Instrument"].replace(
        {"wellbeing": "Wellbeing Survey", "medications": "Medications"}
    )
    df, rep = forms.read_export(raw, "swemwbs", platform="redcap", return_report=True)
    assert df.index.tolist() == [1, 2, 4, 5]
    assert rep.dropped["reason"].tolist()[-1] == "row of another repeating instrument: Medications"


def test_empty_rows_dropped_or_kept() -> None:
    raw = pd.DataFrame({f"q{i}": ["3", " ", "4"] for i in range(1, 8)})
    df, rep = forms.read_export(raw, "swemwbs", return_report=True)
    assert df.index.tolist() == [0, 2]
    assert rep.dropped["reason"].tolist() == ["no answer to any item of swemwbs"]
    kept = forms.read_export(raw, "swemwbs", drop_empty=False)
    assert len(kept) == 3 and kept.loc[1].drop("instrument").isna().all()


def test_qualtrics_default_tags_are_not_item_ids(tmp_path: Path) -> None:
    """Qualtrics numbers questions Q1, Q2...; Q1 (e.g. consent) must not be read as q1."""
    tags = ["ResponseId", *[f"Q{i}" for i in range(1, 8)]]
    texts = ["Response ID", *[f"Question {i}" for i in range(1, 8)]]
    ids = [json.dumps({"ImportId": t}) for t in tags]
    rows = [texts, ids, ["R_1", *["3"] * 7]]
    path = tmp_path / "q.csv"
    pd.DataFrame(rows, columns=tags).to_csv(path, index=False)
    assert forms.detect_platform(path) == "qualtrics"
    with pytest.raises(oc.DataStructureError, match="no column matches"):
        forms.read_export(path, "swemwbs")
    df = forms.read_export(path, "swemwbs", columns={f"Q{i}": f"q{i}" for i in range(1, 8)})
    assert df["q1"].tolist() == [3.0]


def test_qualtrics_legacy_two_header_rows(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    rows = [[f"Item {i}" for i in range(1, 8)], ["4"] * 7]
    pd.DataFrame(rows, columns=[f"q{i}" for i in range(1, 8)]).to_csv(path, index=False)
    df, rep = forms.read_export(path, "swemwbs", platform="qualtrics", return_report=True)
    assert df["q7"].tolist() == [4.0]
    assert any("legacy" in n for n in rep.notes)


# ----------------------------------------------------------------------------- SPSS
def test_spss_unknown_value_label_is_an_error(tmp_path: Path) -> None:
    df = pd.DataFrame({f"q{i}": [1.0, 2.0] for i in range(1, 8)})
    path = tmp_path / "s.sav"
    labels = {f"q{i}": {1: "None of the time", 2: "Rarely"} for i in range(1, 8)}
    labels["q2"] = {1: "Never", 2: "Rarely"}
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    with pytest.raises(oc.InvalidResponsesError, match="value label 'Never' of code 1"):
        forms.read_export(path, "swemwbs")


def test_spss_codes_without_labels_and_variable_labels(tmp_path: Path) -> None:
    df = pd.DataFrame({f"v{i}": [5.0, 1.0] for i in range(1, 8)})
    path = tmp_path / "s.sav"
    inst = oc.load_instrument("swemwbs")
    pyreadstat.write_sav(
        df, str(path), column_labels={f"v{i}": inst.item(f"q{i}").label for i in range(1, 8)}
    )
    out, rep = forms.read_export(path, "swemwbs", return_report=True)
    assert out["q1"].tolist() == [5.0, 1.0]
    assert rep.columns["matched_by"].str.startswith("question text").all()


# ----------------------------------------------------------------------------- options
def test_person_id_keep_and_report(tmp_path: Path) -> None:
    raw = pd.DataFrame(
        {"record_id": ["007"], "school": ["S1"], "email": ["a@b"], **swemwbs_rows(1, "1")}
    )
    path = tmp_path / "t.csv"
    raw.to_csv(path, index=False)
    df, rep = forms.read_export(
        path,
        "swemwbs",
        platform="table",
        person_id="record_id",
        keep=["school"],
        return_report=True,
    )
    assert list(df.columns) == [
        "person_id",
        "school",
        "instrument",
        *[f"q{i}" for i in range(1, 8)],
    ]
    assert df["person_id"].tolist() == ["007"]  # zeros kept
    assert rep.unmatched == ["email"]
    assert df.attrs["mapping"] is rep
    assert rep.to_frame()["matched_by"].str.startswith("prefixed id").all()
    with pytest.raises(oc.DataStructureError, match="not in the file"):
        forms.read_export(path, "swemwbs", keep=["nope"])
    with pytest.raises(oc.DataStructureError, match="ids that are not items"):
        forms.read_export(path, "swemwbs", columns={"school": "q99"})


def test_text_items_stay_text() -> None:
    raw = pd.DataFrame({f"q{i}": ["Certainly true"] * 2 for i in range(1, 13)})
    raw["good"] = ["kind staff", "  "]
    df = forms.read_export(raw, "chi_esq_parent")
    assert df["good"].tolist()[0] == "kind staff" and pd.isna(df["good"].tolist()[1])


def test_detect_platform() -> None:
    assert forms.detect_platform(pd.DataFrame(columns=["KEY", "SubmissionDate", "g-x"])) == "odk"
    assert forms.detect_platform(pd.DataFrame(columns=["_uuid", "g/x"])) == "odk"
    assert (
        forms.detect_platform(pd.DataFrame(columns=["ID", "Start time", "Completion time", "Q"]))
        == "msforms"
    )
    assert forms.detect_platform(pd.DataFrame(columns=["Record ID", "Q", "Complete?"])) == "redcap"
    assert forms.detect_platform(pd.DataFrame(columns=["person_id", "q1"])) == "table"


def test_plain_excel_table_with_numbers_and_blanks(tmp_path: Path) -> None:
    """Excel stores numbers as numbers: 4 and 4.0 are the same code; a blank is no answer."""
    rows = {f"q{i}": [4, 2.0, None] for i in range(1, 8)}
    rows["person_id"] = ["A1", "A2", "A3"]
    rows["q7"] = [4, 2.0, 5]
    path = tmp_path / "paper.xlsx"
    pd.DataFrame(rows).to_excel(path, index=False)
    df, rep = forms.read_export(path, "swemwbs", return_report=True)
    assert rep.platform == "table" and rep.kept == ["person_id"]
    assert df["q1"].tolist()[:2] == [4.0, 2.0] and np.isnan(df["q1"].iloc[2])
    s = oc.score(df, "swemwbs")
    assert s["raw"].tolist()[:2] == [28.0, 14.0] and np.isnan(s["raw"].iloc[2])


# ----------------------------------------------------------------------------- numbered headers
@pytest.mark.parametrize("style", ["Q{n}. {t}", "{n}) {t}", "Q{n} - {t}", "Question {n}: {t}"])
def test_numbered_question_headers_match_items_by_number(tmp_path: Path, style: str) -> None:
    # issue 13: `forms import` matched 2 of 15 "Q1. ..." headers. The text after the number
    # is a service's own wording (HoNOSCA's is licensed and not in the YAML), so the number
    # decides: "Q7. ..." is item q7.
    headers = [style.format(n=n, t=f"Our wording of scale {n}") for n in range(1, 16)]
    raw = pd.DataFrame([["1"] * 15, ["2"] * 15], columns=headers)
    path = tmp_path / "numbered.csv"
    raw.to_csv(path, index=False)
    df, rep = forms.read_export(path, "honosca", return_report=True)
    assert len(rep.columns) == 15
    assert rep.columns["item"].tolist() == [f"q{n}" for n in range(1, 16)]
    assert (rep.columns["matched_by"] == "question number in the header").all()
    assert df["q15"].tolist() == [1.0, 2.0]


def test_header_text_beats_its_number_and_bare_tags_are_not_numbers() -> None:
    inst = oc.load_instrument("swemwbs")
    raw = pd.DataFrame(
        {
            # numbered, but the text is item q3's short label: the label decides
            f"1. {inst.item('q3').label}": ["4"],
            **{f"Q{n}. something else": ["4"] for n in (1, 2, 4, 5, 6, 7)},
            "Q8": ["4"],  # a bare tag is not a numbered question
            "3.5 score": ["1"],  # a decimal is not a question number
        }
    )
    df, rep = forms.read_export(raw, "swemwbs", return_report=True)
    got = dict(zip(rep.columns["item"], rep.columns["source"], strict=True))
    assert got["q3"] == f"1. {inst.item('q3').label}" and got["q1"] == "Q1. something else"
    assert rep.unmatched == ["Q8", "3.5 score"]


def test_two_headers_with_one_number_are_an_error() -> None:
    raw = pd.DataFrame({"Q1. a": ["4"], "1) b": ["4"], **{f"q{n}": ["4"] for n in range(2, 8)}})
    with pytest.raises(oc.DataStructureError, match="several columns match the same item"):
        forms.read_export(raw, "swemwbs")
