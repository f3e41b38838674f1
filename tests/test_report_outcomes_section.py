"""The outcomes section's own steps against the code they replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.report.sections.outcomes import _completion


def _old_completion(records, inst_id, main):
    """The completion loop's body before _completion (a copy)."""
    r = records[records["scale"] == main]
    unit = "referral_id" if "referral_id" in r.columns else "person_id"
    row = {
        "instrument": inst_id, "scale": main, "referrals": r[unit].nunique(),
        "records": len(r), "paired": int((r["status"] == "baseline").sum()),
    }  # fmt: skip
    reasons = []
    unpaired = r[r["status"] == "unpaired"]["reason"].value_counts()
    for reason, n in unpaired.items():
        reasons.append({"instrument": inst_id, "reason": reason, "records": int(n)})
    if len(unpaired):
        total = int(unpaired.sum())
        reasons.append({"instrument": inst_id, "reason": "Total", "records": total})
    return row, reasons


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["total", "emotional", "conduct"]),
            st.one_of(st.none(), st.integers(0, 8)),
            st.sampled_from(["baseline", "follow-up", "unpaired", "not used"]),
            st.sampled_from(["", "only one record", "outside the window", "duplicate", None]),
        ),
        max_size=40,
    ),
    unit=st.sampled_from(["referral_id", "person_id"]),
    index=st.sampled_from(["range", "shuffled"]),
)
def test_property_completion_is_the_old_loop(rows, unit, index):
    # Columns selected before rows: the same row of counts and the same reasons, in order.
    records = pd.DataFrame(
        {
            "scale": [r[0] for r in rows],
            unit: [None if r[1] is None else f"u{r[1]}" for r in rows],
            "status": [r[2] for r in rows],
            "reason": [r[3] for r in rows],
            "pre": np.arange(len(rows), dtype=float),
        }
    )
    if index == "shuffled":
        records.index = np.random.default_rng(len(rows)).permutation(len(rows)) + 10
    new = _completion(records, "sdq", "total")
    old = _old_completion(records, "sdq", "total")
    assert new == old
    assert [type(v) for v in new[0].values()] == [type(v) for v in old[0].values()]


MEASURES = [
    ("sdq_parent", "total_difficulties"),
    ("sdq_parent", "emotional"),
    ("honosca", "total"),
    ("gbo", "goal_mean"),
]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, len(MEASURES) - 1),
            st.sampled_from(["parent", "self"]),
            st.integers(0, 40).map(float),
            st.one_of(st.integers(0, 40).map(float), st.just(np.nan)),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_property_one_change_table_for_all_instruments(rows):
    # Evaluation.change_table calls paired_change_table once on every instrument's pairs:
    # each row is what the call per instrument gave (the adjusted p-values aside, which the
    # report computes again over the rows it keeps)
    from outcomes.change import paired_change_table

    pairs = pd.DataFrame(
        {
            "instrument": [MEASURES[m][0] for m, _, _, _ in rows],
            "rater": [r for _, r, _, _ in rows],
            "scale": [MEASURES[m][1] for m, _, _, _ in rows],
            "pre": [a for _, _, a, _ in rows],
            "post": [b for _, _, _, b in rows],
        }
    )
    outcome = ["instrument", "rater", "scale"]
    one = paired_change_table(pairs, outcome=outcome).to_frame()
    per = pd.concat(
        [
            paired_change_table(g.reset_index(drop=True), outcome=outcome).to_frame()
            for _, g in pairs.groupby("instrument", sort=True)
        ],
        ignore_index=True,
    )
    family = ["p_adj", "wilcoxon_p_adj"]
    # (a text column that is missing in one instrument's rows is objects after the concat of
    # the calls per instrument, text in the one call: the values are the same; the report
    # publishes the labels, n, means and SDs, whose dtypes are the same)
    pd.testing.assert_frame_equal(
        one.drop(columns=family), per.drop(columns=family), check_dtype=False
    )
    published = ["instrument", "rater", "scale", "n", "mean_pre", "mean_post", "mean_diff"]
    assert (one[[*published, "sd_diff"]].dtypes == per[[*published, "sd_diff"]].dtypes).all()
