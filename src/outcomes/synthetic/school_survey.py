"""The school population survey (SDQ self-report with impact supplement, then SWEMWBS), its
repeats, who answers each wave, and the survey part of the ground truth.

Each wave surveys the pupils then on roll in the chosen secondary year groups. Pupils answer
at a school-specific rate. A pupil who answered an earlier wave answers again according to the
follow-up mechanism: completely at random (``mcar``), at random given their observed first SDQ
total difficulties score and school (``mar``: more difficulties, less likely to answer again)
or not at random (``mnar``: depending on their unobserved current general difficulty). The
overall rate is held at ``survey_response_rate`` by calibrating the logistic intercept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .._internal.params import ArrayLike, validate_params
from ._scoring import score_items
from .itembank import scwbs_block, sdq_self_block, sdq_self_impact_block, swemwbs_block
from .latent import (
    blank_cells,
    break_off,
    calibrate_intercept,
    correlated_normal,
    int_columns,
    standardise,
)
from .population import (
    PUPIL_CORR,
    SEN_LEVELS,
    WORSE,
    Pupils,
    Schools,
    demographic_shift,
    demographics,
    lgbt_flags,
    make_schools,
    wave_shift,
    with_general,
)
from .settings import SURVEY_WAVES, SimulationSettings

SDQ_BLOCK = sdq_self_block()
IMPACT_BLOCK = sdq_self_impact_block()
SWEMWBS_BLOCK = swemwbs_block()
SDQ_ITEMS = SDQ_BLOCK.ids
IMPACT_ITEMS = IMPACT_BLOCK.ids
#: survey column -> SWEMWBS item id; pass as ``columns=`` to ``oc.score(survey, "swemwbs")``
SWEMWBS_COLUMNS = {f"swemwbs_{i}": i for i in SWEMWBS_BLOCK.ids}
ITEM_COLUMNS = (*SDQ_ITEMS, *IMPACT_ITEMS, *SWEMWBS_COLUMNS)
BREAK_OFF_RATE = 0.02
SURVEY_SCALES = {
    "sdq_self": (
        "total_difficulties",
        "emotional",
        "conduct",
        "hyperactivity",
        "peer",
        "prosocial",
    ),
    "swemwbs": ("metric",),
}
HIGH_BANDS = ("high", "very high")


def survey_items(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Complete answers (no item missing) to every survey column, shape (pupils, columns).

    Impact items are blank (structurally) when the overall-difficulties answer is "No",
    as the paper form routes those pupils past them.
    """
    sdq = SDQ_BLOCK.sample(theta, rng).astype(float)
    impact = IMPACT_BLOCK.sample(theta, rng).astype(float)
    impact[impact[:, 0] == 0, 1:] = np.nan
    wb = SWEMWBS_BLOCK.sample(theta, rng).astype(float)
    return np.hstack([sdq, impact, wb])


def _score_frames(items: np.ndarray, extra: dict | None = None) -> dict[str, pd.DataFrame]:
    cols = {c: items[:, k] for k, c in enumerate(ITEM_COLUMNS)}
    frame = pd.DataFrame({**(extra or {}), **cols})
    sdq = score_items(frame[list(SDQ_ITEMS + IMPACT_ITEMS)], "sdq_self")
    wb = score_items(frame[list(SWEMWBS_COLUMNS)], "swemwbs", columns=SWEMWBS_COLUMNS)
    return {"sdq_self": sdq, "swemwbs": wb}


def _summaries(scored: dict[str, pd.DataFrame], mask: np.ndarray) -> list[dict]:
    rows = []
    for inst, scales in SURVEY_SCALES.items():
        sc = scored[inst]
        for scale in scales:
            v = sc[scale].to_numpy(dtype=float)[mask]
            row = {"instrument": inst, "scale": scale, "n": int(np.isfinite(v).sum())}
            row["mean"] = float(np.nanmean(v)) if row["n"] else np.nan
            row["sd"] = float(np.nanstd(v, ddof=1)) if row["n"] > 1 else np.nan
            band = f"{scale}_band"
            if band in sc.columns and inst == "sdq_self":
                b = sc[band].astype(object).to_numpy()[mask]
                ok = pd.notna(b)
                row["prop_high"] = float(np.isin(b[ok], HIGH_BANDS).mean()) if ok.any() else np.nan
            else:
                row["prop_high"] = np.nan
            rows.append(row)
    return rows


def simulate_survey(
    s: SimulationSettings, schools: Schools, pupils: Pupils, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Returns (survey table, realised truth rows, follow-up mechanism details)."""
    a0 = np.datetime64(s.start_date, "D")
    first_total = np.full(pupils.n, np.nan)
    answered_before = np.zeros(pupils.n, dtype=bool)
    frames: list[pd.DataFrame] = []
    realised: list[dict] = []
    base_rate = s.survey_response_rate
    logit_r = special.logit(np.clip(base_rate, 1e-9, 1 - 1e-9))
    intercepts: dict[str, float] = {}
    for wave in s.survey_waves:
        months = SURVEY_WAVES[wave]
        y = months // 12
        yg = pupils.year_group(y)
        eligible = pupils.on_roll(y) & pupils.secondary & np.isin(yg, s.survey_year_groups)
        idx = np.flatnonzero(eligible)
        sch = pupils.school[idx]
        theta = pupils.theta[idx, y, :]
        items = survey_items(theta, rng)
        # --- realised truth: everyone eligible, complete answers ---------------------------
        if len(idx):
            scored = _score_frames(items)
            for grp, flag in (("programme", True), ("comparison", False)):
                m = schools.in_programme[sch] == flag
                if m.any():
                    for row in _summaries(scored, m):
                        realised.append({"group": grp, "wave": wave, **row})
        # --- who answers ------------------------------------------------------------------
        if s.dropout == "mcar":
            p = np.full(len(idx), base_rate)
        else:
            p = special.expit(logit_r + schools.response_offset[sch])
        followed = answered_before[idx]
        if followed.any() and s.dropout != "mcar":
            if s.dropout == "mar":
                z = standardise(first_total[idx][followed])
            else:
                z = standardise(theta[followed, -1])
            lin = schools.response_offset[sch][followed] - s.dropout_strength * z
            a = calibrate_intercept(lin, float(p[followed].mean()))
            intercepts[wave] = a
            p[followed] = special.expit(a + lin)
        answer = rng.random(len(idx)) < p
        # --- the answers as recorded ------------------------------------------------------
        rows = idx[answer]
        obs = break_off(blank_cells(items[answer], s.item_missing_rate, rng), BREAK_OFF_RATE, rng)
        # Keep the structural blanks of the impact items even where break-off did not reach.
        obs[np.isnan(items[answer])] = np.nan
        wave_day = a0 + np.timedelta64(int(months * 30.44), "D")
        school_day = wave_day + rng.integers(21, 56, schools.n).astype("timedelta64[D]")
        dates = school_day[pupils.school[rows]] + rng.integers(0, 5, len(rows)).astype(
            "timedelta64[D]"
        )
        frame = _survey_frame(s, schools, pupils, rows, y, wave, dates, obs)
        frames.append(frame)
        # First observed SDQ total of each pupil: the baseline severity for MAR follow-up.
        new = ~answered_before[rows]
        if new.any():
            tot = score_items(frame.loc[new, list(SDQ_ITEMS)], "sdq_self")
            first_total[rows[new]] = tot["total_difficulties"].to_numpy(dtype=float)
        answered_before[rows] = True
    survey = (
        pd.concat(frames, ignore_index=True)
        if frames
        else _survey_frame(
            s,
            schools,
            pupils,
            np.empty(0, int),
            0,
            "baseline",
            np.empty(0, "datetime64[D]"),
            np.empty((0, len(ITEM_COLUMNS))),
        )
    )
    mech = {
        "mechanism": s.dropout,
        "response_rate": base_rate,
        "strength": 0.0 if s.dropout == "mcar" else s.dropout_strength,
        "depends_on": {
            "mcar": "nothing",
            "mar": "the pupil's first observed SDQ total difficulties score and school",
            "mnar": "the pupil's unobserved current general difficulty and school",
        }[s.dropout],
        "intercepts": intercepts,
    }
    return survey, pd.DataFrame(realised), mech


SCWBS_BLOCK = scwbs_block()
#: year groups of the primary survey: Years 4-6, ages 8-11 (the SCWBS age range starts at 8)
PRIMARY_YEAR_GROUPS = (4, 5, 6)


def simulate_primary_survey(
    s: SimulationSettings, schools: Schools, pupils: Pupils, rng: np.random.Generator
) -> pd.DataFrame:
    """The Stirling Children's Wellbeing Scale in primary schools (Years 4-6), each wave.

    Optional (``primary_survey=True``) and drawn from its own stream. Pupils answer at the
    school's rate (``survey_response_rate`` with the school's offset), independently between
    waves; item columns are the SCWBS item ids ``q1``..``q15``.
    """
    a0 = np.datetime64(s.start_date, "D")
    logit_r = special.logit(np.clip(s.survey_response_rate, 1e-9, 1 - 1e-9))
    frames = []
    for wave in s.survey_waves:
        months = SURVEY_WAVES[wave]
        y = months // 12
        yg = pupils.year_group(y)
        eligible = pupils.on_roll(y) & ~pupils.secondary & np.isin(yg, PRIMARY_YEAR_GROUPS)
        idx = np.flatnonzero(eligible)
        items = SCWBS_BLOCK.sample(pupils.theta[idx, y, :], rng).astype(float)
        p = special.expit(logit_r + schools.response_offset[pupils.school[idx]])
        answer = rng.random(len(idx)) < p
        rows = idx[answer]
        obs = blank_cells(items[answer], s.item_missing_rate, rng)
        wave_day = a0 + np.timedelta64(int(months * 30.44), "D")
        school_day = wave_day + rng.integers(21, 56, schools.n).astype("timedelta64[D]")
        dates = school_day[pupils.school[rows]] + rng.integers(0, 5, len(rows)).astype(
            "timedelta64[D]"
        )
        frame = _survey_frame(s, schools, pupils, rows, y, wave, dates, obs, SCWBS_BLOCK.ids)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _survey_frame(
    s, schools, pupils, rows, y, wave, dates, obs, item_columns=ITEM_COLUMNS
) -> pd.DataFrame:
    ages = pupils.age_at(rows, dates) if len(rows) else np.empty(0, int)
    data = {
        "pupil_id": pd.array(pupils.pupil_id[rows], dtype="str"),
        "school_id": pd.array(
            schools.frame["school_id"].to_numpy()[pupils.school[rows]], dtype="str"
        ),
        "wave": pd.array([wave] * len(rows), dtype="str"),
        "date": pd.to_datetime(dates),
        "year_group": pupils.year_group(y)[rows].astype(int),
        "age": ages,
        "gender": pd.array(pupils.gender[rows], dtype="str"),
        "ethnicity": pd.array(pupils.ethnicity[rows], dtype="str"),
        "fsm": pupils.fsm[rows].astype(bool),
        "sen": pd.Categorical(pupils.sen[rows], categories=SEN_LEVELS).astype("str"),
    }
    if s.lgbt:
        data["lgbt"] = lgbt_flags(pupils.lgbt[rows])
    return pd.concat([pd.DataFrame(data), int_columns(obs, item_columns)], axis=1)


@validate_params(
    {
        "values": ArrayLike(scores=True),
        "groups": ArrayLike(),
    }
)
def anova_icc(values: np.ndarray, groups: np.ndarray) -> float:
    """One-way ANOVA estimator of the ICC, ICC(1) with the adjusted mean group size n0
    (Donner 1986, Int Stat Rev 54:67); NaN values are dropped."""
    ok = np.isfinite(values)
    v, g = values[ok], groups[ok]
    # hashing, not sorting, the labels (np.unique sorts a million text labels); the groups
    # still come in sorted order, so every sum is added in the same order as before
    inv, codes = pd.factorize(g, sort=True)
    k, n = len(codes), len(v)
    if k < 2 or n <= k:
        return float("nan")
    cnt = np.bincount(inv)
    means = np.bincount(inv, weights=v) / cnt
    grand = v.mean()
    ssb = float((cnt * (means - grand) ** 2).sum())
    ssw = float(((v - means[inv]) ** 2).sum())
    msb, msw = ssb / (k - 1), ssw / (n - k)
    n0 = (n - (cnt**2).sum() / n) / (k - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw)


def expected_survey(
    s: SimulationSettings, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Model expectations by Monte Carlo over a large virtual population of secondary
    schools: wave means per group and the ICC of each scored outcome.

    Common random numbers (the same latent and item draws, shifted) are used for every wave
    and group, so differences between waves carry almost no Monte Carlo error.
    """
    per_school = 100
    n_v = max(40, s.truth_mc_size // per_school)
    vs = make_schools(s, rng, n_primary=0, n_secondary=n_v, n_comparison=0)
    school = np.repeat(np.arange(n_v), per_school)
    n = len(school)
    secondary = np.ones(n, dtype=bool)
    yg = rng.choice(np.asarray(s.survey_year_groups), size=n)
    demo = demographics(school, vs, secondary, s, rng)
    base = demographic_shift(demo, yg) + np.outer(vs.effect[school], WORSE)
    base = base + correlated_normal(n, PUPIL_CORR, rng)
    item_seed = int(rng.integers(2**31))
    groups = [("programme", True)] + ([("comparison", False)] if s.n_comparison_schools else [])
    rows, icc_rows = [], []
    for grp, flag in groups:
        for wave in s.survey_waves:
            years = SURVEY_WAVES[wave] / 12
            theta = with_general(base + wave_shift(s, np.full(n, flag), years))
            items = survey_items(theta, np.random.default_rng(item_seed))
            scored = _score_frames(items)
            for row in _summaries(scored, np.ones(n, dtype=bool)):
                rows.append({"group": grp, "wave": wave, **row})
            if grp == "programme" and wave == "baseline":
                for inst, scales in SURVEY_SCALES.items():
                    for scale in scales:
                        v = scored[inst][scale].to_numpy(dtype=float)
                        icc_rows.append(
                            {
                                "instrument": inst,
                                "scale": scale,
                                "icc": anova_icc(v, school),
                                "icc_mc_se": _icc_se(anova_icc(v, school), per_school, n_v),
                            }
                        )
    return pd.DataFrame(rows), pd.DataFrame(icc_rows)


def _icc_se(icc: float, m: int, k: int) -> float:
    """Large-sample SE of ICC(1) with k groups of m (Fisher 1925; Donner 1986 eq. 5)."""
    if not np.isfinite(icc):
        return float("nan")
    return float(np.sqrt(2 * (1 - icc) ** 2 * (1 + (m - 1) * icc) ** 2 / (m * (m - 1) * (k - 1))))
