"""SDQ parent, teacher and self-report: scoring rules checked against hand-scored rows and the
published cut-offs (written out below, independently of the YAML files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import outcomes as oc
from _helpers import frame, sdq_items_for

# A hand-scored parent form (codes: 0 not true, 1 somewhat, 2 certainly).
HAND_ROW = dict(
    consid=2, restles=1, somatic=0, shares=2, tantrum=1, loner=0, obeys=2, worries=2, caring=2,
    fidgety=1, friend=2, fights=0, unhappy=1, popular=1, distrac=2, clingy=1, kind=2, lies=0,
    bullied=0, helpout=1, reflect=1, steals=0, oldbest=1, afraid=2, attends=0,
)  # fmt: skip
# By hand:
# emotional  = somatic 0 + worries 2 + unhappy 1 + clingy 1 + afraid 2            = 6
# conduct    = tantrum 1 + obeys (rev 2->0) + fights 0 + lies 0 + steals 0        = 1
# hyper      = restles 1 + fidgety 1 + distrac 2 + reflect (rev 1->1) + attends (rev 0->2) = 7
# peer       = loner 0 + friend (rev 2->0) + popular (rev 1->1) + bullied 0 + oldbest 1    = 2
# prosocial  = 2 + 2 + 2 + 2 + 1                                                  = 9
# total      = 6 + 1 + 7 + 2 = 16; externalising 8; internalising 8
HAND_EXPECTED = dict(
    emotional=6, conduct=1, hyperactivity=7, peer=2, prosocial=9, total_difficulties=16,
    externalising=8, internalising=8,
)  # fmt: skip


def test_hand_scored_parent_row():
    out = oc.score(frame("sdq_parent", [HAND_ROW]), "sdq_parent")
    for scale, value in HAND_EXPECTED.items():
        assert out.loc[0, scale] == value, scale
    assert out.loc[0, "emotional_band"] == "high"  # parent 4-band 5-6
    assert out.loc[0, "emotional_band3"] == "abnormal"  # parent 3-band 5-10
    assert out.loc[0, "hyperactivity_band"] == "slightly raised"  # 6-7
    assert out.loc[0, "total_difficulties_band"] == "slightly raised"  # 14-16
    assert out.loc[0, "total_difficulties_band3"] == "borderline"
    assert out.loc[0, "total_difficulties_n"] == 20
    assert np.isnan(out.loc[0, "impact"])  # impact supplement not answered


def test_same_row_as_labels_any_case_and_spacing():
    labels = {0: "not TRUE", 1: "  Somewhat   true", 2: "Certainly true "}
    row = {k: labels[v] for k, v in HAND_ROW.items()}
    out = oc.score(frame("sdq_parent", [row]), "sdq_parent")
    for scale, value in HAND_EXPECTED.items():
        assert out.loc[0, scale] == value


@pytest.mark.parametrize(
    "answers, expected",
    [
        # 3 of 5 answered, 4 points -> 4/3*5 = 6.67 -> 7 (spec example)
        ({"somatic": 2, "worries": 2, "unhappy": 0}, 7),
        # 3 answered, 5 points -> 8.33 -> 8
        ({"worries": 2, "unhappy": 2, "afraid": 1}, 8),
        # 4 answered summing 2 -> 2.5 -> 3: halves round away from zero, not to even
        ({"somatic": 1, "worries": 1, "unhappy": 0, "clingy": 0}, 3),
        # 4 answered summing 6 -> 7.5 -> 8
        ({"somatic": 2, "worries": 2, "unhappy": 1, "clingy": 1}, 8),
        # 4 answered summing 1 -> 1.25 -> 1
        ({"somatic": 1, "worries": 0, "unhappy": 0, "clingy": 0}, 1),
        # 2 of 5 answered: not scored
        ({"somatic": 2, "worries": 2}, np.nan),
        # none answered
        ({}, np.nan),
    ],
)
def test_prorating_emotional(answers, expected):
    out = oc.score(frame("sdq_parent", [answers]), "sdq_parent")
    if np.isnan(expected):
        assert np.isnan(out.loc[0, "emotional"])
    else:
        assert out.loc[0, "emotional"] == expected
    assert out.loc[0, "emotional_n"] == len(answers)


def test_total_needs_all_four_difficulty_scales():
    row = dict(HAND_ROW)
    for item in ("somatic", "worries", "unhappy"):  # emotional now has 2 of 5
        row[item] = np.nan
    out = oc.score(frame("sdq_parent", [row]), "sdq_parent")
    assert np.isnan(out.loc[0, "emotional"])
    assert np.isnan(out.loc[0, "total_difficulties"])
    assert np.isnan(out.loc[0, "internalising"])
    assert out.loc[0, "externalising"] == 8  # conduct and hyperactivity are whole


def test_total_uses_prorated_subscales():
    row = dict(HAND_ROW, somatic=np.nan, clingy=np.nan)  # emotional 2+1+2 = 5 from 3 -> 8.33 -> 8
    out = oc.score(frame("sdq_parent", [row]), "sdq_parent")
    assert out.loc[0, "emotional"] == 8
    assert out.loc[0, "total_difficulties"] == 8 + 1 + 7 + 2


def test_reverse_keyed_items():
    inst = oc.load_instrument("sdq_parent")
    assert {i.id for i in inst.items if i.reverse} == {
        "obeys",
        "friend",
        "popular",
        "reflect",
        "attends",
    }
    # all five conduct items "certainly true": obeys reverses to 0
    row = dict(tantrum=2, obeys=2, fights=2, lies=2, steals=2)
    assert oc.score(frame("sdq_parent", [row]), "sdq_parent").loc[0, "conduct"] == 8


IMPACT_CASES = [
    # ebddiff, distres, imphome, impfrie, impclas, impleis -> expected impact (parent)
    # items 0,1 -> 0; 2 -> 1; 3 -> 2
    ((2, 2, 3, 1, np.nan, 0), 3),  # hand: 1 + 2 + 0 + (missing = 0) + 0
    ((3, 3, 3, 3, 3, 3), 10),
    ((1, 1, 1, 1, 1, 1), 0),
    ((0, np.nan, np.nan, np.nan, np.nan, np.nan), 0),  # "No": impact 0
    ((0, 3, 3, 3, 3, 3), 0),  # "No" overrides stray answers
    ((np.nan, 2, np.nan, np.nan, np.nan, np.nan), 1),  # ebddiff missing, one item answered
    ((2, np.nan, np.nan, np.nan, np.nan, np.nan), np.nan),  # difficulties, no impact answered
    ((np.nan, np.nan, np.nan, np.nan, np.nan, np.nan), np.nan),
]


@pytest.mark.parametrize("answers, expected", IMPACT_CASES)
def test_parent_impact(answers, expected):
    keys = ["ebddiff", "distres", "imphome", "impfrie", "impclas", "impleis"]
    out = oc.score(frame("sdq_parent", [dict(zip(keys, answers, strict=True))]), "sdq_parent")
    got = out.loc[0, "impact"]
    assert (np.isnan(got) and np.isnan(expected)) or got == expected


def test_impact_zero_when_ebddiff_is_no_as_a_label():
    row = {"ebddiff": "no", "distres": "A great deal"}
    assert oc.score(frame("sdq_parent", [row], fill=None), "sdq_parent").loc[0, "impact"] == 0


def test_teacher_impact_uses_three_items():
    inst = oc.load_instrument("sdq_teacher")
    assert inst.scale("impact").items == ("distres", "impfrie", "impclas")
    row = {"ebddiff": 3, "distres": 3, "impfrie": 3, "impclas": 2}
    assert oc.score(frame("sdq_teacher", [row]), inst).loc[0, "impact"] == 2 + 2 + 1


def test_impact_supplement_columns_are_optional():
    df = frame("sdq_parent", [HAND_ROW]).drop(
        columns=["ebddiff", "distres", "imphome", "impfrie", "impclas", "impleis"]
    )
    out = oc.score(df, "sdq_parent")
    assert out.loc[0, "total_difficulties"] == 16 and np.isnan(out.loc[0, "impact"])


def test_a_missing_core_item_column_is_an_error():
    df = frame("sdq_parent", [HAND_ROW]).drop(columns=["worries"])
    with pytest.raises(oc.InvalidResponsesError, match=r"missing: \['worries'\]"):
        oc.score(df, "sdq_parent")


# Published cut-offs, written out here (specs/instruments.md), not read from the YAML.
# scale -> list of (band label, lowest score, highest score)
FOUR_BAND = {
    "sdq_parent": {
        "total_difficulties": [(0, 13), (14, 16), (17, 19), (20, 40)],
        "emotional": [(0, 3), (4, 4), (5, 6), (7, 10)],
        "conduct": [(0, 2), (3, 3), (4, 5), (6, 10)],
        "hyperactivity": [(0, 5), (6, 7), (8, 8), (9, 10)],
        "peer": [(0, 2), (3, 3), (4, 4), (5, 10)],
        "prosocial": [(8, 10), (7, 7), (6, 6), (0, 5)],
    },
    "sdq_teacher": {
        "total_difficulties": [(0, 11), (12, 15), (16, 18), (19, 40)],
        "emotional": [(0, 3), (4, 4), (5, 5), (6, 10)],
        "conduct": [(0, 2), (3, 3), (4, 4), (5, 10)],
        "hyperactivity": [(0, 5), (6, 7), (8, 8), (9, 10)],
        "peer": [(0, 2), (3, 4), (5, 5), (6, 10)],
        "prosocial": [(6, 10), (5, 5), (4, 4), (0, 3)],
    },
    "sdq_self": {
        "total_difficulties": [(0, 14), (15, 17), (18, 19), (20, 40)],
        "emotional": [(0, 4), (5, 5), (6, 6), (7, 10)],
        "conduct": [(0, 2), (3, 3), (4, 4), (5, 10)],
        "hyperactivity": [(0, 5), (6, 6), (7, 7), (8, 10)],
        "peer": [(0, 2), (3, 3), (4, 4), (5, 10)],
        "prosocial": [(7, 10), (6, 6), (5, 5), (0, 4)],
    },
}
DIFF_LABELS = ["close to average", "slightly raised", "high", "very high"]
PRO_LABELS = ["close to average", "slightly lowered", "low", "very low"]


def _expected_band(table, value, labels):
    for label, (lo, hi) in zip(labels, table, strict=True):
        if lo <= value <= hi:
            return label
    raise AssertionError(value)


@pytest.mark.parametrize("version", sorted(FOUR_BAND))
@pytest.mark.parametrize("scale", ["emotional", "conduct", "hyperactivity", "peer", "prosocial"])
def test_four_bands_at_every_score(version, scale):
    rows = [sdq_items_for(version, scale, v) for v in range(11)]
    out = oc.score(frame(version, rows), version)
    assert out[scale].tolist() == list(range(11))
    labels = PRO_LABELS if scale == "prosocial" else DIFF_LABELS
    expected = [_expected_band(FOUR_BAND[version][scale], v, labels) for v in range(11)]
    assert out[f"{scale}_band"].astype(str).tolist() == expected


@pytest.mark.parametrize("version", sorted(FOUR_BAND))
def test_total_bands_at_every_score(version):
    rows = []
    for total in range(41):
        row, left = {}, total
        for scale in ("emotional", "conduct", "hyperactivity", "peer"):
            part = min(10, left)
            left -= part
            row.update(sdq_items_for(version, scale, part))
        rows.append(row)
    out = oc.score(frame(version, rows), version)
    assert out["total_difficulties"].tolist() == list(range(41))
    expected = [
        _expected_band(FOUR_BAND[version]["total_difficulties"], v, DIFF_LABELS) for v in range(41)
    ]
    assert out["total_difficulties_band"].astype(str).tolist() == expected


def test_parent_three_band_boundaries():
    # Original 3-band UK parent cut-offs (confirmed): total 0-13/14-16/17-40.
    rows = []
    for total in (13, 14, 16, 17):
        row, left = {}, total
        for scale in ("emotional", "conduct", "hyperactivity", "peer"):
            part = min(10, left)
            left -= part
            row.update(sdq_items_for("sdq_parent", scale, part))
        rows.append(row)
    out = oc.score(frame("sdq_parent", rows), "sdq_parent")
    assert out["total_difficulties_band3"].astype(str).tolist() == [
        "normal",
        "borderline",
        "borderline",
        "abnormal",
    ]


@pytest.mark.parametrize("version, top", [("sdq_parent", 10), ("sdq_self", 10), ("sdq_teacher", 6)])
def test_impact_bands(version, top):
    inst = oc.load_instrument(version)
    items = inst.scale("impact").items
    rows = []
    for v in range(top + 1):
        row, left = {"ebddiff": 2}, v
        for it in items:
            s = min(2, left)
            left -= s
            row[it] = {0: 0, 1: 2, 2: 3}[s]  # score 0, 1, 2 from answers 0/1, 2, 3
        rows.append(row)
    out = oc.score(frame(version, rows), version)
    assert out["impact"].tolist() == list(range(top + 1))
    expected = ["close to average", "slightly raised", "high"] + ["very high"] * (top - 2)
    assert out["impact_band"].astype(str).tolist() == expected


def test_reliable_change_thresholds_from_nhs_england():
    parent = oc.load_instrument("sdq_parent")
    self_ = oc.load_instrument("sdq_self")
    want_p = dict(emotional=4, conduct=4, hyperactivity=4, peer=3, prosocial=3, impact=3)
    want_s = dict(emotional=4, conduct=4, hyperactivity=4, peer=5, prosocial=4, impact=3)
    for k, v in want_p.items():
        assert parent.scale(k).reliable_change.threshold == v
    for k, v in want_s.items():
        assert self_.scale(k).reliable_change.threshold == v
    assert parent.scale("total_difficulties").reliable_change is None
    assert parent.scale("prosocial").higher_is_better
    assert not parent.scale("emotional").higher_is_better


def test_clinical_cutoffs():
    assert oc.load_instrument("sdq_parent").scale("total_difficulties").clinical_cutoff.value == 17
    assert oc.load_instrument("sdq_teacher").scale("total_difficulties").clinical_cutoff.value == 16
    assert oc.load_instrument("sdq_self").scale("total_difficulties").clinical_cutoff.value == 20


def test_out_of_range_codes_named_with_row_and_column():
    df = frame("sdq_parent", [HAND_ROW, dict(HAND_ROW, worries=3, kind="maybe")])
    df.index = ["child-a", "child-b"]
    with pytest.raises(oc.InvalidResponsesError) as err:
        oc.score(df, "sdq_parent")
    issues = err.value.issues
    assert set(zip(issues["row"], issues["column"], strict=True)) == {
        ("child-b", "worries"),
        ("child-b", "kind"),
    }
    msg = str(err.value)
    assert "row 'child-b', column 'worries': 3" in msg and "out of range" in msg
    assert "'maybe'" in msg and "unknown label" in msg


def test_flag_scores_the_rest():
    df = frame("sdq_parent", [HAND_ROW, dict(HAND_ROW, worries=3)])
    out = oc.score(df, "sdq_parent", errors="flag")
    assert out.loc[0, "emotional"] == 6
    # worries -> missing: 4 answered (0+1+1+2 = 4) -> 5.0
    assert out.loc[1, "emotional"] == 5
    assert len(out.attrs["issues"]) == 1
    assert out.attrs["issues"].iloc[0]["reason"].startswith("out of range")


def test_output_columns_and_index():
    df = frame("sdq_parent", [HAND_ROW] * 3)
    df.index = pd.Index([10, 5, 7], name="rowid")
    df.insert(0, "person_id", ["a", "b", "c"])
    out = oc.score(df, "sdq_parent")
    assert list(out.index) == [10, 5, 7] and out.index.name == "rowid"
    assert out.columns[0] == "person_id"
    for col in ("emotional", "emotional_n", "emotional_band", "emotional_band3", "impact_band"):
        assert col in out.columns
    assert "worries" not in out.columns
    assert out["emotional_band"].cat.categories.tolist() == DIFF_LABELS
