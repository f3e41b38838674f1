"""The generic engine: input shapes, column mapping, errors, flagging and accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import outcomes as oc
from _helpers import frame


def _swem(rows):
    return pd.DataFrame([{f"q{i}": v for i, v in enumerate(r, start=1)} for r in rows])


def test_columns_maps_source_names_and_reports_them():
    df = _swem([[3] * 7, [4] * 7]).rename(columns={"q1": "Q1 optimistic", "q2": "useful"})
    out = oc.score(df, "swemwbs", columns={"Q1 optimistic": "q1", "useful": "q2"})
    assert out["raw"].tolist() == [21, 28]
    assert "Q1 optimistic" not in out.columns  # mapped item columns are not passed through
    df.loc[1, "useful"] = 8
    with pytest.raises(oc.InvalidResponsesError, match="column 'useful': 8"):
        oc.score(df, "swemwbs", columns={"Q1 optimistic": "q1", "useful": "q2"})


def test_bad_column_mappings():
    df = _swem([[3] * 7])
    with pytest.raises(oc.DataStructureError, match=r"source columns not in the data: \['nope'\]"):
        oc.score(df, "swemwbs", columns={"nope": "q1"})
    with pytest.raises(oc.DataStructureError, match=r"not items of swemwbs: \['q9'\]"):
        oc.score(df, "swemwbs", columns={"q1": "q9"})
    df["extra"] = 3
    with pytest.raises(oc.DataStructureError, match="both present as columns and mapped"):
        oc.score(df, "swemwbs", columns={"extra": "q1"})


def test_missing_duplicate_and_empty():
    with pytest.raises(oc.DataStructureError, match=r"missing: \['q7'\]"):
        oc.score(_swem([[3] * 6]), "swemwbs")
    dup = pd.concat([_swem([[3] * 7]), _swem([[3] * 7])[["q1"]]], axis=1)
    with pytest.raises(
        oc.DataStructureError, match=r"duplicate column names in the data: \['q1'\]"
    ):
        oc.score(dup, "swemwbs")
    with pytest.raises(oc.DataStructureError, match="has no rows"):
        oc.score(_swem([[3] * 7]).iloc[:0], "swemwbs")
    with pytest.raises(
        oc.InvalidParameterError, match="parameter 'data' must be a pandas DataFrame"
    ):
        oc.score([[3] * 7], "swemwbs")


def test_text_in_a_numeric_column_and_booleans():
    df = _swem([[3] * 7, [3] * 7, [3] * 7]).astype(object)
    df.loc[1, "q3"] = "three"
    df.loc[2, "q4"] = True
    report = oc.validate(df, "swemwbs")
    assert not report.ok
    got = dict(zip(report.issues["column"], report.issues["reason"], strict=True))
    assert got["q3"].startswith("unknown label")
    assert got["q4"].startswith("wrong type")


def test_numeric_strings_blank_cells_and_floats():
    df = _swem([["3", " 4 ", "", 2.0, 5, 1, 3]])
    out = oc.score(df, "swemwbs")
    assert out.loc[0, "raw_n"] == 6 and np.isnan(out.loc[0, "raw"])
    assert oc.validate(_swem([[3.5] + [3] * 6]), "swemwbs").issues.iloc[0]["value"] == 3.5


def test_pandas_nullable_and_categorical_columns():
    df = _swem([[3] * 7, [4] * 7]).astype("Int64")
    df.loc[0, "q1"] = pd.NA
    assert oc.score(df, "swemwbs")["raw_n"].tolist() == [6, 7]
    cat = _swem([["Often"] * 7]).astype("category")
    assert oc.score(cat, "swemwbs").loc[0, "raw"] == 28


def test_flag_records_every_bad_cell_and_raise_lists_them_all():
    df = _swem([[9] * 7] * 30)
    with pytest.raises(oc.InvalidResponsesError) as err:
        oc.score(df, "swemwbs")
    assert len(err.value.issues) == 210
    assert "and 190 more" in str(err.value)
    out = oc.score(df, "swemwbs", errors="flag")
    assert out["raw"].isna().all() and len(out.attrs["issues"]) == 210
    with pytest.raises(ValueError, match="parameter 'errors'"):
        oc.score(df, "swemwbs", errors="ignore")


def test_validate_report():
    report = oc.validate(_swem([[3] * 7, [3, 3, 3, 3, 3, 3, 6]]), "swemwbs")
    assert not report.ok and report.rows_with_errors == 1
    assert list(report.issues.columns) == ["row", "column", "item", "value", "reason", "severity"]
    assert "1 invalid cell(s) in 1 row(s)" in report.summary()
    assert oc.validate(_swem([[3] * 7]), "swemwbs").ok


def test_duplicate_administrations_are_warned_not_scored_away():
    df = _swem([[3] * 7] * 3)
    df.insert(0, "person_id", ["a", "a", "b"])
    df.insert(1, "date", ["2025-01-01", "2025-01-01", "2025-01-01"])
    out = oc.score(df, "swemwbs")
    assert len(out) == 3
    issues = out.attrs["issues"]
    assert issues["severity"].eq("warning").all() and issues["row"].tolist() == [0, 1]
    assert oc.validate(df, "swemwbs").ok  # warnings do not fail validation


def test_keep_and_passthrough():
    df = _swem([[3] * 7])
    df["person_id"], df["school_id"] = "p1", "s1"
    assert oc.score(df, "swemwbs", keep=["person_id"]).columns.tolist()[:2] == ["person_id", "raw"]
    with pytest.raises(oc.DataStructureError, match="keep= names columns not in the data"):
        oc.score(df, "swemwbs", keep=["nope"])
    with pytest.raises(oc.DataStructureError, match="did you mean 'school_id'"):
        oc.score(df, "swemwbs", keep=["schol_id"])
    with pytest.raises(oc.DataStructureError, match=r"\['Q1'\]; did you mean 'q1'"):
        oc.score(df, "swemwbs", columns={"Q1": "q1"})
    with pytest.raises(
        oc.DataStructureError, match=r"not items of swemwbs: \['q11'\]; did you mean"
    ):
        oc.score(df.rename(columns={"q1": "Q1"}), "swemwbs", columns={"Q1": "q11"})
    df["raw"] = 1
    with pytest.raises(
        oc.DataStructureError, match="already has columns named like swemwbs scores"
    ):
        oc.score(df, "swemwbs")


def test_mixed_labels_and_codes_in_one_column():
    df = frame("sdq_parent", [{"worries": "Certainly true"}, {"worries": 1}, {"worries": "0"}])
    out = oc.score(df, "sdq_parent", errors="flag")
    assert out["emotional_n"].tolist() == [1, 1, 1]


def test_instrument_object_and_path_accepted(tmp_path):
    inst = oc.load_instrument("swemwbs")
    assert oc.score(_swem([[2] * 7]), inst).loc[0, "raw"] == 14
    p = tmp_path / "x.yaml"
    p.write_text(open(inst.path).read())
    assert oc.score(_swem([[2] * 7]), p).loc[0, "metric"] == pytest.approx(15.32)  # raw 14


def test_item_codes_resolve_labels_and_missing():
    df = pd.DataFrame(
        {f"q{i}": ["Certainly true", "partly true", "Don't know", 0] for i in range(1, 13)}
    )
    codes = oc.item_codes(df, "chi_esq_parent")
    assert codes["q1"].tolist()[:2] == [2.0, 1.0]
    assert np.isnan(codes.loc[2, "q1"]) and codes.loc[3, "q1"] == 0
    mhsds = pd.DataFrame({f"q{i}": [1, 3] for i in range(1, 13)})
    assert oc.item_codes(mhsds, "chi_esq_parent", coding="mhsds")["q5"].tolist() == [2.0, 0.0]
    df.loc[0, "q2"] = "maybe"
    with pytest.raises(oc.InvalidResponsesError, match="maybe"):
        oc.item_codes(df, "chi_esq_parent")
    assert np.isnan(oc.item_codes(df, "chi_esq_parent", errors="flag").loc[0, "q2"])


@pytest.mark.parametrize("cells", [[True, 1, 2], [1, True, 2], [2, 1, True]])
def test_true_is_not_code_one_in_mixed_columns(cells):
    # As dict keys and in pd.unique True equals 1; the engine must still tell them apart.
    df = _swem([[3] * 7] * 3).astype(object)
    df["q1"] = cells
    report = oc.validate(df, "swemwbs")
    assert report.issues["row"].tolist() == [i for i, c in enumerate(cells) if c is True]
    assert report.issues.iloc[0]["reason"].startswith("wrong type")
    out = oc.score(df, "swemwbs", errors="flag")
    assert out["raw_n"].tolist() == [6 if c is True else 7 for c in cells]


def test_score_tables_concatenate_and_issues_are_shared_not_copied():
    a = oc.score(_swem([[3] * 7, [9] * 7]), "swemwbs", errors="flag")
    b = oc.score(_swem([[4] * 7]), "swemwbs", errors="flag")
    both = pd.concat([a, b], ignore_index=True)  # attrs holding tables must not break concat
    assert both["raw"].tolist()[::2] == [21, 28]
    assert isinstance(a.attrs["issues"], pd.DataFrame) and len(a.attrs["issues"]) == 7
    assert a["raw"].attrs["issues"] is a.attrs["issues"]
    assert (a.attrs["issues"]["severity"] == "error").all()


def test_item_codes_scored_applies_reverse_keys_and_recodes():
    # obeys is reverse-keyed (2 -> 0); distres is recoded (3 -> 2)
    df = frame("sdq_parent", [{"obeys": 2, "distres": 3}])
    assert oc.item_codes(df, "sdq_parent").loc[0, ["obeys", "distres"]].tolist() == [2.0, 3.0]
    scored = oc.item_codes(df, "sdq_parent", scored=True)
    assert scored.loc[0, ["obeys", "distres"]].tolist() == [0.0, 2.0]


@pytest.mark.parametrize(
    "col",
    [
        pd.Series(["a", None, "b", "c", None], dtype="str"),
        pd.Series(["a", None, "b", "c", None], dtype="string[pyarrow]"),
        pd.Series(["a", None, 2, "c", True], dtype=object),
        pd.Series([1.5, np.nan, 2, 3, 4]),
        pd.Series([1, None, 2, 3, 4], dtype="Int64"),
        pd.Series(pd.Categorical(["x", None, "y", "x", "y"])),
        pd.Series([1, 2, 3, 4, 5], index=[9, 8, 7, 6, 5]),
    ],
    ids=["str", "arrow", "object", "float", "Int64", "category", "index"],
)
def test_issue_values_are_the_cells_as_python_objects(col):
    # the issues table's values: the bad cells only converted, as the whole column would be
    from outcomes.instruments.scoring import _values_at

    pos = np.array([0, 1, 3, 4])
    want = [col.to_numpy(dtype=object)[p] for p in pos]
    got = _values_at(col, pos)
    assert got.dtype == object and len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w) and (g is w or g == w or (g != g and w != w))
