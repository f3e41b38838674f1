"""SWEMWBS: raw sum of 7 items and the published Rasch metric conversion."""

from __future__ import annotations

import numpy as np
import pytest

import outcomes as oc
from _helpers import frame

# Published raw -> metric conversion (Stewart-Brown et al. 2009), written out independently.
PUBLISHED = [7.00, 9.51, 11.25, 12.40, 13.33, 14.08, 14.75, 15.32, 15.84, 16.36, 16.88, 17.43,
             17.98, 18.59, 19.25, 19.98, 20.73, 21.54, 22.35, 23.21, 24.11, 25.03, 26.02, 27.03,
             28.13, 29.31, 30.70, 32.55, 35.00]  # fmt: skip


def _row(values):
    return {f"q{i}": v for i, v in enumerate(values, start=1)}


def test_conversion_at_both_ends_and_a_hand_row():
    rows = [_row([1] * 7), _row([5] * 7), _row([3, 4, 2, 5, 3, 3, 4])]  # 7, 35, 24
    out = oc.score(frame("swemwbs", rows), "swemwbs")
    assert out["raw"].tolist() == [7, 35, 24]
    assert out["metric"].tolist() == pytest.approx([7.00, 35.00, 21.54], abs=1e-9)


def test_whole_conversion_table():
    rows = []
    for raw in range(7, 36):
        items, left = [], raw - 7
        for _ in range(7):
            step = min(4, left)
            left -= step
            items.append(1 + step)
        rows.append(_row(items))
    out = oc.score(frame("swemwbs", rows), "swemwbs")
    assert out["raw"].tolist() == list(range(7, 36))
    assert out["metric"].tolist() == pytest.approx(PUBLISHED, abs=1e-9)


def test_any_missing_item_leaves_the_score_missing():
    out = oc.score(frame("swemwbs", [_row([3, 3, 3, 3, 3, 3, np.nan])]), "swemwbs")
    assert np.isnan(out.loc[0, "raw"]) and np.isnan(out.loc[0, "metric"])
    assert out.loc[0, "raw_n"] == 6


def test_labels_and_bad_codes():
    row = _row(["All of the time", "often", "Some of the time", "Rarely", "None of the time", 3, 3])
    assert oc.score(frame("swemwbs", [row]), "swemwbs").loc[0, "raw"] == 5 + 4 + 3 + 2 + 1 + 3 + 3
    with pytest.raises(oc.InvalidResponsesError, match="column 'q2': 0"):
        oc.score(frame("swemwbs", [_row([3, 0, 3, 3, 3, 3, 3])]), "swemwbs")


def test_direction_and_reliable_change():
    sc = oc.load_instrument("swemwbs").scale("metric")
    assert sc.higher_is_better and sc.reliable_change.threshold == 3
