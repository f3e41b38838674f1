"""XLSForm (ODK Collect, ODK Central, KoboToolbox, Ona): write a workbook for one instrument or a
pack, and check it with pyxform and ODK Validate.

Each instrument is a group (``begin_group`` / ``end_group``, shown as one screen with
``field-list``) holding a note with the licence and one question per item: ``select_one`` on the
instrument's response set for coded items (choice names are the instrument's codes, so exports
hold the codes the scoring engine expects), ``text`` for free-text items. Question names follow
the same ``<prefix>_<item id>`` rule as the REDCap dictionary.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd

from .._internal.params import OPTIONAL_TEXT, validate_params
from .._internal.spreadsheet import write_excel
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
    shown_text,
)

SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "appearance",
    "constraint",
    "constraint_message",
)
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_title", "form_id", "version")


@validate_params(
    {
        **PACK_PARAMS,
        "require_answers": "boolean",
        "form_id": OPTIONAL_TEXT,
        "title": OPTIONAL_TEXT,
        "version": OPTIONAL_TEXT,
    }
)
def xlsform_sheets(
    instruments: InstrumentsArg,
    *,
    prefix: PrefixArg = True,
    require_answers: bool = False,
    form_id: str | None = None,
    title: str | None = None,
    version: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The ``survey``, ``choices`` and ``settings`` sheets of an XLSForm, as DataFrames.

    ``version`` defaults to a short hash of the form's content, so that a changed form gets a
    new version (ODK Central refuses a changed form under an old version).

    Example:
        >>> from outcomes.forms import xlsform_sheets
        >>> s = xlsform_sheets("swemwbs")
        >>> s["survey"].iloc[2][["type", "name"]].tolist()
        ['select_one swemwbs_frequency', 'swemwbs_q1']
    """
    pack = load_pack(instruments)
    names = field_names(pack, prefix)
    survey: list[dict] = []
    choices: list[dict] = []
    for inst in pack:
        group = form_name(inst, prefix)
        notice = f"{inst.name}. Licence: {inst.licence.text.strip()}"
        if not inst.licence.embed_wording:
            notice += " Questions show short labels, not the item wording."
        survey.append(
            {"type": "begin_group", "name": group, "label": inst.name, "appearance": "field-list"}
        )
        survey.append({"type": "note", "name": f"{group}_about", "label": notice})
        for name, rs in inst.response_sets.items():
            list_name = f"{group}_{name}"
            for o in all_options(rs):
                choices.append({"list_name": list_name, "name": fmt_code(o.code), "label": o.label})
        for it in inst.items:
            row = {"name": names[(inst.id, it.id)], "label": shown_text(inst, it)}
            rs = inst.response_sets.get(it.response_set) if it.type == "coded" else None
            if rs is not None and rs.is_continuous:
                # A mark on a line is a number; ODK checks the range and the step (with a
                # tolerance: 1.1 * 10 is 11.000000000000002 in floating point).
                c = rs.continuous
                k = f"(. div {fmt_code(c.step)})"
                row["type"] = "decimal"
                row["constraint"] = (
                    f". >= {fmt_code(c.min)} and . <= {fmt_code(c.max)} and "
                    f"abs({k} - round({k}, 0)) < 0.000001"
                )
                row["constraint_message"] = continuous_text(rs)
                if require_answers and it.required:
                    row["required"] = "yes"
            elif it.type == "coded":
                row["type"] = f"select_one {group}_{it.response_set}"
                if require_answers and it.required:
                    row["required"] = "yes"
            else:
                row["type"] = "text"
                row["appearance"] = "multiline"
            survey.append(row)
        survey.append({"type": "end_group", "name": group})
    groups = [form_name(i, prefix) for i in pack]
    clash = sorted(set(groups) & set(names.values()))
    if clash or len(set(groups)) != len(groups):
        raise FormsError(f"group names clash with each other or with question names: {groups}")
    survey_df = pd.DataFrame(survey).reindex(columns=list(SURVEY_COLUMNS)).astype(object).fillna("")
    choices_df = pd.DataFrame(choices).reindex(columns=list(CHOICES_COLUMNS))
    digest = hashlib.sha256(
        json.dumps([survey, choices], sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    settings_df = pd.DataFrame(
        [
            {
                "form_title": title or " + ".join(i.name for i in pack),
                "form_id": form_id or "_".join(groups),
                "version": version or digest,
            }
        ],
        columns=list(SETTINGS_COLUMNS),
    )
    return {"survey": survey_df, "choices": choices_df, "settings": settings_df}


def write_xlsform(
    instruments: InstrumentsArg,
    path: str | Path,
    *,
    prefix: PrefixArg = True,
    require_answers: bool = False,
    form_id: str | None = None,
    title: str | None = None,
    version: str | None = None,
    check: bool = True,
) -> Path:
    """Write an XLSForm workbook (.xlsx); with ``check=True`` check it with
    :func:`check_xlsform` (pyxform, and ODK Validate where Java is available)."""
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise FormsError(f"{p}: an XLSForm is an .xlsx workbook; use a path ending in .xlsx")
    sheets = xlsform_sheets(
        instruments,
        prefix=prefix,
        require_answers=require_answers,
        form_id=form_id,
        title=title,
        version=version,
    )
    write_excel(sheets, p)  # labels are string cells, never formulas
    if check:
        check_xlsform(p)
    return p


class ODKValidateUnavailable(UserWarning):
    """ODK Validate could not run (no Java, or pyxform without its validator): the form was
    checked by pyxform only, which accepts some forms ODK Collect rejects."""


def odk_validate_missing() -> str | None:
    """Why ODK Validate cannot run here, or None when it can (Java on PATH, validator present)."""
    from pyxform.validators import odk_validate

    if shutil.which("java") is None:
        return "Java was not found on PATH (ODK Validate needs Java 8 or later)"
    if not odk_validate.install_exists():
        return f"pyxform's ODK Validate is not installed ({odk_validate.ODK_VALIDATE_PATH})"
    return None


@validate_params(
    {
        "path": "path",
        "odk_validate": ["boolean", None],
    }
)
def check_xlsform(path: str | Path, *, odk_validate: bool | None = None) -> list[str]:
    """Check an XLSForm as ODK Collect will: convert it with pyxform and run ODK Validate.

    ``odk_validate=None`` runs ODK Validate when Java and the validator are present, and
    otherwise says so: the first returned line is "ODK Validate was not run: ..." and an
    :class:`ODKValidateUnavailable` warning is raised. ``True`` requires ODK Validate (a
    FormsError when it cannot run); ``False`` checks with pyxform only. Returns the warnings of
    pyxform and ODK Validate; a rejected form raises :class:`FormsError` with their reasons.

    Example:
        >>> import tempfile, pathlib, warnings, outcomes as oc
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "gbo.xlsx"
        >>> _ = oc.forms.export("gbo", "xlsform", out)
        >>> oc.forms.check_xlsform(out, odk_validate=False)
        []
    """
    from pyxform.errors import PyXFormError
    from pyxform.validators.odk_validate import ODKValidateError
    from pyxform.xls2xform import convert

    missing = odk_validate_missing() if odk_validate is not False else None
    if missing and odk_validate:
        raise FormsError(f"{path}: ODK Validate cannot run: {missing}")
    validate = odk_validate is not False and missing is None
    try:
        result = convert(xlsform=str(path), validate=validate)
    except PyXFormError as e:
        raise FormsError(f"{path}: pyxform rejects the XLSForm: {e}") from None
    except ODKValidateError as e:
        raise FormsError(f"{path}: ODK Validate rejects the XLSForm: {e}") from None
    notes = list(result.warnings)
    if missing:
        said = f"ODK Validate was not run: {missing}; the form was checked by pyxform only"
        warnings.warn(f"{path}: {said}", ODKValidateUnavailable, stacklevel=2)
        notes.insert(0, said)
    return notes
