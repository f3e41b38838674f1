"""One date reader for every verb: UK, ISO and Excel dates give the same answers everywhere.

Hand derivations used below:

- Excel serial day numbers count from 1899-12-30: Excel's =DATE(2025,1,1) is 45658, so
  5 Jan 2025 is 45658 + 4 = 45662 and 1 Mar 2025 is 45658 + 31 (Jan) + 28 (Feb) = 45717.
- 5 Jan 2025 -> 1 Mar 2025 is 26 (rest of Jan) + 28 (Feb) + 1 = 55 days.
- Read month first, "05/01/2025" is 1 May and "01/03/2025" is 3 Jan: the order flips, so a
  change of +10 would read as -10 (the bug of issue 13).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes import service, survey
from outcomes._internal import cells
from outcomes._internal.dates import (
    EXCEL_EPOCH,
    dates_or_raise,
    excel_dates,
    read_dates,
    to_timestamp,
)
from outcomes.errors import DataStructureError, InvalidResponsesError, OutcomesError
from outcomes.io import read_table

BASE, FOLLOW = dt.date(2025, 1, 5), dt.date(2025, 3, 1)
WRITTEN = {
    "uk": ("05/01/2025", "01/03/2025"),
    "iso": ("2025-01-05", "2025-03-01"),
    "excel": (45662, 45717),
}


def _serial(d: dt.date) -> int:
    return (pd.Timestamp(d) - EXCEL_EPOCH).days


def test_hand_serials():
    assert (_serial(BASE), _serial(FOLLOW)) == WRITTEN["excel"]


def _via_xlsx(frame: pd.DataFrame, tmp_path, name: str) -> pd.DataFrame:
    """Write the frame cell by cell with openpyxl (dates as bare serial numbers, as Excel keeps
    them) and read it back the way users do."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    path = tmp_path / f"{name}.xlsx"
    wb.save(path)
    return read_table(path)


def _tables(kind: str, build, tmp_path) -> pd.DataFrame:
    b, f = WRITTEN[kind]
    frame = build(b, f)
    if kind == "excel":
        got = _via_xlsx(frame, tmp_path, "t")
        date_cols = [c for c in got.columns if "date" in c]
        assert all(pd.api.types.is_datetime64_any_dtype(got[c]) for c in date_cols)
        return got
    return frame


def _scores(b, f):
    return pd.DataFrame(
        {
            "person_id": ["a", "a"],
            "referral_id": ["r1", "r1"],
            "instrument": "swemwbs",
            "rater": "self",
            "date": [b, f],
            "metric": [10.0, 20.0],
        }
    )


@pytest.mark.parametrize("kind", ["uk", "iso", "excel"])
def test_pair_waves_same_change(kind, tmp_path):
    p = oc.pair_waves(_tables(kind, _scores, tmp_path), scales=["metric"])
    pair = p.pairs.iloc[0]
    assert (pair["pre"], pair["post"], pair["change"]) == (10.0, 20.0, 10.0)
    assert pair["days_between"] == 55.0
    assert pair["date_pre"] == pd.Timestamp(BASE)


def test_pair_waves_month_first_when_asked():
    us = _scores("01/05/2025", "03/01/2025")  # the same days written month first
    p = oc.pair_waves(us, scales=["metric"], dayfirst=False)
    assert p.pairs.iloc[0][["change", "days_between"]].tolist() == [10.0, 55.0]
    # read day first, the same text is 1 May and 3 Jan: the order flips
    flipped = oc.pair_waves(us, scales=["metric"])
    assert flipped.pairs.iloc[0]["change"] == -10.0


@pytest.mark.parametrize("kind", ["uk", "iso", "excel"])
def test_cyp_outcome_metric_same_result(kind, tmp_path):
    b, f = WRITTEN[kind]
    contact2 = {"uk": "12/01/2025", "iso": "2025-01-12", "excel": 45669}[kind]
    discharge = {"uk": "10/03/2025", "iso": "2025-03-10", "excel": 45726}[kind]
    refs = pd.DataFrame(
        {
            "referral_id": ["r1"],
            "age": [12],
            "first_contact_date": [b],
            "second_contact_date": [contact2],
            "discharge_date": [discharge],
        }
    )
    scores = _scores(b, f).assign(metric=[17.43, 21.54])
    if kind == "excel":
        refs = _via_xlsx(refs, tmp_path, "refs")
        scores = _via_xlsx(scores, tmp_path, "scores")
    res = oc.cyp_outcome_metric(scores, refs, period_start="01/01/2025", period_end="2025-12-31")
    row = res.to_frame().set_index("rater").loc["self"]
    assert row[["n_referrals", "n_paired", "n_improvement"]].tolist() == [1, 1, 1]


def _survey(b, f):
    # waves named so that only the dates can order them
    return pd.DataFrame(
        {
            "wave": ["autumn"] * 4 + ["spring"] * 4,
            "date": [b] * 4 + [f] * 4,
            "score": [20, 22, 24, 26, 23, 25, 27, 29],
        }
    )


@pytest.mark.parametrize("kind", ["uk", "iso", "excel"])
def test_survey_same_comparison(kind, tmp_path):
    res = survey.compare_means(_tables(kind, _survey, tmp_path), "score")
    # means 23 (autumn, 5 Jan) -> 26 (spring, 1 Mar): +3
    assert float(res.to_frame().loc[0, "estimate"]) == 3.0


def test_survey_month_first_when_asked():
    us = _survey("01/05/2025", "03/01/2025")
    assert (
        float(survey.compare_means(us, "score", dayfirst=False).to_frame().loc[0, "estimate"])
        == 3.0
    )
    with pytest.raises(OutcomesError, match="follow-up before baseline"):
        survey.compare_means(us, "score", waves=("autumn", "spring"))


def _referrals(b, f):
    return pd.DataFrame(
        {
            "referral_id": ["r1"],
            "person_id": ["a"],
            "referral_date": [b],
            "first_contact_date": [f],
            "accepted": ["yes"],
        }
    )


@pytest.mark.parametrize("kind", ["uk", "iso", "excel"])
def test_service_same_dates_and_wait(kind, tmp_path):
    refs = _tables(kind, _referrals, tmp_path)
    prepared = service.prepare_referrals(refs)
    assert prepared["referral_date"].iloc[0] == pd.Timestamp(BASE)
    assert prepared["first_contact_date"].iloc[0] == pd.Timestamp(FOLLOW)
    w = service.waiting_times(refs, as_of="31/03/2025", stage="first").to_frame()
    assert float(w.loc[0, "median_days"]) == 55.0  # one child, seen on day 55


def test_service_month_first_when_asked():
    us = _referrals("01/05/2025", "03/01/2025")
    w = service.waiting_times(us, as_of="03/31/2025", stage="first", dayfirst=False).to_frame()
    assert float(w.loc[0, "median_days"]) == 55.0


# ------------------------------------------------------------------ bad cells, named
def test_impossible_date_names_row_and_value():
    s = _scores("05/01/2025", "31/02/2025")
    with pytest.raises(InvalidResponsesError, match=r"row 1, column 'date': '31/02/2025'") as e:
        oc.pair_waves(s, scales=["metric"])
    assert e.value.issues[["row", "value"]].values.tolist() == [[1, "31/02/2025"]]
    refs = pd.concat([_referrals("05/01/2025", "01/03/2025")] * 2, ignore_index=True)
    refs.loc[1, ["referral_id", "referral_date"]] = ["r2", "31/02/2025"]
    out = service.prepare_referrals(refs, errors="flag")
    issues = out.attrs["issues"]
    assert issues[["row", "column", "value"]].values.tolist() == [
        [1, "referral_date", "31/02/2025"]
    ]
    assert list(issues.columns) == list(cells.COLUMNS)


def test_mixed_format_column_flags_the_odd_cells():
    s = pd.Series(["2025-01-05", "2025-01-06", "07/01/2025", "2025-01-08"], index=[10, 11, 12, 13])
    got = read_dates(s, column="date")
    assert got.issues[["row", "value"]].values.tolist() == [[12, "07/01/2025"]]
    assert "one date format per column" in got.issues["reason"].iloc[0]
    assert got.values.notna().tolist() == [True, True, False, True]
    with pytest.raises(InvalidResponsesError, match="row 1, column 'date': '07/01/2025'"):
        oc.pair_waves(
            _scores("2025-01-05", "07/01/2025").assign(person_id=["a", "a"]), scales=["metric"]
        )


def test_number_in_a_csv_date_column_is_a_bad_cell_not_nanoseconds(tmp_path):
    path = tmp_path / "s.csv"
    _scores(45662, 45717).to_csv(path, index=False)
    table = read_table(path)
    assert pd.api.types.is_integer_dtype(table["date"])  # CSV: numbers stay numbers
    with pytest.raises(InvalidResponsesError, match="a number, not a date"):
        oc.pair_waves(table, scales=["metric"])
    # when the caller says the numbers come from Excel, they are dates
    got = read_dates(table["date"], excel=True)
    assert got.values.dt.date.tolist() == [BASE, FOLLOW]


def test_excel_cells_formatted_as_dates_and_typed_as_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["person_id", "instrument", "rater", "date", "metric"])
    ws.append(["a", "swemwbs", "self", dt.datetime(2025, 1, 5), 10])  # a real Excel date
    ws.append(["a", "swemwbs", "self", "01/03/2025", 20])  # typed as text
    ws.append(["b", "swemwbs", "self", 45662, 15])  # a bare serial
    ws.append(["b", "swemwbs", "self", 45717, 25])
    wb.save(tmp_path / "mixed.xlsx")
    p = oc.pair_waves(read_table(tmp_path / "mixed.xlsx"), scales=["metric"])
    assert p.pairs[["person_id", "change", "days_between"]].values.tolist() == [
        ["a", 10.0, 55.0],
        ["b", 10.0, 55.0],
    ]


def test_excel_serial_out_of_range_is_left_to_be_reported():
    out = excel_dates(pd.Series([45662, 7], dtype=object))
    assert out.tolist() == [pd.Timestamp(BASE), 7]
    got = read_dates(out)
    assert got.issues["value"].tolist() == [7]


# ------------------------------------------------------------------ time zones
def test_offsets_are_converted_to_uk_local_time():
    s = pd.Series(["2025-06-30T23:30:00+00:00", "2025-01-05T10:00:00+01:00", "2025-03-01T12:00Z"])
    got = read_dates(s).values
    # 23:30 UTC in June is 00:30 BST the next day; 10:00+01:00 in January is 09:00 GMT
    assert got.tolist() == [
        pd.Timestamp("2025-07-01 00:30"),
        pd.Timestamp("2025-01-05 09:00"),
        pd.Timestamp("2025-03-01 12:00"),
    ]
    aware = pd.Series(pd.to_datetime(["2025-06-30 23:30"]).tz_localize("UTC"))
    assert read_dates(aware).values.tolist() == [pd.Timestamp("2025-07-01 00:30")]


def test_zone_and_no_zone_in_one_column_is_refused():
    s = pd.Series(["2025-06-30T23:30:00+00:00", "2025-01-05"], name="date")
    with pytest.raises(DataStructureError, match="column 'date' mixes dates with a time zone"):
        read_dates(s)
    with pytest.raises(DataStructureError, match="time zone"):
        oc.pair_waves(_scores(*s.tolist()), scales=["metric"])


# ------------------------------------------------------------------ parameters
def test_period_start_must_be_a_date():
    with pytest.raises(OutcomesError, match="period_start must be a date.*'yesterday'"):
        to_timestamp("yesterday", "period_start")
    with pytest.raises(OutcomesError, match="period_start"):
        refs = pd.DataFrame(
            {
                "referral_id": ["r1"],
                "age": [12],
                "first_contact_date": ["2025-01-05"],
                "second_contact_date": ["2025-01-12"],
                "discharge_date": ["2025-03-10"],
            }
        )
        oc.cyp_outcome_metric(_scores(*WRITTEN["iso"]), refs, period_start="yesterday")
    with pytest.raises(OutcomesError, match="as_of"):
        service.waiting_times(_referrals(*WRITTEN["iso"]), as_of="soon")
    with pytest.raises(TypeError, match="dayfirst"):
        read_dates(pd.Series(["2025-01-05"]), dayfirst=1)


def test_dates_or_raise_passes_datetimes_through():
    s = pd.Series(pd.to_datetime(["2025-01-05"]))
    assert dates_or_raise(s) is s


# ------------------------------------------------------------------ properties
DAYS = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31))
TIMES = st.times().map(lambda t: t.replace(microsecond=0))


def _write(d: dt.date, how: str):
    """The day written as ``how`` -> (value, read options)."""
    return {
        "iso": (d.isoformat(), {}),
        "iso_time": (f"{d.isoformat()}T00:00:00", {}),
        "uk_slash": (d.strftime("%d/%m/%Y"), {}),
        "uk_dash": (d.strftime("%d-%m-%Y"), {}),
        "uk_dot": (d.strftime("%d.%m.%Y"), {}),
        "uk_unpadded": (f"{d.day}/{d.month}/{d.year}", {}),
        "us_slash": (d.strftime("%m/%d/%Y"), {"dayfirst": False}),
        "month_abbr": (d.strftime("%d %b %Y"), {}),
        "month_name": (d.strftime("%d %B %Y"), {}),
        "excel": (_serial(d), {"excel": True}),
        "excel_text": (str(_serial(d)), {"excel": True}),
        "date_object": (d, {}),
        "datetime_object": (dt.datetime(d.year, d.month, d.day), {}),
        "zoned_uk": (
            dt.datetime(d.year, d.month, d.day, 12, tzinfo=zoneinfo.ZoneInfo("Europe/London")),
            {},
        ),
    }[how]


FORMATS = [
    "iso", "iso_time", "uk_slash", "uk_dash", "uk_dot", "uk_unpadded", "us_slash",
    "month_abbr", "month_name", "excel", "excel_text", "date_object", "datetime_object",
    "zoned_uk",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(days=st.lists(DAYS, min_size=1, max_size=8), how=st.sampled_from(FORMATS))
def test_any_supported_format_reads_back_the_same_day(days, how):
    written = [_write(d, how) for d in days]
    opts = written[0][1]
    s = pd.Series([w for w, _ in written], dtype=object)
    got = read_dates(s, **opts)
    assert got.issues.empty
    assert got.values.dt.date.tolist() == days


@settings(max_examples=200, deadline=None)
@given(day=DAYS, clock=TIMES)
def test_iso_with_time_keeps_the_time(day, clock):
    stamp = dt.datetime.combine(day, clock)
    got = read_dates(pd.Series([stamp.isoformat(sep=" ")])).values.iloc[0]
    assert got == pd.Timestamp(stamp)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=20),
            st.integers(-(10**9), 10**9),
            st.floats(allow_nan=True, allow_infinity=True),
            st.booleans(),
            st.none(),
        ),
        max_size=10,
    )
)
def test_anything_is_a_date_or_a_named_bad_cell(values):
    s = pd.Series(values, dtype=object)
    got = read_dates(s, column="when")
    assert len(got.values) == len(s)
    bad = set(got.issues["row"])
    for i, v in enumerate(values):
        blank = v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""
        if blank:
            assert pd.isna(got.values.iloc[i]) and i not in bad
        else:  # every non-blank cell is read, or reported with its row and value
            assert (i in bad) != pd.notna(got.values.iloc[i])
    assert (got.issues["column"] == "when").all()


# ------------------------------------------------------------------ the report reads dates once
def _report_config(tmp_path, staff_dates=None, **changes):
    import shutil

    import yaml

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    data = tmp_path / "data"
    shutil.copytree(root / "synthetic_data" / "demo", data)
    if staff_dates is not None:
        staff = pd.read_csv(data / "staff_survey.csv")
        staff["date"] = staff_dates(staff["date"])
        staff.to_csv(data / "staff_survey.csv", index=False)
    cfg = yaml.safe_load((root / "examples" / "demo_evaluation.yaml").read_text())
    cfg["data_dir"] = str(data)
    cfg.update(changes)
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_report_reads_uk_dates_as_the_verbs_do(tmp_path):
    from outcomes.report import load_config
    from outcomes.report.inputs import load_inputs

    uk = _report_config(tmp_path, staff_dates=lambda d: pd.to_datetime(d).dt.strftime("%d/%m/%Y"))
    written = pd.read_csv(tmp_path / "data" / "staff_survey.csv")["date"]
    assert written.str.fullmatch(r"\d\d/\d\d/\d{4}").all()  # the file is day-first text
    staff = load_inputs(load_config(uk)).tables["staff_survey"]
    demo = pd.read_csv(
        __import__("pathlib").Path(__file__).resolve().parents[1]
        / "synthetic_data/demo/staff_survey.csv"
    )["date"]
    # read once, as dates, giving back the demo's ISO days
    assert staff["date"].dt.strftime("%Y-%m-%d").tolist() == demo.tolist()


def test_report_lists_bad_dates_before_any_analysis(tmp_path):
    from outcomes.report import ConfigError, load_config
    from outcomes.report.inputs import load_inputs

    def spoil(d):
        d = d.copy()
        d.iloc[4] = "31/02/2026"
        return d

    bad = _report_config(tmp_path, staff_dates=spoil)
    with pytest.raises(ConfigError, match=r"staff_survey: 1 cell\(s\) that are not dates: row 4"):
        load_inputs(load_config(bad))


_DATE_ALPHABET = "0123456789/-. :TZ+abcJanMy\n\t\u0663\u00a0"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=_DATE_ALPHABET, max_size=22)), max_size=12))
def test_date_patterns_match_as_str_fullmatch_does(values):
    """read_dates tests its patterns with Python's re over the distinct values; pandas'
    str.fullmatch / str.contains on arrow strings (what it used before) give the same cells."""
    from outcomes._internal import dates as d

    txt = pd.Series(values, dtype="string").str.strip()
    arr = txt.to_numpy(dtype=object, na_value=None)
    for pattern in (d._NUMBER, d._ISO, d._NUMERIC, d._NAMED):
        want = txt.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
        assert d._matching(arr, pattern).tolist() == want.tolist(), pattern
    want = txt.str.contains(d._HAS_ZONE).fillna(False).to_numpy(dtype=bool)
    assert d._matching(arr, d._HAS_ZONE, search=True).tolist() == want.tolist()
    assert np.fromiter((v == "" for v in arr), bool, len(arr)).tolist() == (
        (txt == "").fillna(False).to_numpy(dtype=bool).tolist()
    )
