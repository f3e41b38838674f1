"""Referrals to the Mental Health Support Teams: who is referred, when, by whom, whether the
referral is accepted, how long the child waits and how many contacts follow.

- A pupil in a programme school is referred in a year with probability
  expit(a + 0.8 * general difficulty + 0.3 * SEN + 0.15 * FSM + 0.2 * secondary); ``a`` is
  calibrated so the expected number of referrals is ``referral_rate`` per pupil per year.
  Referral dates follow the school calendar (fewer in August and at Christmas).
- Some referrals are followed by a re-referral of the same child two to six months later.
- A referral is not accepted as inappropriate with a probability falling linearly from
  ``inappropriate_rate_start`` to ``inappropriate_rate_end`` over the service period, and for
  other reasons (family declined, unable to contact) at ``other_not_accepted_rate``.
- The wait to first contact is gamma-distributed (shape 3) with a mean falling linearly from
  ``wait_weeks_start`` to ``wait_weeks_end``; a child whose first contact would fall after the
  data extract is still waiting (first_contact_date missing: a censored wait).
- Contacts: one only (``single_contact_rate``), otherwise 2 + Poisson(mean_contacts - 2),
  about weekly; discharge follows the last contact. Anything after the extract is not seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .itembank import C_CON, C_EMO, C_HYP, C_IMP, C_PEER
from .latent import calibrate_intercept, correlated_normal
from .population import SEN_LEVELS, Pupils, Schools, lgbt_flags, synthetic_ids
from .settings import SimulationSettings, _add_months

INAPPROPRIATE_REASONS = (
    "inappropriate - not meeting criteria",
    "inappropriate - needs specialist CAMHS",
    "signposted elsewhere",
)
OTHER_REASONS = ("declined by family", "unable to contact")
NOT_ACCEPTED_REASONS = INAPPROPRIATE_REASONS + OTHER_REASONS
SOURCES = ("school", "parent/carer", "self", "GP", "school nurse", "social care", "other")
_SOURCE_P_UNDER11 = np.array([0.68, 0.15, 0.0, 0.07, 0.05, 0.03, 0.02])
_SOURCE_P_11PLUS = np.array([0.55, 0.12, 0.12, 0.08, 0.07, 0.03, 0.03])
NEEDS = ("anxiety", "low mood", "behaviour", "attention/concentration", "friendships", "other")
#: relative referral volume by calendar month (Jan..Dec): school holidays are quieter
MONTH_WEIGHT = np.array([1.1, 1.0, 1.1, 0.9, 1.1, 1.0, 0.8, 0.2, 1.0, 1.2, 1.2, 0.8])

#: latent correlation of a referred child's traits: emotional, conduct, hyperactivity, peer,
#: prosocial, impairment, knowledge of difficulties/services, goal progress
CLINICAL_CORR = np.array(
    [
        [1.00, 0.20, 0.30, 0.45, -0.05, 0.60, 0.10, -0.20],
        [0.20, 1.00, 0.50, 0.30, -0.35, 0.40, 0.05, -0.15],
        [0.30, 0.50, 1.00, 0.30, -0.20, 0.40, 0.05, -0.15],
        [0.45, 0.30, 0.30, 1.00, -0.15, 0.50, 0.05, -0.15],
        [-0.05, -0.35, -0.20, -0.15, 1.00, -0.15, 0.00, 0.10],
        [0.60, 0.40, 0.40, 0.50, -0.15, 1.00, 0.10, -0.30],
        [0.10, 0.05, 0.05, 0.05, 0.00, 0.10, 1.00, -0.10],
        [-0.20, -0.15, -0.15, -0.15, 0.10, -0.30, -0.10, 1.00],
    ]
)
#: how each trait moves per unit of a child's improvement delta (negative = fewer problems)
CHANGE_WEIGHTS = np.array([-1.0, -0.6, -0.4, -0.5, 0.3, -0.9, -1.2, 2.5])
OCCASION_SD = 0.35  # occasion-to-occasion wobble of each trait
_GEN_DIMS = [C_EMO, C_CON, C_HYP, C_PEER, C_IMP]
GEN_SD_C = float(np.sqrt(CLINICAL_CORR[np.ix_(_GEN_DIMS, _GEN_DIMS)].sum()))


def clinical_shift(gender, age, fsm, sen, lgbt) -> np.ndarray:
    """Mean clinical traits given demographics (latent SD units)."""
    n = len(gender)
    mu = np.zeros((n, 8))
    fem = (gender == "female").astype(float)
    mu += fem[:, None] * np.array([0.30, -0.25, -0.25, 0, 0.2, 0, 0, 0])
    other = np.isin(gender, ["non-binary", "prefer not to say"]).astype(float)
    mu += other[:, None] * np.array([0.40, 0, 0, 0.30, 0, 0.2, 0, 0])
    mu[:, C_EMO] += 0.2 * (age >= 11)
    mu += np.asarray(fsm, dtype=float)[:, None] * np.array([0, 0.15, 0.1, 0, 0, 0.2, 0, 0])
    sen_w = np.where(sen == "EHC plan", 1.6, np.where(sen == "SEN support", 1.0, 0.0))
    mu += sen_w[:, None] * np.array([0.1, 0.2, 0.4, 0.3, -0.1, 0.3, 0, 0])
    lg = (np.asarray(lgbt, dtype=float) == 1).astype(float)
    mu += lg[:, None] * np.array([0.3, 0, 0, 0.2, 0, 0.1, 0, 0])
    return mu


def with_clinical_general(theta8: np.ndarray) -> np.ndarray:
    gen = theta8[..., _GEN_DIMS].sum(axis=-1) / GEN_SD_C
    return np.concatenate([theta8, gen[..., None]], axis=-1)


def draw_clinical(
    mu: np.ndarray, s: SimulationSettings, rng: np.random.Generator, review_fraction: np.ndarray
) -> dict[str, np.ndarray]:
    """Latent traits at assessment, review and discharge, and each child's improvement."""
    n = len(mu)
    pre = mu + correlated_normal(n, CLINICAL_CORR, rng)
    delta = rng.normal(s.clinical_effect, s.clinical_effect_sd, n)
    move = delta[:, None] * CHANGE_WEIGHTS[None, :]
    post = pre + move + OCCASION_SD * rng.standard_normal((n, 8))
    review = pre + review_fraction[:, None] * move + OCCASION_SD * rng.standard_normal((n, 8))
    return {
        "pre": with_clinical_general(pre),
        "review": with_clinical_general(review),
        "post": with_clinical_general(post),
        "delta": delta,
    }


@dataclass
class Referrals:
    frame: pd.DataFrame
    pupil: np.ndarray  # index into Pupils
    school: np.ndarray  # index into Schools
    year: np.ndarray  # academic year index of the referral
    accepted: np.ndarray
    first: np.ndarray  # datetime64[D], NaT when none by the extract
    planned_contacts: np.ndarray
    interval: np.ndarray  # days between contacts
    n_contacts: np.ndarray
    discharge: np.ndarray
    inappropriate: np.ndarray
    mechanism: dict


def _sample_days(
    start: np.datetime64, end: np.datetime64, k: int, rng: np.random.Generator
) -> np.ndarray:
    days = np.arange(start, end, dtype="datetime64[D]")
    months = days.astype("datetime64[M]").astype(int) % 12
    w = MONTH_WEIGHT[months]
    return days[rng.choice(len(days), size=k, p=w / w.sum())]


def simulate_referrals(
    s: SimulationSettings, schools: Schools, pupils: Pupils, rng: np.random.Generator
) -> Referrals:
    start = np.datetime64(s.start_date, "D")
    extract = np.datetime64(s.extract_date, "D")
    end = np.datetime64(s.end_date, "D")
    n_years = (s.service_months + 11) // 12
    pupil_parts, date_parts, year_parts = [], [], []
    intercepts = []
    for y in range(n_years):
        w0 = np.datetime64(_add_months(s.start_date, 12 * y), "D")
        w1 = min(np.datetime64(_add_months(s.start_date, 12 * (y + 1)), "D"), end)
        if w1 <= w0:
            continue
        frac = (w1 - w0).astype(int) / 365.25
        elig = np.flatnonzero(pupils.on_roll(y) & schools.in_programme[pupils.school])
        if len(elig) == 0:
            continue
        lin = (
            0.8 * pupils.theta[elig, y, -1]
            + 0.3 * (pupils.sen[elig] != "none")
            + 0.15 * pupils.fsm[elig]
            + 0.2 * pupils.secondary[elig]
        )
        a = calibrate_intercept(lin, min(s.referral_rate * frac, 0.999))
        intercepts.append(a)
        hit = elig[rng.random(len(elig)) < special.expit(a + lin)]
        pupil_parts.append(hit)
        date_parts.append(_sample_days(w0, w1, len(hit), rng))
        year_parts.append(np.full(len(hit), y))
    pupil = np.concatenate(pupil_parts) if pupil_parts else np.empty(0, int)
    dates = np.concatenate(date_parts) if date_parts else np.empty(0, "datetime64[D]")
    year = np.concatenate(year_parts) if year_parts else np.empty(0, int)
    # Re-referrals of the same child a few months later, while the service is still running.
    again = rng.random(len(pupil)) < s.re_referral_rate
    later = dates[again] + rng.integers(60, 181, int(again.sum())).astype("timedelta64[D]")
    re_pupil, re_dates = pupil[again], later
    re_year = np.clip(
        ((re_dates - start).astype(int) / 365.25).astype(int), 0, pupils.theta.shape[1] - 1
    )
    # only while the service runs and the child is still on the school's roll
    yg = pupils.base_year[re_pupil] + re_year
    on_roll = np.where(pupils.secondary[re_pupil], (yg >= 7) & (yg <= 11), (yg >= 0) & (yg <= 6))
    keep = (re_dates <= extract) & on_roll
    re_pupil, re_dates, re_year = re_pupil[keep], re_dates[keep], re_year[keep]
    pupil = np.concatenate([pupil, re_pupil])
    dates = np.concatenate([dates, re_dates])
    year = np.concatenate([year, re_year])
    order = np.lexsort((pupils.pupil_id[pupil].astype(str), dates))
    pupil, dates, year = pupil[order], dates[order], year[order]
    n = len(pupil)
    span = max((end - start).astype(int), 1)
    t = (dates - start).astype(int) / span
    # --- acceptance ---------------------------------------------------------------------------
    p_inapp = (
        s.inappropriate_rate_start + (s.inappropriate_rate_end - s.inappropriate_rate_start) * t
    )
    u = rng.random(n)
    inapp = u < p_inapp
    other = ~inapp & (u < p_inapp + s.other_not_accepted_rate)
    accepted = ~inapp & ~other
    reason = np.full(n, None, dtype=object)
    reason[inapp] = rng.choice(
        np.array(INAPPROPRIATE_REASONS, dtype=object), int(inapp.sum()), p=[0.45, 0.2, 0.35]
    )
    reason[other] = rng.choice(np.array(OTHER_REASONS, dtype=object), int(other.sum()))
    # --- waits and contacts ---------------------------------------------------------------------
    mean_wait = 7 * (s.wait_weeks_start + (s.wait_weeks_end - s.wait_weeks_start) * t)
    wait = np.maximum(np.ceil(rng.gamma(3.0, mean_wait / 3.0)), 1).astype(int)
    first_planned = dates + wait.astype("timedelta64[D]")
    single = rng.random(n) < s.single_contact_rate
    planned = np.where(single, 1, 2 + rng.poisson(max(s.mean_contacts - 2, 0), n))
    interval = rng.uniform(7, 12, n)
    last = first_planned + np.rint((planned - 1) * interval).astype("timedelta64[D]")
    closing = np.where(single, rng.integers(14, 43, n), rng.integers(0, 15, n))
    discharge_planned = last + closing.astype("timedelta64[D]")
    # A child is not referred again while an accepted episode is still open: drop a referral
    # that falls before the discharge of the same child's previous accepted referral.
    by_child = np.lexsort((dates, pupil))
    same = pupil[by_child][1:] == pupil[by_child][:-1]
    prev, cur = by_child[:-1], by_child[1:]
    overlap = same & accepted[prev] & (discharge_planned[prev] >= dates[cur])
    keep = np.ones(len(pupil), dtype=bool)
    keep[cur[overlap]] = False
    pupil, dates, year, t = pupil[keep], dates[keep], year[keep], t[keep]
    inapp, accepted, reason = inapp[keep], accepted[keep], reason[keep]
    first_planned, planned, interval = first_planned[keep], planned[keep], interval[keep]
    discharge_planned = discharge_planned[keep]
    n = len(pupil)
    nat = np.datetime64("NaT", "D")
    seen = accepted & (first_planned <= extract)
    first = np.where(seen, first_planned, nat)
    # contacts on or before the extract date; contact k falls rint(k * interval) days after
    # the first (the same rule dates the measures)
    elapsed = (extract - first_planned).astype(int)
    k = np.arange(int(planned.max()) if n else 0)
    offsets = np.rint(k[None, :] * interval[:, None])
    done = (offsets <= elapsed[:, None]) & (k[None, :] < planned[:, None])
    n_by_extract = np.where(seen, done.sum(axis=1), 0)
    second_planned = first_planned + np.rint(interval).astype("timedelta64[D]")
    second = np.where(seen & (planned >= 2) & (second_planned <= extract), second_planned, nat)
    discharge = np.where(seen & (discharge_planned <= extract), discharge_planned, nat)
    # --- who the child is -----------------------------------------------------------------------
    age = pupils.age_at(pupil, dates)
    yg = pupils.base_year[pupil] + year
    lgbt = np.where(age < 11, np.nan, pupils.lgbt[pupil])
    src_p = np.where((age >= 11)[:, None], _SOURCE_P_11PLUS, _SOURCE_P_UNDER11)
    src_idx = (rng.random(n)[:, None] > np.cumsum(src_p, axis=1)).sum(axis=1)
    source = np.array(SOURCES, dtype=object)[np.minimum(src_idx, len(SOURCES) - 1)]
    school = pupils.school[pupil]
    frame = pd.DataFrame(
        {
            "referral_id": pd.array(synthetic_ids("R", n, 5), dtype="str"),
            "person_id": pd.array(pupils.pupil_id[pupil], dtype="str"),
            "school_id": pd.array(schools.frame["school_id"].to_numpy()[school], dtype="str"),
            "team": pd.array(schools.frame["team"].to_numpy()[school], dtype="str"),
            "referral_date": pd.to_datetime(dates),
            "source": pd.array(source, dtype="str"),
            "presenting_need": pd.array(np.full(n, None, dtype=object), dtype="str"),
            "accepted": accepted,
            "not_accepted_reason": pd.array(reason, dtype="str"),
            "inappropriate": inapp,
            "first_contact_date": pd.to_datetime(first),
            "second_contact_date": pd.to_datetime(second),
            "discharge_date": pd.to_datetime(discharge),
            "n_contacts": n_by_extract.astype(int),
            "age": age.astype(int),
            "year_group": yg.astype(int),
            "gender": pd.array(pupils.gender[pupil], dtype="str"),
            "ethnicity": pd.array(pupils.ethnicity[pupil], dtype="str"),
            "fsm": pupils.fsm[pupil].astype(bool),
            "sen": pd.Categorical(pupils.sen[pupil], categories=SEN_LEVELS).astype("str"),
        }
    )
    if s.lgbt:
        frame["lgbt"] = lgbt_flags(lgbt)
    return Referrals(
        frame=frame,
        pupil=pupil,
        school=school,
        year=year,
        accepted=accepted,
        first=first,
        planned_contacts=planned,
        interval=interval,
        n_contacts=n_by_extract,
        discharge=discharge,
        inappropriate=inapp,
        mechanism={"referral_intercepts": intercepts},
    )


def presenting_need(theta_pre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The main need recorded at referral: the child's most raised trait, with noise."""
    n = len(theta_pre)
    # Emotional needs dominate MHST case mix (most referrals are anxiety or low mood).
    noisy = theta_pre[:, [C_EMO, C_CON, C_HYP, C_PEER]] + rng.normal(0, 0.5, (n, 4))
    noisy += np.array([0.6, 0.1, 0.0, -0.3])
    top = noisy.argmax(axis=1)
    emo_label = np.where(rng.random(n) < 0.6, "anxiety", "low mood")
    labels = np.array(["", "behaviour", "attention/concentration", "friendships"], dtype=object)
    out = np.where(top == 0, emo_label, labels[top]).astype(object)
    out[rng.random(n) < 0.08] = "other"
    return out


def expected_service(s: SimulationSettings) -> dict:
    """What the waiting-time and acceptance parts of the model imply, at start and end."""
    from scipy import stats

    out = {}
    for when, weeks, inapp in (
        ("start", s.wait_weeks_start, s.inappropriate_rate_start),
        ("end", s.wait_weeks_end, s.inappropriate_rate_end),
    ):
        mean_days = 7 * weeks
        # waits are whole days >= 1: ceil of a gamma(3, mean/3) draw
        dist = stats.gamma(3.0, scale=mean_days / 3.0)
        out[f"mean_wait_weeks_{when}"] = weeks
        out[f"share_seen_within_4_weeks_{when}"] = float(dist.cdf(28))
        out[f"inappropriate_rate_{when}"] = inapp
        out[f"acceptance_rate_{when}"] = round(1 - inapp - s.other_not_accepted_rate, 10)
    out["other_not_accepted_rate"] = s.other_not_accepted_rate
    out["referral_rate_per_pupil_year"] = s.referral_rate
    return out
