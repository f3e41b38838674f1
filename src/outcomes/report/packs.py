"""Per-school packs: one disclosure-controlled HTML page per programme school, and an index.

Each page shows the school's survey results by year group at every wave against the comparator
range (:func:`outcomes.survey.benchmark`'s funnel rule, comparator = all programme schools in
that year group and wave), its staff survey, and its referrals and waits. Every number comes
from a :class:`~outcomes.report.release.Release`:

- the survey and staff tables are released **across all schools at once** (one table per
  wave: schools as rows with an all-schools Total row, year groups as columns with a school
  Total column), so secondary suppression protects both margins: a school's hidden cell cannot
  be recovered from the comparator totals, nor from the school's own total;
- where the main report hides a school's survey total in a wave but the pack table would show
  it, that wave's pack table is withheld for every school (with a note), so the two
  publications cannot be differenced against each other;
- referrals and waits are the school's rows of the main report's released tables (no new
  numbers); comparator ranges and flags are derived from released numbers only.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from .. import likert, survey
from ..comparator import funnel_limits, rule_text
from .release import Release, ReleasedTable, is_hidden
from .render import Section
from .sections.common import guard
from .sections.school import INDICATOR, PROGRAMME

PACKS_DIR = "schools"
INDEX_NAME = "index.html"


def _yg(v: object) -> str:
    return f"Y{int(v)}" if isinstance(v, int | float | np.integer | np.floating) else str(v)


def release_packs(ev, rel: Release) -> list[str]:
    """Release every pack table into ``rel``; returns the programme schools, in order."""
    main = ev.release  # the main report's numbers, for consistency and for referrals/waits
    schools = _programme_schools(ev)
    sv = ev.survey_scores
    if sv is not None and "year_group" in sv.columns:
        with guard(rel, "packs: survey"):
            _release_survey(ev, rel, main, sv[sv["cohort"] == PROGRAMME])
    staff = ev.staff
    if staff is not None:
        with guard(rel, "packs: staff"):
            _release_staff(ev, rel, staff[staff["cohort"] == PROGRAMME])
    rel.facts["packs: schools"] = schools
    return schools


def _programme_schools(ev) -> list[str]:
    ids: set[str] = set()
    for name in ("schools", "school_survey", "staff_survey", "referrals"):
        t = ev.inputs.tables.get(name)
        if t is None or "school_id" not in t.columns:
            continue
        keep = ev.cohorts(t) == PROGRAMME
        ids |= set(t.loc[keep, "school_id"].dropna().astype(str))
    return sorted(ids)


def _release_survey(ev, rel: Release, main: Release, sv: pd.DataFrame) -> None:
    cfg = ev.cfg.school_survey
    waves = ev.waves("school_survey", sv)
    sv = sv.assign(_case=survey.case_indicator(sv, INDICATOR, bands=cfg.sdq_bands).to_numpy())
    sv = sv[sv["_case"].notna() & sv["year_group"].notna()]
    years = sorted(pd.unique(sv["year_group"]))
    main_by_school = main.get("survey_prevalence_by_school")
    released_waves = []
    for w in waves:
        part = sv[sv["wave"].astype(str) == w]
        if part.empty:
            continue
        n = part.pivot_table(index="school_id", columns="year_group", values="_case",
                             aggfunc="size", fill_value=0).reindex(columns=years, fill_value=0)  # fmt: skip
        k = part.pivot_table(index="school_id", columns="year_group", values="_case",
                             aggfunc="sum", fill_value=0).reindex(columns=years, fill_value=0)  # fmt: skip
        t = pd.DataFrame({"school_id": n.index.astype(str)})
        for y in years:
            t[f"n_{_yg(y)}"] = n[y].to_numpy(dtype=np.int64)
            t[f"cases_{_yg(y)}"] = k[y].to_numpy().round().astype(np.int64)
        t["n_total"] = t[[f"n_{_yg(y)}" for y in years]].sum(axis=1)
        t["cases_total"] = t[[f"cases_{_yg(y)}" for y in years]].sum(axis=1)
        tot = {"school_id": "Total", **{c: t[c].sum() for c in t.columns if c != "school_id"}}
        t = pd.concat([t, pd.DataFrame([tot])], ignore_index=True)
        ys = [_yg(y) for y in years]
        pub = rel.counts(
            t, f"packs_survey_{w}",
            counts=[*[f"n_{y}" for y in ys], *[f"cases_{y}" for y in ys], "n_total",
                    "cases_total"],
            column_totals={"n_total": [f"n_{y}" for y in ys],
                           "cases_total": [f"cases_{y}" for y in ys]},
            within={**{f"cases_{y}": f"n_{y}" for y in ys}, "cases_total": "n_total"},
            totals=True, store=False,
        ).frame  # fmt: skip
        if main_by_school is not None and _conflicts(pub, main_by_school.frame, w):
            rel.fail(
                "packs: survey",
                f"wave {w}: not published in the school packs, because the main report hides "
                "a school total that the pack table would show",
            )
            continue
        rel.derived(pub, f"packs_survey_{w}")
        released_waves.append(w)
    rel.facts["packs: survey waves"] = released_waves
    rel.facts["packs: years"] = [_yg(y) for y in years]


def _conflicts(pub: pd.DataFrame, main: pd.DataFrame, wave: str) -> bool:
    m = main[(main["wave"].astype(str) == wave) & (main["cohort"] == PROGRAMME)]
    m = m.set_index(m["school_id"].astype(str))
    for _, r in pub[pub["school_id"] != "Total"].iterrows():
        sid = str(r["school_id"])
        if sid not in m.index:
            continue
        for col, pcol in (("n", "n_total"), ("cases", "cases_total")):
            if is_hidden(m.loc[sid, col]) and not is_hidden(r[pcol]):
                return True
    return False


def _release_staff(ev, rel: Release, staff: pd.DataFrame) -> None:
    cfg = ev.cfg.staff_survey
    waves = ev.waves("staff_survey", staff)
    staff = staff[staff["wave"].astype(str).isin(waves)].copy()
    staff["wave"] = staff["wave"].astype(str)
    staff["school_id"] = staff["school_id"].astype(str)
    by_school = likert.item_summary(staff, instrument=cfg.instrument, by=["wave", "school_id"])
    overall = likert.item_summary(staff, instrument=cfg.instrument, by=["wave"])
    overall = overall.assign(school_id="Total")
    cols = ["wave", "item", "school_id", "n", "agree", "prop_agree"]
    t = pd.concat([by_school[cols], overall[cols]], ignore_index=True)
    t = t.assign(_w=t["wave"].map(waves.index), _t=t["school_id"] == "Total")
    t = t.sort_values(["_w", "item", "_t", "school_id"], kind="stable").drop(columns=["_w", "_t"])
    rel.counts(
        t, "packs_staff", counts=["n", "agree"], percentages={"prop_agree": ("agree", "n")},
        within={"agree": "n"}, groups=["wave", "item"],
    )  # fmt: skip


def _vs_range(pub: pd.DataFrame, years: list[str], sid: str, confidence: float = 0.95):
    """The school's row against the comparator (all schools' released Total row)."""
    tot = pub[pub["school_id"] == "Total"].iloc[0]
    row = pub[pub["school_id"] == sid]
    if row.empty:
        return None
    row = row.iloc[0]
    out = []
    for y in [*years, "total"]:
        n, k = row[f"n_{y}"], row[f"cases_{y}"]
        n0, k0 = tot[f"n_{y}"], tot[f"cases_{y}"]
        label = "all year groups" if y == "total" else y
        if is_hidden(n0) or is_hidden(k0) or float(n0) == 0:
            p0 = lo = hi = np.nan
        else:
            p0 = float(k0) / float(n0)
        shown = not (is_hidden(n) or is_hidden(k)) and float(n) > 0
        prev = float(k) / float(n) if shown else np.nan
        flag = "*" if not shown else ""
        if shown and np.isfinite(p0):
            lo, hi = (float(v) for v in funnel_limits(p0, float(n), confidence))
            flag = "elevated" if prev > hi else ("lower" if prev < lo else "expected")
        elif np.isfinite(p0):
            lo = hi = np.nan
        out.append({
            "year_group": label, "n": n, "cases": k,
            "prevalence": round(prev, 3) if shown else "*",
            "comparator": round(p0, 3) if np.isfinite(p0) else "*",
            "range_low": round(lo, 3) if np.isfinite(lo) else "",
            "range_high": round(hi, 3) if np.isfinite(hi) else "",
            "flag": flag,
        })  # fmt: skip
    return pd.DataFrame(out)


def render_school(rel: Release, sid: str, main: Release) -> Section:
    """One school's page, from released tables only."""
    s = Section(f"School {sid}", anchor=f"school-{sid}")
    years = rel.facts.get("packs: years", [])
    s.text(
        "Probable difficulties (SDQ total in the configured bands) by year group at every "
        "wave, against the comparator range. "
        + rule_text(0.95, "comparator p0 = the prevalence in all programme schools in that "
                    "year group and wave")
        + ". '*' marks a number withheld under the small-numbers rule."
    )  # fmt: skip
    for why in rel.failures.get("packs: survey", []):
        s.note(why, kind="warning")
    for w in rel.facts.get("packs: survey waves", []):
        pub = rel.get(f"packs_survey_{w}")
        t = _vs_range(pub.frame, years, sid)
        if t is None:
            continue
        name = f"packs_{sid}_survey_{w}"
        s.table(rel.derived(t, name), f"Wave {w}: prevalence by year group against the range")
    staff = rel.get("packs_staff")
    if staff is not None:
        f = staff.frame[staff.frame["school_id"].astype(str) == sid]
        if len(f):
            s.table(ReleasedTable(staff.name, f.reset_index(drop=True)),
                    "Staff survey: respondents agreeing, by item and wave")  # fmt: skip
    for name, caption in (("reach_by_school", "Referrals (from the main report)"),
                          ("waits_by_school", "Waits (from the main report)")):  # fmt: skip
        rt = main.get(name)
        if rt is not None:
            f = rt.frame[rt.frame["school_id"].astype(str) == sid]
            if len(f):
                s.table(ReleasedTable(rt.name, f.reset_index(drop=True)), caption)
    return s


def _page(title: str, body: str) -> str:
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
        ".num{text-align:right}.oc-warning{color:#a00}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{body}</body></html>"
    )


def write_packs(ev, output_dir: str | Path) -> Path:
    """Release and write every school's page and the index; returns the index path."""
    out = Path(output_dir)
    d = ev.cfg.disclosure
    rel = Release(enabled=d.enabled, threshold=d.threshold, base=d.base,
                  decimals=getattr(d, "decimals", 1), tables_dir=out / "tables", rule=d.rule)  # fmt: skip
    schools = release_packs(ev, rel)
    out.mkdir(parents=True, exist_ok=True)
    links = []
    for sid in schools:
        page = render_school(rel, sid, ev.release)
        (out / f"{sid}.html").write_text(
            _page(f"{ev.cfg.programme}: {sid}", page.to_html()), encoding="utf-8"
        )
        links.append(f'<li><a href="{html.escape(sid)}.html">{html.escape(sid)}</a></li>')
    notes = "".join(
        f"<p class='oc-warning'>{html.escape(w)}</p>" for ws in rel.failures.values() for w in ws
    )
    index = (
        f"<h1>{html.escape(ev.cfg.programme)}: school packs</h1>"
        "<p>One page per programme school: its survey results by year group at every wave "
        "against the comparator range, its staff survey, referrals and waits. Small numbers "
        "are withheld as in the main report.</p>"
        f"{notes}<ul>{''.join(links)}</ul>"
    )
    path = out / INDEX_NAME
    path.write_text(_page(f"{ev.cfg.programme}: school packs", index), encoding="utf-8")
    ev.pack_release = rel
    return path
