"""``oc.mhsds.read(folder, engine="duckdb")``: DuckDB reads and checks the files itself and the
metric runs on the tables it holds (issue 19, national scale). The pandas reader is the
reference: both readers must give the same tables, the same problems (table, row, column,
problem) and the same metric, detail tables included.
"""

from __future__ import annotations

import pandas as pd
import pytest

import outcomes as oc
from mhsds_hand import PERIOD, build
from outcomes.errors import DataStructureError
from outcomes.mhsds.reference import BREAKDOWNS
from outcomes.synthetic.mhsds import write_extract


def _problems(ex) -> pd.DataFrame:
    cols = ["table", "column", "row", "problem"]
    p = ex.problems.astype({"row": "int64"})
    return p.sort_values(cols).reset_index(drop=True)[cols]


def _same_readers(folder, period) -> tuple:
    a, b = oc.mhsds.read(folder), oc.mhsds.read(folder, engine="duckdb")
    pd.testing.assert_frame_equal(_problems(a), _problems(b))
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(
            a.tables[name].reset_index(drop=True),
            b.tables[name].reset_index(drop=True),
            check_dtype=False,
            obj=name,
        )
    kw = dict(period_start=period[0], period_end=period[1], convention="nhs")
    ra = oc.cyp_outcome_metric(a, by=list(BREAKDOWNS), **kw)
    rb = oc.cyp_outcome_metric(b, by=list(BREAKDOWNS), **kw)
    pd.testing.assert_frame_equal(ra.to_frame(), rb.to_frame(), check_dtype=False)
    for name in ("referrals", "measures", "unused"):
        pd.testing.assert_frame_equal(
            getattr(ra, name), getattr(rb, name), check_dtype=False, obj=name
        )
    return a, b, ra, rb


def _hand_with_duplicates() -> dict[str, pd.DataFrame]:
    t = build()
    # a duplicate MHS606 key and a duplicate (UniqServReqID, UniqMonthID) referral row
    a = t["MHS606CodedScoreAssessmentRefer"]
    t["MHS606CodedScoreAssessmentRefer"] = pd.concat([a, a.iloc[[2]]], ignore_index=True)
    r = t["MHS101Referral"]
    t["MHS101Referral"] = pd.concat([r, r.iloc[[0]]], ignore_index=True)
    return t


def test_hand_extract_csv_folder(tmp_path):
    t = _hand_with_duplicates()
    write_extract(t, tmp_path, format="csv")
    a, b, ra, rb = _same_readers(tmp_path, PERIOD)
    # the duplicate rows are named by table, row (0-based, as in the file) and key columns
    p = b.problems
    n606 = len(t["MHS606CodedScoreAssessmentRefer"]) - 1
    n101 = len(t["MHS101Referral"]) - 1
    dup = p[p["problem"] == "duplicate key (first row kept)"]
    assert set(zip(dup["table"], dup["row"], dup["column"], strict=True)) == {
        ("MHS606CodedScoreAssessmentRefer", n606, "MHS606UniqID"),
        ("MHS101Referral", n101, "UniqServReqID+UniqMonthID"),
    }
    # hand-derived England counts of tests/test_mhsds.py hold on this path too
    e = rb.to_frame().query("breakdown == 'england' and rater == 'self'").iloc[0]
    assert (e["n_referrals"], e["n_paired"], e["n_improvement"]) == (13, 7, 6)
    # every assessment row is accounted for: first or last of a pair, or unused with a reason
    n_rows = sum(
        len(t[k]) for k in ("MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct")
    )
    m = rb.measures
    used = m["first_id"].notna().sum() + m["last_id"].notna().sum()
    assert used + len(rb.unused) == n_rows


def test_synthetic_parquet_folder(tmp_path):
    from outcomes.synthetic.mhsds import simulate_mhsds

    for k, v in simulate_mhsds(5_000, seed=4).items():
        v.to_parquet(tmp_path / f"{k}.parquet", index=False)
    _same_readers(tmp_path, ("2025-04-01", "2026-03-31"))


def test_details_written_by_the_engine(tmp_path):
    write_extract(build(), tmp_path, format="csv")
    ex = oc.mhsds.read(tmp_path, engine="duckdb")
    res = oc.cyp_outcome_metric(ex, period_start=PERIOD[0], period_end=PERIOD[1])
    res.write_details(tmp_path / "out")
    back = pd.read_csv(tmp_path / "out" / "unused.csv", dtype=str)
    assert len(back) == len(res.unused)
    # two runs on one extract keep their own steps (a cursor each)
    other = oc.cyp_outcome_metric(
        ex, period_start=PERIOD[0], period_end=PERIOD[1], convention="nhs"
    )
    assert len(res.measures) == len(other.measures)
    assert res.convention == "clinical" and other.convention == "nhs"


def test_details_are_written_alike_before_and_after_they_are_looked_at(tmp_path):
    # written from the engine, or from the fetched frames: the same bytes (dates stay dates,
    # booleans true/false, an empty reason "" and a missing value nothing)
    write_extract(build(), tmp_path, format="csv")
    ex = oc.mhsds.read(tmp_path, engine="duckdb")
    res = oc.cyp_outcome_metric(ex, period_start=PERIOD[0], period_end=PERIOD[1])
    res.write_details(tmp_path / "engine")
    _ = res.referrals, res.measures, res.unused
    res.write_details(tmp_path / "frames")
    for name in ("referrals", "measures", "unused"):
        a = (tmp_path / "engine" / f"{name}.csv").read_bytes()
        assert a == (tmp_path / "frames" / f"{name}.csv").read_bytes(), name
    first = (tmp_path / "engine" / "referrals.csv").read_text().splitlines()[1]
    assert ",true," in first or ",false," in first


def test_duckdb_reader_errors(tmp_path):
    t = build()
    with pytest.raises(DataStructureError, match="folder"):
        oc.mhsds.read(t, engine="duckdb")
    write_extract({k: v for k, v in t.items() if k != "MHS201CareContact"}, tmp_path, format="csv")
    with pytest.raises(DataStructureError, match="MHS201CareContact"):
        oc.mhsds.read(tmp_path, engine="duckdb")
    t["MHS201CareContact"].drop(columns=["CareContDate"]).to_csv(
        tmp_path / "MHS201CareContact.csv", index=False
    )
    with pytest.raises(DataStructureError, match="MHS201CareContact.*CareContDate"):
        oc.mhsds.read(tmp_path, engine="duckdb")
    with pytest.raises(ValueError, match="engine"):
        oc.mhsds.read(tmp_path, engine="spark")


def test_duplicates_with_a_missing_person_id(tmp_path):
    """Three copies of one score with no Person_ID (ids 903, 901, 902): by hand, 901 is kept
    (then unused because its person differs from the referral's) and 902, 903 are duplicates;
    the pandas engine agrees. The duplicate step joins on keys that may be missing."""
    from outcomes.mhsds import method

    t = build()
    a = t["MHS606CodedScoreAssessmentRefer"]
    extra = pd.concat([a.iloc[[2]]] * 3, ignore_index=True)
    extra["Person_ID"] = None
    extra["MHS606UniqID"] = ["903", "901", "902"]
    t["MHS606CodedScoreAssessmentRefer"] = pd.concat([a, extra], ignore_index=True)
    write_extract(t, tmp_path, format="csv")
    _, _, ra, rb = _same_readers(tmp_path, PERIOD)
    u = rb.unused.astype({"id": str}).set_index("id")
    assert u.loc[["901", "902", "903"], "reason"].tolist() == [
        method.U_PERSON,
        method.U_DUP,
        method.U_DUP,
    ]


def test_a_folder_whose_path_holds_a_quote(tmp_path):
    # paths reach DuckDB's SQL as quoted texts (_internal.sql.literal): an apostrophe in a
    # folder name is read as part of the name, for the Parquet and the CSV readers alike
    for fmt in ("csv", "parquet"):
        folder = tmp_path / f"O'Brien's {fmt} extract"
        folder.mkdir()
        write_extract(build(), folder, format=fmt)
        _, _, _, rb = _same_readers(folder, PERIOD)
        # and the detail files are written into such a folder by DuckDB's COPY
        out = folder / "Sam's details"
        rb.write_details(out)
        written = pd.read_csv(out / "measures.csv")
        assert len(written) == len(rb.measures)
