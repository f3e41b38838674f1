"""Exports: the REDCap dictionary's exact shape, XLSForms that pyxform converts, HTML that never
prints licensed wording, and codebooks."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from pyxform.xls2xform import convert

import outcomes as oc
import outcomes.forms as forms
from outcomes.instruments import Instrument, parse_instrument

# Long WCS field names are warned about once, in test_forms_export.py.
pytestmark = pytest.mark.filterwarnings("ignore::outcomes.forms.LongFieldNameWarning")

ALL = [i for i in oc.list_instruments() if oc.load_instrument(i).items]

# Copied from REDCap's downloaded data dictionary header (see /work/shared/specs/forms.md).
REDCAP_HEADER = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note",'
    '"Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max",'
    '"Identifier?","Branching Logic (Show field only if...)","Required Field?","Custom Alignment",'
    '"Question Number (surveys only)","Matrix Group Name","Matrix Ranking?","Field Annotation"'
)
REDCAP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# ----------------------------------------------------------------------------- REDCap
def test_redcap_file_has_exactly_the_18_columns_in_order(tmp_path: Path) -> None:
    path = forms.export(["workforce_confidence", "swemwbs"], "redcap", tmp_path / "dd.csv")
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == REDCAP_HEADER
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert all(len(r) == 18 for r in rows)
    assert len(forms.REDCAP_COLUMNS) == len(forms.REDCAP_API_COLUMNS) == 18


@pytest.mark.parametrize("instrument", ALL)
def test_redcap_dictionary_per_instrument(instrument: str) -> None:
    inst = oc.load_instrument(instrument)
    d = forms.redcap_dictionary(instrument)
    assert list(d.columns) == list(forms.REDCAP_COLUMNS)
    names = d["Variable / Field Name"]
    assert names.iloc[0] == "record_id" and d["Field Type"].iloc[0] == "text"
    assert names.map(lambda n: bool(REDCAP_NAME.match(n))).all()
    assert names.is_unique
    assert set(d["Form Name"]) == {instrument}
    items = d[d["Field Annotation"].str.contains("item=")]
    assert items["Variable / Field Name"].tolist() == [f"{instrument}_{i.id}" for i in inst.items]
    for it, (_, row) in zip(inst.items, items.iterrows(), strict=True):
        if it.type == "coded" and inst.response_sets[it.response_set].is_continuous:
            # a mark on a 10 cm line, to the mm: REDCap's one-decimal number check, 0 to 10
            assert row["Field Type"] == "text"
            assert row["Text Validation Type OR Show Slider Number"] == "number_1dp"
            assert (row["Text Validation Min"], row["Text Validation Max"]) == ("0", "10")
        elif it.type == "coded":
            assert row["Field Type"] == "radio"
            rs = inst.response_sets[it.response_set]
            expected = " | ".join(f"{o.code}, {o.label}" for o in (*rs.options, *rs.missing))
            assert row["Choices, Calculations, OR Slider Labels"] == expected
        else:
            assert row["Field Type"] == "notes"
            assert row["Choices, Calculations, OR Slider Labels"] == ""
        # never wording that the licence keeps out
        if not inst.licence.embed_wording:
            assert row["Field Label"].lower() == it.label.lower()


def test_redcap_matrix_groups_are_consecutive_with_identical_choices() -> None:
    d = forms.redcap_dictionary(ALL)
    grouped = d[d["Matrix Group Name"] != ""]
    for _, g in grouped.groupby("Matrix Group Name"):
        assert len(g) >= 2
        assert (g.index.to_series().diff().dropna() == 1).all()
        assert g["Choices, Calculations, OR Slider Labels"].nunique() == 1
        assert (g["Section Header"].iloc[1:] == "").all()


def test_redcap_pack_prefixes_make_names_unique_and_honosca_sections() -> None:
    d = forms.redcap_dictionary(["honosca", "honosca_sr", "swemwbs"])
    names = d["Variable / Field Name"]
    assert names.is_unique
    assert {"honosca_q1", "honosca_sr_q1", "swemwbs_q1"} <= set(names)
    assert d.loc[names == "honosca_q1", "Section Header"].item() == "Section A"
    assert d.loc[names == "honosca_q14", "Section Header"].item() == "Section B"
    assert d["Form Name"].tolist()[0] == "honosca"
    sdq = forms.redcap_dictionary("sdq_parent")
    assert sdq.loc[
        sdq["Variable / Field Name"] == "sdq_parent_ebddiff", "Section Header"
    ].item() == ("Impact supplement")


def test_long_field_names_are_warned_about() -> None:
    with pytest.warns(forms.LongFieldNameWarning, match="workforce_confidence_comments"):
        forms.redcap_dictionary("workforce_confidence")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forms.redcap_dictionary("workforce_confidence", prefix={"workforce_confidence": "wcs"})


def test_redcap_without_prefix_refuses_clashing_item_ids() -> None:
    with pytest.raises(forms.FormsError, match="q1"):
        forms.redcap_dictionary(["honosca", "swemwbs"], prefix=False)
    d = forms.redcap_dictionary("honosca", prefix=False)
    assert "q1" in set(d["Variable / Field Name"])


def test_redcap_bad_prefix_and_repeated_instrument() -> None:
    with pytest.raises(forms.FormsError, match="prefix"):
        forms.redcap_dictionary("swemwbs", prefix={"swemwbs": "1bad"})
    with pytest.raises(forms.FormsError, match="twice"):
        forms.redcap_dictionary(["swemwbs", "swemwbs"])


def test_redcap_require_answers_marks_required_items_only() -> None:
    d = forms.redcap_dictionary("workforce_confidence", require_answers=True)
    req = dict(zip(d["Variable / Field Name"], d["Required Field?"], strict=True))
    assert req["workforce_confidence_q1"] == "y"
    assert req["workforce_confidence_overall"] == ""  # optional item
    assert req["workforce_confidence_comments"] == ""


# ----------------------------------------------------------------------------- XLSForm
@pytest.mark.parametrize("instrument", ALL)
def test_every_bundled_instrument_converts_with_pyxform(tmp_path: Path, instrument: str) -> None:
    path = forms.export(instrument, "xlsform", tmp_path / f"{instrument}.xlsx")
    result = convert(xlsform=str(path))
    assert "<h:html" in result.xform
    inst = oc.load_instrument(instrument)
    for it in inst.items:
        assert f"{instrument}_{it.id}" in result.xform


def test_pack_of_all_instruments_converts(tmp_path: Path) -> None:
    path = forms.export(ALL, "xlsform", tmp_path / "all.xlsx", form_id="everything")
    result = convert(xlsform=str(path))
    assert 'id="everything"' in result.xform


def test_xlsform_sheets_shape() -> None:
    sheets = forms.xlsform_sheets(["chi_esq_parent", "gbo"], version="2026110101")
    survey, choices, settings = sheets["survey"], sheets["choices"], sheets["settings"]
    assert list(survey.columns)[:3] == ["type", "name", "label"]
    assert list(choices.columns) == ["list_name", "name", "label"]
    assert settings.iloc[0]["version"] == "2026110101"
    assert survey["type"].tolist().count("begin_group") == 2
    esq = choices[choices["list_name"] == "chi_esq_parent_esq"]
    assert esq["name"].tolist() == ["0", "1", "2", "9"]
    assert esq["label"].tolist()[-1] == "Don't know"
    q = survey.set_index("name")
    assert q.loc["chi_esq_parent_good", "type"] == "text"
    assert q.loc["gbo_goal1", "type"] == "select_one gbo_progress"


def test_xlsform_version_changes_with_content() -> None:
    a = forms.xlsform_sheets("swemwbs")["settings"].iloc[0]["version"]
    b = forms.xlsform_sheets("swemwbs")["settings"].iloc[0]["version"]
    c = forms.xlsform_sheets("swemwbs", require_answers=True)["settings"].iloc[0]["version"]
    assert a == b != c


def test_xlsform_needs_xlsx_and_check_reports_pyxform_errors(tmp_path: Path) -> None:
    with pytest.raises(forms.FormsError, match=".xlsx"):
        forms.export("swemwbs", "xlsform", tmp_path / "form.xls")
    sheets = forms.xlsform_sheets("swemwbs")
    survey = sheets["survey"].copy()
    survey.loc[3, "name"] = survey.loc[2, "name"]  # a duplicate question name
    bad = tmp_path / "bad.xlsx"
    with pd.ExcelWriter(bad) as xl:
        survey.to_excel(xl, sheet_name="survey", index=False)
        sheets["choices"].to_excel(xl, sheet_name="choices", index=False)
    with pytest.raises(forms.FormsError, match="pyxform"):
        forms.check_xlsform(bad)


def _odk_rejects_pyxform_accepts(tmp_path: Path) -> Path:
    # A constraint with a dangling "and ... <": pyxform copies it into the XForm unchecked,
    # ODK Validate (JavaRosa's parser, as ODK Collect) refuses it.
    sheets = forms.xlsform_sheets("swemwbs")
    survey = sheets["survey"].copy()
    survey["constraint"] = ""
    survey.loc[2, "constraint"] = ". > 1 and . <"
    bad = tmp_path / "odk_bad.xlsx"
    with pd.ExcelWriter(bad) as xl:
        survey.to_excel(xl, sheet_name="survey", index=False)
        sheets["choices"].to_excel(xl, sheet_name="choices", index=False)
    assert convert(xlsform=str(bad)).xform  # pyxform alone lets it through
    return bad


@pytest.mark.skipif(
    forms.xlsform.odk_validate_missing() is not None, reason="needs Java for ODK Validate"
)
def test_check_xlsform_runs_odk_validate(tmp_path: Path) -> None:
    bad = _odk_rejects_pyxform_accepts(tmp_path)
    with pytest.raises(forms.FormsError, match="(?s)ODK Validate rejects .*invalid constraint"):
        forms.check_xlsform(bad)
    assert forms.check_xlsform(bad, odk_validate=False) == []  # pyxform only, as asked
    good = forms.export("swemwbs", "xlsform", tmp_path / "good.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say about a good form
        assert forms.check_xlsform(good) == []


def test_check_xlsform_says_plainly_when_odk_validate_cannot_run(tmp_path, monkeypatch) -> None:
    bad = _odk_rejects_pyxform_accepts(tmp_path)
    monkeypatch.setattr(forms.xlsform.shutil, "which", lambda _: None)  # no Java
    with pytest.warns(forms.ODKValidateUnavailable, match="Java was not found"):
        notes = forms.check_xlsform(bad)
    assert notes[0].startswith("ODK Validate was not run: Java was not found")
    with pytest.raises(forms.FormsError, match="ODK Validate cannot run: Java"):
        forms.check_xlsform(bad, odk_validate=True)
    with pytest.raises(oc.InvalidParameterError, match="odk_validate"):
        forms.check_xlsform(bad, odk_validate="yes")


# ----------------------------------------------------------------------------- HTML
def _custom(embed: bool, text: str = "I sleep well at night, most nights.") -> dict:
    return {
        "id": "sleep_check",
        "name": "Sleep check",
        "version": "1",
        "respondent": "self",
        "licence": {"text": "Test licence notice XYZ.", "embed_wording": embed},
        "citation": "Nobody (2026). A test instrument.",
        "response_sets": {
            "yn": {"options": [{"code": 0, "label": "No"}, {"code": 1, "label": "Yes"}]}
        },
        "items": [
            {"id": "q1", "label": "sleeps well", "text": text, "response_set": "yn"},
            {"id": "q2", "label": "wakes rested", "response_set": "yn"},
        ],
        "scales": [
            {
                "id": "total",
                "label": "Total",
                "method": "sum",
                "items": ["q1", "q2"],
                "higher_is_better": True,
                "source": "A project rule for tests.",
            }
        ],
    }


def test_model_refuses_wording_when_licence_forbids_it() -> None:
    with pytest.raises(oc.InstrumentDefinitionError, match="embed_wording"):
        parse_instrument(_custom(embed=False))


def test_html_shows_wording_when_licence_allows() -> None:
    inst = parse_instrument(_custom(embed=True))
    page = forms.html_questionnaire(inst)
    assert "I sleep well at night, most nights." in page
    assert 'class="grid"' in page and "Wakes rested" in page
    assert "Test licence notice XYZ." in page


def test_html_never_prints_wording_of_a_restricted_instrument() -> None:
    """Even an Instrument built around the validator (model_construct) does not get its text
    printed when embed_wording is false: the page is a codebook."""
    good = parse_instrument(_custom(embed=True))
    sneaky = good.model_copy(
        update={"licence": good.licence.model_copy(update={"embed_wording": False})}
    )
    assert isinstance(sneaky, Instrument) and sneaky.items[0].text
    for page in (forms.html_questionnaire(sneaky), *_restricted_pages()):
        assert "sleep well at night" not in page
    page = forms.html_questionnaire(sneaky)
    assert "codebook" in page and "not reproduced" in page and "Test licence notice XYZ." in page
    assert "sleeps well" in page and "sleep_check_q1" in page and "0 = No" in page
    assert 'class="grid"' not in page
    # the other exports follow the same rule
    assert "sleep well at night" not in forms.redcap_dictionary(sneaky).to_string()
    assert "sleep well at night" not in forms.xlsform_sheets(sneaky)["survey"].to_string()


def _restricted_pages() -> list[str]:
    return [
        forms.html_questionnaire(i) for i in ALL if not oc.load_instrument(i).licence.embed_wording
    ]


@pytest.mark.parametrize(
    "instrument", [i for i in ALL if not oc.load_instrument(i).licence.embed_wording]
)
def test_restricted_bundled_instruments_print_as_codebooks(instrument: str) -> None:
    inst = oc.load_instrument(instrument)
    page = forms.html_questionnaire(instrument)
    assert "codebook" in page and 'class="grid"' not in page
    first_sentence = inst.licence.text.strip().split(".")[0]
    assert first_sentence.replace("'", "&#x27;") in page
    for it in inst.items:
        assert it.id in page


def test_wcs_prints_as_questionnaire_with_its_wording(tmp_path: Path) -> None:
    inst = oc.load_instrument("workforce_confidence")
    path = forms.export(["workforce_confidence", "sdq_teacher"], "html", tmp_path / "staff.html")
    page = path.read_text(encoding="utf-8")
    for it in inst.items:
        if it.text:
            assert it.text.replace("'", "&#x27;") in page
    assert page.count('<section class="instrument"') == 2
    teacher = page.split('<section class="instrument" id="sdq_teacher">')[1]
    assert "codebook" in teacher and "sdq_teacher_consid" in teacher


def test_html_escapes_text() -> None:
    spec = _custom(embed=True, text="Is 2 < 3 & <b>bold</b>?")
    page = forms.html_questionnaire(parse_instrument(spec))
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


# ----------------------------------------------------------------------------- codebook
def test_codebook_csv_scores_and_missing(tmp_path: Path) -> None:
    path = forms.export(["sdq_parent", "chi_esq_parent"], "codebook", tmp_path / "cb.csv")
    cb = pd.read_csv(path)
    obeys = cb[(cb["instrument"] == "sdq_parent") & (cb["item"] == "obeys")]
    assert obeys["score"].tolist() == [2.0, 1.0, 0.0]  # reverse keyed
    distres = cb[(cb["instrument"] == "sdq_parent") & (cb["item"] == "distres")]
    assert distres["score"].tolist() == [0.0, 0.0, 1.0, 2.0]  # impact recode 0,0,1,2
    dk = cb[(cb["instrument"] == "chi_esq_parent") & (cb["item"] == "q1") & cb["no_answer"]]
    assert dk["code"].tolist() == [9] and dk["score"].isna().all()
    good = cb[(cb["instrument"] == "chi_esq_parent") & (cb["item"] == "good")]
    assert len(good) == 1 and good["type"].item() == "text"
    assert set(cb["field_name"]) >= {"sdq_parent_obeys", "chi_esq_parent_q1"}


def test_codebook_markdown(tmp_path: Path) -> None:
    path = forms.export("honosca", "codebook", tmp_path / "honosca.md")
    md = path.read_text(encoding="utf-8")
    assert md.startswith("# Codebook: Health of the Nation")
    assert "| 1 | `q1` | `honosca_q1` |" in md
    assert "9 = Not known (no answer)" in md
    assert "| `total` |" in md and "sum (prorated)" in md
    assert "not reproduced" in md
    with pytest.raises(forms.FormsError, match=".csv or .md"):
        forms.export("honosca", "codebook", tmp_path / "honosca.txt")


def test_unknown_target() -> None:
    with pytest.raises(
        oc.OutcomesError, match="parameter 'to'.*'codebook', 'html', 'redcap', 'xlsform'"
    ):
        forms.export("honosca", "pdf", "x.pdf")
