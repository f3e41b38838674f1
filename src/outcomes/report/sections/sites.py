"""By school and team: reach per 100 pupils on roll, referrals and waits per team. Counts
come from the released tables (children seen by school) or go through the count rule here
(waits and referrals by team); pupils on roll are the schools table's public figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import service
from ..labels import scale_phrase
from ..release import MARKER, Release, is_hidden
from ..render import Section
from .access import release_waits
from .common import NOT_RECORDED, change_by_group, failure_notes, guard, pick, show_tables
from .reach import release_referral_counts

TITLE, ANCHOR = "By school and team", "by-school-and-team"
PARTS = ("sites: reach per pupil", "sites: teams", "sites: outcomes")
#: the schools-table column holding pupils on roll, first found wins
ROLL_COLUMNS = ("pupils_on_roll", "roll", "n_pupils")


def roll_column(schools: pd.DataFrame) -> str:
    """The schools table's pupils-on-roll column.

    Example:
        >>> roll_column(pd.DataFrame(columns=["school_id", "n_pupils"]))
        'n_pupils'
    """
    for c in ROLL_COLUMNS:
        if c in schools.columns:
            return c
    raise ValueError(
        f"the schools table has no pupils-on-roll column (one of {list(ROLL_COLUMNS)}); "
        f"it has {list(schools.columns)}"
    )


def per_100(seen: object, roll: object) -> object:
    """Children seen per 100 pupils on roll, to 1 decimal; the marker when seen is hidden.

    Example:
        >>> per_100(25, 250), per_100("*", 250)
        (10.0, '*')
    """
    if is_hidden(seen):
        return MARKER
    if is_hidden(roll) or float(roll) <= 0:
        return np.nan
    return round(100 * float(seen) / float(roll), 1) + 0.0


def _key(v: object) -> str:
    return "\0missing" if pd.isna(v) else str(v)


def nesting(fine: pd.Series, coarse: pd.Series) -> dict[str, list[str]]:
    """The coarse groups that are exactly a union of fine groups (a team and the schools only
    it serves), as labels (a missing label is a group of its own, as in the tables).

    Example:
        >>> team = pd.Series(["A", "A", "B", "B", "C"])
        >>> nesting(pd.Series(["s1", "s2", "s3", "s4", "s4"]), team)
        {'A': ['s1', 's2']}
    """
    f, c = fine.map(_key).to_numpy(), coarse.map(_key).to_numpy()
    pairs = pd.DataFrame({"f": f, "c": c}).drop_duplicates()
    n_coarse = pairs.groupby("f")["c"].nunique()
    out = {}
    for team, g in pairs.groupby("c", sort=True):
        if (n_coarse[g["f"]] == 1).all():
            out[team] = sorted(g["f"])
    return out


def team_links(
    nested: dict[str, list[str]], teams: pd.Series, sites: pd.Series, other: object = None
) -> list:
    """Links (:meth:`Release.counts_linked`) from a table by team (label column ``teams``)
    to one by school (``sites``, in the released table ``other``; None: the same table):
    each team row with the rows of the schools it alone serves, and Total with Total."""
    tk, sk = teams.map(_key).to_numpy(), sites.map(_key).to_numpy()
    links = []
    for team, schools in [*nested.items(), ("Total", ["Total"])]:
        rows = np.flatnonzero(tk == team)
        parts = np.flatnonzero(np.isin(sk, schools))
        # a school without a row has none to add (no accepted referral, say)
        if len(rows) == 1 and len(parts):
            links.append(([int(rows[0])], other, [int(j) for j in parts]))
    return links


def release(ev, rel: Release) -> None:
    ref = ev.referrals
    if ref is None:
        return
    schools = ev.inputs.tables.get("schools")
    if schools is not None:
        with guard(rel, PARTS[0]):
            seen = rel.get("children_seen_by_school")
            if seen is None:
                raise ValueError("children seen by school were not released")
            col = roll_column(schools)
            roll = schools.drop_duplicates("school_id").set_index("school_id")[col]
            f = seen.frame
            f = f[f["school_id"].astype(str) != "Total"]
            rolls = f["school_id"].map(roll)
            rel.derived(
                pd.DataFrame({
                    "school_id": f["school_id"], "pupils_on_roll": rolls,
                    "children_seen": f["children_seen_1plus"],
                    "seen_per_100_pupils": [
                        per_100(s, r) for s, r in zip(f["children_seen_1plus"], rolls, strict=True)
                    ],
                }),
                "reach_per_pupil",
            )  # fmt: skip
    if "team" in ref.columns:
        with guard(rel, PARTS[1]):
            kw = {"as_of": ev.as_of, "errors": "flag"}
            t = ref.assign(team=ref["team"].fillna(NOT_RECORDED))
            # a team serving its own schools is the sum of theirs: published beside the
            # tables by school, its row is one more equation (a school = team - the others)
            site, word = ev.cfg.site_column, ev.cfg.site_word
            nested = nesting(ref[site], t["team"])
            counts = service.referral_counts(t, by="team", inappropriate=ev.inappropriate, **kw)
            by_site = rel.get(f"reach_by_{word}")
            links = [] if by_site is None else team_links(
                nested, counts["team"], by_site.frame[site], by_site
            )  # fmt: skip
            release_referral_counts(rel, counts, "reach_by_team", ["team"], links)
            if "first" in ev.contact_stages:  # else left out, saying why (NO_FIRST_CONTACT)
                w = service.waiting_times(
                    t, by="team", stage="first", standard_days=ev.cfg.service.standard_days,
                    **kw,
                ).to_frame()  # fmt: skip
                by_site = rel.get(f"waits_by_{word}")
                links = [] if by_site is None else team_links(
                    nested, w["team"], by_site.frame[site], by_site
                )  # fmt: skip
                release_waits(rel, w, "waits_by_team", ["team", "stage"], links)
    with guard(rel, PARTS[2]):
        release_outcomes(ev, rel)


def release_outcomes(ev, rel: Release) -> None:
    """Change and reliable improvement on the headline measure by school and by team, each
    with its Total (a partition, as in the equity section). A child is placed in the school
    and team of their first referral."""
    h = ev.headline_change
    ref = ev.referrals
    if h is None or ref is None:
        return
    inst_id, scale, pairs, rc = h
    rel.facts["sites: headline"] = (inst_id, scale)
    first = ref.sort_values("referral_date").drop_duplicates("person_id").set_index("person_id")
    t, labels = change_by_group(pairs, rc, first, pick(first, "school_id", "team"))
    if len(t):
        links = []
        if len(labels) == 2:  # a team's row is the sum of its schools' rows in this table
            sites = t["level"].where(t["group"] == "school_id")
            teams = t["level"].where(t["group"] == "team")
            links = team_links(nesting(labels["school_id"], labels["team"]), teams, sites)
        rel.counts_linked(
            t, "outcomes_by_site", counts=["n", "reliable_improvement"], links=links,
            means={"mean_change": ("n", ev.decimals_for(inst_id, scale))}, groups="group",
            within={"reliable_improvement": "n"}, weighted={"mean_change": "n"},
        )  # fmt: skip


def render(rel: Release, cfg) -> Section:
    # a programme delivered through other sites says "site" (config site_kind)
    unit = "school" if getattr(cfg, "site_kind", "school") == "school" else "site"
    title = TITLE if unit == "school" else "By site and team"
    s = Section(title, anchor=ANCHOR)
    if cfg.tables.referrals is None:
        return s.note("Left out: the referrals table is not in the evaluation config.")
    failure_notes(s, rel, *PARTS)
    if unit == "school" and cfg.tables.schools is None:
        s.note(
            "Left out: reach per 100 pupils on roll, which needs the schools table; it is not "
            "in the evaluation config."
        )
    else:
        s.text(
            "Reach is children seen at least once per 100 pupils on roll (the schools table's "
            "figure). Schools at different stages can be compared here; the funnel plot in the "
            "monitoring charts says which differences are more than chance."
        )
    show_tables(
        s, rel,
        ("reach_per_pupil", "Children seen per 100 pupils on roll, by school"),
        ("reach_by_team", "Referrals by team"),
        ("waits_by_team", "Wait to first contact by team (days; Kaplan-Meier)"),
    )  # fmt: skip
    o = rel.get("outcomes_by_site")
    if o is not None:
        inst_id, scale = rel.facts["sites: headline"]
        s.table(
            o,
            f"Change in {scale_phrase(inst_id, scale)} and reliable improvement by {unit} and by "
            "team "
            "(each child in the school and team of their first referral)",
        )
    return s
