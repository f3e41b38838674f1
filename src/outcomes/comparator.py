"""Comparator ranges: is a school's prevalence lower than, as expected from, or above others'?

The rule is the funnel plot's (Spiegelhalter 2005): a comparator prevalence p0 (from a norm
table, or by default the pooled prevalence of the programme's own schools in the same year
group and wave) and, for a school with n respondents, the expected range
p0 +/- z * sqrt(p0 (1 - p0) / n), z = 1.96 for 95% limits. A school above the range is
``elevated``, below it ``lower``, inside it ``expected``. Small schools get wide ranges, so
they are not flagged for chance variation. The rule ignores over-dispersion between schools
(as the basic funnel plot does), so with many schools some will be flagged by chance: read a
flag as a prompt to look, not a verdict.

This module receives a prepared table (columns y, school and the ``by`` columns); the checks
live in :func:`outcomes.survey.benchmark`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

FLAGS = ("lower", "expected", "elevated")


def funnel_limits(p0, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The expected range p0 +/- z sqrt(p0 (1 - p0) / n), clipped to [0, 1].

    Example:
        >>> lo, hi = funnel_limits(0.25, 100)
        >>> round(float(lo), 4), round(float(hi), 4)
        (0.1651, 0.3349)
    """
    p0, n = np.asarray(p0, dtype=float), np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(p0 * (1 - p0) / n)
    return np.clip(p0 - half, 0, 1), np.clip(p0 + half, 0, 1)


def rule_text(confidence: float, source: str) -> str:
    """The stated rule, as the report prints it."""
    return (
        f"{source}; a school is 'elevated' (or 'lower') when its prevalence lies above (or "
        f"below) the {confidence:.0%} funnel limits p0 +/- z sqrt(p0 (1 - p0) / n) around the "
        "comparator p0, 'expected' otherwise"
    )


def ranges(
    frame: pd.DataFrame,
    by: list[str],
    norms: pd.DataFrame | None,
    confidence: float,
) -> pd.DataFrame:
    """One row per school and ``by`` group: n, cases, prevalence, comparator, range, flag."""
    keys = ["school", *by]
    grouped = frame.groupby(keys, dropna=False, sort=True)["y"]
    out = grouped.agg(n="count", cases="sum").reset_index()
    out["cases"] = out["cases"].round().astype(np.int64)
    out["prevalence"] = out["cases"] / out["n"]
    if norms is None:
        pooled = frame.groupby(by, dropna=False)["y"].mean() if by else frame["y"].mean()
        if by:
            comp = pooled.rename("comparator").reset_index()
            out = out.merge(comp, on=by, how="left")
        else:
            out["comparator"] = float(pooled)
    else:
        out = (
            out.merge(norms[[*by, "comparator"]], on=by, how="left")
            if by
            else out.assign(comparator=float(norms["comparator"].iloc[0]))
        )
    p0 = out["comparator"].to_numpy(dtype=float)
    n = out["n"].to_numpy(dtype=float)
    out["range_low"], out["range_high"] = funnel_limits(p0, n, confidence)
    prev = out["prevalence"].to_numpy(dtype=float)
    flag = np.where(prev > out["range_high"], "elevated", "expected")
    flag = np.where(prev < out["range_low"], "lower", flag)
    ok = np.isfinite(prev) & np.isfinite(p0) & (n > 0)
    out["flag"] = pd.array(np.where(ok, flag, None), dtype="string")
    out["note"] = pd.array(
        np.where(
            ok,
            "",
            np.where(np.isfinite(p0), "no respondents", "no comparator for this group"),
        ),
        dtype="string",
    )
    return out
