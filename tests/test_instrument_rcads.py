"""RCADS-47 (self, parent) and RCADS-25: subscales, totals, NHS T-scores by sex and age, bands,
score-level input. Expected numbers are worked by hand below or typed from the spec's tables
(specs/measures.md s. 3.1, from NHS England's rcads_transform_score), not read from the YAML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import outcomes as oc
from _helpers import frame
from outcomes.instruments import parse_instrument

# Item lists as published (RC-KEY1/RC-KEY2 in the spec), typed independently of the YAML.
SUBSCALES = {
    "separation_anxiety": [5, 9, 17, 18, 33, 45, 46],
    "social_phobia": [4, 7, 8, 12, 20, 30, 32, 38, 43],
    "generalised_anxiety": [1, 13, 22, 27, 35, 37],
    "panic": [3, 14, 24, 26, 28, 34, 36, 39, 41],
    "ocd": [10, 16, 23, 31, 42, 44],
    "depression": [2, 6, 11, 15, 19, 21, 25, 29, 40, 47],
}
# The NHS transform table, mean (SD) for ages 8-9, 10-11, 12-13, 14-15, 16-17 (spec s. 3.1).
NHS_TABLE = {
    "self": """
separation_anxiety M 4.87 3.93 3.20 3.05 2.26 2.47 2.50 2.46 1.90 2.03
separation_anxiety F 7.05 4.31 4.74 3.78 3.00 2.72 2.34 2.23 3.05 2.57
social_phobia M 9.77 4.51 10.30 4.75 11.05 4.74 11.68 4.74 10.67 4.49
social_phobia F 11.61 4.98 12.92 5.21 13.01 4.94 12.27 5.00 12.85 4.98
generalised_anxiety M 6.98 3.36 6.44 3.13 6.20 3.14 7.07 2.93 6.76 3.44
generalised_anxiety F 7.77 3.77 8.01 3.68 7.42 3.16 7.28 3.44 8.49 3.71
panic M 5.25 4.15 4.06 3.60 3.62 3.36 3.76 3.21 3.79 2.71
panic F 6.51 4.73 5.25 4.30 5.03 3.92 4.18 3.07 5.26 4.28
ocd M 6.15 3.20 6.01 3.26 5.22 3.40 4.65 2.89 5.18 3.12
ocd F 7.62 3.68 6.39 3.46 5.12 3.34 4.12 2.79 5.48 3.82
depression M 8.25 4.09 7.07 3.64 6.71 3.64 7.44 4.10 7.32 3.81
depression F 8.74 4.75 7.64 4.10 7.89 3.91 7.65 3.68 9.36 4.45
""",
    "parent": """
separation_anxiety M 4.29 3.00 2.85 2.79 1.97 2.21 1.69 1.89 1.15 1.55
separation_anxiety F 4.20 3.00 3.46 2.95 2.08 2.33 1.91 2.49 1.92 1.98
social_phobia M 8.44 3.88 7.71 3.94 7.59 4.31 8.39 4.19 7.32 3.69
social_phobia F 8.01 3.87 8.94 5.16 8.62 4.65 8.83 4.73 8.35 4.38
generalised_anxiety M 4.11 3.00 3.74 2.49 3.26 2.60 3.73 2.75 3.22 2.50
generalised_anxiety F 4.00 2.87 4.18 3.18 3.23 2.54 3.46 3.02 3.76 2.28
panic M 1.91 1.90 1.64 1.84 1.61 1.56 2.19 2.34 1.50 1.69
panic F 1.87 2.61 1.79 2.30 1.82 1.98 1.83 2.13 2.04 2.27
ocd M 2.04 2.43 2.01 2.31 1.62 1.98 2.58 3.03 1.11 1.96
ocd F 2.01 2.63 2.03 2.65 1.41 1.94 1.89 2.57 1.80 2.34
depression M 3.71 2.93 3.62 2.87 3.54 3.18 5.21 3.51 3.94 3.88
depression F 3.25 3.58 3.75 3.63 3.60 3.37 3.97 3.25 4.91 3.17
""",
}
AGE_PAIRS = [(8, 9), (10, 11), (12, 13), (14, 15), (16, 17)]


def _rows(form):
    for line in NHS_TABLE[form].strip().splitlines():
        scale, sex, *nums = line.split()
        vals = [float(v) for v in nums]
        for k, ages in enumerate(AGE_PAIRS):
            yield scale, sex, ages, vals[2 * k], vals[2 * k + 1]


def _all(value, n=47):
    return {f"q{i}": value for i in range(1, n + 1)}


def test_item_lists_partition_the_47_items():
    inst = oc.load_instrument("rcads_47_self")
    for sid, items in SUBSCALES.items():
        assert list(inst.scale(sid).items) == [f"q{i}" for i in items]
    assert sorted(i for v in SUBSCALES.values() for i in v) == list(range(1, 48))
    assert not any(it.reverse for it in inst.items)  # no reverse keys in any key seen


def test_worked_examples_from_the_spec():
    # Boy aged 8, every self-report item answered 1 ("Sometimes"):
    #   separation anxiety = 7 items x 1 = 7; T = 50 + 10 x (7 - 4.87) / 3.93 = 55.41984...
    #   depression = 10;  T = 50 + 10 x (10 - 8.25) / 4.09 = 54.27872...
    #   total anxiety = 7 + 9 + 6 + 9 + 6 = 37; total = 37 + 10 = 47
    df = frame("rcads_47_self", [_all(1)]).assign(age=8, sex="M")
    out = oc.score(df, "rcads_47_self")
    assert out.loc[0, "separation_anxiety"] == 7
    assert out.loc[0, "separation_anxiety_t"] == pytest.approx(55.419847328, abs=1e-8)
    assert out.loc[0, "depression_t"] == pytest.approx(54.278728606, abs=1e-8)
    assert (out.loc[0, "total_anxiety"], out.loc[0, "total"]) == (37, 47)
    # Girl aged 17, parent form, panic 9 (score level): T = 50 + 10 x (9 - 2.04) / 2.27 = 80.6608
    par = oc.score(pd.DataFrame({"panic": [9], "age": [17], "sex": ["F"]}), "rcads_47_parent",
                   input="scales")  # fmt: skip
    assert par.loc[0, "panic_t"] == pytest.approx(80.660792952, abs=1e-8)
    assert par.loc[0, "panic_t_band"] == "clinical"


def test_a_hand_scored_mixed_row():
    # q_i = i mod 4. Separation anxiety items 5, 9, 17, 18, 33, 45, 46 -> 1+1+1+2+1+1+2 = 9;
    # depression 2, 6, 11, 15, 19, 21, 25, 29, 40, 47 -> 2+2+3+3+3+1+1+1+0+3 = 19.
    row = {f"q{i}": i % 4 for i in range(1, 48)}
    out = oc.score(frame("rcads_47_parent", [row]), "rcads_47_parent")
    assert out.loc[0, "separation_anxiety"] == 9
    assert out.loc[0, "depression"] == 19
    expected = {s: sum(i % 4 for i in items) for s, items in SUBSCALES.items()}
    assert out.loc[0, "total"] == sum(expected.values())
    # labels, any case
    lab = oc.score(frame("rcads_47_self", [_all(" always ")]), "rcads_47_self")
    assert lab.loc[0, "total"] == 141


def test_missing_item_rule_is_no_prorating():
    row = _all(2)
    row["q5"] = np.nan  # one separation-anxiety item missing
    out = oc.score(frame("rcads_47_self", [row]).assign(age=12, sex="F"), "rcads_47_self")
    assert np.isnan(out.loc[0, "separation_anxiety"]) and out.loc[0, "separation_anxiety_n"] == 6
    assert np.isnan(out.loc[0, "separation_anxiety_t"])
    assert np.isnan(out.loc[0, "total_anxiety"]) and np.isnan(out.loc[0, "total"])
    assert out.loc[0, "panic"] == 18  # the other subscales are unaffected
    with pytest.raises(oc.InvalidResponsesError, match="q3"):
        oc.score(frame("rcads_47_self", [{**_all(1), "q3": 4}]), "rcads_47_self")


@pytest.mark.parametrize("form", ["self", "parent"])
def test_t_scores_at_both_ends_of_every_norm_row(form):
    """Each age pair is hit at its first age, its last age and just before the next pair
    (completed years: 9.99 is still 9); each sex spelt three ways."""
    rows, expected = [], []
    raw_row = {f"q{i}": (i * 7) % 4 for i in range(1, 48)}
    raws = {s: sum((i * 7) % 4 for i in items) for s, items in SUBSCALES.items()}
    spell = {"M": ["M", "male", " m "], "F": ["F", "Female", "f"]}
    for scale, sex, (a0, a1), mean, sd in _rows(form):
        for age, sx in zip((a0, a1, a1 + 0.99), spell[sex], strict=True):
            rows.append({**raw_row, "age": age, "sex": sx, "want": scale})
            expected.append(50 + 10 * (raws[scale] - mean) / sd)
    df = pd.DataFrame(rows)
    out = oc.score(df.drop(columns="want"), f"rcads_47_{form}")
    got = [out.loc[i, f"{w}_t"] for i, w in enumerate(df["want"])]
    assert got == pytest.approx(expected, abs=1e-9)
    assert out.attrs["issues"].empty


def test_age_or_sex_outside_the_table_gives_a_missing_t_score_not_an_error():
    cases = [(7, "M"), (7.99, "F"), (18, "F"), (np.nan, "M"), ("twelve", "M"), (12, "X"),
             (12, ""), (12, None), (12, "U"), (True, "M")]  # fmt: skip
    df = pd.DataFrame([{**_all(1), "age": a, "sex": s} for a, s in cases])
    out = oc.score(df, "rcads_47_self")
    t_cols = [f"{s}_t" for s in SUBSCALES]
    assert out[t_cols].isna().all().all()
    assert (out["separation_anxiety"] == 7).all()  # raw scores never need age or sex
    issues = out.attrs["issues"]
    assert set(issues["severity"]) == {"warning"}
    assert sorted(issues["row"]) == list(range(len(cases)))  # one note per row, not per scale
    # without age and sex columns at all: raw scores, missing T-scores, noted
    bare = oc.score(frame("rcads_47_self", [_all(1)]), "rcads_47_self")
    assert bare.loc[0, "total"] == 47 and np.isnan(bare.loc[0, "panic_t"])
    assert "absent" in bare.attrs["issues"].loc[0, "reason"]


def _t_instrument():
    """An instrument with T = 50 + raw exactly (mean 0, SD 10) and RCADS's own band levels."""
    bands = oc.load_instrument("rcads_47_self").scale("panic_t").bands[0].model_dump()
    return parse_instrument(
        {
            "id": "t_demo", "name": "T demo", "version": "1", "respondent": "self",
            "sources": {"bands": "the RCADS band source"},
            "licence": {"text": "test", "embed_wording": True}, "citation": "test",
            "response_sets": {"r": {"range": [0, 3]}},
            "items": [{"id": f"q{i}", "label": str(i), "response_set": "r"} for i in range(1, 11)],
            "scales": [
                {"id": "raw", "label": "raw", "method": "sum", "source": "a test",
                 "items": [f"q{i}" for i in range(1, 11)], "higher_is_better": False},
                {"id": "raw_t", "label": "T", "method": "norm", "source_scale": "raw",
                 "keys": ["sex", "age"], "higher_is_better": False, "source": "a test",
                 "table": [{"sex": "M", "age": [8, 17], "mean": 0, "sd": 10}],
                 "bands": [bands]},
            ],
        }
    )  # fmt: skip


def test_t_bands_at_each_boundary():
    # T = 50 + raw: raw 14 -> 64, 15 -> 65 (borderline starts), 19 -> 69, 20 -> 70 (clinical)
    inst = _t_instrument()
    raws = [14, 15, 19, 20, 30]
    df = pd.DataFrame(
        [{**{f"q{i}": min(3, max(0, r - 3 * (i - 1))) for i in range(1, 11)}, "age": 10, "sex": "M"}
         for r in raws]
    )  # fmt: skip
    out = oc.score(df, inst)
    assert out["raw_t"].tolist() == [64, 65, 69, 70, 80]
    assert out["raw_t_band"].tolist() == [
        "normal range", "borderline clinical", "borderline clinical", "clinical", "clinical"
    ]  # fmt: skip


def test_score_level_input_validates_and_derives():
    df = pd.DataFrame(
        {
            "person_id": ["a", "b", "c"],
            "separation_anxiety": [7, 3.5, 22],  # 3.5: not a sum of whole items; 22 > 21
            "social_phobia": [9, 9, 9],
            "generalised_anxiety": [6, 6, 6],
            "panic": [9, 9, 9],
            "ocd": [6, 6, 6],
            "depression": [10, 10, 10],
            "age": [8, 8, 8],
            "sex": ["M", "M", "M"],
        }
    )
    with pytest.raises(oc.InvalidResponsesError) as err:
        oc.score(df, "rcads_47_self", input="scales")
    assert "3.5" in str(err.value) and "22" in str(err.value)
    out = oc.score(df, "rcads_47_self", input="scales", errors="flag")
    # row a as the worked example: total anxiety 37, total 47, T 55.4198...
    assert (out.loc[0, "total_anxiety"], out.loc[0, "total"]) == (37, 47)
    assert out.loc[0, "separation_anxiety_t"] == pytest.approx(55.419847328, abs=1e-8)
    assert out[["separation_anxiety", "total_anxiety", "total"]].iloc[1:].isna().all().all()
    assert out.loc[1, "depression_t"] == pytest.approx(54.278728606, abs=1e-8)
    assert out["separation_anxiety_n"].isna().all()  # items answered: not known from a score
    assert list(out.columns).count("panic") == 1 and out.columns[0] == "person_id"
    assert len(out.attrs["issues"].query("severity == 'error'")) == 2
    with pytest.raises(oc.DataStructureError, match="computed from other scales"):
        oc.score(df.assign(total=47), "rcads_47_self", input="scales")
    with pytest.raises(oc.DataStructureError, match="did you mean 'panic'"):
        oc.score(pd.DataFrame({"panik": [3]}), "rcads_47_self", input="scales")


def test_rcads_25_hand_scored_and_missing():
    # anxiety items all "Often" (2) x 15 = 30; depression items all "Sometimes" (1) x 10 = 10
    anx = [2, 3, 5, 6, 7, 9, 11, 12, 14, 17, 18, 20, 22, 23, 25]
    row = {f"q{i}": (2 if i in anx else 1) for i in range(1, 26)}
    for form in ("self", "parent"):
        out = oc.score(frame(f"rcads_25_{form}", [row, {**row, "q25": np.nan}]), f"rcads_25_{form}")
        assert out.loc[0, ["anxiety", "depression", "total"]].tolist() == [30, 10, 40]
        assert np.isnan(out.loc[1, "anxiety"]) and out.loc[1, "depression"] == 10
        assert np.isnan(out.loc[1, "total"])
    # every depression item of RCADS-25 maps onto an RCADS-47 depression item (labels)
    inst = oc.load_instrument("rcads_25_self")
    for i in inst.scale("depression").items:
        n47 = int(inst.item(i).label.split("item ")[-1].rstrip(")"))
        assert n47 in SUBSCALES["depression"]


def test_thresholds_and_direction_are_on_t_scores():
    self_rc = {"depression": 17.73, "generalised_anxiety": 14.91, "ocd": 16.35, "panic": 18.29,
               "separation_anxiety": 22.95, "social_phobia": 13.99}  # fmt: skip
    inst = oc.load_instrument("rcads_47_self")
    for s, v in self_rc.items():
        assert inst.scale(f"{s}_t").reliable_change.threshold == v
        assert inst.scale(s).reliable_change is None
    assert inst.scale("total").reliable_change is None
    assert not any(sc.higher_is_better for sc in inst.scales)
    par = oc.load_instrument("rcads_47_parent")
    assert par.scale("panic_t").reliable_change.threshold == 40.93
    assert par.scale("separation_anxiety_t").reliable_change.threshold == 28
