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
