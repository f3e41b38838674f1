"""The instrument model: loading, the bundled files, and readable errors for broken YAML."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
import yaml

import outcomes as oc
from outcomes.instruments import parse_instrument

BUNDLED = {
    "chi_esq_parent",
    "chi_esq_9_11",
    "chi_esq_12_18",
    "honosca",
    "honosca_sr",
    "honosca_parent",
    "sdq_parent",
    "sdq_teacher",
    "sdq_self",
    "swemwbs",
    "gbo",
    "workforce_confidence",
}

MINIMAL = textwrap.dedent(
    """\
    id: mini
    name: Mini scale
    version: "1"
    respondent: staff
    licence: {text: ours, embed_wording: true}
    citation: test
    response_sets:
      agree: {options: [{code: 1, label: Disagree}, {code: 2, label: Agree}]}
    items:
      - {id: a, label: item a, response_set: agree}
      - {id: b, label: item b, response_set: agree, reverse: true}
    scales:
      - {id: total, label: Total, method: sum, items: [a, b], higher_is_better: true}
    """
)


def test_the_twelve_instruments_are_bundled_and_load():
    assert BUNDLED <= set(oc.list_instruments())
    for i in BUNDLED:
        inst = oc.load_instrument(i)
        assert inst.id == i
        assert inst.scales, i


def test_copyrighted_instruments_embed_no_wording():
    for i in BUNDLED - {"workforce_confidence", "gbo"}:
        inst = oc.load_instrument(i)
        assert inst.licence.embed_wording is False
        assert all(it.text is None for it in inst.items), i


def test_every_threshold_band_and_cutoff_has_a_source():
    for i in BUNDLED:
        inst = oc.load_instrument(i)
        for sc in inst.scales:
            for scheme in sc.bands:
                assert scheme.source
            if sc.reliable_change:
                assert sc.reliable_change.source
            if sc.clinical_cutoff:
                assert sc.clinical_cutoff.source


def test_scale_ranges_follow_from_items():
    sdq = oc.load_instrument("sdq_parent")
    assert sdq.scale_range("emotional") == (0, 10)
    assert sdq.scale_range("total_difficulties") == (0, 40)
    assert sdq.scale_range("impact") == (0, 10)
    assert oc.load_instrument("sdq_teacher").scale_range("impact") == (0, 6)
    assert oc.load_instrument("honosca").scale_range("total") == (0, 52)
    assert oc.load_instrument("swemwbs").scale_range("metric") == (7, 35)
    assert oc.load_instrument("chi_esq_parent").scale_range("satisfaction_care") == (0, 2)


def test_load_your_own_yaml_by_path(tmp_path):
    p = tmp_path / "mini.yaml"
    p.write_text(MINIMAL)
    inst = oc.load_instrument(p)
    assert inst.id == "mini"
    assert oc.load_instrument(str(p)).scale("total").items == ("a", "b")


def test_unknown_id_lists_the_bundled_ones():
    with pytest.raises(oc.InstrumentDefinitionError, match="unknown instrument 'sdq'.*sdq_parent"):
        oc.load_instrument("sdq")


def _broken(tmp_path, text):
    p = tmp_path / "broken.yaml"
    p.write_text(text)
    with pytest.raises(oc.InstrumentDefinitionError) as err:
        oc.load_instrument(p)
    msg = str(err.value)
    assert str(p) in msg  # names the file
    assert "Traceback" not in msg
    return msg


def test_broken_yaml_syntax_names_file_and_line(tmp_path):
    msg = _broken(tmp_path, MINIMAL.replace("citation: test", "citation: [unclosed"))
    assert "line" in msg and "not valid YAML" in msg


def test_unknown_field_names_the_field(tmp_path):
    msg = _broken(
        tmp_path,
        MINIMAL.replace("higher_is_better: true", "higher_is_better: true, min_anwsered: 1"),
    )
    assert "scales.0.min_anwsered" in msg


def test_missing_field_names_the_field(tmp_path):
    msg = _broken(tmp_path, MINIMAL.replace('version: "1"\n', ""))
    assert "version" in msg and "Field required" in msg


def test_scale_with_unknown_item(tmp_path):
    msg = _broken(tmp_path, MINIMAL.replace("items: [a, b]", "items: [a, c]"))
    assert "unknown item 'c'" in msg
    msg = _broken(tmp_path, MINIMAL.replace("items: [a, b]", "items: [a, bb]"))
    assert "unknown item 'bb'; did you mean 'b'?" in msg


def test_undefined_response_set(tmp_path):
    msg = _broken(
        tmp_path, MINIMAL.replace("response_set: agree, reverse", "response_set: agree2, reverse")
    )
    assert "response_set 'agree2' is not defined" in msg


def test_bands_must_cover_the_scale_range(tmp_path):
    # items a, b score 1-2 each: the sum ranges 2..4
    covering = MINIMAL.replace(
        "higher_is_better: true}",
        "higher_is_better: true, bands: [{source: test source, levels: "
        "[{label: low, min: 2, max: 3}, {label: high, min: 4, max: 4}]}]}",
    )
    p = tmp_path / "ok.yaml"
    p.write_text(covering)
    assert oc.load_instrument(p).scale("total").bands[0].levels[1].label == "high"
    short = covering.replace("{label: high, min: 4, max: 4}", "{label: high, min: 3.5, max: 3.8}")
    assert "not the scale range 2.0..4.0" in _broken(tmp_path, short)
    upside_down = covering.replace(
        "{label: high, min: 4, max: 4}", "{label: high, min: 4, max: 3.5}"
    )
    assert "min 4.0 above max 3.5" in _broken(tmp_path, upside_down)


def test_overlapping_bands_refused(tmp_path):
    text = MINIMAL.replace(
        "higher_is_better: true}",
        "higher_is_better: true, bands: [{source: test source, levels: "
        "[{label: low, min: 2, max: 3}, {label: high, min: 3, max: 4}]}]}",
    )
    assert "overlap" in _broken(tmp_path, text)


def test_wording_refused_when_licence_forbids_it(tmp_path):
    text = MINIMAL.replace("embed_wording: true", "embed_wording: false").replace(
        "label: item a,", "label: item a, text: full wording,"
    )
    assert "carry full text" in _broken(tmp_path, text)


def test_source_key_must_exist(tmp_path):
    text = MINIMAL.replace(
        "higher_is_better: true}",
        "higher_is_better: true, reliable_change: {threshold: 1, source: nowhere}}",
    )
    assert "'nowhere' is not a key of 'sources'" in _broken(tmp_path, text)


def test_reliable_change_needs_threshold_or_reliability_and_sd(tmp_path):
    text = MINIMAL.replace(
        "higher_is_better: true}",
        "higher_is_better: true, reliable_change: {reliability: 0.8, source: a citation}}",
    )
    assert "needs 'threshold' or both 'reliability' and 'sd'" in _broken(tmp_path, text)


def test_component_scales_must_be_defined_first(tmp_path):
    data = yaml.safe_load(MINIMAL)
    data["scales"].insert(
        0,
        {
            "id": "grand",
            "label": "G",
            "method": "sum_of_scales",
            "scales": ["total"],
            "higher_is_better": True,
        },
    )
    with pytest.raises(oc.InstrumentDefinitionError, match="must be defined above it"):
        parse_instrument(data, source="test")


def test_ids_must_be_lower_case_identifiers(tmp_path):
    msg = _broken(tmp_path, MINIMAL.replace("id: a,", "id: A-1,"))
    assert "not a valid id" in msg


def test_recode_must_cover_every_code(tmp_path):
    msg = _broken(
        tmp_path,
        MINIMAL.replace(
            "response_set: agree, reverse: true", "response_set: agree, recode: {1: 0}"
        ),
    )
    assert "unmapped [2]" in msg


def test_alternative_coding_targets_must_exist(tmp_path):
    text = MINIMAL.replace(
        "{options: [{code: 1, label: Disagree}, {code: 2, label: Agree}]}",
        "{options: [{code: 1, label: Disagree}, {code: 2, label: Agree}], "
        "alternative_codings: {old: {description: x, map: {0: 1, 1: 3}}}}",
    )
    assert "maps to codes [3]" in _broken(tmp_path, text)


def _with_range(lo: int, hi: int, extra: str = "") -> str:
    return MINIMAL.replace(
        "agree: {options: [{code: 1, label: Disagree}, {code: 2, label: Agree}]}",
        f"agree: {{range: [{lo}, {hi}]{extra}}}",
    )


def test_a_range_above_the_stated_limit_is_refused_with_the_limit(tmp_path):
    # issue 13 item 9: [1, 200000] used to run for minutes (list.count per code)
    from outcomes.instruments import MAX_RANGE_CODES

    msg = _broken(tmp_path, _with_range(1, 200_000))
    assert "200000 codes" in msg and f"at most {MAX_RANGE_CODES}" in msg


def test_a_range_at_the_limit_loads_and_scores(tmp_path):
    from outcomes.instruments import MAX_RANGE_CODES

    p = tmp_path / "mini.yaml"
    p.write_text(_with_range(1, MAX_RANGE_CODES))
    inst = oc.load_instrument(p)
    assert len(inst.response_sets["agree"].options) == MAX_RANGE_CODES
    # b is reversed: min + max - code = 1 + 10000 - 2 = 9999; a scores 5 -> total 10004
    out = oc.score(pd.DataFrame({"a": [5], "b": [2]}), inst)
    assert out["total"].tolist() == [10_004.0]


def test_range_duplicates_with_explicit_options_are_still_found(tmp_path):
    # The linear check must still see a missing code or label that repeats a range code.
    msg = _broken(tmp_path, _with_range(0, 10, ", missing: [{code: 10, label: Not known}]"))
    assert "codes used twice: [10]" in msg
    msg = _broken(tmp_path, _with_range(0, 10, ", missing: [{code: 99, label: '7'}]"))
    assert "labels used twice" in msg and "'7'" in msg
    # '07' is not the label the range gives code 7, so it does not clash
    p = tmp_path / "mini.yaml"
    p.write_text(_with_range(0, 10, ", missing: [{code: 99, label: '07'}]"))
    assert oc.load_instrument(p).response_sets["agree"].missing_codes == (99,)


@pytest.mark.parametrize(
    "text", ["[" * 5000 + "]" * 5000, "id: x\nname: " + "{a: " * 3000 + "1" + "}" * 3000]
)
def test_deeply_nested_yaml_is_a_definition_error_naming_the_file(tmp_path, text):
    msg = _broken(tmp_path, text)
    assert "nested too deeply" in msg


def test_deeply_nested_mapping_passed_directly_is_a_definition_error():
    data: dict = {}
    for _ in range(5000):
        data = {"a": data}
    with pytest.raises(oc.InstrumentDefinitionError, match="mine: "):
        parse_instrument({"id": "x", "name": data}, source="mine")
