"""The simulator's vectorised hot spots (issue 21) against their definitions, cell by cell."""

from __future__ import annotations

import numpy as np

from outcomes.synthetic.latent import ordinal_responses
from outcomes.synthetic.population import demographic_shift


def test_ordinal_codes_count_the_thresholds_exceeded_cell_by_cell():
    rng = np.random.default_rng(4)
    n, j = 40, 5
    theta = rng.standard_normal((n, j))
    loadings = rng.uniform(0.2, 0.9, j)
    thresholds = np.sort(rng.standard_normal((j, 3)), axis=1)
    thresholds[1, 2] = np.inf  # an item with fewer categories
    noise = rng.standard_normal((n, j))
    got = ordinal_responses(theta, loadings, thresholds, rng, noise=noise, offset=1)
    for i in range(n):
        for k in range(j):
            ystar = theta[i, k] * loadings[k] + np.sqrt(1 - loadings[k] ** 2) * noise[i, k]
            assert got[i, k] == 1 + sum(ystar > c for c in thresholds[k])
    assert got.dtype == np.int64


def test_demographic_shift_by_hand():
    demo = {
        "gender": np.array(["female", "male", "non-binary"], dtype=object),
        "fsm": np.array([True, False, False]),
        "sen": np.array(["none", "EHC plan", "SEN support"], dtype=object),
        "lgbt": np.array([np.nan, 0.0, 1.0]),
    }
    mu = demographic_shift(demo, np.array([9, 7, 11]))
    # female + FSM, two years past Year 7: emotional 0.35 + 0.10 + 0.08, wellbeing -0.15 - 0.10 - 0.06
    assert np.allclose(mu[0], [0.53, 0.0, -0.05, 0.10, 0.30, -0.31])
    # male with an EHC plan in Year 7: 1.6 x the SEN row
    assert np.allclose(mu[1], [0.24, 0.40, 0.72, 0.56, -0.16, -0.16])
    # non-binary, LGBT+, SEN support, Year 11 (+0.16 emotional, -0.12 wellbeing)
    assert np.allclose(mu[2], [1.31, 0.25, 0.55, 0.95, -0.10, -1.02])
