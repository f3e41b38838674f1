"""Property tests: verbs restructured for speed return frames identical (values, dtypes,
column order, index) to the row-by-row constructions they replaced, written out here."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes._stats import wilson_ci
from outcomes.change.reliable import reliable_change, reliable_change_summary

PAIR = st.tuples(
    st.one_of(st.none(), st.integers(0, 20)),
    st.one_of(st.none(), st.integers(0, 20)),
    st.sampled_from(["a", "b", "c"]),
)


def _summary_rows(s) -> pd.DataFrame:
    """ReliableChangeSummary.to_frame as it was: a frame from one dict per row."""
    f = s.frame
    cats = list(f["category"].cat.categories)
    gname = "group" if s.by is None else (s.by.name or "group")
    if s.by is None:
        gcode, labels = np.zeros(len(f), dtype=np.int64), pd.Index(["all"])
    else:
        gcode, labels = pd.factorize(s.by, sort=True)
    n_g, n_c = len(labels), len(cats)
    code = f["category"].cat.codes.to_numpy()
    ok = code >= 0
    counts = np.bincount(gcode[ok] * n_c + code[ok], minlength=n_g * n_c).reshape(n_g, n_c)
    total = np.bincount(gcode, minlength=n_g)
    n = counts.sum(axis=1)
    clin_pre = f["clinical_pre"].fillna(False).to_numpy(dtype=bool) & ok
    clin = np.bincount(gcode[clin_pre], minlength=n_g)
    col = {c: counts[:, i] for i, c in enumerate(cats)}
    entries = [(cat, col[cat], n) for cat in cats]
    entries.append(("reliable_improvement", col["recovered"] + col["improved"], n))
    if s.settings.cutoff is not None:
        entries.append(("recovered_of_clinical", col["recovered"], clin))
    entries.append(("missing", total - n, total))
    rows = [
        ({} if s.by is None else {gname: labels[g]})
        | {"measure": m, "count": int(k[g]), "denominator": int(d[g])}
        for g in range(n_g)
        for m, k, d in entries
    ]
    out = pd.DataFrame(rows)
    lo, hi = wilson_ci(out["count"], out["denominator"], s.confidence)
    d = out["denominator"].to_numpy(float)
    out["proportion"] = np.where(d > 0, out["count"] / np.where(d > 0, d, 1), np.nan)
    out["ci_low"], out["ci_high"] = lo, hi
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(PAIR, min_size=1, max_size=30),
    st.sampled_from([None, "list", "named", "numbers"]),
    st.booleans(),
    st.booleans(),
)
def test_reliable_summary_frame_as_row_dicts(pairs, by, cutoff, harmed):
    pre = [np.nan if p is None else float(p) for p, _, _ in pairs]
    post = [np.nan if q is None else float(q) for _, q, _ in pairs]
    kw = {"cutoff": 10.0} if cutoff else {}
    rc = reliable_change(pre, post, threshold=3, higher_is_better=False, harmed=harmed, **kw)
    groups = {
        None: None,
        "list": [g for _, _, g in pairs],
        "named": pd.Series([g for _, _, g in pairs], name="site"),
        "numbers": [ord(g) % 2 for _, _, g in pairs],
    }[by]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = reliable_change_summary(rc, by=groups)
    pd.testing.assert_frame_equal(s.to_frame(), _summary_rows(s), check_exact=True)


def _long_scores_by_measure(sc: pd.DataFrame, meas: pd.DataFrame):
    """outcome_metric._long_scores as it was: a frame per measure, concatenated."""
    from outcomes.change.outcome_metric import _take

    parts, srcs, midxs = [], [], []
    inst_col = sc["instrument"].astype(str).to_numpy()
    if "rater" in sc.columns:
        rater = sc["rater"].astype("string").str.strip().str.lower()
        rater = rater.mask(rater == "")
    else:
        rater = pd.Series(pd.NA, index=sc.index, dtype="string")
    rater = rater.astype("str")
    keep = [c for c in ("referral_id", "person_id") if c in sc.columns]
    dates = sc["date"].to_numpy()
    for k, m in enumerate(meas.itertuples(index=False)):
        rows = np.flatnonzero(inst_col == str(m.instrument))
        num = pd.to_numeric(sc[m.scale], errors="coerce")
        part = pd.DataFrame(
            {
                "row": sc.index[rows],
                **{c: _take(sc[c], rows) for c in keep},
                "instrument": m.instrument,
                "rater": rater.iloc[rows].fillna(m.respondent).array,
                "scale": m.scale,
                "date": dates[rows],
                "value": num.to_numpy(dtype=float, na_value=np.nan)[rows],
                "threshold": m.threshold,
                "higher_is_better": m.higher_is_better,
            }
        )
        parts.append(part)
        srcs.append(rows)
        midxs.append(np.full(len(rows), k))
    long = pd.concat(parts, ignore_index=True)
    return long, np.concatenate(srcs), np.concatenate(midxs)


SCORE = st.tuples(
    st.sampled_from(["sdq_parent", "sdq_teacher", "gbo"]),
    st.sampled_from(["parent", " Teacher", "", None, "self"]),
    st.one_of(st.none(), st.integers(0, 10)),
    st.sampled_from(["r1", "r2", None]),
    st.integers(0, 3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(SCORE, min_size=1, max_size=30),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["range", "text"]),
)
def test_long_scores_as_frames_per_measure(records, with_rater, ids_as_text, index):
    from outcomes.change.outcome_metric import _long_scores, _measures_of

    sc = pd.DataFrame(
        {
            "referral_id": [r[3] for r in records],
            "person_id": [f"p{r[4]}" if ids_as_text else r[4] for r in records],
            "instrument": [r[0] for r in records],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta([r[4] for r in records], "D"),
            "emotional": [np.nan if r[2] is None else float(r[2]) for r in records],
            "goal_1": [r[2] for r in records],
        }
    )
    if with_rater:
        sc["rater"] = [r[1] for r in records]
    if index == "text":
        sc.index = [f"row{i}" for i in range(len(sc))]
    meas = _measures_of(list(pd.unique(sc["instrument"])), sc.columns)
    if meas.empty:
        return
    new, new_src, new_m = _long_scores(sc, meas)
    old, old_src, old_m = _long_scores_by_measure(sc, meas)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    np.testing.assert_array_equal(new_src, old_src)
    np.testing.assert_array_equal(new_m, old_m)
