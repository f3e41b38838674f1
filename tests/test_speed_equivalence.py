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
