"""Property tests: input-check steps restructured for speed give what the code they replaced
gave (written out here), on random tables with missing and bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes import service
from outcomes._internal.columns import column_dtypes, one_value_per_cell
from outcomes.errors import DataStructureError
from outcomes.report.checks import _values
from outcomes.report.inputs import _Pass, _with_person_columns
from outcomes.service import DATE_COLUMNS, ISSUE_COLUMNS, prepare_referrals

COLUMN = st.sampled_from(["int", "float", "str", "string", "bool", "boolean", "date", "object"])
LABEL = st.one_of(st.text(min_size=1, max_size=4), st.integers(-3, 3))


def _column(kind: str, n: int, rng: np.random.Generator) -> pd.Series:
    gaps = rng.random(n) < 0.3
    if kind == "int":
        return pd.Series(rng.integers(0, 9, n))
    if kind == "float":
        return pd.Series(np.where(gaps, np.nan, rng.random(n)))
    if kind in ("str", "string"):
        return pd.Series([None if g else f"v{i}" for i, g in enumerate(gaps)], dtype=kind)
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.5)
    if kind == "boolean":
        return pd.Series(pd.array([None if g else bool(i % 2) for i, g in enumerate(gaps)]))
    if kind == "date":
        return pd.Series(pd.to_datetime(np.where(gaps, None, "2025-01-02")))
    return pd.Series([[1], "x", None, 3.5, {"a": 1}][i % 5] for i in range(n))  # object


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(LABEL, COLUMN), min_size=0, max_size=12, unique_by=lambda t: t[0]),
    st.integers(0, 6),
    st.integers(0, 1000),
)
def test_column_dtypes_as_dtypes_to_dict(columns, n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({label: _column(kind, n, rng) for label, kind in columns})
    assert column_dtypes(df) == df.dtypes.to_dict()
    assert list(column_dtypes(df)) == list(df.dtypes.to_dict())


def test_one_value_per_cell_still_finds_containers():
    df = pd.DataFrame({"a": [1, 2], "b": ["x", ["y"]]})
    df.attrs = {"k": {"v": [1]}}
    try:
        one_value_per_cell(df, what="t")
    except Exception as e:  # the message is the check's own
        assert "column 'b' holds a list at row 1" in str(e)
    else:
        raise AssertionError("a list in a cell was not refused")


def _already_checked_before(df: pd.DataFrame, as_of, dayfirst: bool = True) -> bool:
    """service._already_checked as it was: a column taken per dtype asked."""
    if service.CHECKED not in df.attrs:
        return False
    checked_as_of = df.attrs[service.CHECKED]
    if as_of is not None:
        as_of = service._as_date(as_of, "as_of", dayfirst)
        if checked_as_of is None or checked_as_of > as_of:
            return False
    dates_ok = all(
        pd.api.types.is_datetime64_any_dtype(df[c].dtype) for c in DATE_COLUMNS if c in df.columns
    )
    acc_ok = "accepted" not in df.columns or isinstance(df["accepted"].dtype, pd.BooleanDtype)
    return dates_ok and acc_ok and bool(df["referral_id"].is_unique)


REFERRAL = st.tuples(
    st.sampled_from(["R1", "R2", "R3", "R4", None]),
    st.sampled_from(["2025-01-05", "05/02/2025", "31/02/2025", "not a date", None]),
    st.sampled_from(["2025-03-01", "2024-12-01", None]),
    st.sampled_from(["yes", "no", "maybe", None]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(REFERRAL, min_size=1, max_size=8),
    st.sampled_from([None, "2025-02-01", "2026-01-01"]),
    st.sampled_from([None, "2025-01-15", "2026-06-01"]),
    st.sampled_from(["none", "dates as text", "accepted as text", "ids repeated", "no accepted"]),
)
def test_already_checked_as_before(rows, checked_as_of, asked_as_of, change):
    ref = pd.DataFrame(
        rows, columns=["referral_id", "referral_date", "first_contact_date", "accepted"]
    ).assign(person_id="p")
    try:
        checked = prepare_referrals(ref, as_of=checked_as_of, errors="flag")
    except Exception:  # a table this check refuses outright is not what is compared here
        return
    tables = [ref, checked]
    if change == "dates as text" and len(checked):
        tables.append(checked.assign(referral_date=checked["referral_date"].astype(str)))
    elif change == "accepted as text" and len(checked):
        tables.append(checked.assign(accepted=checked["accepted"].astype(object)))
    elif change == "ids repeated" and len(checked):
        tables.append(checked.assign(referral_id="R1"))
    elif change == "no accepted":
        tables.append(checked.drop(columns="accepted"))
    for t in tables:
        assert service._already_checked(t, asked_as_of) == _already_checked_before(t, asked_as_of)


def test_invalid_cells_without_issues_gives_a_fresh_empty_table():
    from outcomes.report.config import load_config

    cfg = load_config("examples/demo_evaluation.yaml")
    run = _Pass(cfg)
    first = run.invalid_cells("t", None)
    pd.testing.assert_frame_equal(first, pd.DataFrame(columns=ISSUE_COLUMNS))
    first.loc[0] = [0] * len(first.columns)  # a caller writing into it changes no later one
    again = run.invalid_cells("t", pd.DataFrame(columns=ISSUE_COLUMNS))
    pd.testing.assert_frame_equal(again, pd.DataFrame(columns=ISSUE_COLUMNS))
    assert not run.problems and not run.cells


DATE_CELL = st.one_of(
    st.dates(min_value=__import__("datetime").date(1, 1, 1)).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2025-02-30", "2025-13-01", "0000-01-01", " 2025-01-05", "2025-01-05 ",
            "٢٠٢٥-٠١-٠٥", "2025-1-5", "05/01/2025", "5 Jan 2025", "2025-01-05T10:00",
            "2025-01-05T10:00Z", "", "not a date", "20250105", "45000",
        ]
    ),
    st.none(),
    st.just(float("nan")),
    st.integers(-5, 50000),
    st.just(pd.Timestamp("2025-03-04")),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(DATE_CELL, min_size=0, max_size=12),
    st.sampled_from([object, "str", "string"]),
    st.booleans(),
)
def test_read_dates_plain_days_as_every_rule(cells, dtype, dayfirst):
    from outcomes._internal import dates

    if dtype is not object:
        cells = [c if c is None or isinstance(c, str) else str(c) for c in cells]
    s = pd.Series(cells, dtype=dtype, index=np.arange(len(cells)) * 3, name="date")
    real = dates._plain_iso_days

    def outcome():
        try:
            got = dates.read_dates(s, column="date", dayfirst=dayfirst)
        except Exception as e:
            return type(e), str(e)
        return got

    new = outcome()
    try:
        dates._plain_iso_days = lambda distinct: None  # every value through every rule
        old = outcome()
    finally:
        dates._plain_iso_days = real
    if not isinstance(old, dates.ParsedDates):  # an error: the same one
        assert new == old
        return
    pd.testing.assert_series_equal(new.values, old.values)
    pd.testing.assert_frame_equal(new.issues, old.issues)


def _keyed_frame_before(keys: pd.DataFrame, added: dict) -> pd.DataFrame:
    """survey's output frames as they were built: the keys, then each column set in turn."""
    out = keys.reset_index(drop=True).copy()
    for c, v in added.items():
        out[c] = v
    return out


SURVEY_ROW = st.tuples(
    st.sampled_from(["programme", "comparison", None]),
    st.sampled_from(["baseline", "12m"]),
    st.sampled_from(["S1", "S2", "S3"]),
    st.one_of(st.none(), st.sampled_from(["close to average", "high", "very high"])),
    st.one_of(st.none(), st.floats(0, 70, allow_nan=False)),
    st.floats(0.5, 2.0),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(SURVEY_ROW, min_size=1, max_size=30),
    st.sampled_from([[], ["cohort"], ["cohort", "wave"], ["wave", "school_id"], ["n"]]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_survey_tables_as_built_column_by_column(rows, by, cluster, weighted, categorical):
    import warnings

    from outcomes import survey

    df = pd.DataFrame(rows, columns=["cohort", "wave", "school_id", "band", "score", "w"])
    df = df.astype({"cohort": "str", "wave": "str", "band": "str"})
    df["n"] = df["wave"]  # a by column named like an output column: replaced where it stands
    if categorical:
        df["cohort"] = pd.Categorical(df["cohort"], categories=["programme", "comparison", "x"])
    kw = {"by": by or None, "cluster": "school_id" if cluster else None}
    if weighted:
        kw["weights"] = "w"
    calls = {
        "prevalence": lambda: survey.prevalence(df, "band", bands=["high", "very high"], **kw),
        "means": lambda: survey.means(df, "score", **kw),
    }
    real = survey._keyed_frame
    for name, call in calls.items():
        got = []
        for build in (real, _keyed_frame_before):
            survey._keyed_frame = build
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got.append(call())
            except Exception as e:
                got.append((type(e), str(e)))
            finally:
                survey._keyed_frame = real
        new, old = got
        if isinstance(old, tuple):
            assert new == old, name
            continue
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        assert list(new.dtypes) == list(old.dtypes) and new.attrs.keys() == old.attrs.keys()
        assert new.columns.dtype == old.columns.dtype


def _comparison_frame_before(data, y, wave, by, cluster, programme, pupil):
    """survey._compare's frame as it was built: a column set at a time."""
    from outcomes.survey import _binary_flag

    frame = pd.DataFrame({"y": y}, index=data.index)
    frame["wave"] = data[wave]
    for b in by:
        frame[b] = data[b]
    frame["cluster"] = pd.factorize(data[cluster])[0] if cluster else 0
    if cluster:
        frame.loc[data[cluster].isna().to_numpy(), "cluster"] = -1
    if programme:
        frame["programme"] = _binary_flag(data, programme)
    if pupil:
        frame[pupil] = data[pupil].to_numpy(dtype=object)
    return frame


@settings(max_examples=150, deadline=None)
@given(
    st.lists(SURVEY_ROW, min_size=1, max_size=20),
    st.sampled_from([[], ["cohort"], ["school_id", "cohort"], ["wave"], ["y"], ["programme"]]),
    st.booleans(),
    st.sampled_from([None, "prog", "prog_bad"]),
    st.sampled_from([None, "pupil", "wave"]),
    st.sampled_from(["range", "repeated", "text"]),
    st.sampled_from(["str", "string", object, "category"]),
)
def test_comparison_frame_as_built_column_by_column(
    rows, by, cluster, programme, pupil, index, dtype
):
    from outcomes.survey import _comparison_frame

    df = pd.DataFrame(rows, columns=["cohort", "wave", "school_id", "band", "score", "w"])
    df = df.astype({"cohort": dtype, "school_id": dtype})
    df["y"] = df["score"]
    df["programme"] = df["cohort"].astype(object) == "programme"
    df["prog"] = (df["w"] > 1).astype(float)
    df["prog_bad"] = df["w"]
    df["pupil"] = [f"P{i % 3}" for i in range(len(df))]
    if index == "repeated":
        df.index = [i % 2 for i in range(len(df))]
    elif index == "text":
        df.index = [f"r{i}" for i in range(len(df))]
    y = df["score"].to_numpy(dtype=float)
    args = (df, y, "wave", by, "school_id" if cluster else None, programme, pupil)
    got = []
    for build in (_comparison_frame, _comparison_frame_before):
        try:
            got.append(build(*args))
        except Exception as e:
            got.append((type(e), str(e)))
    new, old = got
    if isinstance(old, tuple):
        assert new == old
        return
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert new.columns.dtype == old.columns.dtype


def _group_codes_lookup(frame: pd.DataFrame, by: list[str]):
    """survey._group_codes as it was: every row's key looked up in the groupby index."""
    from outcomes.survey import _MISSING_KEY, _nan_safe

    index = frame.groupby(by, observed=False, dropna=False, sort=True).size().index
    keys = index.to_frame(index=False)
    keys.columns = by
    row_id = np.zeros(len(frame), dtype=np.int64)
    key_id = np.zeros(len(keys), dtype=np.int64)
    space = 1
    for c in by:
        if space > 2**31:
            valid = key_id >= 0
            both, seen = pd.factorize(np.concatenate([row_id, key_id[valid]]))
            row_id, key_id[valid], space = both[: len(row_id)], both[len(row_id) :], len(seen)
        codes, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        values = pd.Index([*_nan_safe(uniques), _MISSING_KEY], dtype=object)
        codes = np.where(codes < 0, len(values) - 1, codes)
        at = values.get_indexer(_nan_safe(keys[c].astype(object)))
        row_id = row_id * len(values) + codes
        key_id = np.where((key_id < 0) | (at < 0), -1, key_id * len(values) + at)
        space *= len(values)
    found = pd.Index(key_id[key_id >= 0]).get_indexer(row_id)
    return keys, np.flatnonzero(key_id >= 0)[found].astype(np.int64)


GROUP_CELL = st.one_of(st.none(), st.sampled_from(["a", "b", "B", ""]))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(GROUP_CELL, GROUP_CELL, st.one_of(st.none(), st.integers(0, 3)), st.booleans()),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.sampled_from(["t", "s", "f", "b", "o"]), min_size=1, max_size=3, unique=True),
    st.sampled_from(["range", "text", "repeated"]),
)
def test_group_codes_without_categories_as_looked_up(rows, by, index):
    from outcomes.survey import _group_codes

    t, s_, f, b = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "t": pd.Series(t, dtype="str"),
            "s": pd.Series(s_, dtype="string"),
            "f": [np.nan if v is None else float(v) for v in f],
            "b": list(b),
            "o": pd.Series([v if v is None else (v if i % 2 else len(v)) for i, v in enumerate(t)],
                           dtype=object),
        }
    )  # fmt: skip
    if index == "text":
        frame.index = [f"r{i}" for i in range(len(frame))]
    elif index == "repeated":
        frame.index = [i % 3 for i in range(len(frame))]
    try:
        old = _group_codes_lookup(frame, by)
    except TypeError as e:  # text and numbers in one column cannot be sorted: the same error
        try:
            _group_codes(frame, by)
        except TypeError as e2:
            assert str(e2) == str(e)
            return
        raise
    keys, group = _group_codes(frame, by)
    pd.testing.assert_frame_equal(keys, old[0])
    np.testing.assert_array_equal(group, old[1])
    assert group.dtype == np.int64


def _age_band_before(age: pd.Series) -> pd.Series:
    """report.inputs._age_band as it was: a masked set on an object Series per band."""
    from outcomes.report.inputs import AGE_BANDS

    a = pd.to_numeric(age, errors="coerce")
    out = pd.Series(pd.NA, index=age.index, dtype="object")
    for lo, hi, label in AGE_BANDS:
        out[(a >= lo) & (a < hi)] = label
    return out


AGE = st.one_of(
    st.none(),
    st.integers(-3, 220),
    st.floats(-1, 210),
    st.just(float("nan")),
    st.sampled_from(["12", " 15", "abc", "", "10.99", "16"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(AGE, max_size=15),
    st.sampled_from(["object", "float", "Int64", "str", "bool"]),
    st.booleans(),
)
def test_age_band_as_set_per_band(ages, kind, text_index):
    from outcomes.report.inputs import _age_band

    if kind == "float":
        ages = [np.nan if not isinstance(a, int | float) or a is None else a for a in ages]
    elif kind == "Int64":
        ages = [a if isinstance(a, int) else None for a in ages]
    elif kind == "str":
        ages = [None if a is None else str(a) for a in ages]
    elif kind == "bool":
        ages = [bool(i % 2) for i in range(len(ages))]
    dtype = None if kind in ("object", "bool") else {"float": float}.get(kind, kind)
    s = pd.Series(ages, dtype=object if kind == "object" else dtype)
    if text_index:
        s.index = [f"r{i}" for i in range(len(s))]
    try:
        old = _age_band_before(s)
    except Exception as e:
        try:
            _age_band(s)
        except Exception as e2:
            assert type(e2) is type(e)
            return
        raise
    pd.testing.assert_series_equal(_age_band(s), old)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(GROUP_CELL, st.one_of(st.none(), st.integers(0, 2))), max_size=15),
    st.sampled_from([[], ["t"], ["n", "t"], ["t", "t"], ["c"]]),
    st.booleans(),
    st.integers(0, 2**15),
)
def test_wait_groups_from_the_by_columns_as_from_the_table(rows, by, total, keep_bits):
    """waiting_times groups the kept rows of its by columns, as it grouped the kept rows."""
    from outcomes.service import _group_index

    t, n = zip(*rows, strict=True) if rows else ((), ())
    df = pd.DataFrame(
        {
            "t": pd.Series(t, dtype="str"),
            "n": pd.Series(n, dtype=float),
            "c": pd.Categorical(t, categories=["a", "b", "B", "", "z"]),
            "other": range(len(t)),
        }
    )
    keep = np.array([(keep_bits >> i) & 1 == 1 for i in range(len(df))], dtype=bool)
    old = _group_index(df.loc[keep], by, total)
    new = _group_index(df.loc[keep, list(dict.fromkeys(by))], by, total)
    for a, b in zip(old[:2], new[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(old[2]) == len(new[2])
    for a, b in zip(old[2], new[2], strict=True):
        pd.testing.assert_series_equal(pd.Series(a, dtype=object), pd.Series(b, dtype=object))


def test_one_value_per_cell_with_a_nan_column_name():
    # a dict of dtypes does not find a NaN name (NaN != NaN): it raised KeyError: nan
    fine = pd.DataFrame([[1, 2]], columns=[1.5, np.nan])
    one_value_per_cell(fine)
    bad = pd.DataFrame({"a": [1]})
    bad[np.nan] = [[1, 2]]
    with pytest.raises(DataStructureError, match="column nan holds a list"):
        one_value_per_cell(bad)


CELL = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.sampled_from(
        ["", " ", "a", " a", "a ", "b", "\tb\n", "12m", "A", "\x1ca", "\xa0", "a\u2003"]
    ),
    st.integers(-2, 2),
    st.floats(-2, 2, allow_nan=False),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    cells=st.lists(CELL, max_size=25),
    dtype=st.sampled_from(
        [None, "object", "str", "string", "string[python]", "category", "float", "int"]
    ),
)
def test_distinct_values_from_distinct_cells_as_from_every_cell(cells, dtype):
    """checks._values converts each distinct value once; the text values and their order are
    those of converting and trimming every cell (the code it replaced)."""

    def every_cell(col: pd.Series) -> list[str]:
        txt = col.dropna().astype(str).str.strip()
        return [str(v) for v in pd.unique(txt[txt != ""])]

    if dtype in ("str", "string", "string[python]"):
        cells = [c if c is None or isinstance(c, str) else str(c) for c in cells]
    elif dtype in ("float", "int"):
        cells = [c for c in cells if isinstance(c, (int, float))]
        if dtype == "int":
            cells = [int(c) for c in cells if c == c]
    col = pd.Series(cells, dtype=dtype) if dtype else pd.Series(cells)
    assert _values(col) == every_cell(col)
    # a datetime column's text depends on all its values (days alone when every time is 0:00)
    when = pd.Series(
        pd.to_datetime(["2025-01-01", None, "2025-01-01 10:00", "2025-01-01"], format="ISO8601")
    )
    for dates in (when, when[[0, 1, 3]]):
        assert _values(dates) == every_cell(dates)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    people=st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=12),
    known=st.lists(st.sampled_from(["a", "b", "c", "e"]), unique=True, max_size=4),
    kind=COLUMN,
    seed=st.integers(0, 2**16),
)
def test_person_columns_by_lookup_as_by_join(people, known, kind, seed):
    """Demographics are looked up by person as DataFrame.join on person_id gave them (the code
    it replaced): same values, dtypes (missing people upcast alike), index and attrs."""
    rng = np.random.default_rng(seed)
    sc = pd.DataFrame(
        {"person_id": pd.Series(people, dtype="string"), "score": rng.random(len(people))},
        index=rng.permutation(len(people)) * 3,
    )
    sc.attrs = {"instrument": "x"}
    per_person = pd.DataFrame(
        {"group": _column(kind, len(known), rng), "flag": rng.random(len(known)) < 0.5},
        index=pd.Index(known, dtype="string", name="person_id"),
    )
    got = _with_person_columns(sc, per_person)
    pd.testing.assert_frame_equal(got, sc.join(per_person, on="person_id"), check_exact=True)
    assert got.attrs == sc.attrs
