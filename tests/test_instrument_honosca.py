"""HoNOSCA (clinician, self, parent): total of scales 1-13 only, 9 = not known, prorating."""

from __future__ import annotations

import numpy as np
import pytest

import outcomes as oc
from _helpers import frame

VERSIONS = ["honosca", "honosca_sr", "honosca_parent"]
# Ratings for scales 1..15
HAND = [2, 1, 0, 0, 3, 1, 0, 2, 3, 1, 0, 2, 1, 4, 4]
# By hand: total of 1-13 = 2+1+0+0+3+1+0+2+3+1+0+2+1 = 16 (summing all 15 would give 24)
# behaviour 1-4 = 3; impairment 5-6 = 4; symptoms 7-9 = 5; social 10-13 = 4


def _row(ratings):
    return {f"q{i}": r for i, r in enumerate(ratings, start=1)}


@pytest.mark.parametrize("version", VERSIONS)
def test_hand_scored_row(version):
    out = oc.score(frame(version, [_row(HAND)]), version)
    assert out.loc[0, "total"] == 16
    assert out.loc[0, "total_n"] == 13
    assert (
        out.loc[0, "behaviour"],
        out.loc[0, "impairment"],
        out.loc[0, "symptoms"],
        out.loc[0, "social"],
    ) == (3, 4, 5, 4)
    assert out.loc[0, "scale_14"] == 4 and out.loc[0, "scale_15"] == 4
    assert out.loc[0, "scale_9"] == 3


def test_items_14_and_15_never_enter_the_total():
    assert "q14" not in oc.load_instrument("honosca").scale("total").items
    out = oc.score(frame("honosca", [_row([0] * 13 + [4, 4])]), "honosca")
    assert out.loc[0, "total"] == 0


def test_nine_is_not_known_and_the_total_is_prorated():
    ratings = list(HAND)
    ratings[2] = 9  # scale 3 (rated 0) not known
    ratings[6] = 9  # scale 7 (rated 0) not known
    out = oc.score(frame("honosca", [_row(ratings)]), "honosca")
    # 11 of 13 rated, sum 16 -> 16 * 13 / 11 = 18.909...
    assert out.loc[0, "total"] == pytest.approx(16 * 13 / 11, abs=1e-12)
    assert out.loc[0, "total_n"] == 11
    assert np.isnan(out.loc[0, "behaviour"]) and np.isnan(out.loc[0, "symptoms"])
    assert out.loc[0, "impairment"] == 4
    assert np.isnan(out.loc[0, "scale_3"])
    plain = oc.score(frame("honosca", [_row(ratings)]), "honosca", prorate=False)
    assert plain.loc[0, "total"] == 16


def test_total_needs_ten_rated_scales():
    ten = [1] * 10 + [9, 9, 9] + [0, 0]
    nine = [1] * 9 + [9, 9, 9, 9] + [0, 0]
    out = oc.score(frame("honosca", [_row(ten), _row(nine)]), "honosca")
    assert out.loc[0, "total"] == pytest.approx(10 * 13 / 10)
    assert np.isnan(out.loc[1, "total"])


def test_labels_and_not_known_label():
    row = _row(HAND)
    row["q1"] = "Mild problem"
    row["q2"] = "not known"
    out = oc.score(frame("honosca", [row]), "honosca")
    assert out.loc[0, "scale_1"] == 2 and np.isnan(out.loc[0, "scale_2"])


def test_code_5_and_nocc_7_are_errors_unless_nocc_coding_is_chosen():
    row = _row(HAND)
    row["q4"] = 7
    df = frame("honosca", [row])
    with pytest.raises(oc.InvalidResponsesError, match="column 'q4': 7"):
        oc.score(df, "honosca")
    out = oc.score(df, "honosca", coding="nocc")  # Australian 7 = not stated
    assert np.isnan(out.loc[0, "scale_4"]) and out.loc[0, "total"] == pytest.approx(16 * 13 / 12)
    row["q4"] = 5
    with pytest.raises(oc.InvalidResponsesError, match="out of range"):
        oc.score(frame("honosca", [row]), "honosca", coding="nocc")


def test_reliable_change_two_points_on_scales_1_to_13():
    for version in VERSIONS:
        inst = oc.load_instrument(version)
        for i in range(1, 14):
            assert inst.scale(f"scale_{i}").reliable_change.threshold == 2
        assert inst.scale("scale_14").reliable_change is None
        assert inst.scale("total").reliable_change is None
        assert not inst.scale("total").higher_is_better
