"""Property tests: for any responses, scores stay in range, every row is accounted for, and
row order does not matter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes as oc

ALL = oc.list_instruments()
#: instruments scored from items (score-level-only ones have none; see the scales test below)
INSTRUMENTS = [i for i in ALL if oc.load_instrument(i).coded_items]
#: key columns of norm tables, drawn inside and outside the tables
KEYS = {"age": st.one_of(st.floats(0, 25), st.none()), "sex": st.sampled_from(["M", "f", "X", ""])}


def _answers(rs):
    """Valid answers of a response set: its codes, or marks on a continuous grid."""
    if rs.is_continuous:
        c = rs.continuous
        steps = round((c.max - c.min) / c.step)
        return st.integers(0, steps).map(lambda k: c.min + k * c.step)
    return st.sampled_from(list(rs.valid_codes))


@st.composite
def responses(draw, instrument_id: str, max_rows: int = 25):
    """Item cells drawn from valid codes (or continuous marks), missing codes and blanks, plus
    norm-table key columns where the instrument has them."""
    inst = oc.load_instrument(instrument_id)
    n = draw(st.integers(1, max_rows))
    cols = {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        extra = list(rs.missing_codes) + [np.nan]
        cell = st.one_of(_answers(rs), st.sampled_from(extra))
        cols[it.id] = draw(st.lists(cell, min_size=n, max_size=n))
    for key in sorted({k for sc in inst.scales for k in sc.keys}):
        cols[key] = draw(st.lists(KEYS[key], min_size=n, max_size=n))
    return inst, pd.DataFrame(cols)


@st.composite
def scale_scores(draw, instrument_id: str, max_rows: int = 20):
    """Score-level input: each suppliable scale in range (on its grid), out of range or blank."""
    inst = oc.load_instrument(instrument_id)
    n = draw(st.integers(1, max_rows))
    cols = {}
    for sc in inst.suppliable_scales():
        lo, hi = inst.scale_range(sc.id)
        step = inst.scale_step(sc.id)
        good = (
            st.integers(0, round((hi - lo) / step)).map(lambda k, lo=lo, s=step: lo + k * s)
            if step
            else st.floats(lo, hi)
        )
        bad = st.sampled_from([lo - 1, hi + 0.5, np.inf, np.nan])
        cols[sc.id] = draw(st.lists(st.one_of(good, bad), min_size=n, max_size=n))
    for key in sorted({k for sc in inst.scales for k in sc.keys}):
        cols[key] = draw(st.lists(KEYS[key], min_size=n, max_size=n))
    return inst, pd.DataFrame(cols)


def _check_ranges(inst, out):
    for sc in inst.scales:
        lo, hi = inst.scale_range(sc.id)
        v = out[sc.id].to_numpy(dtype=float)
        ok = np.isnan(v) | ((v >= lo - 1e-9) & (v <= hi + 1e-9))
        assert ok.all(), (inst.id, sc.id, v[~ok])
        n = out[f"{sc.id}_n"].dropna().to_numpy()
        assert (n >= 0).all()
        for col in sc.band_columns():
            # a band exactly where there is a score
            assert (out[col].isna().to_numpy() == np.isnan(v)).all()


@pytest.mark.parametrize("instrument_id", INSTRUMENTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_scores_in_range_and_rows_accounted_for(instrument_id, data):
    inst, df = data.draw(responses(instrument_id))
    out = oc.score(df, inst)
    assert len(out) == len(df) and out.index.equals(df.index)
    _check_ranges(inst, out)


@pytest.mark.parametrize(
    "instrument_id", [i for i in ALL if oc.load_instrument(i).suppliable_scales()]
)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_score_level_input_in_range_and_every_bad_cell_listed(instrument_id, data):
    inst, df = data.draw(scale_scores(instrument_id))
    out = oc.score(df, inst, input="scales", errors="flag")
    assert len(out) == len(df) and out.index.equals(df.index)
    _check_ranges(inst, out)
    issues = out.attrs["issues"]
    errors = issues[issues["severity"] == "error"]
    for sc in inst.suppliable_scales():
        supplied = df[sc.id].to_numpy(dtype=float)
        got = out[sc.id].to_numpy(dtype=float)
        flagged = set(errors.loc[errors["item"] == sc.id, "row"])
        # every supplied value is kept as given, or missing and listed (blanks are neither)
        for i in range(len(df)):
            if np.isnan(supplied[i]):
                assert np.isnan(got[i]) and i not in flagged
            elif i in flagged:
                assert np.isnan(got[i])
            else:
                assert got[i] == supplied[i]


@pytest.mark.parametrize(
    "instrument_id", ["sdq_parent", "honosca", "chi_esq_parent", "rcads_25_self", "ors"]
)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_row_order_does_not_change_results(instrument_id, data):
    inst, df = data.draw(responses(instrument_id))
    order = data.draw(st.permutations(list(range(len(df)))))
    a = oc.score(df, inst)
    b = oc.score(df.iloc[order], inst).loc[a.index]
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.integers(-3, 12),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from(["Often", "rarely", "", "lots", "3", "x"]),
            st.none(),
        ),
        min_size=7,
        max_size=70,
    )
)
def test_flag_mode_accounts_for_every_cell(cells):
    n = len(cells) // 7
    df = pd.DataFrame(
        np.array(cells[: n * 7], dtype=object).reshape(n, 7), columns=[f"q{i}" for i in range(1, 8)]
    )
    out = oc.score(df, "swemwbs", errors="flag")
    issues = out.attrs["issues"]
    report = oc.validate(df, "swemwbs")
    # every row has a result; every bad cell is listed once, by row and column
    assert len(out) == n
    assert len(issues) == len(report.issues)
    assert not issues.duplicated(["row", "column"]).any()
    # a cell counts as answered exactly when it is a valid code or label
    valid = {1, 2, 3, 4, 5}
    labels = {"often": 4, "rarely": 2, "3": 3}

    def answered(v):
        if isinstance(v, str):
            return v.strip().casefold() in labels
        return v is not None and not isinstance(v, bool) and v == v and v in valid

    expected_n = [sum(answered(v) for v in df.iloc[i]) for i in range(n)]
    assert out["raw_n"].tolist() == expected_n
    _check_ranges(oc.load_instrument("swemwbs"), out)


@pytest.mark.parametrize("instrument_id", ["sdq_parent", "honosca", "rcads_25_self"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_labels_score_exactly_as_their_codes(instrument_id, data):
    # Text cells are factorised once per distinct value and gathered by small integer codes;
    # whatever mixture of labels (in any case/spacing), codes written as text, codes, blanks
    # and unreadable text a column holds, each cell must score as the same cell given as a
    # code, and the unreadable ones must be flagged at the same rows.
    inst = oc.load_instrument(instrument_id)
    n = data.draw(st.integers(1, 30))
    as_codes, as_text = {}, {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        label_of = {o.code: o.label for o in rs.options}
        codes = data.draw(
            st.lists(st.sampled_from([*rs.valid_codes, None]), min_size=n, max_size=n)
        )
        styles = data.draw(
            st.lists(
                st.sampled_from(["label", "LABEL", "text", "code", "junk"]), min_size=n, max_size=n
            )
        )
        text, num = [], []
        for c, how in zip(codes, styles, strict=True):
            if c is None or how == "junk":
                text.append("zzz" if how == "junk" else None)
                num.append(np.nan)
            elif how == "code":
                text.append(c)
                num.append(c)
            elif how == "text":
                text.append(f" {c} ")
                num.append(c)
            else:
                lab = label_of[c]
                text.append(f"  {lab.upper()}" if how == "LABEL" else lab)
                num.append(c)
        as_text[it.id] = pd.Series(text, dtype=object)
        as_codes[it.id] = pd.Series(num, dtype=float)
    got = oc.score(pd.DataFrame(as_text), inst, errors="flag")
    want = oc.score(pd.DataFrame(as_codes), inst, errors="flag")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    flagged = got.attrs["issues"]
    junk = sum(int((s == "zzz").sum()) for s in as_text.values())
    assert len(flagged[flagged["reason"].str.startswith("unknown label")]) == junk
