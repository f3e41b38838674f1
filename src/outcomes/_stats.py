"""Small statistical helpers shared by several modules (one place, one definition)."""

from __future__ import annotations

import numpy as np


def wilson_ci(count, nobs, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for count/nobs, vectorised; NaN where nobs is 0.

    statsmodels' default method is Wald, which misbehaves near 0 and 1; always ask for Wilson.

    Example:
        >>> lo, hi = wilson_ci(81, 263)
        >>> round(float(lo), 5), round(float(hi), 5)
        (0.25529, 0.36621)
    """
    from statsmodels.stats.proportion import proportion_confint  # statsmodels loads on first use

    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    if np.any(count < 0) or np.any(count > nobs):
        raise ValueError("wilson_ci: counts must lie between 0 and the number of observations")
    safe_n = np.where(nobs > 0, nobs, 1.0)
    lo, hi = proportion_confint(count, safe_n, alpha=1 - confidence, method="wilson")
    # Wilson bounds are exactly 0 at count 0 (and 1 at count n); remove rounding residue.
    lo = np.where(count == 0, 0.0, lo)
    hi = np.where(count == nobs, 1.0, hi)
    lo = np.where(nobs > 0, lo, np.nan)
    hi = np.where(nobs > 0, hi, np.nan)
    return lo, hi
