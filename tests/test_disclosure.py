"""Disclosure control: the NHS Digital small-numbers rule, secondary suppression, audit log.

Expected tables below are worked out by hand from the rule in specs/statistics.md: 0 stays 0,
1-7 -> "*", others to the nearest 5, percentages from the rounded counts, means over 1-7 people
hidden, and no suppressed cell recoverable as a total minus the shown cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes import disclosure

STAR = "*"


# ----------------------------------------------------------------------------- independent checker
def recoverable_cells(values_shape, suppressed: np.ndarray, lines) -> list[tuple[int, int]]:
    """Cells an intruder can solve for exactly from the published lines.

    ``lines`` lists equations as (total cell, [part cells]) with cells as (row, col). With the
    shown cells known, the suppressed values solve A_S x = b; cell s is determined exactly when the
    unit vector e_s lies in the row space of A_S, i.e. appending e_s does not raise the rank.
    (The library uses a null-space test instead; this is the rank form, written separately.)
    """
    n_rows, n_cols = values_shape
    sup = [(i, j) for i in range(n_rows) for j in range(n_cols) if suppressed[i, j]]
    if not sup:
        return []
    pos = {cell: k for k, cell in enumerate(sup)}
    rows = []
    for tot, parts in lines:
        r = np.zeros(len(sup))
        if tot in pos:
            r[pos[tot]] -= 1
        for p in parts:
            if p in pos:
                r[pos[p]] += 1
        if r.any():
            rows.append(r)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for cell, k in pos.items():
        e = np.zeros(len(sup))
        e[k] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(cell)
    return out


def two_way_lines(n_rows: int, n_cols: int):
    """Margins of an (n_rows+1) x (n_cols+1) table whose last row and column are totals."""
    lines = []
    for i in range(n_rows + 1):
        lines.append(((i, n_cols), [(i, j) for j in range(n_cols)]))
    for j in range(n_cols + 1):
        lines.append(((n_rows, j), [(i, j) for i in range(n_rows)]))
    return lines


def shown_mask(frame: pd.DataFrame, cols) -> np.ndarray:
    return np.column_stack([frame[c].to_numpy(dtype=object) == STAR for c in cols])


def assert_rule(out: pd.DataFrame, cols, threshold: int, base: int) -> None:
    for c in cols:
        for v in out[c]:
            if v == STAR or (isinstance(v, float) and np.isnan(v)):
                continue
            assert isinstance(v, int | np.integer), (c, v)
            assert v == 0 or v > threshold, (c, v)
            assert v % base == 0, (c, v)


# ----------------------------------------------------------------------------- the rule
def test_primary_rule_and_rounding_without_margins():
    # 0 -> 0; 3, 7 -> *; 8 -> 10; 12 -> 10; 13 -> 15; 23 -> 25; 100 -> 100.
    t = pd.DataFrame({"n": [0, 3, 8, 12, 13, 7, 23, 100]}, index=list("abcdefgh"))
    out = disclosure.apply(t)
    assert out["n"].tolist() == [0, STAR, 10, 10, 15, STAR, 25, 100]
    log = out.attrs["disclosure_log"]
    assert set(log.columns) == {"row", "column", "original", "published", "reason"}
    by_row = log.set_index("row")
    assert by_row.loc["b", "published"] == STAR and by_row.loc["b", "original"] == 3
    assert by_row.loc["b", "reason"].startswith("primary")
    assert by_row.loc["c", "published"] == 10 and "rounded" in by_row.loc["c", "reason"]
    # every changed cell is logged, unchanged ones are not (0 and 100 stay)
    assert sorted(log["row"]) == ["b", "c", "d", "e", "f", "g"]
    assert out.attrs["disclosure"]["primary"] == 2
    assert out.attrs["disclosure"]["secondary"] == 0


def test_total_row_forces_secondary_suppression_of_smallest_cell():
    # A=3 is primary; Total 55 - 12 - 40 would give 3 back, so the next smallest inner cell (B=12)
    # is hidden too. Published: *, *, 40, 55.
    t = pd.DataFrame({"school": ["A", "B", "C", "Total"], "n": [3, 12, 40, 55]})
    out = disclosure.apply(t)
    assert out["n"].tolist() == [STAR, STAR, 40, 55]
    log = out.attrs["disclosure_log"].set_index("row")
    assert log.loc[1, "reason"].startswith("secondary")
    assert log.loc[1, "original"] == 12


def test_without_the_audit_log_the_same_cells_are_published():
    # log=False only skips building the audit log (the report discards it); the published
    # table and the counts of hidden cells are those of the worked example above
    t = pd.DataFrame({"school": ["A", "B", "C", "Total"], "n": [3, 12, 40, 55]})
    out = disclosure.apply(t, log=False)
    assert out["n"].tolist() == [STAR, STAR, 40, 55]
    assert "disclosure_log" not in out.attrs
    assert out.attrs["disclosure"] == disclosure.apply(t).attrs["disclosure"]
    with pytest.raises(oc.InvalidParameterError, match="log"):
        disclosure.apply(t, log="no")


def test_zero_is_not_chosen_for_secondary_suppression():
    # 3, 0, 10 | 13: hide 3; the partner is 10 (a zero would add no protection worth having);
    # Total 13 -> 15.
    t = pd.DataFrame({"g": ["a", "b", "c", "Total"], "n": [3, 0, 10, 13]})
    assert disclosure.apply(t)["n"].tolist() == [STAR, 0, STAR, 15]


def test_total_in_index_and_all_label():
    t = pd.DataFrame({"n": [2, 30, 30, 62]}, index=["x", "y", "z", "All"])
    out = disclosure.apply(t)
    assert out["n"].tolist() == [STAR, STAR, 30, 60]


def test_threshold_and_base_are_configurable_and_never_round_into_the_suppressed_range():
    # threshold 10, base 5: 11 rounds to 10 by the nearest-5 rule, which is inside 1..10; it is
    # published as 15, the first multiple of 5 above the threshold.
    t = pd.DataFrame({"n": [10, 11, 12, 13, 0, 22]})
    out = disclosure.apply(t, threshold=10, base=5)
    assert out["n"].tolist() == [STAR, 15, 15, 15, 0, 20]
    out = disclosure.apply(pd.DataFrame({"n": [3, 4, 14, 15, 26]}), threshold=3, base=10)
    # 4 -> 0 would fake a zero: first multiple of 10 above 3 is 10; 15 -> 20 (half up); 26 -> 30
    assert out["n"].tolist() == [STAR, 10, 10, 20, 30]


def test_percentages_recomputed_from_rounded_counts_with_total_row_denominator():
    # counts 12, 23, 66 | 101 -> 10, 25, 65 | 100; shares 10/100, 25/100, 65/100.
    t = pd.DataFrame(
        {
            "group": ["a", "b", "c", "Total"],
            "n": [12, 23, 66, 101],
            "pct": [11.9, 22.8, 65.3, 100.0],
        }
    )
    out = disclosure.apply(t, percentages={"pct": "n"})
    assert out["n"].tolist() == [10, 25, 65, 100]
    assert out["pct"].tolist() == [10.0, 25.0, 65.0, 100.0]
    log = out.attrs["disclosure_log"]
    assert ((log["column"] == "pct") & log["reason"].str.contains("recomputed")).sum() == 3


def test_row_percentage_and_mean_with_its_n():
    # rows: n children, cases among them, pct = cases / n, mean score over n.
    # row x: n 40, cases 5 -> cases * -> pct *; mean over 40 people kept.
    # row y: n 6 -> *, cases 2 -> *, pct *, mean over 6 people -> *.
    # row z: n 52 -> 50, cases 18 -> 20, pct 20/50 = 40.0, mean kept.
    t = pd.DataFrame(
        {
            "school": ["x", "y", "z"],
            "n": [40, 6, 52],
            "cases": [5, 2, 18],
            "pct": [12.5, 33.3, 34.6],
            "mean_score": [12.25, 15.5, 10.0],
        }
    )
    out = disclosure.apply(t, percentages={"pct": ("cases", "n")}, means={"mean_score": "n"})
    assert out["n"].tolist() == [40, STAR, 50]
    assert out["cases"].tolist() == [STAR, STAR, 20]
    assert out["pct"].tolist() == [STAR, STAR, 40.0]
    assert out["mean_score"].tolist() == [12.25, STAR, 10.0]
    assert out.attrs["disclosure"]["counts"] == ["n", "cases"]


def test_mean_hidden_when_its_n_is_hidden_by_secondary_suppression():
    # n: 5 (primary), 20 (secondary: smallest partner), 60 | Total 85.
    t = pd.DataFrame(
        {"g": ["a", "b", "c", "Total"], "n": [5, 20, 60, 85], "mean": [1.0, 2.0, 3.0, 2.6]}
    )
    out = disclosure.apply(t, means={"mean": "n"})
    assert out["n"].tolist() == [STAR, STAR, 60, 85]
    assert out["mean"].tolist() == [STAR, STAR, 3.0, 2.6]


def test_suppress_with_hides_confidence_limits():
    t = pd.DataFrame({"n": [3, 40], "ci_low": [0.1, 0.2], "ci_high": [0.5, 0.6]})
    out = disclosure.apply(t, suppress_with={"ci_low": "n", "ci_high": "n"})
    assert out["ci_low"].tolist() == [STAR, 0.2]
    assert out["ci_high"].tolist() == [STAR, 0.6]


def test_two_way_table_gets_a_rectangle_of_suppressions():
    # Only (a, r) = 3 is small. Column r needs a partner: the smallest inner cell, (b, r) = 50.
    # Row a then needs one: (a, p) = 20. Column p then needs one: (b, p) = 25, which also
    # completes row b. The four cells form a rectangle; no margin reveals any of them.
    t = pd.DataFrame(
        {"p": [20, 25, 60], "q": [30, 40, 70], "r": [3, 50, 80]}, index=["a", "b", "c"]
    )
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    out = disclosure.apply(t)
    stars = {(r, c) for r in out.index for c in out.columns if out.loc[r, c] == STAR}
    assert stars == {("a", "p"), ("a", "r"), ("b", "p"), ("b", "r")}
    # rounding: 53 -> 55, 115 -> 115, 210 -> 210, 105 -> 105, 133 -> 135, 378 -> 380
    assert out.loc["a", "Total"] == 55 and out.loc["Total", "r"] == 135
    assert out.loc["Total", "Total"] == 380
    assert recoverable_cells((4, 4), shown_mask(out, out.columns), two_way_lines(3, 3)) == []


def test_pandas_crosstab_with_margins_is_understood():
    x = pd.Series(list("aaaabbbbbbbbbbbbcccccccccccccccccc"), name="school")
    y = pd.Series(list("mfmfmfmmmmmmmmffffffffmmmmmmmmmmff"), name="gender")
    ct = pd.crosstab(x, y, margins=True, margins_name="Total")
    out = disclosure.apply(ct)
    assert_rule(out, out.columns, 7, 5)
    assert recoverable_cells(out.shape, shown_mask(out, out.columns), two_way_lines(3, 2)) == []


def test_combination_of_margins_is_caught_by_the_exact_check():
    # Two rectangles of small cells joined by one more small cell (r1, c2): every row and
    # column holds two or more suppressed cells, yet (r1, c2) is a "bridge" - adding the row
    # equations of r0, r1 and subtracting the column equations of c0, c1 isolates it. The rule
    # "no line with a single suppression" passes; the exact check must hide one more cell.
    small = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)}
    v = np.full((4, 4), 50)
    for i, j in small:
        v[i, j] = 2
    t = pd.DataFrame(v, index=[f"r{i}" for i in range(4)], columns=[f"c{j}" for j in range(4)])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    lines = two_way_lines(4, 4)
    primary_only = np.zeros((5, 5), bool)
    for i, j in small:
        primary_only[i, j] = True
    assert (1, 2) in recoverable_cells((5, 5), primary_only, lines)  # the trap is real
    out = disclosure.apply(t)
    mask = shown_mask(out, out.columns)
    assert mask.sum() > len(small)
    assert recoverable_cells((5, 5), mask, lines) == []
    assert out.attrs["disclosure_log"]["reason"].str.contains("combination").any()


def test_groups_with_section_totals_and_grand_total():
    t = pd.DataFrame(
        {
            "section": ["gender", "gender", "gender", "fsm", "fsm", "fsm", "Total"],
            "level": ["girl", "boy", "Total", "yes", "no", "Total", "Total"],
            "n": [4, 40, 44, 20, 30, 50, 94],
        }
    )
    with pytest.raises(oc.DataStructureError, match="groups="):
        disclosure.apply(t)
    out = disclosure.apply(t, groups="section")
    # gender: 4 -> *, partner boy 40 -> *; fsm untouched; the grand total line (all non-total
    # rows) then holds two suppressed cells.
    assert out["n"].tolist() == [STAR, STAR, 45, 20, 30, 50, 95]


def test_idempotent_and_second_log_empty():
    t = pd.DataFrame(
        {
            "g": ["a", "b", "c", "d", "Total"],
            "n": [3, 12, 0, 41, 56],
            "pct": [5.4, 21.4, 0.0, 73.2, 100.0],
            "mean": [1.0, 2.0, np.nan, 3.0, 2.5],
        }
    )
    once = disclosure.apply(t, percentages={"pct": "n"}, means={"mean": "n"})
    twice = disclosure.apply(once, percentages={"pct": "n"}, means={"mean": "n"})
    pd.testing.assert_frame_equal(once, twice)
    assert twice.attrs["disclosure_log"].empty
    assert twice.attrs["disclosure"]["already_suppressed"] == 2


def test_input_not_modified_and_index_kept():
    t = pd.DataFrame({"n": [3, 12, 15]}, index=pd.Index(["x", "y", "Total"], name="school"))
    before = t.copy()
    out = disclosure.apply(t)
    pd.testing.assert_frame_equal(t, before)
    assert out.index.equals(t.index) and list(out.columns) == ["n"]


def test_numeric_label_columns_via_keep():
    t = pd.DataFrame({"year": [2023, 2024], "n": [3, 40]})
    out = disclosure.apply(t, keep="year")
    assert out["year"].tolist() == [2023, 2024]
    assert out["n"].tolist() == [STAR, 40]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("values", "needle"),
    [([1, -2, 30], "row 1, column 'n'"), ([1.5, 2, 30], "row 0"), (["x", 2, 30], "'x'")],
)
def test_bad_counts_named(values, needle):
    with pytest.raises(oc.OutcomesError, match="whole numbers") as e:
        disclosure.apply(pd.DataFrame({"n": values}), counts=["n"])
    assert needle in str(e.value)


def test_undeclared_numeric_column_refused():
    t = pd.DataFrame({"n": [3, 40], "mean_wait": [12.5, 3.25]})
    with pytest.raises(oc.DataStructureError, match="mean_wait"):
        disclosure.apply(t)


def test_percentage_needs_a_total_row():
    t = pd.DataFrame({"n": [30, 40], "pct": [42.9, 57.1]})
    with pytest.raises(oc.DataStructureError, match="no Total row"):
        disclosure.apply(t, percentages={"pct": "n"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": -1},
        {"base": 0},
        {"base": 2.5},
        {"percentages": {"nope": "n"}},
        {"means": {"m": "nope"}},
        {"counts": ["nope"]},
        {"groups": "nope"},
    ],
)
def test_bad_arguments(kwargs):
    t = pd.DataFrame({"n": [3, 40], "m": [1.0, 2.0]})
    with pytest.raises(oc.OutcomesError):
        disclosure.apply(t, **({"means": {"m": "n"}} | kwargs))


def test_two_total_rows_without_groups_and_column_multiindex():
    t = pd.DataFrame({"g": ["a", "Total", "b", "Total"], "n": [10, 10, 20, 20]})
    with pytest.raises(oc.DataStructureError, match="several total rows"):
        disclosure.apply(t)
    t2 = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]))
    with pytest.raises(oc.DataStructureError, match="flatten"):
        disclosure.apply(t2)
    with pytest.raises(oc.OutcomesError, match="DataFrame"):
        disclosure.apply([1, 2, 3])


def test_empty_table():
    out = disclosure.apply(pd.DataFrame({"n": pd.Series([], dtype=int)}))
    assert len(out) == 0 and out.attrs["disclosure_log"].empty


def test_is_protected():
    assert disclosure.is_protected(pd.DataFrame({"n": [0, STAR, 15, np.nan]}), ["n"])
    assert not disclosure.is_protected(pd.DataFrame({"n": [3]}), ["n"])
    assert not disclosure.is_protected(pd.DataFrame({"n": [12]}), ["n"])


# ----------------------------------------------------------------------------- properties
RULES = st.sampled_from([(7, 5), (7, 10), (10, 5), (3, 3), (5, 1)])
COUNT = st.one_of(st.integers(0, 9), st.integers(0, 80))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=st.lists(COUNT, min_size=1, max_size=12), rule=RULES)
def test_property_one_way_table(counts, rule):
    threshold, base = rule
    t = pd.DataFrame({"n": counts + [sum(counts)]}, index=[*range(len(counts)), "Total"])
    out = disclosure.apply(t, threshold=threshold, base=base)
    assert_rule(out, ["n"], threshold, base)
    lines = [((len(counts), 0), [(i, 0) for i in range(len(counts))])]
    assert recoverable_cells((len(t), 1), shown_mask(out, ["n"]), lines) == []
    # every small non-zero count is hidden; zeros stay zero
    v = np.array(t["n"])
    assert all(out["n"].iloc[i] == STAR for i in np.flatnonzero((v >= 1) & (v <= threshold)))
    assert all(out["n"].iloc[i] in (0, STAR) for i in np.flatnonzero(v == 0))
    again = disclosure.apply(out, threshold=threshold, base=base)
    pd.testing.assert_frame_equal(out, again)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rule=RULES)
def test_property_two_way_table_with_margins(data, rule):
    threshold, base = rule
    r = data.draw(st.integers(1, 5))
    c = data.draw(st.integers(1, 5))
    cells = data.draw(st.lists(st.lists(COUNT, min_size=c, max_size=c), min_size=r, max_size=r))
    cols = [f"c{j}" for j in range(c)]
    t = pd.DataFrame(cells, columns=cols, index=[f"r{i}" for i in range(r)])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    out = disclosure.apply(t, threshold=threshold, base=base)
    assert_rule(out, out.columns, threshold, base)
    assert recoverable_cells(out.shape, shown_mask(out, out.columns), two_way_lines(r, c)) == []
    again = disclosure.apply(out, threshold=threshold, base=base)
    pd.testing.assert_frame_equal(out, again)
    assert again.attrs["disclosure_log"].empty


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=8),
    rule=RULES,
)
def test_property_percentages_follow_published_counts(rows, rule):
    threshold, base = rule
    n = [a + b for a, b in rows]
    cases = [a for a, _ in rows]
    t = pd.DataFrame({"n": n, "cases": cases, "pct": np.nan})
    out = disclosure.apply(t, percentages={"pct": ("cases", "n")}, threshold=threshold, base=base)
    for pn, pc, pp in zip(out["n"], out["cases"], out["pct"], strict=True):
        if STAR in (pn, pc):
            assert pp == STAR
        elif pn == 0:
            assert np.isnan(pp)
        else:
            assert pp == pytest.approx(round(100 * pc / pn, 1), abs=1e-9)


def test_a_count_within_a_hidden_group_is_hidden_with_it():
    # School A: n = 5 (primary). "0 of A's children were k" tells something about each of
    # them, so A's k is hidden too, and then B's n and k so that 55 - 30 and 22 - 12 do not
    # give A's values back (the smallest inner cells of each column).
    t = pd.DataFrame({"s": ["A", "B", "C", "Total"], "n": [5, 20, 30, 55], "k": [0, 10, 12, 22]})
    out = disclosure.apply(t, counts=["n", "k"], within={"k": "n"})
    assert out["n"].tolist() == ["*", "*", 30, 55]
    assert out["k"].tolist() == ["*", "*", 10, 20]
    why = out.attrs["disclosure_log"].set_index(["row", "column"])["reason"]
    assert "within a group" in why[(0, "k")]
    with pytest.raises(oc.OutcomesError, match="within= names 'x'"):
        disclosure.apply(t, counts=["n", "k"], within={"x": "n"})
    with pytest.raises(oc.OutcomesError, match="within= names 'kk'.*did you mean 'k'"):
        disclosure.apply(t, counts=["n", "k"], within={"kk": "n"})


# ----------------------------------------------------------------------------- the fast exact check
@pytest.mark.parametrize("long_line", [0, 2, 32])
@pytest.mark.parametrize("seed", range(4))
def test_blockwise_check_matches_the_rank_test(monkeypatch, long_line, seed):
    # _determined splits the cells into blocks joined by short lines and treats the long lines
    # (more than LONG_LINE suppressed cells) through a residual; whichever lines count as long,
    # it must find exactly the cells the independent rank test (recoverable_cells) finds.
    # 60 x 3 inner cells plus a Total row and column; about 60% hidden, so the column lines
    # hold ~36 suppressed cells and are long under the default too.
    monkeypatch.setattr(disclosure, "LONG_LINE", long_line)
    rng = np.random.default_rng(seed)
    r, c = 60, 3
    counts = [f"c{j}" for j in range(c)] + ["Total"]
    a, _, _ = disclosure._constraints(
        r + 1, counts, [(r, np.arange(r), "total row")], {"Total": counts[:-1]}
    )
    supp = rng.random((r + 1, c + 1)) < 0.6
    got = disclosure._determined(a, supp.ravel()).reshape(supp.shape)
    want = np.zeros_like(supp)
    for i, j in recoverable_cells(supp.shape, supp, two_way_lines(r, c)):
        want[i, j] = True
    assert got.any()  # the case must test something: some cells are recoverable
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("long_line", [0, 1])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rule=RULES)
def test_property_two_way_table_with_long_lines(long_line, data, rule):
    # the property test above, with every line (or every line past one cell) treated as long
    threshold, base = rule
    r = data.draw(st.integers(1, 6))
    c = data.draw(st.integers(1, 4))
    cells = data.draw(st.lists(st.lists(COUNT, min_size=c, max_size=c), min_size=r, max_size=r))
    cols = [f"c{j}" for j in range(c)]
    t = pd.DataFrame(cells, columns=cols, index=[f"r{i}" for i in range(r)])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(disclosure, "LONG_LINE", long_line)
        out = disclosure.apply(t, threshold=threshold, base=base)
    assert_rule(out, out.columns, threshold, base)
    assert recoverable_cells(out.shape, shown_mask(out, out.columns), two_way_lines(r, c)) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.integers(0, 40), st.just(2**53 + 2)), min_size=1, max_size=6),
    st.sampled_from(["int", "float", "float_nan"]),
    st.sampled_from([STAR, "5", "5.0", "inf", "nan", "x"]),
)
def test_a_numeric_count_column_is_read_as_the_same_column_held_as_objects(values, kind, marker):
    """Numeric columns are read without going through text: the counts, the marker cells and
    the refusals are those of the same cells held as Python objects (the per-cell reading)."""
    col = pd.Series(values, dtype="int64" if kind == "int" else "float64")
    if kind == "float_nan":
        col.iloc[0] = np.nan
    frames = [pd.DataFrame({"n": col}), pd.DataFrame({"n": col.astype(object)})]
    got = []
    for frame in frames:
        try:
            got.append(disclosure._parse_counts(frame, ["n"], marker))
        except oc.OutcomesError as err:
            got.append(str(err))
    if isinstance(got[0], str):
        assert got[0] == got[1]
    else:
        np.testing.assert_array_equal(got[0][0], got[1][0])
        np.testing.assert_array_equal(got[0][1], got[1][1])


def test_column_totals_naming_a_column_that_is_not_a_count_says_which_are():
    t = pd.DataFrame({"s": ["A", "B"], "n": [20, 30], "k": [10, 12], "m": [1.5, 2.5]})
    with pytest.raises(oc.OutcomesError, match="names 'm', which is not a count column; expected"):
        disclosure.apply(t, counts=["n", "k"], keep="m", column_totals={"n": ["m"]})


# ----------------------------------------------------------------------------- weighted shares and means
def _hidden_sums_recoverable(t: pd.DataFrame, col: str, margins) -> list[int]:
    """Rows whose value x weight the shown values x weights pin down (the rank test above,
    one column: each margin is total = sum of parts)."""
    hidden = np.array([v == STAR for v in t[col]])[:, None]
    lines = [((tot, 0), [(i, 0) for i in parts]) for tot, parts in margins]
    return [r for r, _ in recoverable_cells((len(t), 1), hidden, lines)]


def test_a_weighted_share_beside_a_total_gets_a_partner():
    # A's share is hidden (for a reason of its own); Total x n less B's and C's gives it back:
    # B, the row with the smaller n, is hidden too
    t = pd.DataFrame({"team": ["A", "B", "C", "Total"], "n": [15, 40, 60, 115],
                      "share": [STAR, 0.5, 0.5, 0.49]})  # fmt: skip
    out = disclosure.apply(t, counts=["n"], means={"share": "n"}, weighted={"share": "n"})
    assert out["share"].tolist() == [STAR, STAR, 0.5, 0.49]
    assert _hidden_sums_recoverable(out, "share", [(3, [0, 1, 2])]) == []
    log = out.attrs["disclosure_log"]
    assert log["reason"].str.contains("weighted by 'n'").sum() == 1
    # idempotent, and no declaration, no rule (a mean hidden only with its n needs none)
    again = disclosure.apply(out, counts=["n"], means={"share": "n"}, weighted={"share": "n"})
    assert again["share"].tolist() == out["share"].tolist()
    assert len(again.attrs["disclosure_log"]) == 0
    plain = disclosure.apply(t, counts=["n"], means={"share": "n"})
    assert plain["share"].tolist() == [STAR, 0.5, 0.5, 0.49]


def test_a_weighted_mean_is_protected_across_sections_and_the_grand_total():
    # two sections with Totals and a grand Total: section x's A hidden; x's Total gives it
    # back, so B is hidden; then the grand Total less section y's shown rows is x's A + B,
    # which is fine, and y stays as it is
    t = pd.DataFrame({
        "g": ["x", "x", "x", "y", "y", "y", "Total"],
        "level": ["A", "B", "Total", "C", "D", "Total", "Total"],
        "n": [20, 30, 50, 40, 60, 100, 150],
        "mean": [STAR, 2.0, 2.1, 1.0, 1.5, 1.3, 1.6],
    })  # fmt: skip
    out = disclosure.apply(t, counts=["n"], means={"mean": "n"}, weighted={"mean": "n"},
                           groups="g")  # fmt: skip
    assert out["mean"].tolist() == [STAR, STAR, 2.1, 1.0, 1.5, 1.3, 1.6]
    margins = [(2, [0, 1]), (5, [3, 4]), (6, [0, 1, 3, 4])]
    assert _hidden_sums_recoverable(out, "mean", margins) == []
    # a hidden section Total comes back from the grand Total less the other section's
    t.loc[2, "mean"] = STAR
    t.loc[0, "mean"] = 1.9
    out = disclosure.apply(t, counts=["n"], means={"mean": "n"}, weighted={"mean": "n"},
                           groups="g")  # fmt: skip
    assert _hidden_sums_recoverable(out, "mean", margins) == []
    assert (out["mean"] == STAR).sum() >= 2


def test_a_missing_value_of_weight_zero_needs_no_partner_and_undeclared_columns_are_refused():
    t = pd.DataFrame({"team": ["A", "B", "C", "Total"], "n": [0, 40, 60, 100],
                      "share": [np.nan, 0.5, 0.5, 0.5]})  # fmt: skip
    out = disclosure.apply(t, counts=["n"], means={"share": "n"}, weighted={"share": "n"})
    assert out["share"].tolist()[1:] == [0.5, 0.5, 0.5]
    with pytest.raises(oc.OutcomesError, match="not declared in means= or percentages="):
        disclosure.apply(t, counts=["n"], keep=["share"], weighted={"share": "n"})
    with pytest.raises(oc.OutcomesError, match="not a count column"):
        disclosure.apply(t, counts=["n"], means={"share": "n"}, weighted={"share": "nn"})


# ----------------------------------------------------------------------------- cells known from elsewhere
TEAMS = pd.DataFrame({"team": ["X", "Y", "Z", "Total"], "n": [22, 5, 37, 64]})


def test_a_cell_known_from_elsewhere_is_no_partner():
    # X, the smallest other cell, is Y's partner; but X (and the Total) are sums of cells
    # shown in another table, so X protects nothing (Y = Total - X - Z): Z is hidden instead
    assert disclosure.apply(TEAMS)["n"].tolist() == [STAR, STAR, 35, 65]
    out = disclosure.apply(TEAMS, known=[[(0, "n")], [(3, "n")]])
    assert out["n"].tolist() == [20, STAR, STAR, 65]
    assert out.attrs["disclosure"]["known"] == [(0, "n"), (3, "n")]
    log = out.attrs["disclosure_log"].set_index("row")
    assert log.loc[2, "reason"].startswith("secondary: protects a suppressed cell")
    # a sum of several cells known (a mapping with coefficients): one more line. X and Z
    # hide Y only with the Total hidden too, since Y = Total - (X + Z)
    out = disclosure.apply(TEAMS, known=[{(0, "n"): 1, (2, "n"): 1, (1, "n"): 0}])
    assert out["n"].tolist() == [STAR, STAR, STAR, STAR]


def test_a_small_count_known_from_elsewhere_is_refused():
    with pytest.raises(oc.errors.PublishedElsewhereError, match=r"row 1, column 'n'") as e:
        disclosure.apply(TEAMS, known=[[(0, "n")], [(2, "n")], [(3, "n")]])
    assert (e.value.row, e.value.column) == (1, "n")


def test_a_hidden_cell_known_from_elsewhere_needs_no_partner():
    # X is hidden already (a marker), but it is the sum of cells shown elsewhere: hiding a
    # partner beside it would protect nothing, so none is hidden; it stays hidden
    t = TEAMS.assign(n=[STAR, 40, 37, 99])
    assert disclosure.apply(t)["n"].tolist() == [STAR, 40, STAR, 100]
    out = disclosure.apply(t, known=[[(0, "n")]])
    assert out["n"].tolist() == [STAR, 40, 35, 100]


def test_a_weighted_value_known_from_elsewhere_is_no_partner():
    t = pd.DataFrame({"team": ["X", "Y", "Z", "Total"], "n": [40, 45, 140, 225],
                      "share": [0.5, STAR, 0.5, 0.5]})  # fmt: skip
    kw = {"counts": ["n"], "means": {"share": "n"}, "weighted": {"share": "n"}}
    assert disclosure.apply(t, **kw)["share"].tolist() == [STAR, STAR, 0.5, 0.5]
    out = disclosure.apply(t, **kw, known=[[(0, "share")]])
    assert out["share"].tolist() == [0.5, STAR, STAR, 0.5]


def test_a_weighted_value_hidden_and_known_from_elsewhere_is_not_refused():
    # a share hidden for a reason of its own that another table's shown shares give: not
    # refused (weighted rounded shares give it within the rounding only), and no partner,
    # which would protect nothing
    t = pd.DataFrame({"team": ["X", "Y", "Z", "Total"], "n": [40, 45, 140, 225],
                      "share": [STAR, 0.5, 0.5, 0.5]})  # fmt: skip
    kw = {"counts": ["n"], "means": {"share": "n"}, "weighted": {"share": "n"}}
    assert disclosure.apply(t, **kw)["share"].tolist() == [STAR, STAR, 0.5, 0.5]
    out = disclosure.apply(t, **kw, known=[[(0, "share")]])
    assert out["share"].tolist() == [STAR, 0.5, 0.5, 0.5]
    assert out.attrs["disclosure"]["known"] == [(0, "share")]


@pytest.mark.parametrize(
    ("known", "needle"),
    [([[(9, "n")]], "rows are positions"), ([[(0, "m")]], "neither a count column"),
     ([[0]], "pair"), ([[(0, "n"), (1, "k")]], "mixes columns")],
)  # fmt: skip
def test_bad_known_sums_are_named(known, needle):
    t = TEAMS.assign(k=[1, 2, 3, 6])
    with pytest.raises(oc.OutcomesError, match=needle):
        disclosure.apply(t, known=known)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rule=RULES)
def test_property_cells_known_from_elsewhere(data, rule):
    """Two-way tables with margins and random sums known from elsewhere (single cells, parts
    of a row): a count the sums fix with the margins is refused when small and never hidden
    otherwise (no input markers), and no other hidden cell is recoverable with the fixed
    cells as shown (the independent rank test, the known sums as lines)."""
    threshold, base = rule
    r = data.draw(st.integers(1, 4))
    c = data.draw(st.integers(1, 4))
    cells = data.draw(st.lists(st.lists(COUNT, min_size=c, max_size=c), min_size=r, max_size=r))
    cols = [f"c{j}" for j in range(c)]
    t = pd.DataFrame(cells, columns=cols)
    t["Total"] = t.sum(axis=1)
    t.loc[len(t)] = t.sum()
    t.insert(0, "row", [f"r{i}" for i in range(r)] + ["Total"])
    every = [(i, j) for i in range(r + 1) for j in range(c + 1)]
    names = [*cols, "Total"]
    sums = data.draw(st.lists(st.lists(st.sampled_from(every), min_size=1, max_size=3,
                                       unique=True), max_size=4))  # fmt: skip
    # one column per sum
    sums = [[(i, j) for i, j in s if j == s[0][1]] for s in sums]
    known = [[(i, names[j]) for i, j in s] for s in sums]
    lines = two_way_lines(r, c) + [(None, s) for s in sums]
    fixed = set(recoverable_cells((r + 1, c + 1), np.ones((r + 1, c + 1), bool), lines))
    values = t[names].to_numpy()
    small = {(i, j) for i, j in fixed if 1 <= values[i, j] <= threshold}
    try:
        out = disclosure.apply(t, threshold=threshold, base=base, known=known)
    except oc.errors.PublishedElsewhereError as e:
        assert (e.row, names.index(e.column)) in small
        return
    assert not small
    hidden = shown_mask(out, names)
    assert not any(hidden[i, j] for i, j in fixed)
    assert recoverable_cells(hidden.shape, hidden, lines) == []
