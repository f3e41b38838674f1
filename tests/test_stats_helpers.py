"""outcomes._stats helpers held to the library whose arithmetic they repeat."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from outcomes._stats import wilson_ci


def _statsmodels_wilson(count, nobs, confidence):
    """wilson_ci as it was written on statsmodels (the reference)."""
    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    safe_n = np.where(nobs > 0, nobs, 1.0)
    lo, hi = proportion_confint(count, safe_n, alpha=1 - confidence, method="wilson")
    lo = np.where(count == 0, 0.0, lo)
    hi = np.where(count == nobs, 1.0, hi)
    return np.where(nobs > 0, lo, np.nan), np.where(nobs > 0, hi, np.nan)


@st.composite
def _counts(draw):
    nobs = draw(st.lists(st.integers(0, 10**7), min_size=0, max_size=8))
    count = [draw(st.integers(0, n)) for n in nobs]
    if draw(st.booleans()) and len(nobs) == 1:
        return count[0], nobs[0]  # scalars
    return count, nobs


@settings(max_examples=500)
@given(_counts(), st.sampled_from([0.95, 0.9, 0.99, 0.8, 0.999, 0.5]))
def test_wilson_ci_is_statsmodels_bit_for_bit(counts, confidence):
    count, nobs = counts
    ours = wilson_ci(count, nobs, confidence)
    theirs = _statsmodels_wilson(count, nobs, confidence)
    for a, b in zip(ours, theirs, strict=True):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)  # NaN where NaN, every other value equal
