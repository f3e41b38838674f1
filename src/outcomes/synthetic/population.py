"""Schools, the pupils on their rolls, and each pupil's latent traits year by year.

A school has a random effect on its pupils' latent difficulties (which gives the survey
outcomes their intraclass correlation), its own share of pupils eligible for free school meals
and its own ethnic mix. Pupils carry demographics and a latent trait vector per academic year:

    theta_iy = mu(demographics, year group) + lambda * u_school
               + sqrt(rho) * a_i + sqrt(1 - rho) * e_iy + lambda * (trend - effect * in_programme) * y

with a_i, e_iy ~ N(0, R) (R: correlation of the six traits), rho the year-to-year stability
and lambda = (1, 1, 1, 1, -0.5, -1) the direction of "worse" on each trait (emotional, conduct,
hyperactivity, peer, prosocial, wellbeing). School and demographic effects are in latent SD
units, so var(u_school) = icc / (1 - icc) makes ``school_icc`` the latent ICC of a difficulty
trait given demographics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .itembank import P_CON, P_EMO, P_HYP, P_PEER, P_WB
from .settings import SimulationSettings

#: latent correlation of emotional, conduct, hyperactivity, peer, prosocial, wellbeing
PUPIL_CORR = np.array(
    [
        [1.00, 0.25, 0.35, 0.45, -0.05, -0.60],
        [0.25, 1.00, 0.55, 0.30, -0.35, -0.20],
        [0.35, 0.55, 1.00, 0.30, -0.20, -0.25],
        [0.45, 0.30, 0.30, 1.00, -0.15, -0.40],
        [-0.05, -0.35, -0.20, -0.15, 1.00, 0.30],
        [-0.60, -0.20, -0.25, -0.40, 0.30, 1.00],
    ]
)
#: which way is "worse" on each trait; also the loading of the school effect
WORSE = np.array([1.0, 1.0, 1.0, 1.0, -0.5, -1.0])
STABILITY = 0.6  # year-to-year correlation of a pupil's latent state
#: scale of the general-difficulty composite (sum of the four difficulty traits)
GEN_SD = float(np.sqrt(PUPIL_CORR[:4, :4].sum()))

ETHNICITIES = ("White", "Asian", "Black", "Mixed", "Other", "Not known")
#: England state-funded school pupils by broad ethnic group (DfE, Schools, pupils and their
#: characteristics 2023/24, rounded).
ETHNICITY_SHARE = np.array([0.71, 0.125, 0.06, 0.07, 0.025, 0.01])
GENDERS = ("female", "male", "non-binary", "prefer not to say")
SEN_LEVELS = ("none", "SEN support", "EHC plan")
PHASE_YEARS = {"primary": (0, 6), "secondary": (7, 11)}


def academic_year(d: dt.date) -> int:
    return d.year if d.month >= 9 else d.year - 1


def synthetic_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, at least ``width`` digits (e.g. P000123)."""
    width = max(width, len(str(n)))
    if n == 0:
        return np.empty(0, dtype=object)
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


def school_ids(n: int) -> np.ndarray:
    return synthetic_ids("SCH", n, 2)


def lgbt_flags(x: np.ndarray) -> pd.arrays.BooleanArray:
    """Internal 1.0 / 0.0 / NaN coding -> a nullable boolean column."""
    return pd.array(np.asarray(x, dtype=float), dtype="Float64").astype("boolean")


@dataclass
class Schools:
    frame: pd.DataFrame
    phase: np.ndarray
    in_programme: np.ndarray
    effect: np.ndarray  # u_s on the latent scale
    fsm_rate: np.ndarray
    eth_cum: np.ndarray  # cumulative ethnic mix, (schools, groups)
    response_offset: np.ndarray  # logit offset of survey response
    dropout_offset: np.ndarray  # logit offset of clinical follow-up
    staff_effect: np.ndarray

    @property
    def n(self) -> int:
        return len(self.phase)


def make_schools(
    s: SimulationSettings,
    rng: np.random.Generator,
    *,
    n_primary=None,
    n_secondary=None,
    n_comparison=None,
) -> Schools:
    """The programme's schools (shuffled primary and secondary) then comparison schools."""
    n_pri = s.n_primary if n_primary is None else n_primary
    n_sec = s.n_secondary if n_secondary is None else n_secondary
    n_cmp = s.n_comparison_schools if n_comparison is None else n_comparison
    prog_phase = np.array(["primary"] * n_pri + ["secondary"] * n_sec, dtype=object)
    prog_phase = prog_phase[rng.permutation(len(prog_phase))]
    phase = np.concatenate([prog_phase, np.array(["secondary"] * n_cmp, dtype=object)])
    n = len(phase)
    in_prog = np.arange(n) < n_pri + n_sec
    sec = phase == "secondary"
    mean_roll = np.where(sec, s.pupils_per_secondary, s.pupils_per_primary)
    roll = np.maximum(np.rint(mean_roll * rng.lognormal(-0.02, 0.2, n)), 10).astype(int)
    mean_staff = np.where(sec, s.staff_per_secondary, s.staff_per_primary)
    n_staff = np.rint(mean_staff * roll / mean_roll).astype(int)
    k = 15.0  # concentration: school FSM shares spread roughly +/- 10 points
    fsm = rng.beta(max(s.fsm_rate, 1e-6) * k, max(1 - s.fsm_rate, 1e-6) * k, n)
    eth = rng.dirichlet(ETHNICITY_SHARE * 25, n)
    tau = np.sqrt(s.school_icc / (1 - s.school_icc))
    effect = rng.normal(0, tau, n)
    teams = np.full(n, None, dtype=object)
    team_names = [f"MHST {chr(65 + t)}" for t in range(s.n_teams)]
    teams[in_prog] = np.array(team_names, dtype=object)[np.arange(int(in_prog.sum())) % s.n_teams]
    frame = pd.DataFrame(
        {
            "school_id": school_ids(n),
            "phase": pd.array(phase, dtype="str"),
            "in_programme": in_prog,
            "team": pd.array(teams, dtype="str"),
            "n_pupils": roll,
            "n_staff": n_staff,
            "pct_fsm": np.round(fsm * 100, 1),
        }
    )
    return Schools(
        frame=frame,
        phase=phase,
        in_programme=in_prog,
        effect=effect,
        fsm_rate=fsm,
        eth_cum=np.cumsum(eth, axis=1),
        response_offset=rng.normal(0, 0.5, n),
        dropout_offset=rng.normal(0, s.school_dropout_sd, n),
        staff_effect=rng.normal(0, 0.3, n),
    )


@dataclass
class Pupils:
    pupil_id: np.ndarray
    school: np.ndarray
    base_year: np.ndarray  # year group in academic year 0 (may be below the school's range)
    dob: np.ndarray  # datetime64[D]
    gender: np.ndarray
    ethnicity: np.ndarray
    fsm: np.ndarray
    sen: np.ndarray
    lgbt: np.ndarray  # float: 1.0 yes, 0.0 no, NaN not asked or not answered
    secondary: np.ndarray
    theta: np.ndarray  # (pupils, years, 7): six traits + general-difficulty composite

    @property
    def n(self) -> int:
        return len(self.pupil_id)

    def year_group(self, y: int) -> np.ndarray:
        return self.base_year + y

    def on_roll(self, y: int) -> np.ndarray:
        yg = self.year_group(y)
        lo = np.where(self.secondary, 7, 0)
        hi = np.where(self.secondary, 11, 6)
        return (yg >= lo) & (yg <= hi)

    def age_at(self, idx: np.ndarray, dates: np.ndarray) -> np.ndarray:
        days = (dates.astype("datetime64[D]") - self.dob[idx]).astype(int)
        return np.floor(days / 365.25).astype(int)


def demographics(
    school: np.ndarray,
    schools: Schools,
    secondary: np.ndarray,
    s: SimulationSettings,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Gender, ethnicity, FSM, SEN and LGBT+ for pupils of the given schools."""
    n = len(school)
    u = rng.random(n)
    # Primary records hold female/male only; secondary pupils may record more.
    g_sec = np.searchsorted(np.cumsum([0.485, 0.485, 0.015, 0.015]), u * 1.0, side="right")
    g_pri = (u >= 0.49).astype(int)
    gender = np.array(GENDERS, dtype=object)[np.where(secondary, np.minimum(g_sec, 3), g_pri)]
    ue = rng.random(n)
    eth_idx = np.zeros(n, dtype=np.int64)  # column by column: no (pupils x groups) array
    for cum in schools.eth_cum.T:
        eth_idx += ue > cum[school]
    ethnicity = np.array(ETHNICITIES, dtype=object)[np.minimum(eth_idx, len(ETHNICITIES) - 1)]
    fsm = rng.random(n) < schools.fsm_rate[school]
    male = gender == "male"
    female = gender == "female"
    mult_sup = np.where(male, 1.3, np.where(female, 0.7, 1.0))
    mult_ehc = np.where(male, 1.4, np.where(female, 0.6, 1.0))
    p_ehc = np.minimum(s.ehcp_rate * mult_ehc, 1)
    p_sup = np.minimum(s.sen_support_rate * mult_sup, 1 - p_ehc)
    us = rng.random(n)
    sen_idx = np.where(us < p_ehc, 2, np.where(us < p_ehc + p_sup, 1, 0))
    sen = np.array(SEN_LEVELS, dtype=object)[sen_idx]
    ul = rng.random(n)
    # 1.0 / 0.0 / NaN (not asked: primary; or unanswered: about one in twenty)
    lgbt = np.full(n, np.nan)
    if s.lgbt:
        lgbt[secondary] = (ul[secondary] < s.lgbt_rate).astype(float)
        lgbt[secondary & (ul > 1 - 0.05)] = np.nan
    return {"gender": gender, "ethnicity": ethnicity, "fsm": fsm, "sen": sen, "lgbt": lgbt}


def demographic_shift(demo: dict[str, np.ndarray], year_group: np.ndarray) -> np.ndarray:
    """Mean of the six latent traits given demographics (latent SD units).

    Directions follow the English surveys of children's mental health (NHS MHCYP 2017-2023):
    girls report more emotional and fewer conduct/hyperactivity problems; pupils with SEN,
    on free school meals or identifying as LGBT+ report more difficulties and lower
    wellbeing; emotional problems rise through secondary school.
    """
    mu = _demographic_mu(demo)
    _add_age(mu, year_group)
    return mu


def _demographic_mu(demo: dict[str, np.ndarray]) -> np.ndarray:
    """The part of :func:`demographic_shift` that does not change with age."""
    g = demo["gender"]
    mu = np.zeros((len(g), 6))
    fem = (g == "female").astype(float)
    other = ((g == "non-binary") | (g == "prefer not to say")).astype(float)
    mu += fem[:, None] * np.array([0.35, -0.20, -0.20, 0.0, 0.30, -0.15])
    mu += other[:, None] * np.array([0.50, 0.0, 0.10, 0.30, 0.0, -0.40])
    mu += demo["fsm"].astype(float)[:, None] * np.array([0.10, 0.20, 0.15, 0.10, 0.0, -0.10])
    sen = demo["sen"]
    sen_w = np.where(sen == "EHC plan", 1.6, np.where(sen == "SEN support", 1.0, 0.0))
    mu += sen_w[:, None] * np.array([0.15, 0.25, 0.45, 0.35, -0.10, -0.10])
    lg = (demo["lgbt"] == 1).astype(float)
    mu += lg[:, None] * np.array([0.50, 0.0, 0.0, 0.30, 0.0, -0.40])
    return mu


def _add_age(mu: np.ndarray, year_group: np.ndarray) -> None:
    """Add the rise of emotional problems (and fall in wellbeing) through secondary school."""
    older = np.clip(year_group - 7, 0, None).astype(float)
    mu[:, P_EMO] += 0.04 * older
    mu[:, P_WB] -= 0.03 * older


def with_general(theta6: np.ndarray) -> np.ndarray:
    """Append the general-difficulty composite (standardised sum of the difficulty traits)."""
    gen = theta6[..., [P_EMO, P_CON, P_HYP, P_PEER]].sum(axis=-1) / GEN_SD
    return np.concatenate([theta6, gen[..., None]], axis=-1)


def wave_shift(s: SimulationSettings, in_programme: np.ndarray, years: float) -> np.ndarray:
    """Latent shift after ``years``: secular trend for all, programme effect for programme
    schools; positive ``survey_effect`` moves traits in the better direction."""
    per_year = s.secular_trend - s.survey_effect * in_programme.astype(float)
    return (per_year * years)[:, None] * WORSE[None, :]


def make_pupils(s: SimulationSettings, schools: Schools, rng: np.random.Generator) -> Pupils:
    """Every pupil on roll in any academic year of the horizon, with latent traits by year."""
    h = s.horizon_years
    lo = np.where(schools.phase == "secondary", 7, 0)
    hi = np.where(schools.phase == "secondary", 11, 6)
    roll = schools.frame["n_pupils"].to_numpy()
    # Cohorts: for each school, base year groups lo-(h-1) .. hi (younger ones join later).
    n_coh = hi - lo + 1 + (h - 1)
    coh_school = np.repeat(np.arange(schools.n), n_coh)
    offsets = np.concatenate([np.arange(k) for k in n_coh])
    coh_base = np.repeat(lo - (h - 1), n_coh) + offsets
    per_year = roll / (hi - lo + 1)
    coh_size = rng.poisson(per_year[coh_school])
    school = np.repeat(coh_school, coh_size)
    base_year = np.repeat(coh_base, coh_size)
    n = len(school)
    secondary = schools.phase[school] == "secondary"
    a0 = academic_year(s.start_date)
    birth_year = a0 - base_year - 5
    # 1 September of the birth academic year (numpy month arithmetic handles leap years)
    sept1 = ((birth_year - 1970) * 12 + 8).astype("datetime64[M]").astype("datetime64[D]")
    dob = sept1 + rng.integers(0, 365, n).astype("timedelta64[D]")
    demo = demographics(school, schools, secondary, s, rng)
    # the demographic part once, the age part per year (same sums as demographic_shift)
    demo_mu = _demographic_mu(demo)
    school_mu = np.outer(schools.effect[school], WORSE)
    base = np.empty((n, h, 6))
    for y in range(h):
        mu = demo_mu.copy()
        _add_age(mu, base_year + y)
        base[:, y, :] = mu + school_mu
    stable = rng.standard_normal((n, 6)) @ np.linalg.cholesky(PUPIL_CORR).T
    state = rng.standard_normal((n, h, 6)) @ np.linalg.cholesky(PUPIL_CORR).T
    theta = base + np.sqrt(STABILITY) * stable[:, None, :] + np.sqrt(1 - STABILITY) * state
    for y in range(h):
        theta[:, y, :] += wave_shift(s, schools.in_programme[school], y)
    ids = synthetic_ids("P", n, 6)
    return Pupils(
        pupil_id=ids,
        school=school,
        base_year=base_year,
        dob=dob,
        gender=demo["gender"],
        ethnicity=demo["ethnicity"],
        fsm=demo["fsm"],
        sen=demo["sen"],
        lgbt=demo["lgbt"],
        secondary=secondary,
        theta=with_general(theta),
    )


def children_on_roll(schools: Schools, pupils: Pupils, y: int = 0) -> int:
    """Pupils on roll in programme schools in academic year ``y`` (children 'reached')."""
    return int((pupils.on_roll(y) & schools.in_programme[pupils.school]).sum())


__all__ = [
    "ETHNICITIES",
    "GENDERS",
    "PHASE_YEARS",
    "PUPIL_CORR",
    "SEN_LEVELS",
    "Pupils",
    "Schools",
    "demographic_shift",
    "demographics",
    "make_pupils",
    "make_schools",
    "synthetic_ids",
    "with_general",
]
