"""Kaplan-Meier curves for many groups at once (grouped waiting times).

One sort of all rows by (group, time) replaces one ``SurvfuncRight`` fit per group, so the cost
is linear in rows whatever the number of groups. The arithmetic is statsmodels'
``_calc_survfunc_right`` (product-limit estimate via a cumulative sum of logs, Greenwood
standard errors) done element for element in the same order, so each group's numbers are the
ones ``SurvfuncRight`` gives for that group alone, bit for bit; tests/test_km_grouped.py checks
this against statsmodels per group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Segments longer than this are summed one ``np.cumsum`` call each; shorter ones together,
#: one position at a time (at most this many vectorised steps).
_LOOP_MAX = 64


def segmented_cumsum(x: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment ``x[starts[i] : starts[i] + lengths[i]]``.

    The additions are those of ``np.cumsum`` on each segment alone, in the same order, so the
    results are identical to it (a global cumsum minus offsets would not be: rounding).

    Example:
        >>> segmented_cumsum(np.array([1.0, 2, 3, 4, 5]), np.array([0, 2]), np.array([2, 3]))
        array([ 1.,  3.,  3.,  7., 12.])
    """
    out = np.array(x, dtype=float, copy=True)
    long = lengths > _LOOP_MAX
    for s, n in zip(starts[long], lengths[long], strict=True):
        out[s : s + n] = np.cumsum(x[s : s + n])
    order = np.argsort(-lengths[~long], kind="stable")
    s_short, n_short = starts[~long][order], lengths[~long][order]
    top = int(n_short[0]) if len(n_short) else 0
    for k in range(1, top):
        m = np.searchsorted(-n_short, -k, side="left")  # segments longer than k
        idx = s_short[:m] + k
        out[idx] = out[idx - 1] + out[idx]
    return out


@dataclass
class GroupedKM:
    """Kaplan-Meier steps of every group, concatenated in group order.

    Per step (event times only, as ``SurvfuncRight``): ``group``, ``times``, ``n_risk`` (int),
    ``n_events`` (float), ``surv`` and its Greenwood ``se``. Per group: ``starts``/``lengths``
    into the steps, ``n_rows`` and ``last_time`` (the largest time, censored or not; NaN for
    a group without rows).
    """

    group: np.ndarray
    times: np.ndarray
    n_risk: np.ndarray
    n_events: np.ndarray
    surv: np.ndarray
    se: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    n_rows: np.ndarray
    last_time: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.n_rows)


def km_grouped(days: np.ndarray, event: np.ndarray, group: np.ndarray, n_groups: int) -> GroupedKM:
    """Kaplan-Meier curves of ``days`` (event when ``event``) for groups ``0..n_groups-1``."""
    days = np.asarray(days, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    order = _order_by_group_then(group, days)
    g, t, e = group[order], days[order], np.asarray(event, dtype=float)[order]
    new = np.ones(len(g), bool)
    new[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
    run = np.cumsum(new) - 1
    run_group, run_time = g[new], t[new]
    count = np.bincount(run, minlength=len(run_group))
    d = np.bincount(run, weights=e, minlength=len(run_group))
    n_rows = np.bincount(group, minlength=n_groups)
    # Risk set: the group's rows not yet past this time (statsmodels' reversed cumsum).
    rows_before = np.cumsum(count) - count
    group_before = np.cumsum(n_rows) - n_rows
    n = n_rows[run_group] - (rows_before - group_before[run_group])
    last_time = np.full(n_groups, np.nan)
    ends = _last_of_runs(g)  # rows sorted by time within group: the last is the largest
    last_time[g[ends]] = t[ends]

    keep = d > 0  # as SurvfuncRight: steps only where an event occurred
    sg, times, n, d = run_group[keep], run_time[keep], n[keep], d[keep]
    lengths = np.bincount(sg, minlength=n_groups)
    starts = np.cumsum(lengths) - lengths

    sp = 1 - d / n.astype(np.float64)
    zero = sp < 1e-16
    sp[zero] = 1e-16
    sp = np.exp(segmented_cumsum(np.log(sp), starts, lengths))
    sp[zero] = 0

    denom = np.clip(n * (n - d), 1e-12, np.inf)
    se = d / denom.astype(np.float64)
    se[(n == d) | (n == 0)] = np.nan
    se = np.sqrt(segmented_cumsum(se, starts, lengths))
    locs = np.isfinite(se) | (sp != 0)
    se[locs] *= sp[locs]
    se[~locs] = np.nan
    return GroupedKM(sg, times, n, d, sp, se, starts, lengths, n_rows, last_time)


def step_at(km: GroupedKM, values: np.ndarray, t: float, start: float) -> np.ndarray:
    """Per group, a right-continuous step function (``values`` at ``km.times``) at ``t``;
    ``start`` before the first step."""
    upto = np.bincount(
        km.group, weights=(km.times <= t).astype(float), minlength=km.n_groups
    ).astype(np.int64)
    out = np.full(km.n_groups, float(start))
    has = upto > 0
    out[has] = values[km.starts[has] + upto[has] - 1]
    return out


def quantiles(km: GroupedKM, surv: np.ndarray, ps: dict[str, float]) -> dict[str, np.ndarray]:
    """Per group, :func:`outcomes.service.km_quantile` of the curve ``surv`` (on ``km``'s
    steps, NaN allowed) at each proportion of ``ps``, with ``last_time`` the group's largest
    time; NaN for a group without events."""
    G = km.n_groups
    # Each group's curve with F = 0 at time 0 in front, as km_quantile builds it.
    pos = np.arange(len(km.times)) + km.group + 1
    m = len(km.times) + G
    x, y, grp = np.zeros(m), np.zeros(m), np.empty(m, np.int64)
    x[pos], y[pos] = km.times, 1.0 - surv
    head = km.starts + np.arange(G)
    grp[head] = np.arange(G)
    grp[pos] = km.group
    # Keep the first point at each F level within a group (NaN levels count as one level).
    level = np.where(np.isnan(y), np.inf, y)
    if np.all((grp[1:] != grp[:-1]) | (level[1:] >= level[:-1])):
        order = np.arange(m)  # F never falls within a group (always so for the estimate)
    else:
        order = np.lexsort((np.arange(m), level, grp))
    first = np.ones(m, bool)
    first[1:] = (grp[order][1:] != grp[order][:-1]) | (level[order][1:] != level[order][:-1])
    kept = np.zeros(m, bool)
    kept[order[first]] = True
    # Whether each group's last kept point (by position) is defined, and its last defined F.
    kept_at = np.flatnonzero(kept)
    last_kept = kept_at[_last_of_runs(grp[kept_at])]
    last_defined = ~np.isnan(y[last_kept])
    def_at = kept_at[~np.isnan(y[kept_at])]
    y_last = y[def_at[_last_of_runs(grp[def_at])]]
    # Defined kept points by group then F: the smallest F at or above p starts a suffix.
    by_f = order[first]
    by_f = by_f[~np.isnan(y[by_f])]
    gs, ys, xs = grp[by_f], y[by_f], x[by_f]
    size = np.bincount(gs, minlength=G)
    begin = np.cumsum(size) - size
    tol = np.sqrt(np.finfo(float).eps)
    out = {}
    for name, p in ps.items():
        c1 = np.bincount(gs, weights=(ys + tol < p).astype(float), minlength=G).astype(np.int64)
        c2 = np.bincount(gs, weights=(ys - tol < p).astype(float), minlength=G).astype(np.int64)
        has1, has2 = c1 < size, c2 < size
        x1 = xs[np.where(has1, begin + c1, 0)]
        x2 = xs[np.where(has2, begin + c2, 0)]
        on_p = last_defined & (np.abs(p - y_last) < tol)
        res = np.where(has2, (x1 + x2) / 2, np.where(on_p, (x1 + km.last_time) / 2, np.nan))
        res[~has1 | (km.lengths == 0)] = np.nan
        out[name] = res
    return out


def _order_by_group_then(group: np.ndarray, t: np.ndarray) -> np.ndarray:
    """An order of rows by group, then ``t`` (ties in any order)."""
    if len(t) and np.all(np.isfinite(t)):
        lo, hi = float(t.min()), float(t.max())
        span = hi - lo + 1
        whole = np.array_equal(t, np.round(t))
        if whole and span * (int(group.max()) + 1) < 2**62:
            # whole days: one integer key sorts much faster than a two-key lexsort
            return np.argsort(group * np.int64(span) + (t - lo).astype(np.int64))
    return np.lexsort((t, group))


def _last_of_runs(keys: np.ndarray) -> np.ndarray:
    """Mask of the last element of each run of equal ``keys``."""
    last = np.ones(len(keys), bool)
    last[:-1] = keys[1:] != keys[:-1]
    return last
