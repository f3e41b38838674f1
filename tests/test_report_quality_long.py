"""The data-quality section's long frame (baseline and follow-up per unit) from the columns it
reads only: the same frame as sorting and taking every score column (kept here as the
reference)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.report.sections.quality import _long_for


def _old_long_for(ev, inst_id, scale):
    # the code before the columns were selected first (a copy)
    pairing = ev.pairings.get(inst_id)
    if pairing is None:
        return None
    sc = ev.inputs.scores[inst_id]
    unit = "referral_id" if "referral_id" in sc.columns else "person_id"
    first = sc.dropna(subset=[scale]).sort_values("date").groupby(unit, sort=False).head(1)
    demo = [c for c in ev.cfg.subgroups if c in first.columns]
    base = first[[unit, "person_id", scale, *demo]].assign(wave_order=0)
    p = pairing.pairs[pairing.pairs["scale"] == scale]
    fol = pd.DataFrame(
        {unit: sc.loc[p["row_post"].to_numpy(), unit].to_numpy(), scale: p["post"].to_numpy()}
    ).assign(wave_order=1)
    fol = fol.merge(base.drop(columns=[scale, "wave_order"]), on=unit, how="inner")
    long = pd.concat([base, fol], ignore_index=True).rename(columns={unit: "unit"})
    return long if long["wave_order"].nunique() == 2 else None


def _with_scores(ev, sc):
    return SimpleNamespace(
        pairings=ev.pairings, inputs=SimpleNamespace(scores={"sdq": sc}), cfg=ev.cfg
    )


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 6),  # referral
            st.integers(0, 15),  # day (ties)
            st.one_of(st.none(), st.floats(0, 40, allow_nan=False)),
            st.sampled_from(["f", "m", None]),
        ),
        min_size=1,
        max_size=40,
    ),
    by_referral=st.booleans(),
    pairs_of=st.lists(st.integers(0, 39), max_size=10),
    extra=st.integers(0, 5),
)
def test_long_for_as_before(rows, by_referral, pairs_of, extra):
    sc = pd.DataFrame(rows, columns=["referral_id", "day", "emotional", "gender"])
    sc["person_id"] = ("p" + (sc["referral_id"] // 2).astype(str)).astype("str")
    sc["referral_id"] = ("r" + sc["referral_id"].astype(str)).astype("str")
    sc["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(sc.pop("day"), unit="D")
    sc["gender"] = sc["gender"].astype("str")
    for k in range(extra):  # other score columns, as the scores carry
        sc[f"other_{k}"] = np.arange(len(sc)) * 1.5
    sc.index = pd.RangeIndex(100, 100 + len(sc))
    if not by_referral:
        sc = sc.drop(columns="referral_id")
    picked = sorted({i % len(sc) for i in pairs_of})
    pairs = pd.DataFrame(
        {
            "scale": ["emotional"] * len(picked),
            "row_post": sc.index[picked],
            "post": np.linspace(1, 9, len(picked)),
        }
    )
    ev = SimpleNamespace(
        pairings={"sdq": SimpleNamespace(pairs=pairs)},
        inputs=SimpleNamespace(scores={"sdq": sc}),
        cfg=SimpleNamespace(subgroups=["gender", "ethnicity"]),
    )
    if not by_referral:
        # the old code took person_id twice as the unit and as itself, and the merge refused
        # it ("not unique": the whole data-quality section failed); the person is the unit
        ref = sc.assign(referral_id=sc["person_id"])
        old = _old_long_for(_with_scores(ev, ref), "sdq", "emotional")
        if old is not None:
            old = old.drop(columns="person_id")
    else:
        old = _old_long_for(ev, "sdq", "emotional")
    new = _long_for(ev, "sdq", "emotional")
    if old is None:
        assert new is None
    else:
        pd.testing.assert_frame_equal(new, old)
