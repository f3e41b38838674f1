"""Builders for test frames (kept out of the library: tests state their own expectations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import outcomes as oc


def frame(instrument: str, rows: list[dict], fill=np.nan) -> pd.DataFrame:
    """A responses frame with every coded item column present, filled from ``rows``."""
    inst = oc.load_instrument(instrument)
    cols = [it.id for it in inst.coded_items]
    return pd.DataFrame([{c: r.get(c, fill) for c in cols} for r in rows], columns=cols)


def sdq_items_for(instrument: str, scale: str, value: int) -> dict:
    """Item codes giving a 5-item SDQ scale the score ``value`` (reverse keys respected)."""
    inst = oc.load_instrument(instrument)
    out, left = {}, value
    for item in inst.scale(scale).items:
        s = min(2, left)
        left -= s
        out[item] = 2 - s if inst.item(item).reverse else s
    assert left == 0
    return out
