"""The shared homes in outcomes._internal: one bad-cell layout, one wave vocabulary, one column
check, each used by the public verbs."""

from __future__ import annotations

import doctest
import random

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes import service, survey
from outcomes._internal import cells, columns, waves
from outcomes.errors import DataStructureError, describe_issues
from outcomes.longitudinal import wave_order


@pytest.mark.parametrize("module", [cells, columns, waves])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


# ------------------------------------------------------------------ one bad-cell layout
def test_service_scoring_and_dates_share_one_layout():
    refs = pd.DataFrame(
        {"referral_id": [1, 2], "person_id": ["a", "b"], "referral_date": ["2025-01-05", "soon"]}
    )
    ref_issues = service.prepare_referrals(refs, errors="flag").attrs["issues"]
    sdq = pd.DataFrame({"q1": [1, 9], **{f"q{i}": [1, 2] for i in range(2, 8)}})
    score_issues = oc.validate(sdq, "swemwbs").issues
    assert tuple(ref_issues.columns) == cells.COLUMNS
    assert tuple(score_issues.columns) == cells.WITH_ITEM
    # the optional item column sits after column; the rest is the same layout
    assert [c for c in score_issues.columns if c != "item"] == list(cells.COLUMNS)
    both = cells.combine([ref_issues, score_issues])
    assert len(both) == 2 and tuple(both.columns) == cells.WITH_ITEM
    text = describe_issues(both, "problems:")
    assert "row 1, column 'referral_date': 'soon'" in text
    assert "row 1, column 'q1': 9" in text


def test_bad_cells_refuses_an_unknown_severity():
    with pytest.raises(ValueError, match="severity"):
        cells.bad_cells([1], "a", [1], "x", severity="fatal")


# ------------------------------------------------------------------ one wave vocabulary
def test_one_set_of_baseline_names():
    # the names the survey and the mixed models used to disagree on
    for name in ["baseline", "Baseline", "pre", "T0", "time 0", "wave 0", "intake", "start"]:
        assert waves.is_baseline(name), name
    assert not waves.is_baseline("wave 1")  # a numbered wave is ordered by its number


def test_order_baseline_first_then_months():
    labels = ["24m", "follow-up", "12 months", "baseline", "3m", "6 months", "1 year"]
    # 1 year and 12 months name the same time; sorted is stable, so the given order decides
    assert waves.order_waves(labels) == [
        "baseline",
        "3m",
        "6 months",
        "12 months",
        "1 year",
        "24m",
        "follow-up",
    ]
    with pytest.raises(DataStructureError, match="cannot tell the order"):
        waves.order_waves(labels, strict=True)


def test_mixed_models_and_survey_use_the_same_order():
    s = pd.Series(["12m", "pre", "6m"] * 2)
    assert wave_order(s) == ["pre", "6m", "12m"]
    df = pd.DataFrame(
        {"wave": ["12m"] * 4 + ["pre"] * 4, "score": [23, 25, 27, 29, 20, 22, 24, 26]}
    )
    res = survey.compare_means(df, "score")
    assert res.waves == ("pre", "12m")
    assert float(res.to_frame().loc[0, "estimate"]) == 3.0  # 26 - 23


@settings(max_examples=200, deadline=None)
@given(st.permutations(["baseline", "3m", "6 months", "1 year", "18m", "2 years"]))
def test_order_does_not_depend_on_the_order_given(labels):
    assert waves.order_waves(labels, strict=True) == [
        "baseline",
        "3m",
        "6 months",
        "1 year",
        "18m",
        "2 years",
    ]


@settings(max_examples=200, deadline=None)
@given(
    present=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True),
    asked=st.text(max_size=8),
)
def test_a_requested_wave_is_present_or_an_error(present, asked):
    try:
        got = waves.resolve_wave(asked, present)
    except DataStructureError as e:
        assert asked not in present
        assert "unknown wave" in str(e)
    else:
        assert got == asked and got in present


def test_unknown_wave_has_a_did_you_mean():
    df = pd.DataFrame({"wave": ["baseline"] * 3 + ["12m"] * 3, "case": [1, 0, 1, 0, 0, 1]})
    with pytest.raises(DataStructureError, match="did you mean '12m'"):
        survey.compare_prevalence(df, "case", waves=("baseline", "12 m"))
    scores = pd.DataFrame(
        {
            "person_id": ["a", "a"],
            "instrument": "swemwbs",
            "rater": "self",
            "wave": ["baseline", "12m"],
            "metric": [10.0, 20.0],
        }
    )
    with pytest.raises(DataStructureError, match="did you mean 'baseline'"):
        oc.pair_waves(scores, scales=["metric"], rule="waves", baseline="basline", followup="12m")


def test_cyrillic_lookalike_wave_is_refused_not_dropped():
    lookalike = "b\u0430seline"  # the second letter is CYRILLIC SMALL LETTER A
    df = pd.DataFrame(
        {"wave": ["baseline"] * 3 + [lookalike] * 3 + ["12m"] * 3, "case": [1, 0, 1] * 3}
    )
    with pytest.raises(DataStructureError, match="CYRILLIC SMALL LETTER A"):
        survey.compare_prevalence(df, "case", waves=("baseline", "12m"))
    # two waves only, one a lookalike of the other: not compared as baseline v follow-up
    two = df[df["wave"] != "12m"]
    with pytest.raises(DataStructureError, match="reads as"):
        survey.compare_prevalence(two, "case", waves=("baseline", lookalike))
    scores = pd.DataFrame(
        {
            "person_id": ["a", "a", "b"],
            "instrument": "swemwbs",
            "rater": "self",
            "wave": ["baseline", "12m", lookalike],
            "metric": [10.0, 20.0, 15.0],
        }
    )
    with pytest.raises(DataStructureError, match="reads as 'baseline'"):
        oc.pair_waves(scores, scales=["metric"], rule="waves", baseline="baseline", followup="12m")


def test_same_time_written_twice_is_refused():
    df = pd.DataFrame(
        {"wave": ["baseline"] * 2 + ["12m"] * 2 + ["12 months"] * 2, "case": [1, 0] * 3}
    )
    with pytest.raises(DataStructureError, match="names the same time"):
        survey.compare_prevalence(df, "case", waves=("baseline", "12m"))


def test_genuinely_other_waves_are_counted_not_refused():
    df = pd.DataFrame({"wave": ["baseline"] * 2 + ["12m"] * 2 + ["24m"] * 2, "case": [1, 0] * 3})
    res = survey.compare_prevalence(df, "case", waves=("baseline", "12m"))
    assert "2 row(s) from other or missing waves left out" in res.notes


# ------------------------------------------------------------------ one column check
MULTI = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("b", "y")]))


@pytest.mark.parametrize(
    "call",
    [
        lambda d: oc.pair_waves(d),
        lambda d: oc.score(d, "swemwbs"),
        lambda d: service.prepare_referrals(d),
        lambda d: survey.prevalence(d, "a"),
        lambda d: oc.cyp_outcome_metric(d, d),
    ],
)
def test_multiindex_columns_refused_clearly(call):
    with pytest.raises(DataStructureError, match="MultiIndex"):
        call(MULTI)


def test_a_list_in_a_cell_names_row_and_column():
    sw = pd.DataFrame({f"q{i}": [1, 2] for i in range(1, 8)}, index=[10, 11])
    sw["q3"] = pd.Series([3, [1, 2]], index=[10, 11], dtype=object)
    with pytest.raises(DataStructureError, match=r"column 'q3' holds a list at row 11"):
        oc.score(sw, "swemwbs")
    refs = pd.DataFrame(
        {"referral_id": [1], "person_id": [{"a": 1}], "referral_date": ["2025-01-05"]}
    )
    with pytest.raises(DataStructureError, match="column 'person_id' holds a dict at row 0"):
        service.prepare_referrals(refs)


def test_missing_column_has_a_did_you_mean():
    df = pd.DataFrame({"wave": ["baseline", "12m"], "case": [1, 0], "school_id": ["s1", "s2"]})
    with pytest.raises(DataStructureError, match="did you mean 'school_id'"):
        survey.prevalence(df, "case", cluster="school")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(),
            st.text(max_size=5),
            st.none(),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_containers_always_found(values):
    df = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    has = [i for i, v in enumerate(values) if isinstance(v, (list, dict))]
    if has:
        with pytest.raises(DataStructureError, match=f"at row {has[0]} "):
            columns.check_frame(df, ["c"])
    else:
        assert columns.check_frame(df, ["c"]) is df


def test_order_of_unknown_labels_is_kept():
    labels = ["autumn", "spring", "summer"]
    random.Random(0).shuffle(labels)
    assert waves.order_waves(labels) == labels


def test_report_config_waves_must_be_in_the_data(tmp_path):
    import pathlib

    import yaml

    from outcomes.report import ConfigError, load_config
    from outcomes.report.inputs import load_inputs

    root = pathlib.Path(__file__).resolve().parents[1]
    cfg = yaml.safe_load((root / "examples" / "demo_evaluation.yaml").read_text())
    cfg["data_dir"] = str(root / "synthetic_data" / "demo")
    cfg.setdefault("staff_survey", {})["waves"] = ["baseline", "12 m"]
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="staff_survey.waves: unknown wave '12 m'; did you mean"):
        load_inputs(load_config(path))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='a\n\r,;"é', max_size=60))
def test_sniffing_reads_lines_as_stringio_does(text):
    # the separator sniffer reads lines lazily; they must be the lines io.StringIO gives
    import io

    from outcomes._internal.text_files import _lines

    assert list(_lines(text)) == list(io.StringIO(text))


def test_sniffed_separator_with_a_line_break_inside_a_quoted_cell(tmp_path):
    from outcomes._internal.text_files import sniff_sep

    text = 'id;note;score\n1;"two\nlines; here";3\n2;plain;4\n'
    assert sniff_sep(text, tmp_path / "x.csv") == ";"
