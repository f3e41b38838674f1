"""Survey tooling: one instrument definition drives data collection and analysis.

``export`` writes an instrument, or a pack of several, as a REDCap data dictionary, an XLSForm
(ODK / KoboToolbox), a printable HTML page or a codebook. ``read_export`` reads what those
platforms (and Qualtrics, SPSS, Microsoft Forms, plain tables) export back into a responses
frame with item ids and canonical codes, ready for :func:`outcomes.score`, and reports how every
column, cell and row was treated.

Example:
    >>> import tempfile, pathlib, outcomes as oc
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> oc.forms.export("swemwbs", "redcap", folder / "dictionary.csv").name
    'dictionary.csv'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from .._internal.params import (
    COLUMN,
    COLUMN_MAP,
    COUNT,
    ERRORS,
    INSTRUMENT,
    OPTIONAL_TEXT,
    TEXT,
    Columns,
    Options,
    validate_params,
)
from ..instruments import Instrument, load_instrument
from ._common import PACK_PARAMS, FormsError, InstrumentsArg, PrefixArg, load_pack
from ._files import FileOptions
from .codebook import codebook, codebook_markdown, write_codebook
from .mapping import MappingReport, RawExport, assemble
from .printable import html_questionnaire, write_html
from .readers import PLATFORMS, READERS, canonical_platform, detect_platform
from .redcap import (
    REDCAP_API_COLUMNS,
    REDCAP_COLUMNS,
    LongFieldNameWarning,
    redcap_dictionary,
    write_redcap_dictionary,
)
from .xlsform import ODKValidateUnavailable, check_xlsform, write_xlsform, xlsform_sheets

EXPORT_TARGETS = ("redcap", "xlsform", "html", "codebook")

__all__ = [
    "EXPORT_TARGETS",
    "PLATFORMS",
    "REDCAP_API_COLUMNS",
    "REDCAP_COLUMNS",
    "FormsError",
    "LongFieldNameWarning",
    "MappingReport",
    "ODKValidateUnavailable",
    "RawExport",
    "check_xlsform",
    "codebook",
    "codebook_markdown",
    "detect_platform",
    "export",
    "html_questionnaire",
    "read_export",
    "redcap_dictionary",
    "xlsform_sheets",
]


@validate_params(
    {
        **PACK_PARAMS,
        "to": Options(str, {"redcap", "xlsform", "html", "codebook"}),
        "path": "path",
        "require_answers": "boolean",
        "form_id": OPTIONAL_TEXT,
        "title": OPTIONAL_TEXT,
        "version": OPTIONAL_TEXT,
    }
)
def export(
    instruments: InstrumentsArg,
    to: Literal["redcap", "xlsform", "html", "codebook"],
    path: str | Path,
    *,
    prefix: PrefixArg = True,
    require_answers: bool = False,
    form_id: str | None = None,
    title: str | None = None,
    version: str | None = None,
) -> Path:
    """Write one instrument, or a pack of several, for a data collection platform.

    Parameters
    ----------
    instruments
        An id (``"honosca"``), a YAML path, an Instrument, or a list of them.
    to
        ``"redcap"``: data dictionary CSV (18 columns, one form per instrument).
        ``"xlsform"``: ``.xlsx`` workbook for ODK / KoboToolbox, checked with pyxform.
        ``"html"``: printable questionnaire (codebook page where the licence keeps the wording).
        ``"codebook"``: ``.csv`` (one row per item and code) or ``.md``, by the extension.
    path
        File to write; folders are created.
    prefix
        Field names are ``<prefix>_<item id>``: ``True`` uses the instrument id, a dict gives
        shorter prefixes (``{"workforce_confidence": "wcs"}``), ``False`` bare item ids.
    require_answers
        REDCap / XLSForm: make the instrument's required items compulsory on the form.
    form_id, title, version
        XLSForm settings (title also heads the HTML page). ``version`` defaults to a hash of
        the form's content.

    Returns
    -------
    The path written.

    Example:
        >>> import tempfile, pathlib, outcomes as oc
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "staff.xlsx"
        >>> oc.forms.export(["workforce_confidence", "swemwbs"], "xlsform", out).suffix
        '.xlsx'
    """
    target = str(to).strip().lower()
    pack = load_pack(instruments)
    if target == "redcap":
        return write_redcap_dictionary(pack, path, prefix=prefix, require_answers=require_answers)
    if target == "xlsform":
        return write_xlsform(
            pack,
            path,
            prefix=prefix,
            require_answers=require_answers,
            form_id=form_id,
            title=title,
            version=version,
        )
    if target == "html":
        return write_html(pack, path, prefix=prefix, title=title)
    if target == "codebook":
        return write_codebook(pack, path, prefix=prefix)
    raise FormsError(f"unknown export target {to!r}; use one of {', '.join(EXPORT_TARGETS)}")


@validate_params(
    {
        "path": ["path", "dataframe"],
        "instrument": INSTRUMENT,
        "platform": TEXT,
        "columns": COLUMN_MAP,
        "prefix": OPTIONAL_TEXT,
        "errors": ERRORS,
        "coding": OPTIONAL_TEXT,
        "person_id": [COLUMN, None],
        "keep": [Columns(empty=True)],
        "drop_empty": "boolean",
        "sheet": [str, COUNT],
        "return_report": "boolean",
        "sep": OPTIONAL_TEXT,
        "encoding": OPTIONAL_TEXT,
    }
)
def read_export(
    path: str | Path | pd.DataFrame,
    instrument: str | Path | Instrument,
    platform: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    errors: Literal["raise", "flag"] = "raise",
    coding: str | None = None,
    person_id: str | None = None,
    keep: Sequence[str] = (),
    drop_empty: bool = True,
    sheet: str | int = 0,
    sep: str | None = None,
    encoding: str | None = None,
    return_report: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, MappingReport]:
    """Read a platform's export of one instrument into a responses frame.

    Columns are matched to items by name (``q1``; prefixed ``honosca_q1``; inside a group,
    ``honosca/honosca_q1`` or ``honosca-honosca_q1``), then by question text or short label.
    Answers become the instrument's canonical codes (labels, aliases and SPSS value labels are
    translated; SPSS user-missing values become missing). Platform keys (record id, event,
    submission time, ...) and the DESIGN key columns (``person_id``, ``date``, ``wave``, ...)
    are carried over, an ``instrument`` column is added, and everything else is listed as
    unmatched.

    Parameters
    ----------
    path
        CSV/TSV, Excel (.xlsx) or SPSS (.sav) file, or a DataFrame already read.
    instrument
        The instrument the export holds (id, YAML path or Instrument).
    platform
        ``"auto"`` (from extension and headers), ``"redcap"``, ``"odk"`` (also ``"kobo"``),
        ``"qualtrics"``, ``"spss"``, ``"msforms"`` or ``"table"`` (any other CSV / Excel).
    columns
        ``{"source column": "item id"}`` for columns the matcher cannot know.
    prefix
        A field-name prefix used at export instead of the instrument id (e.g. ``"wcs"``).
    errors
        ``"raise"``: unknown labels and out-of-range codes raise
        :class:`~outcomes.InvalidResponsesError` listing each distinct value, its column and
        the accepted answers. ``"flag"``: such cells become missing and are listed in the
        report's ``issues``.
    coding
        An alternative code set declared in the YAML (e.g. ``"mhsds"``), applied to numeric
        answers; labels are unambiguous in any coding.
    person_id
        A source column to carry over renamed ``person_id`` (e.g. ``"record_id"``).
    keep
        More source columns to carry over unchanged.
    drop_empty
        Drop rows that answer no item of this instrument (e.g. other events or forms in a
        REDCap export); each dropped row is listed in the report with its reason.
    sheet
        Excel sheet name or index.
    sep, encoding
        CSV separator and text encoding. By default both are guessed: the separator among
        ``,`` ``;`` and tab (the one splitting the first lines evenly), the encoding among
        UTF-8 (with or without a byte-order mark), UTF-16 and Windows cp1252. When reading
        fails, the message names the file and the guess.
    return_report
        Return ``(frame, report)`` instead of the frame. The report is always also in
        ``frame.attrs["mapping"]``.

    Returns
    -------
    DataFrame indexed by the 0-based data-row position in the file, with item columns named by
    item id holding canonical codes (floats; free text as strings).

    Example:
        >>> import pandas as pd, outcomes as oc
        >>> raw = pd.DataFrame({"record_id": ["1"], "swemwbs_complete": ["2"],
        ...                     **{f"swemwbs_q{i}": ["Often"] for i in range(1, 8)}})
        >>> df = oc.forms.read_export(raw, "swemwbs")
        >>> df.attrs["mapping"].platform, df["q1"].tolist(), oc.score(df, "swemwbs")["raw"].tolist()
        ('redcap', [4.0], [28.0])
    """
    inst = load_instrument(instrument)
    plat = canonical_platform(platform)
    if plat == "auto":
        plat = detect_platform(path, sheet=sheet, sep=sep, encoding=encoding)
    prefixes = [p for p in (prefix, inst.id) if p]
    opts = FileOptions(sheet=sheet, sep=sep, encoding=encoding)
    raw = READERS[plat](path, opts=opts, forms=set(prefixes))
    frame, report = assemble(
        raw,
        inst,
        columns=columns,
        prefixes=prefixes,
        errors=errors,
        coding=coding,
        person_id=person_id,
        keep=keep,
        drop_empty=drop_empty,
    )
    return (frame, report) if return_report else frame
