"""The compiled scoring path (slots into packed tables, numba) against the numpy path.

The numpy path is the reference (its numbers are checked by hand-scored rows elsewhere); here
every shipped instrument is scored both ways from cells of every kind - valid codes, missing
codes, blanks, out-of-range and fractional codes, labels, codes written as text, unreadable
text, true/false - and the two results, issues included, must be identical.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes._internal import threads
from outcomes.instruments import _slots, scoring

pytestmark = pytest.mark.skipif(_slots.kernel() is None, reason="numba is not installed")

ALL = oc.list_instruments()
CODED = [i for i in ALL if oc.load_instrument(i).coded_items]
#: instruments the slot path scores (the others - continuous answers - stay on numpy)
SLOTTED = [i for i in CODED if scoring._slot_coders(oc.load_instrument(i), None) is not None]
KEYS = {"age": st.one_of(st.floats(0, 25), st.none()), "sex": st.sampled_from(["M", "f", "X", ""])}


def _score_both(df: pd.DataFrame, inst, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "_engine", "numpy")
        want = oc.score(df, inst, errors="flag", **kw)
        mp.setattr(scoring, "_engine", "kernel")
        got = oc.score(df, inst, errors="flag", **kw)
    return got, want


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_frame_equal(
        got.attrs["issues"].reset_index(drop=True),
        want.attrs["issues"].reset_index(drop=True),
    )


def _cells(rs, kind: str):
    """A strategy of cells of one storage kind for a coded response set."""
    valid, missing = list(rs.valid_codes), list(rs.missing_codes)
    lo, hi = min(valid), max(valid)
    codes = st.sampled_from(valid + missing)
    wrong = st.sampled_from([lo - 1, hi + 1, hi + 100, -128])
    if kind == "int":
        return st.one_of(codes, codes, wrong)
    if kind == "float":
        odd = st.sampled_from([np.nan, np.nan, lo + 0.5, np.inf, -np.inf, 1e300])
        return st.one_of(codes.map(float), odd, wrong.map(float))
    labels = [o.label for o in rs.options] + [o.label for o in rs.missing]
    if kind == "str":  # pandas' Arrow-backed strings: text or null only
        return st.one_of(
            st.sampled_from(labels),
            st.sampled_from(labels).map(lambda s: f"  {s.upper()} "),
            codes.map(str),
            wrong.map(str),
            st.sampled_from(["", "zzz", None, "1.0", "2.5", "Ünïcode"]),
        )
    text = st.one_of(
        st.sampled_from(labels),
        st.sampled_from(labels).map(lambda s: f"  {s.upper()} "),
        codes.map(str),
        wrong.map(str),
        st.sampled_from(["", "zzz", None, "1.0", "2.5"]),
        codes,
        st.sampled_from([True, False]),
    )
    return text


@st.composite
def responses(draw, instrument_id: str, max_rows: int = 30):
    inst = oc.load_instrument(instrument_id)
    n = draw(st.integers(1, max_rows))
    cols = {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        if rs.is_continuous:
            c = rs.continuous
            cell = st.one_of(st.floats(c.min - 1, c.max + 1, allow_nan=False), st.just(np.nan))
            cols[it.id] = pd.Series(draw(st.lists(cell, min_size=n, max_size=n)), dtype=float)
            continue
        if not it.required and draw(st.booleans()):
            continue  # an optional section not collected
        kind = draw(st.sampled_from(["int", "float", "text", "str"]))
        values = draw(st.lists(_cells(rs, kind), min_size=n, max_size=n))
        dtype = {"int": np.int64, "float": float, "text": object, "str": "str"}[kind]
        cols[it.id] = pd.Series(values, dtype=dtype)
    for key in sorted({k for sc in inst.scales for k in sc.keys}):
        cols[key] = draw(st.lists(KEYS[key], min_size=n, max_size=n))
    return inst, pd.DataFrame(cols)


@pytest.mark.parametrize("instrument_id", CODED)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_scores_exactly_as_numpy(instrument_id, data):
    inst, df = data.draw(responses(instrument_id))
    prorate = data.draw(st.sampled_from([None, False]))
    got, want = _score_both(df, inst, prorate=prorate)
    _assert_same(got, want)


@pytest.mark.parametrize("instrument_id", SLOTTED)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_threads_score_exactly_as_one_thread(instrument_id, data):
    # columns encoded side by side and rows split between threads (here on frames of a few
    # rows, which normally stay on one thread): the same scores and issues, in the same order
    inst, df = data.draw(responses(instrument_id, max_rows=40))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "_engine", "kernel")
        mp.setattr(threads, "threads", 1)
        want = oc.score(df, inst, errors="flag")
        mp.setattr(threads, "MIN_ROWS_PER_THREAD", 1)
        mp.setattr(threads, "threads", data.draw(st.integers(2, 5)))
        got = oc.score(df, inst, errors="flag")
    _assert_same(got, want)


@pytest.mark.parametrize("instrument_id", ["chi_esq_parent"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_kernel_alternative_coding_with_labels(instrument_id, data):
    # numbers go through the alternative coding, labels through the set's own codes
    inst = oc.load_instrument(instrument_id)
    coding = sorted(inst.response_sets[inst.coded_items[0].response_set].alternative_codings)[0]
    _, df = data.draw(responses(instrument_id))
    got, want = _score_both(df, inst, coding=coding)
    _assert_same(got, want)


def test_codes_a_hair_off_a_whole_number_are_out_of_range():
    # 3.0000000000000004 - (-1) rounds to 4.0: the kernel must test the value, not v - lo
    cells = [3.0000000000000004, 2.0000000000000004, 0.9999999999999999, 4.0, 9.0, 7.0, np.nan]
    inst = oc.load_instrument("honosca")
    df = pd.DataFrame({it.id: np.array(cells) for it in inst.coded_items})
    for coding in (None, "nocc"):
        got, want = _score_both(df, inst, coding=coding)
        _assert_same(got, want)
        assert len(got.attrs["issues"]) == 3 * len(inst.coded_items) + (coding is None) * 15


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", "a", "ab", "Not true", "Not trug", "Somewhat true"]),
            # equal length, first and last eight bytes, different middle
            st.sampled_from(["12345678-middle-A-87654321", "12345678-middle-B-87654321"]),
            st.text(max_size=30),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_byte_factoriser_agrees_with_pandas(values):
    col = pd.Series(values, dtype="str")
    out = np.empty(len(col), dtype=np.uint8)
    uniques = _slots.arrow_text_codes(col, out)
    codes, want = pd.factorize(col)
    assert uniques == list(want)
    assert out.tolist() == [255 if c < 0 else c for c in codes]


def test_arrow_text_slices_and_many_distinct_values():
    # a sliced Arrow column (its bytes start part-way into the buffers, nulls in the bitmap)
    # and a column with more distinct values than one-byte codes hold (pandas factorises it)
    rng = np.random.default_rng(5)
    labels = ["Not true", "Somewhat true", "Certainly true", None, "", " 2 ", "7", "zzz"]
    items = [it.id for it in oc.load_instrument("sdq_parent").coded_items]
    n = 400
    df = pd.DataFrame(
        {i: pd.Series(rng.choice(np.array(labels, dtype=object), n), dtype="str") for i in items}
    )
    many = items[2]
    df[many] = pd.Series([f"value {i}" for i in range(n)], dtype="str")
    for frame in (df, df.iloc[37:351]):
        got, want = _score_both(frame, "sdq_parent")
        _assert_same(got, want)
    out = np.empty(n, dtype=np.uint8)
    assert _slots.arrow_text_codes(df[many], out) is None
    assert _slots.arrow_text_codes(df[items[0]].iloc[37:], out[: n - 37]) is not None


def _near_miss(label: str) -> str:
    """The label with one byte in its middle changed: same length, same first and last
    eight bytes when it is longer than 16 (what the text kernels compare first)."""
    mid = len(label) // 2
    return label[:mid] + ("#" if label[mid] != "#" else "%") + label[mid + 1 :]


def _arrow_cells(rs):
    labels = [o.label for o in (*rs.options, *rs.missing)]
    codes = [str(c) for c in (*rs.valid_codes, *rs.missing_codes)]
    return st.one_of(
        st.sampled_from(labels),
        st.sampled_from(labels),
        st.sampled_from(labels).map(lambda s: f" {s.lower()}  "),
        st.sampled_from(labels).map(_near_miss),
        st.sampled_from(labels).map(lambda s: s + " and then some more words to pass 32 bytes"),
        st.sampled_from(codes),
        st.sampled_from(["", "zzz", "99", "-1", "2.5", "Ünïcode", None, None]),
        st.text(max_size=40),
    )


@st.composite
def arrow_frames(draw, instrument_id: str):
    """Items as Arrow strings, laid out as Arrow allows: string or large_string, a slice
    (its cells start part-way into the buffers), split into chunks; pandas' ArrowDtype or
    its str dtype."""
    inst = oc.load_instrument(instrument_id)
    n = draw(st.integers(1, 40))
    cols = {}
    for it in inst.coded_items:
        cell = _arrow_cells(inst.response_sets[it.response_set])
        values = draw(st.lists(cell, min_size=n, max_size=n))
        before = draw(st.lists(cell, max_size=3))
        typ = draw(st.sampled_from([pa.string(), pa.large_string()]))
        arr = pa.array(before + values + draw(st.lists(cell, max_size=3)), type=typ)
        arr = arr.slice(len(before), n)
        cuts = sorted(draw(st.sets(st.integers(1, max(1, n - 1)), max_size=3)) | {0, n})
        chunked = pa.chunked_array([arr.slice(a, b - a) for a, b in pairwise(cuts)], type=typ)
        if draw(st.booleans()):
            cols[it.id] = pd.Series(pd.arrays.ArrowExtensionArray(chunked))
        else:
            cols[it.id] = pd.Series(pd.arrays.ArrowStringArray(chunked))
    return pd.DataFrame(cols)


@pytest.mark.parametrize("instrument_id", ["sdq_parent", "honosca", "chi_esq_parent"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arrow_text_straight_to_slots(instrument_id, data):
    # every column takes the one-pass path (a few distinct values each) and scores, bands
    # and issues are those of the numpy path
    df = data.draw(arrow_frames(instrument_id))
    coding = (
        data.draw(st.sampled_from([None, "mhsds"])) if instrument_id == "chi_esq_parent" else None
    )
    taken = []
    direct = scoring._arrow_slots
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "_arrow_slots", lambda *a: taken.append(r := direct(*a)) or r)
        got, want = _score_both(df, instrument_id, coding=coding)
    _assert_same(got, want)
    assert len(taken) == len(df.columns) and all(r is not None for r in taken)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["Not true", "Somewhat true", "Certainly true", None]), min_size=1),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_labels_and_codes_score_alike(answers, typ):
    # the same answers as Arrow labels and as codes (0, 1, 2; blank)
    inst = oc.load_instrument("sdq_parent")
    code = {"Not true": 0.0, "Somewhat true": 1.0, "Certainly true": 2.0, None: np.nan}
    items = [it.id for it in inst.coded_items if it.response_set == "ntc"]
    labels = pd.DataFrame(
        {
            i: pd.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(answers, type=typ)]))
            for i in items
        }
    )
    codes = pd.DataFrame({i: [code[a] for a in answers] for i in items})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "_engine", "kernel")
        got = oc.score(labels, inst, errors="flag")
        want = oc.score(codes, inst, errors="flag")
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_arrow_text_with_more_values_than_spare_positions(monkeypatch):
    # 300 distinct unknown values in one column: past the spare positions the column is
    # factorised through pandas instead, with the same scores and issues
    inst = oc.load_instrument("sdq_parent")
    n = 600
    rng = np.random.default_rng(11)
    labels = np.array(["Not true", "Somewhat true", "Certainly true", None], dtype=object)
    df = pd.DataFrame(
        {it.id: pd.Series(rng.choice(labels, n), dtype="str") for it in inst.coded_items}
    )
    df["kind"] = pd.Series([f"odd {i}" if i % 2 else "Not true" for i in range(n)], dtype="str")
    taken = []
    direct = scoring._arrow_slots
    monkeypatch.setattr(scoring, "_arrow_slots", lambda *a: taken.append(r := direct(*a)) or r)
    got, want = _score_both(df, inst)
    _assert_same(got, want)
    assert sum(r is None for r in taken) == 1
    assert (got.attrs["issues"]["column"] == "kind").sum() == 300


def test_every_instrument_with_listed_codes_takes_the_slot_path():
    # continuous answers (marks on a line) are the only reason to stay on numpy
    for i in CODED:
        inst = oc.load_instrument(i)
        continuous = any(
            inst.response_sets[it.response_set].is_continuous for it in inst.coded_items
        )
        assert (i in SLOTTED) != continuous, i


def test_item_codes_and_validate_agree(monkeypatch):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({f"q{i}": rng.choice([1, 2, 3, 4, 5, 7, -1], 50) for i in range(1, 13)})
    df.iloc[::7, 2] = 9  # CHI-ESQ's own "don't know" code, if any, or an invalid one
    out = {}
    for engine in ("numpy", "kernel"):
        monkeypatch.setattr(scoring, "_engine", engine)
        out[engine] = (
            oc.item_codes(df, "chi_esq_parent", errors="flag"),
            oc.item_codes(df, "chi_esq_parent", errors="flag", scored=True),
            oc.validate(df, "chi_esq_parent").issues,
        )
    for a, b in zip(out["numpy"], out["kernel"], strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_a_hand_scored_row_through_the_kernel(monkeypatch):
    # SDQ parent, emotional items somatic, worries, unhappy, clingy, afraid = 2, 1, blank, 2,
    # 0: four answered (>= 3), sum 5, prorated 5 * 5 / 4 = 6.25, rounded half up -> 6.
    # Conduct: tantrum 1, obeys 0 (reversed -> 2), fights 1, lies blank, steals blank: three
    # answered, sum 4, prorated 4 * 5 / 3 = 6.67 -> 7.
    monkeypatch.setattr(scoring, "_engine", "kernel")
    inst = oc.load_instrument("sdq_parent")
    row = {it.id: 0 for it in inst.coded_items if it.required}
    row.update(somatic=2, worries=1, unhappy=np.nan, clingy=2, afraid=0)
    row.update(tantrum=1, obeys=0, fights=1, lies=np.nan, steals=np.nan)
    out = oc.score(pd.DataFrame([row]), "sdq_parent")
    assert out.loc[0, "emotional"] == 6 and out.loc[0, "emotional_n"] == 4
    assert out.loc[0, "conduct"] == 7 and out.loc[0, "conduct_n"] == 3


def test_small_frames_do_not_import_numba():
    code = (
        "import sys, pandas as pd, outcomes as oc; "
        "oc.score(pd.DataFrame({f'q{i}': [3, 4] for i in range(1, 8)}), 'swemwbs'); "
        "print('numba' in sys.modules)"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": ""},
    )
    assert out.stdout.strip() == "False"


# Scores that are not plain 0..n codes: the kernel sums whole-number scores in integers
# (_slots.PackedItem.int_fields) and others in floats; both must match numpy exactly.
_MIXED_YAML = """
id: kernel_mix
name: Kernel test instrument
version: "1"
respondent: self
licence: {text: test only, embed_wording: false}
citation: test only
sources:
  test: test only
response_sets:
  four:
    options:
      - {code: 0, label: none}
      - {code: 1, label: some}
      - {code: 2, label: more}
      - {code: 3, label: most}
    missing:
      - {code: 9, label: not known}
  wide:
    range: [0, 40]
    missing:
      - {code: 99, label: not known}
  one:
    options:
      - {code: 0, label: given}
  far:
    range: [0, 2]
    missing:
      - {code: 64, label: not known}
items:
  - {id: a1, label: a1, response_set: four}
  - {id: a2, label: a2, response_set: four, reverse: true}
  - {id: a3, label: a3, response_set: four}
  - {id: n1, label: negative, response_set: four, recode: {0: -3, 1: -1, 2: 0, 3: 2}}
  - {id: h1, label: halves, response_set: four, recode: {0: 0, 1: 0.5, 2: 1.5, 3: 2.5}}
  - {id: b1, label: big, response_set: four, recode: {0: 0, 1: 1000, 2: 2000000, 3: 3}}
  - {id: w1, label: wide, response_set: wide}
  - {id: w2, label: wide reversed, response_set: wide, reverse: true}
  - {id: f1, label: far, response_set: far}
  - {id: z1, label: huge, response_set: one, recode: {0: 1073741824}}
  - {id: z2, label: huge too, response_set: one, recode: {0: 1073741824}}
  - {id: g1, label: gate, response_set: four, required: false}
scales:
  - {id: plain, label: plain, method: sum, items: [a1, a2, a3], higher_is_better: true,
     bands: [{id: band, source: test, levels: [{label: low, min: 0, max: 3},
     {label: mid, min: 4, max: 6}, {label: high, min: 7, max: 9}]}]}
  - {id: prorated, label: prorated, method: sum, items: [a1, a2, f1, a3, n1], min_answered: 2,
     prorate: true, rounding: {rule: half_away_from_zero}, higher_is_better: true,
     fixed_values: [{when: {item: g1, codes: [0, 3]}, value: 0, source: test}]}
  - {id: tenths, label: tenths, method: sum, items: [a1, n1, w1], min_answered: 1,
     prorate: true, rounding: {rule: half_away_from_zero, decimals: 1}, higher_is_better: true}
  - {id: even, label: even, method: sum, items: [a3, n1, a2], min_answered: 2, prorate: true,
     rounding: {rule: half_even}, higher_is_better: true}
  - {id: average, label: average, method: mean, items: [a1, n1, w2], min_answered: 1,
     higher_is_better: true}
  - {id: halves, label: halves, method: sum, items: [a1, h1], min_answered: 1, prorate: true,
     rounding: {rule: half_away_from_zero}, higher_is_better: true}
  - {id: halfmean, label: halfmean, method: mean, items: [h1, a2, n1], min_answered: 2,
     higher_is_better: true}
  - {id: big, label: big, method: sum, items: [b1, a1], min_answered: 1, higher_is_better: true}
  - {id: wide, label: wide, method: sum, items: [w1, w2, a1], min_answered: 1,
     higher_is_better: true}
  - {id: both, label: both, method: sum_of_scales, scales: [plain, prorated],
     higher_is_better: true}
  - {id: huge, label: huge, method: sum, items: [z1, z2, a1], min_answered: 1,
     higher_is_better: true}
"""


@pytest.fixture(scope="module")
def mixed_instrument(tmp_path_factory):
    path = tmp_path_factory.mktemp("inst") / "kernel_mix.yaml"
    path.write_text(_MIXED_YAML)
    inst = oc.load_instrument(path)
    packed = {i: p for i, (_, p) in scoring._slot_coders(inst, None).items()}
    # the items cover both sums: whole-number scores (with and without negative ones) in
    # integers, and halves or scores whose fields do not fit in a word in floats; f1 and w1
    # have slots far above their answers (missing codes 64 and 99)
    assert packed["a1"].int_fields[2] == 0 and packed["n1"].int_fields[2] == -3
    assert packed["f1"].int_fields is not None and packed["f1"].size == 65
    assert packed["w1"].int_fields is None and packed["w1"].line is not None
    assert packed["h1"].int_fields is None and packed["b1"].int_fields is None
    # z1 and z2 score 2**30 each: whole numbers, but their sum overflows 32-bit sums
    assert packed["z1"].int_fields is not None
    assert not _slots._int32_sum_fits([packed[i].int_fields for i in ("z1", "z2", "a1")])
    return inst


def _mixed_frame(inst, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        codes = np.array([*rs.valid_codes, *rs.missing_codes, np.nan, 41, 4.5], dtype=float)
        cols[it.id] = codes[rng.integers(0, len(codes), n)]
    return pd.DataFrame(cols)


@pytest.mark.parametrize("n", [1, 7, 63, 2049, 20_000])
@pytest.mark.parametrize("prorate", [None, False])
def test_integer_and_float_sums_score_exactly_as_numpy(mixed_instrument, n, prorate):
    df = _mixed_frame(mixed_instrument, n, seed=n)
    got, want = _score_both(df, mixed_instrument, prorate=prorate)
    _assert_same(got, want)
    both = df["z1"].eq(0) & df["z2"].eq(0)
    assert (got.loc[both, "huge"] >= 2**31).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_integer_and_float_sums_any_cells(mixed_instrument, data):
    _, df = data.draw(responses(mixed_instrument.path, max_rows=40))
    got, want = _score_both(df, mixed_instrument)
    _assert_same(got, want)


def test_a_missing_code_far_above_the_answers_is_not_an_answer(mixed_instrument):
    # w1's missing code 99 has slot 99, beyond the 64 bits of the answered-slot mask: the
    # shift is clamped (unclamped, x86 took 99 as 99 - 64 = 35, an answered slot, in rows
    # left over from the vector loop, scoring "not known" as 99)
    df = _mixed_frame(mixed_instrument, 37, seed=1)
    df["w1"], df["w2"], df["f1"] = 99.0, 1.0, 64.0
    got, want = _score_both(df, mixed_instrument)
    _assert_same(got, want)
    assert (got["wide_n"] == 1 + df["a1"].between(0, 3)).all()
    assert (got["prorated_n"] == df[["a1", "a2", "a3", "n1"]].isin([0, 1, 2, 3]).sum(axis=1)).all()
