"""change_by_group, the equity and by-school sections' one grouped-outcome loop, gives the
rows each section's own loop gave."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.report.sections.common import NOT_RECORDED, change_by_group


def _old(pairs, rc, people, columns):
    # the equity section's loop before it moved to common (the sites section's was its twin)
    def row(group, level, sub):
        return {
            "group": group, "level": level, "n": len(sub),
            "mean_change": float(sub["change"].mean()) if len(sub) else float("nan"),
            "reliable_improvement": int(sub["reliable_improvement"].sum()),
        }  # fmt: skip

    frame = pd.concat([pairs[["change"]], rc[["reliable_improvement"]]], axis=1)
    rows, labels = [], {}
    for g in columns:
        lab = pairs["person_id"].map(people[g]).astype("string").fillna(NOT_RECORDED)
        labels[g] = lab
        for level, sub in frame.groupby(lab, sort=True):
            rows.append(row(g, str(level), sub))
        rows.append(row(g, "Total", frame))
    return rows, labels


PEOPLE = ["p1", "p2", "p3", "p4", "p5"]
LEVELS = st.sampled_from(["a", "b", "Total ", None, 3])


@settings(max_examples=100, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from([*PEOPLE, "stranger"]), st.integers(-20, 20), st.booleans()),
        max_size=12,
    ),
    known=st.lists(
        st.tuples(st.sampled_from(PEOPLE), LEVELS, LEVELS), max_size=6, unique_by=lambda t: t[0]
    ),
    columns=st.sampled_from([[], ["gender"], ["gender", "sen"], ["sen", "gender"]]),
)
def test_change_by_group_equals_the_old_loop(pairs, known, columns):
    p = pd.DataFrame({"person_id": [x for x, _, _ in pairs], "change": [c for _, c, _ in pairs]})
    rc = pd.DataFrame({"reliable_improvement": np.array([r for _, _, r in pairs], dtype=bool)})
    people = pd.DataFrame(
        {"gender": [g for _, g, _ in known], "sen": [s for _, _, s in known]},
        index=pd.Index([k for k, _, _ in known], name="person_id"),
    )
    t, labels = change_by_group(p, rc, people, columns)
    rows, old_labels = _old(p, rc, people, columns)
    pd.testing.assert_frame_equal(t, pd.DataFrame(rows))
    assert labels.keys() == old_labels.keys()
    for g in labels:
        pd.testing.assert_series_equal(labels[g], old_labels[g])


@settings(max_examples=60, deadline=None)
@given(
    changes=st.lists(
        st.floats(-20, 20, allow_nan=False).map(lambda x: round(x, 3)), min_size=1, max_size=15
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_mean_change_is_the_same_bit_for_bit_whatever_the_order_of_the_pairs(changes, seed):
    # the report's pairs follow pseudonyms drawn afresh per build: 0.1 + 0.2 + 0.3 in one order
    # and the other differ in the last bit, and a mean on a rounding boundary would flip
    n = len(changes)
    p = pd.DataFrame({"person_id": [f"p{i}" for i in range(n)], "change": changes})
    rc = pd.DataFrame({"reliable_improvement": np.zeros(n, dtype=bool)})
    people = pd.DataFrame({"gender": ["a"] * n}, index=pd.Index(p["person_id"], name="person_id"))
    order = np.random.default_rng(seed).permutation(n)
    first, _ = change_by_group(p, rc, people, ["gender"])
    again, _ = change_by_group(
        p.iloc[order].reset_index(drop=True), rc.iloc[order].reset_index(drop=True), people,
        ["gender"],
    )  # fmt: skip
    np.testing.assert_array_equal(first["mean_change"], again["mean_change"])


def test_mean_change_on_a_rounding_boundary_rounds_one_way():
    # 0.1 + 0.2 + 0.3 + 0.0 is 0.6000000000000001 in this order and 0.6 reversed
    people = pd.DataFrame({"gender": ["a"] * 4}, index=pd.Index(list("wxyz"), name="person_id"))
    rc = pd.DataFrame({"reliable_improvement": np.zeros(4, dtype=bool)})
    means = {
        change_by_group(
            pd.DataFrame({"person_id": list("wxyz")[::k], "change": [0.1, 0.2, 0.3, 0.0][::k]}),
            rc, people, ["gender"],
        )[0]["mean_change"].iloc[0]
        for k in (1, -1)
    }  # fmt: skip
    assert len(means) == 1
