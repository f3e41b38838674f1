"""CHI-ESQ: 0-2 analysis coding, Don't know as missing, MHSDS 1-3 coding chosen explicitly."""

from __future__ import annotations

import numpy as np
import pytest

import outcomes as oc
from _helpers import frame

VERSIONS = ["chi_esq_parent", "chi_esq_9_11", "chi_esq_12_18"]
CT, PT, NT, DK = "Certainly true", "Partly true", "Not true", "Don't know"
HAND = [CT, CT, PT, NT, CT, DK, CT, PT, CT, DK, CT, CT]
# By hand (CT 2, PT 1, NT 0, DK missing):
# care = items 1-7, 11, 12 = 2, 2, 1, 0, 2, -, 2, 2, 2 -> 13 / 8 answered = 1.625
# environment = items 8-10 = 1, 2, - -> 3 / 2 = 1.5


def _row(values):
    return {f"q{i}": v for i, v in enumerate(values, start=1)}


@pytest.mark.parametrize("version", VERSIONS)
def test_hand_scored_row(version):
    out = oc.score(frame(version, [_row(HAND)]), version)
    assert out.loc[0, "satisfaction_care"] == pytest.approx(1.625, abs=1e-12)
    assert out.loc[0, "satisfaction_care_n"] == 8
    assert out.loc[0, "satisfaction_environment"] == pytest.approx(1.5, abs=1e-12)


def test_scale_composition():
    inst = oc.load_instrument("chi_esq_parent")
    assert inst.scale("satisfaction_care").items == (
        "q1",
        "q2",
        "q3",
        "q4",
        "q5",
        "q6",
        "q7",
        "q11",
        "q12",
    )
    assert inst.scale("satisfaction_environment").items == ("q8", "q9", "q10")


def test_two_thirds_rule():
    # care: 6 of 9 answered is enough, 5 is not; environment: 2 of 3 yes, 1 no
    six = [CT] * 6 + [DK] * 6
    five = [CT] * 5 + [DK] * 7
    six[7] = six[8] = CT  # q8, q9 answered; q10 DK
    out = oc.score(frame("chi_esq_parent", [_row(six), _row(five)]), "chi_esq_parent")
    assert out.loc[0, "satisfaction_care"] == 2.0
    assert np.isnan(out.loc[1, "satisfaction_care"])
    assert out.loc[0, "satisfaction_environment"] == 2.0
    assert np.isnan(out.loc[1, "satisfaction_environment"])


def test_mhsds_coding_is_explicit():
    mhsds = {CT: 1, PT: 2, NT: 3, DK: np.nan}
    df = frame("chi_esq_parent", [_row([mhsds[v] for v in HAND])])
    out = oc.score(df, "chi_esq_parent", coding="mhsds")
    assert out.loc[0, "satisfaction_care"] == pytest.approx(1.625)
    # Without the coding the 3s (MHSDS "Not true") are out of range, not guessed:
    with pytest.raises(oc.InvalidResponsesError, match="column 'q4': 3"):
        oc.score(df, "chi_esq_parent")
    # And codes 1/2 would silently mean something else, which is why the choice is explicit.


def test_unknown_coding_lists_the_available_ones():
    df = frame("chi_esq_parent", [_row(HAND)])
    with pytest.raises(
        oc.OutcomesError, match=r"no alternative coding 'corc'; available: \['mhsds'\]"
    ):
        oc.score(df, "chi_esq_parent", coding="corc")


def test_free_text_is_not_scored_or_passed_on():
    df = frame("chi_esq_parent", [_row(HAND)])
    df["good"] = "kind staff"
    out = oc.score(df, "chi_esq_parent")
    assert "good" not in out.columns
    assert oc.load_instrument("chi_esq_parent").item("good").type == "text"


def test_no_reliable_change_threshold():
    for v in VERSIONS:
        assert all(s.reliable_change is None for s in oc.load_instrument(v).scales)
