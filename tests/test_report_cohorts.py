"""Evaluation.cohorts reads each school's cohort once: the same labels as the map per call."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.report.sections.evaluation import COMPARISON, PROGRAMME, Evaluation


def _old(schools, col, data):
    # Evaluation.cohorts before it kept each school's cohort (a copy)
    if schools is None or col not in schools.columns or "school_id" not in data.columns:
        return pd.Series(PROGRAMME, index=data.index)
    flag = schools.drop_duplicates("school_id").set_index("school_id")[col]
    flag = flag.map(lambda v: str(v).strip().casefold() in ("true", "1", "yes", "1.0"))
    mapped = data["school_id"].map(flag)
    return mapped.map({True: PROGRAMME, False: COMPARISON}).fillna("school not listed")


def _evaluation(schools, col):
    ev = Evaluation.__new__(Evaluation)
    tables = {} if schools is None else {"schools": schools}
    ev.inputs = SimpleNamespace(tables=tables)
    ev.cfg = SimpleNamespace(school_survey=SimpleNamespace(programme_column=col))
    return ev


IDS = st.sampled_from(["s1", "s2", "s3", "s4", None])


@settings(max_examples=100, deadline=None)
@given(
    listed=st.lists(
        st.tuples(IDS, st.sampled_from(["true", "False", "1", "0", " yes ", None, "1.0"])),
        max_size=6,
    ),
    rows=st.lists(IDS, max_size=15),
    has_column=st.booleans(),
    has_schools=st.booleans(),
    data_has_ids=st.booleans(),
)
def test_cohorts_equal_the_old_map(listed, rows, has_column, has_schools, data_has_ids):
    schools = pd.DataFrame(
        {"school_id": [s for s, _ in listed], "programme": [f for _, f in listed]}
    )
    if not has_column:
        schools = schools.drop(columns="programme")
    schools = schools if has_schools else None
    data = pd.DataFrame({"school_id": rows, "x": np.arange(len(rows))})
    if not data_has_ids:
        data = data.drop(columns="school_id")
    ev = _evaluation(schools, "programme")
    for _ in range(2):  # the second call reads the cohorts kept by the first
        new = ev.cohorts(data)
        old = _old(schools, "programme", data)
        assert new.index.equals(old.index)
        assert new.to_numpy(dtype=object).tolist() == old.to_numpy(dtype=object).tolist()


def _cfg():
    return SimpleNamespace(
        tables=SimpleNamespace(staff_survey="staff.csv", school_survey=None,
                               primary_survey="primary.csv"),
        school_survey=SimpleNamespace(programme_column="in_programme",
                                      primary_instrument="scwbs", primary_scale="total"),
    )  # fmt: skip


def _said(section) -> str:
    return " ".join(getattr(b, "text", "") for b in section.blocks)


def test_sections_warn_when_no_school_has_a_programme_status():
    # Without the schools table's programme column every school's staff and pupils counted
    # as the programme's, and the workforce section said "no comparison schools took part"
    from outcomes.report.release import Release
    from outcomes.report.sections import school, workforce

    for unknown in (True, False):
        rel = Release()
        rel.facts["cohorts: unknown"] = unknown
        staff, pupils = _said(workforce.render(rel, _cfg())), _said(school.render(rel, _cfg()))
        assert ("`in_programme` column), so the staff of every school" in staff) is unknown
        assert ("`in_programme` column), so the pupils of every school" in pupils) is unknown
        assert ("no comparison schools took part" in staff) is not unknown


def test_by_school_says_reach_per_pupil_is_left_out_without_the_schools_table():
    # it said "Reach is children seen per 100 pupils on roll (the schools table's figure)"
    # above no such table, and nothing said why
    from outcomes.report.release import Release
    from outcomes.report.sections import sites

    for schools in (None, "schools.csv"):
        cfg = SimpleNamespace(
            site_kind="school", tables=SimpleNamespace(referrals="r.csv", schools=schools)
        )
        said = _said(sites.render(Release(), cfg))
        assert ("Left out: reach per 100 pupils on roll" in said) is (schools is None)
        assert ("(the schools table's figure)" in said) is (schools is not None)
