"""What the evaluation store holds: the kinds of table, their keys and their identifiers.

One place for the rules the store applies on import: which columns a table must have, which
columns identify a person (pseudonymised on the way in), and which columns identify a record,
so that the same record arriving through two files is recognised as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._internal.text import unknown
from ..errors import OutcomesError

DEDUP_RULES = ("keep_first", "replace", "error")


@dataclass(frozen=True)
class TableKind:
    name: str
    required: tuple[str, ...]
    #: columns that identify a record: a second record with the same key is a duplicate
    key: tuple[str, ...]
    #: columns holding identifiers of people or records, pseudonymised on the way in
    ids: tuple[str, ...]
    #: whether every record must belong to a survey wave
    needs_wave: bool = False
    #: the column whose year places a record in a year (status by year)
    date: str | None = None


KINDS = {
    k.name: k
    for k in (
        TableKind("school_survey", ("pupil_id", "school_id"), ("pupil_id", "wave"),
                  ("pupil_id",), needs_wave=True, date="date"),
        TableKind("primary_survey", ("pupil_id", "school_id"), ("pupil_id", "wave"),
                  ("pupil_id",), needs_wave=True, date="date"),
        TableKind("staff_survey", ("school_id",), ("respondent_id", "wave"),
                  ("respondent_id",), needs_wave=True, date="date"),
        TableKind("referrals", ("referral_id", "person_id", "referral_date"), ("referral_id",),
                  ("referral_id", "person_id"), date="referral_date"),
        TableKind("schools", ("school_id",), ("school_id",), ()),
        TableKind("responses", ("person_id", "date"), ("person_id", "rater", "date",
                  "referral_id"), ("person_id", "referral_id"), date="date"),
    )
}  # fmt: skip


def kind(name: str) -> TableKind:
    """The rules of a table kind; an unknown name is an error with a suggestion."""
    if name not in KINDS:
        raise OutcomesError(unknown("table", name, KINDS))
    return KINDS[name]


def stored_name(table: str, instrument: str | None) -> str:
    """Responses are held one table per instrument (their item columns differ)."""
    return f"responses__{instrument}" if table == "responses" else table
