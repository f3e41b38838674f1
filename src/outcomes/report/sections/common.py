"""What every section module shares: capturing warnings and failures into the release, and
the note a section shows when part of it could not be computed."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import pandas as pd

from ..release import Release
from ..render import Section

#: the release's facts: the report has no first (second) contact dates. False, or (column,
#: how): the referrals column whose lack leaves them out, and "missing" (the table has no such
#: column) or "empty" (present, with no date in it: :func:`outcomes.service.empty_date_columns`)
NO_FIRST_CONTACT = "referrals: no first contact"
NO_SECOND_CONTACT = "referrals: no second contact"


def lacking(fact: tuple[str, str]) -> str:
    """Why a part is left out, as a clause: the referrals table has no such column, or has it
    empty (a ``NO_*_CONTACT`` fact).

    Example:
        >>> lacking(("second_contact_date", "missing"))
        'the referrals table has no `second_contact_date` column'
        >>> lacking(("second_contact_date", "empty"))
        "the referrals table's `second_contact_date` column is empty (no referral has a date in it)"
    """
    column, how = fact
    if how == "missing":
        return f"the referrals table has no `{column}` column"
    return f"the referrals table's `{column}` column is empty (no referral has a date in it)"


def needs(fact: tuple[str, str], code: bool = True) -> str:
    """What a part needs and why it lacks it, after "needs ": "the referrals table's `c`
    column, and it has none" (or "..., and no referral has a date in it").

    Example:
        >>> needs(("second_contact_date", "empty"), code=False)
        "the referrals table's second_contact_date column, and no referral has a date in it"
    """
    column, how = fact
    name = f"`{column}`" if code else column
    why = "it has none" if how == "missing" else "no referral has a date in it"
    return f"the referrals table's {name} column, and {why}"


#: the level of a breakdown holding the rows with no value: a group of its own, so that every
#: breakdown is a partition and secondary suppression sees every sum a reader could form
NOT_RECORDED = "not recorded"


@contextlib.contextmanager
def guard(rel: Release, part: str) -> Iterator[None]:
    """Run one analysis: warnings become data-quality notes, and an error becomes a note
    saying why ``part`` could not be computed (never a crash, never a silent gap)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except Exception as e:
            rel.fail(part, rel.note_text(f"{type(e).__name__}: {e}".splitlines()[0]))
    rel.quality.capture(part, caught)


def collect(rel: Release, result: object, source: str) -> object:
    """Add a result's own data-quality record (``.quality`` or ``.attrs['quality']``)."""
    q = getattr(result, "quality", None)
    if q is None and isinstance(result, pd.DataFrame):
        q = result.attrs.get("quality")
    if q is not None:
        before = len(rel.quality)
        rel.quality.extend(q)
        for note in rel.quality.notes[before:]:
            # where in the report: the result knows its function, not which cohort or wave
            where = note.get("where") or ""
            note["where"] = f"{source}: {where}" if where else source
    return result


def failure_notes(s: Section, rel: Release, *parts: str) -> Section:
    """One note per part of this section that could not be computed, saying why."""
    for part in parts:
        for why in rel.failures.get(part, []):
            s.note(f"Could not be computed ({part}): {why}", kind="warning")
    return s


def unknown_cohorts(s: Section, rel: Release, cfg, who: str) -> Section:
    """Warn when no school's programme status is given: every school then counts as a
    programme school (``Evaluation.cohorts``), so comparison schools' respondents would be
    pooled with the programme's unseen."""
    if rel.facts.get("cohorts: unknown"):
        s.note(
            "No school's programme status is given (the schools table's "
            f"`{cfg.school_survey.programme_column}` column), so the {who} of every school "
            "are counted as the programme's: comparison schools, if any took part, are not "
            "told apart.",
            kind="warning",
        )
    return s


def missing(title: str, anchor: str, what: str) -> Section:
    return Section(title, anchor=anchor).note(f"Left out: {what} not in the evaluation config.")


def pick(df: pd.DataFrame, *names: str) -> list[str]:
    """The named columns that exist, in the order given."""
    return [c for c in names if c in df.columns]


def show_tables(s: Section, rel: Release, *tables: tuple[str, str]) -> Section:
    """Show each ``(name, caption)`` released table that the release holds (a part that could
    not be computed released none, and its note says why)."""
    for name, caption in tables:
        if rel.get(name) is not None:
            s.table(rel.get(name), caption)
    return s


def change_by_group(
    pairs: pd.DataFrame, rc: pd.DataFrame, people: pd.DataFrame, columns: list[str]
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Change and reliable improvement on the headline measure (``pairs``, ``rc``) per level of
    each column of ``people`` (indexed by person_id), each column's rows closed by its Total;
    and each column's level per pair."""
    # the two columns a row reads: grouping the pairs would take every one of their
    # columns (text among them) for every group
    frame = pd.concat([pairs[["change"]], rc[["reliable_improvement"]]], axis=1)
    rows, labels = [], {}
    for g in columns:
        lab = pairs["person_id"].map(people[g]).astype("string").fillna(NOT_RECORDED)
        labels[g] = lab
        for level, sub in frame.groupby(lab, sort=True):
            rows.append(_change_row(g, str(level), sub))
        rows.append(_change_row(g, "Total", frame))
    return pd.DataFrame(rows), labels


def _change_row(group: str, level: str, sub: pd.DataFrame) -> dict:
    # the changes in one order whatever order the pairs came in (the pseudonyms', drawn afresh
    # per build): a float sum depends on its order, and a mean on a rounding boundary would be
    # published either way, as paired change's once was (it sorts its pairs the same way)
    return {
        "group": group, "level": level, "n": len(sub),
        "mean_change": float(sub["change"].sort_values().mean()) if len(sub) else float("nan"),
        "reliable_improvement": int(sub["reliable_improvement"].sum()),
    }  # fmt: skip
