"""Scoring that tolerates an empty selection (a tiny programme may have no discharges)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..instruments import load_instrument
from ..instruments.scoring import score


def score_items(
    frame: pd.DataFrame, instrument: str, *, columns: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """``oc.score(frame, instrument, keep=[])``; with no rows, an empty frame of scale columns.

    The issues DataFrame that scoring leaves in ``.attrs`` is dropped: pandas compares attrs
    when concatenating, and a DataFrame there makes that comparison fail.
    """
    if len(frame) == 0:
        inst = load_instrument(instrument)
        return pd.DataFrame({sc.id: np.empty(0) for sc in inst.scales})
    out = score(frame, instrument, columns=columns, keep=[])
    out.attrs = {}
    return out
