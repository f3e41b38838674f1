"""Engine features the measures need: norm tables keyed by several columns, continuous
response sets, score-level input, SNOMED codes and the pivot of coded-score rows, and that
pairing, reliable change and the NHS metric use them (specs/measures.md s. 1, 5)."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import outcomes as oc
from outcomes.coded_scores import pivot_coded_scores, snomed_index
from outcomes.instruments import parse_instrument

BASE = {
    "id": "demo", "name": "Demo", "version": "1", "respondent": "self",
    "licence": {"text": "test", "embed_wording": True}, "citation": "test",
    "response_sets": {"r": {"range": [0, 3]}},
    "items": [{"id": "q1", "label": "one", "response_set": "r"},
              {"id": "q2", "label": "two", "response_set": "r"}],
    "scales": [
        {"id": "raw", "label": "raw", "method": "sum", "items": ["q1", "q2"],
         "higher_is_better": False, "source": "a test source"},
        {"id": "raw_t", "label": "T", "method": "norm", "source_scale": "raw",
         "keys": ["sex", "age"], "higher_is_better": False, "source": "a test source",
         "table": [{"sex": "M", "age": [8, 9], "mean": 2, "sd": 1},
                   {"sex": "M", "age": [10, 11], "mean": 3, "sd": 2}]},
    ],
}  # fmt: skip


def _with(**changes):
    d = copy.deepcopy(BASE)
    for key, value in changes.items():
        d["scales"][1][key] = value
    return d


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([{"sex": "M", "age": [8, 10], "mean": 2, "sd": 1},
          {"sex": "m", "age": [10, 11], "mean": 3, "sd": 2}], "overlap"),
        ([{"sex": "M", "age": [8, 9], "mean": 2, "sd": 1}] * 2, "overlap"),
        ([{"sex": "M", "age": [8, 9], "mean": 2, "sd": 0}], "sd must be positive"),
        ([{"sex": "M", "age": [8, 9], "mean": 2, "sd": -1}], "sd must be positive"),
        ([{"sex": "M", "mean": 2, "sd": 1}], "exactly the keys"),
        ([{"sex": "M", "age": [9, 8], "mean": 2, "sd": 1}], "neither text nor"),
    ],
)  # fmt: skip
def test_bad_norm_tables_are_refused_at_load(table, message):
    with pytest.raises(oc.InstrumentDefinitionError, match=message):
        parse_instrument(_with(table=table))


def test_rows_that_differ_in_one_key_do_not_overlap():
    ok = parse_instrument(_with(table=[{"sex": "M", "age": [8, 9], "mean": 2, "sd": 1},
                                       {"sex": "F", "age": [8, 9], "mean": 3, "sd": 2}]))  # fmt: skip
    assert len(ok.scale("raw_t").norm_rows) == 2


def test_norm_scores_use_completed_years_and_aliases():
    inst = parse_instrument(_with(key_aliases={"sex": {"boy": "M"}}))
    # raw 4: age 9.99 -> row 8-9: 50 + 10 x (4 - 2) / 1 = 70; age 10 -> 50 + 10 x (4 - 3)/2 = 55
    df = pd.DataFrame({"q1": [2, 2, 2], "q2": [2, 2, 2], "age": [9.99, 10, "11"],
                       "sex": ["BOY", "m", "M"]})  # fmt: skip
    out = oc.score(df, inst)
    assert out["raw_t"].tolist() == pytest.approx([70, 55, 55])
    assert out.columns[:2].tolist() == ["age", "sex"]  # keys pass through


def test_continuous_response_set_definitions():
    d = copy.deepcopy(BASE)
    d["response_sets"]["r"] = {"continuous": {"min": 0, "max": 10, "step": 0.1},
                               "options": [{"code": 1, "label": "x"}]}  # fmt: skip
    with pytest.raises(oc.InstrumentDefinitionError, match="continuous"):
        parse_instrument(d)
    d["response_sets"]["r"] = {"continuous": {"min": 0, "max": 10, "step": 0}}
    with pytest.raises(oc.InstrumentDefinitionError, match="greater than 0"):
        parse_instrument(d)
    d["response_sets"]["r"] = {"continuous": {"min": 0, "max": 10, "step": 0.1},
                               "missing": [{"code": 5, "label": "x"}]}  # fmt: skip
    with pytest.raises(oc.InstrumentDefinitionError, match="inside the continuous range"):
        parse_instrument(d)


def test_reverse_keyed_continuous_item():
    d = copy.deepcopy(BASE)
    d["response_sets"]["r"] = {"continuous": {"min": 0, "max": 10, "step": 0.1}}
    d["items"][1]["reverse"] = True
    d["scales"] = d["scales"][:1]
    inst = parse_instrument(d)
    # q1 = 2.5 as given; q2 = 0 + 10 - 7.5 = 2.5 -> 5.0
    assert oc.score(pd.DataFrame({"q1": [2.5], "q2": [7.5]}), inst).loc[0, "raw"] == 5.0
    assert inst.scale_step("raw") == 0.1


def test_score_level_only_instruments():
    with pytest.raises(oc.DataStructureError, match="input='scales'"):
        oc.score(pd.DataFrame({"total": [30]}), "score_15")
    df = pd.DataFrame({"total": [30, 30.5, 76], "mean_total": [2.33, 2.0, 6]})
    out = oc.score(df, "score_15", input="scales", errors="flag")
    assert out["total"].tolist()[0] == 30 and out["total"].iloc[1:].isna().all()
    assert out["mean_total"].tolist()[:2] == [2.33, 2.0]  # a mean takes any value in range
    assert out["overwhelmed"].isna().all()  # not supplied: missing
    assert len(out.attrs["issues"]) == 3
    for inst, col, good, bad in [("bpses", "total", 5, 4), ("me_and_my_feelings", "emotional", 20, 21),
                                 ("me_and_my_school", "total", 32, 1.5),
                                 ("yp_core", "clinical_score", 16.67, 40.5)]:  # fmt: skip
        res = oc.score(pd.DataFrame({col: [good, bad]}), inst, input="scales", errors="flag")
        assert res[col].iloc[0] == good and pd.isna(res[col].iloc[1])
    with pytest.raises(ValueError, match="parameter 'input'.*did you mean 'scales'"):
        oc.score(df, "score_15", input="scale")


def test_snomed_codes_and_pivot_of_coded_rows():
    index = snomed_index()
    assert index["718659007"] == ("rcads_47_self", "separation_anxiety")
    assert index["958241000000106"] == ("rcads_47_self", "separation_anxiety")  # v1 code too
    assert index["718669001"] == ("rcads_47_parent", "separation_anxiety")
    rows = pd.DataFrame({
        "person_id": ["p1"] * 4 + ["p2"],
        "referral_id": ["r1"] * 4 + ["r2"],
        "date": ["2025-01-10"] * 3 + ["2025-04-01", "2025-01-12"],
        "code": [718659007, "958221000000104", 720433000.0, 718659007, 716613004],
        "score": [7, 9, 14, 3, 10.5],
    })  # fmt: skip
    res = pivot_coded_scores(rows)
    assert sorted(res) == ["ors", "phq_9", "rcads_47_self"]
    rc = res["rcads_47_self"]
    assert rc.columns.tolist() == [
        "person_id",
        "referral_id",
        "date",
        "separation_anxiety",
        "panic",
    ]
    assert rc["separation_anxiety"].tolist() == [7, 3]
    scored = oc.score(rc.assign(age=8, sex="M"), "rcads_47_self", input="scales")
    # separation anxiety 7 for a boy of 8: T = 50 + 10 x (7 - 4.87) / 3.93 = 55.4198...
    assert scored.loc[0, "separation_anxiety_t"] == pytest.approx(55.419847328, abs=1e-8)
    assert oc.score(res["ors"], "ors", input="scales").loc[0, "total"] == 10.5
    with pytest.raises(KeyError, match="did you mean 'phq_9'"):
        res["phq9"]


def test_pivot_refuses_unknown_codes_and_duplicates_unless_told():
    rows = pd.DataFrame({"person_id": ["p", "p"], "referral_id": [1, 1], "date": ["d", "d"],
                         "code": [720433000, 123456], "score": [14, 3]})  # fmt: skip
    with pytest.raises(oc.DataStructureError, match="no instrument claims"):
        pivot_coded_scores(rows)
    res = pivot_coded_scores(rows, unknown="drop")
    assert res.excluded.to_dict("records") == [
        {"code": "123456", "rows": 1, "reason": "no bundled instrument has a scale with this SNOMED code"}
    ]  # fmt: skip
    dup = rows.assign(code=[720433000, 506701000000100])  # v2 and v1 codes of one PHQ-9 total
    with pytest.raises(oc.DataStructureError, match="same scale twice"):
        pivot_coded_scores(dup)


# ------------------------------------------------------------------------- downstream
def _rcads_waves():
    # Two girls aged 12 (self-report). Depression raw 16 -> 5 (girl 1) and 10 -> 9 (girl 2).
    # Row F 12-13: mean 7.89, SD 3.91. T = 50 + 10 (raw - 7.89) / 3.91:
    #   girl 1: 70.7417 -> 42.6087, change -28.13 (>= 17.73: reliable improvement)
    #   girl 2: 55.3964 -> 52.8389, change -2.56 (no reliable change)
    return pd.DataFrame({
        "person_id": ["g1", "g1", "g2", "g2"], "instrument": "rcads_47_self", "rater": "self",
        "date": ["2025-01-10", "2025-06-10", "2025-01-11", "2025-06-11"],
        "separation_anxiety": 3, "social_phobia": 9, "generalised_anxiety": 6, "panic": 5,
        "ocd": 4, "depression": [16, 5, 10, 9], "age": 12, "sex": "F",
    })  # fmt: skip


def test_pairing_and_reliable_change_on_rcads_t_scores():
    scored = oc.score(_rcads_waves(), "rcads_47_self", input="scales")
    t = scored["depression_t"].tolist()
    assert t == pytest.approx([70.741688, 42.608696, 55.396419, 52.838875], abs=1e-6)
    pairs = oc.pair_waves(scored, scales=["depression_t"]).pairs
    rc = oc.reliable_change(pairs["pre"], pairs["post"], instrument="rcads_47_self",
                            scale="depression_t", method="threshold")  # fmt: skip
    # no clinical cut-off on RCADS T-scores, so reliable improvement is "improved"
    assert rc["category"].tolist() == ["improved", "unchanged"]
    # paired change on T: mean of -28.132992 and -2.557545 = -15.345268; both fell
    ch = oc.paired_change(pairs["pre"], pairs["post"], higher_is_better=False)
    assert ch.n == 2 and ch.mean_diff == pytest.approx(-15.3452685, abs=1e-6)
    assert ch.n_negative == 2


def test_nhs_metric_counts_rcads_t_and_ors():
    refs = pd.DataFrame({"referral_id": ["r1", "r2"], "age": [12, 14],
                         "first_contact_date": ["2025-01-10", "2025-01-11"],
                         "second_contact_date": ["2025-02-01", "2025-02-01"],
                         "discharge_date": ["2025-07-01", "2025-07-01"]})  # fmt: skip
    rc = oc.score(_rcads_waves(), "rcads_47_self", input="scales")
    rc["referral_id"] = ["r1", "r1", "r2", "r2"]
    # ORS for r2: 20.0 -> 27.0, up 7 >= 6.6: reliable improvement (higher is better)
    ors = pd.DataFrame({"referral_id": ["r2", "r2"], "instrument": "ors", "rater": "self",
                        "date": ["2025-01-11", "2025-06-11"], "q1": [5, 7], "q2": [5, 7],
                        "q3": [5, 7], "q4": [5, 6]})  # fmt: skip
    ors_scored = oc.score(ors, "ors")
    res = oc.cyp_outcome_metric([rc, ors_scored], refs)
    row = res.to_frame().set_index("rater").loc["self"]
    assert (row["n_paired"], row["n_improvement"]) == (2, 2)
    used = set(res.measures["scale"])
    assert "depression_t" in used and "depression" not in used and "total" in used


def test_catalogue_shows_norms_continuous_score_level_and_deferred():
    from outcomes.instruments.catalogue import catalogue_markdown, instrument_markdown

    rc = instrument_markdown("rcads_47_parent")
    assert "| F | 16-17 | 2.04 | 2.27 |" in rc  # panic, girls 16-17: mean 2.04, SD 2.27
    assert "SNOMED CT 718668009, 958331000000108" in rc
    assert "Scores supplied without items (`input='scales'`)" in rc
    assert "continuous, 0 to 10 in steps of 0.1" in instrument_markdown("ors")
    assert "supplied as a score (input='scales'); any value in range" in instrument_markdown(
        "yp_core"
    )
    md = catalogue_markdown()
    assert "## Deferred and score-level-only measures" in md
    for name in ("Students' Life Satisfaction Scale", "Student Resilience Survey", "PHQ-A"):
        assert name in md


def test_validate_reads_scores_too():
    df = pd.DataFrame({"total": [10.5, 10.55, None]})
    report = oc.validate(df, "ors", input="scales")
    assert not report.ok and report.errors["row"].tolist() == [1]
    assert oc.validate(df.iloc[[0, 2]], "ors", input="scales").ok
    with pytest.raises(ValueError, match="coding="):
        oc.score(df, "ors", input="scales", coding="nocc")


def test_every_family_of_the_nhs_metric_has_its_codes():
    # a few codes typed from NHS England's mh_ass table (04_mhsds_ref_tables.py)
    index = snomed_index()
    assert index["986071000000101"] == ("sdq_parent", "emotional")
    assert index["718145004"] == ("sdq_self", "emotional")
    assert index["986001000000109"] == ("sdq_self", "emotional")  # v1
    assert index["989751000000102"] == ("honosca", "scale_1")
    assert index["989881000000104"] == ("honosca_parent", "scale_1")
    assert index["989661000000109"] == ("honosca_sr", "scale_13")
    assert index["718466001"] == ("swemwbs", "metric")
    assert index["1638531000000102"] == index["1034351000000101"] == ("gbo", "goal_1")
    families = {inst for inst, _ in index.values()}
    for fam in ("cgas", "cors", "core_10", "gad_7", "gbo", "ors", "phq_9", "rcads_47_self",
                "rcads_47_parent", "score_15", "sdq_parent", "swemwbs", "wemwbs", "yp_core"):  # fmt: skip
        assert fam in families
