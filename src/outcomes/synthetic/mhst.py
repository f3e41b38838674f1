"""Optional MHST outcome measures of referred children: RCADS-25 and, from 16, GAD-7 and PHQ-9.

Off by default (``mhst_measures=False``; the demo programme turns it on). Drawn from their own
random stream, so switching them on leaves every other table unchanged. The measures are drawn from their own random stream from the same
latent emotional trait as the other clinical measures, at assessment (at the baseline measure
rate) and at discharge (exactly for the children followed up, so dropout is shared). RCADS-25
is self-reported from 11 and parent-reported at 8-10 (the developers' age range is 8-18); GAD-7
and PHQ-9 are self-reported from 16 (their age range in the instrument files).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .itembank import gad_7_block, phq_9_block, rcads_25_block
from .latent import blank_cells, int_columns

RCADS_25 = rcads_25_block()
GAD_7 = gad_7_block()
PHQ_9 = phq_9_block()
#: the instruments added, in file order
MHST_INSTRUMENTS = ("rcads_25_self", "rcads_25_parent", "gad_7", "phq_9")


def _who(age: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "rcads_25_self": age >= 11,
        "rcads_25_parent": (age >= 8) & (age <= 10),
        "gad_7": age >= 16,
        "phq_9": age >= 16,
    }


def mhst_responses(
    lat: dict[str, np.ndarray],
    age: np.ndarray,
    seen: np.ndarray,
    followed: np.ndarray,
    waves: dict[str, np.ndarray],
    frame_of,
    item_missing_rate: float,
    baseline_rate: float,
    rng: np.random.Generator,
) -> dict[str, pd.DataFrame]:
    """Response tables of the MHST measures, in the layout of the other clinical measures.

    ``frame_of(instrument, rows, rater, wave, dates)`` builds the key columns (person, referral, date...);
    ``waves`` maps "assessment"/"discharge" to the dates of each child.
    """
    n = len(age)
    blocks = {"rcads_25_self": RCADS_25, "rcads_25_parent": RCADS_25, "gad_7": GAD_7,
              "phq_9": PHQ_9}  # fmt: skip
    raters = {"rcads_25_self": "self", "rcads_25_parent": "parent", "gad_7": "self",
              "phq_9": "self"}  # fmt: skip
    out: dict[str, pd.DataFrame] = {}
    for inst_id, ok in _who(age).items():
        block = blocks[inst_id]
        has_pre = seen & ok & (rng.random(n) < baseline_rate)
        parts = []
        for wave, occ, mask in (
            ("assessment", "pre", has_pre),
            ("discharge", "post", followed & ok),
        ):
            values = blank_cells(block.sample(lat[occ], rng).astype(float), item_missing_rate, rng)
            rows = np.flatnonzero(mask)
            keys = frame_of(inst_id, rows, raters[inst_id], wave, waves[wave])
            parts.append(pd.concat([keys, int_columns(values[rows], block.ids)], axis=1))
        out[inst_id] = pd.concat(parts, ignore_index=True)
    return out
