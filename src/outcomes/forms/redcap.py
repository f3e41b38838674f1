"""REDCap: write a data dictionary for one or more instruments; read REDCap record exports.

The dictionary is the CSV that REDCap's Designer accepts under "Upload Data Dictionary": the 18
columns in REDCap's order, one form per instrument, field names ``<prefix>_<item id>``. Coded
items are radio buttons whose choices carry the instrument's codes (answers meaning "no answer",
such as HoNOSCA 9 "Not known", are offered as choices too, with their own codes, so that the
scoring engine can tell them from a skipped question). Consecutive items sharing a response set
form a matrix group, which REDCap shows as a grid.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from .._internal.params import validate_params
from .._internal.spreadsheet import write_csv
from ..instruments import Instrument
from ._common import (
    PACK_PARAMS,
    FormsError,
    InstrumentsArg,
    PrefixArg,
    all_options,
    continuous_text,
    field_names,
    fmt_code,
    form_name,
    load_pack,
    runs,
    section_title,
    shown_text,
)

#: The data dictionary's columns, exactly as REDCap's web interface names and orders them.
REDCAP_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
#: The same columns as the REDCap API names them (accepted wherever a dictionary is read).
REDCAP_API_COLUMNS = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)
RECORD_ID = "record_id"
#: REDCap validation type for a continuous answer's step (others: plain "number")
_NUMBER_VALIDATION = {1.0: "integer", 0.1: "number_1dp", 0.01: "number_2dp"}
#: REDCap warns about field names longer than this (some export formats truncate them).
REDCAP_NAME_WARN = 26


class LongFieldNameWarning(UserWarning):
    """A REDCap field name is longer than REDCap recommends; give the instrument a prefix."""


#: Columns REDCap adds to record exports (raw headers and label headers).
REDCAP_META = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
    "Record ID",
    "Event Name",
    "Repeat Instrument",
    "Repeat Instance",
    "Data Access Group",
    "Survey Identifier",
)


def choices_text(inst: Instrument, response_set: str) -> str:
    """``code, label | code, label`` for a response set (no-answer options last)."""
    opts = all_options(inst.response_sets[response_set])
    bad = [o.label for o in opts if "|" in o.label]
    if bad:
        raise FormsError(
            f"{inst.id}: response labels {bad} contain '|', which REDCap uses between choices"
        )
    return " | ".join(f"{fmt_code(o.code)}, {o.label}" for o in opts)


def _rows(inst: Instrument, names: dict, prefix: PrefixArg, require_answers: bool) -> list[dict]:
    form = form_name(inst, prefix)
    rows: list[dict] = []
    about = f"{form}_about"
    licence = inst.licence.text.strip()
    intro = f"{inst.name}. Licence: {licence}"
    if not inst.licence.embed_wording:
        intro += (
            " Field labels are short labels, not the item wording; show respondents the "
            "licensed wording."
        )
    rows.append(
        {
            "Variable / Field Name": about,
            "Form Name": form,
            "Field Type": "descriptive",
            "Field Label": intro,
            "Field Annotation": f"outcomes: instrument={inst.id} version={inst.version}",
        }
    )
    number = 0
    previous_section = None
    for run in runs(inst):
        # REDCap matrix groups need two or more consecutive fields with identical choices.
        group = ""
        if run.response_set and len(run.items) > 1:
            group = f"{form}_{run.items[0].id}_grid"
        for it in run.items:
            number += 1
            row = {
                "Variable / Field Name": names[(inst.id, it.id)],
                "Form Name": form,
                "Field Label": shown_text(inst, it),
                "Question Number (surveys only)": str(number),
                "Field Annotation": f"outcomes: instrument={inst.id} item={it.id}",
            }
            # Runs break at section changes, so a header never lands inside a matrix group.
            if it.section and it.section != previous_section:
                row["Section Header"] = section_title(it.section)
            previous_section = it.section
            rs = inst.response_sets.get(it.response_set) if it.type == "coded" else None
            if rs is not None and rs.is_continuous:
                # REDCap's own validation types check the range and, for 1 or 2 decimals, the step.
                c = rs.continuous
                row["Field Type"] = "text"
                row["Text Validation Type OR Show Slider Number"] = _NUMBER_VALIDATION.get(
                    c.step, "number"
                )
                row["Text Validation Min"] = fmt_code(c.min)
                row["Text Validation Max"] = fmt_code(c.max)
                row["Field Note"] = continuous_text(rs)
                if require_answers and it.required:
                    row["Required Field?"] = "y"
            elif it.type == "coded":
                row["Field Type"] = "radio"
                row["Choices, Calculations, OR Slider Labels"] = choices_text(inst, it.response_set)
                row["Matrix Group Name"] = group
                if require_answers and it.required:
                    row["Required Field?"] = "y"
            else:
                row["Field Type"] = "notes"
            rows.append(row)
    return rows


@validate_params(
    {
        **PACK_PARAMS,
        "require_answers": "boolean",
    }
)
def redcap_dictionary(
    instruments: InstrumentsArg,
    *,
    prefix: PrefixArg = True,
    require_answers: bool = False,
) -> pd.DataFrame:
    """A REDCap data dictionary (the 18 standard columns) for one instrument or a pack.

    Parameters
    ----------
    instruments
        An id, a YAML path, an Instrument, or a list of them (one form each, in order).
    prefix
        ``True``: field names are ``<instrument id>_<item id>``; a dict gives shorter prefixes
        per instrument (``{"workforce_confidence": "wcs"}``); ``False``: bare item ids (refused
        when two instruments share an item id).
    require_answers
        Mark the instruments' required items "Required Field? = y". Off by default: a
        respondent may skip a question, and scoring handles the gap.

    Example:
        >>> from outcomes.forms import redcap_dictionary
        >>> d = redcap_dictionary("swemwbs")
        >>> d.iloc[2][["Variable / Field Name", "Field Type"]].tolist()
        ['swemwbs_q1', 'radio']
        >>> len(d.columns)
        18
    """
    pack = load_pack(instruments)
    names = field_names(pack, prefix)
    if RECORD_ID in names.values():
        raise FormsError(f"an item would be named {RECORD_ID!r}, REDCap's record id field")
    first_form = form_name(pack[0], prefix)
    rows: list[dict] = [
        {
            "Variable / Field Name": RECORD_ID,
            "Form Name": first_form,
            "Field Type": "text",
            "Field Label": "Record ID",
        }
    ]
    forms = [form_name(i, prefix) for i in pack]
    if len(set(forms)) != len(forms):
        raise FormsError(f"two instruments would share a REDCap form name: {forms}")
    for inst in pack:
        rows += _rows(inst, names, prefix, require_answers)
    fields = [r["Variable / Field Name"] for r in rows]
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise FormsError(f"REDCap field names used twice: {twice}")
    long = [f for f in fields if len(f) > REDCAP_NAME_WARN]
    if long:
        warnings.warn(
            f"REDCap warns about field names over {REDCAP_NAME_WARN} characters: {long}; give "
            "the instrument a shorter prefix, e.g. prefix={'workforce_confidence': 'wcs'}",
            LongFieldNameWarning,
            stacklevel=2,
        )
    return pd.DataFrame(rows).reindex(columns=list(REDCAP_COLUMNS)).astype(object).fillna("")


def write_redcap_dictionary(
    instruments: InstrumentsArg,
    path: str | Path,
    *,
    prefix: PrefixArg = True,
    require_answers: bool = False,
) -> Path:
    """Write :func:`redcap_dictionary` as a CSV REDCap accepts (UTF-8, every field quoted)."""
    d = redcap_dictionary(instruments, prefix=prefix, require_answers=require_answers)
    # A label typed as "-3 or less" or "=..." would otherwise run as a formula in Excel.
    return write_csv(d, path, quoting=csv.QUOTE_ALL, encoding="utf-8", lineterminator="\n")


# --------------------------------------------------------------------------- reading exports
def completion_forms(columns: list[str]) -> list[str]:
    """Forms whose ``<form>_complete`` column is in a record export."""
    return [c.removesuffix("_complete") for c in columns if c.endswith("_complete")]


def is_redcap_header(columns: list[str]) -> bool:
    cols = [str(c) for c in columns]
    if any(c.startswith("redcap_") for c in cols):
        return True
    if any(c == "Complete?" or c.startswith("Complete?.") for c in cols):
        return True
    return bool(cols) and cols[0] in (RECORD_ID, "Record ID") and bool(completion_forms(cols))


def redcap_meta(columns: list[str], forms: set[str]) -> list[str]:
    """Columns to carry through from a REDCap export: record id, event and repeat keys, and
    the timestamp / completion status of this instrument's form."""
    cols = [str(c) for c in columns]
    out = []
    for i, c in enumerate(cols):
        if (
            (i == 0)
            or c in REDCAP_META
            or any(c in (f"{f}_complete", f"{f}_timestamp") for f in forms)
        ):
            out.append(c)
    return out


def repeat_column(columns: list[str]) -> str | None:
    """The column naming each row's repeating instrument (raw or label headers), if any."""
    return next(
        (c for c in ("redcap_repeat_instrument", "Repeat Instrument") if c in columns), None
    )
