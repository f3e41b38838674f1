"""Outcome and experience measures of the children the teams see, and their ground truth.

Measures: HoNOSCA (clinician), SDQ parent (with impact supplement) and Goal Based Outcomes at
assessment (first contact), at a review (fourth contact, for some) and at discharge (last
contact); CHI-ESQ parent and young-person versions (9-11 or 12-18 by age) at discharge.

Latent traits at assessment depend on demographics; each child improves by delta ~
N(clinical_effect, clinical_effect_sd) latent SDs, spread over the traits by fixed weights
(:data:`service.CHANGE_WEIGHTS`), plus occasion noise. The item-specific part of a HoNOSCA
rating is mostly the child's own and persists over occasions
(:data:`HONOSCA_ITEM_STABILITY`); SDQ and GBO answers get fresh item noise. Baseline measures
are missing completely at random (``baseline_measure_rate``). Discharge measures exist only
for children whose referral closed by the extract after two or more contacts and who
"complete follow-up", which happens at rate ``follow_up_rate`` under the chosen mechanism:

- ``mcar``: constant probability;
- ``mar``: logit p = a - strength * z(observed baseline HoNOSCA total, else SDQ parent
  total) + school effect; more severe children return fewer follow-up measures;
- ``mnar``: logit p = a + strength * z(delta) + school effect; children who improve more
  return more follow-up measures (so completers overstate improvement).

``a`` is calibrated so the mean probability equals ``follow_up_rate``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..instruments import load_instrument
from ._scoring import score_items
from .itembank import (
    esq_block,
    gbo_block,
    honosca_block,
    sdq_parent_block,
    sdq_parent_impact_block,
)
from .latent import ItemBlock, blank_cells, calibrate_intercept, int_columns, standardise
from .mhst import mhst_responses
from .population import Pupils, Schools
from .service import Referrals, clinical_shift, draw_clinical, presenting_need
from .settings import SimulationSettings

HONOSCA = honosca_block()
SDQ_PARENT = sdq_parent_block()
SDQ_PARENT_IMPACT = sdq_parent_impact_block()
GBO = gbo_block()
ESQ = esq_block()
#: HoNOSCA "not known" (9) is commoner where a clinician often lacks information
HONOSCA_NOT_KNOWN_WEIGHT = np.array([1, 1, 1, 1.5, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2.5, 2.5])
ESQ_DONT_KNOW_WEIGHT = np.array([1, 1, 1, 1, 1, 1.5, 1, 2.5, 2.5, 2.5, 1, 1])
#: correlation over occasions of the item-specific part of a child's HoNOSCA rating (a share
#: rho of its variance is the child's own, persistent deviation on that item; see
#: :func:`_honosca`). A clinician's rating of one scale is fairly stable within a child. With
#: fresh item noise at every occasion (rho = 0) a 2-point swing on one of 13 scales was so
#: likely that most children showed "measurable deterioration" under the NHS England CYP
#: outcomes metric (demo: 35% improvement, 57% deterioration; CORC benchmark about 52% and
#: 10%). rho = 0.82 gives about 41% and 11% over three programmes three times the default
#: size; higher values cut deterioration further but improvement with it, because the
#: latent change reaching a single item is small (loadings .3-.7).
HONOSCA_ITEM_STABILITY = 0.82
REVIEW_RATES = {"honosca": 0.25, "sdq_parent": 0.25, "gbo": 0.70}
GOAL_COUNT_P = (0.2, 0.3, 0.5)
GOAL_TEXTS = (
    "feel less worried about school",
    "sleep better",
    "get on better with my family",
    "go to all my lessons",
    "manage my anger",
    "feel happier",
    "make a new friend",
    "talk to someone when I feel low",
    "feel calmer in the mornings",
    "stop avoiding things that scare me",
)
ESQ_GOOD = (
    "felt listened to",
    "sessions were in school so easy to get to",
    "the worker was kind",
    "learned ways to cope",
    "things got better at home",
)
ESQ_IMPROVE = (
    "shorter wait",
    "more sessions",
    "appointments outside lesson time",
    "more information for parents",
)
ESQ_OTHER = ("thank you", "would come back if needed")
TRUTH_SCALES = {
    "honosca": (
        "total",
        *(f"scale_{k}" for k in range(1, 14)),
        "behaviour",
        "impairment",
        "symptoms",
        "social",
    ),
    "sdq_parent": (
        "total_difficulties",
        "emotional",
        "conduct",
        "hyperactivity",
        "peer",
        "prosocial",
        "impact",
    ),
    "gbo": ("goal_1", "goal_2", "goal_3", "goal_mean"),
}


def _items(block: ItemBlock, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return block.sample(theta, rng).astype(float)


def _sdq_parent(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    core = _items(SDQ_PARENT, theta, rng)
    imp = _items(SDQ_PARENT_IMPACT, theta, rng)
    imp[imp[:, 0] == 0, 1:] = np.nan
    return np.hstack([core, imp])


SDQ_PARENT_IDS = SDQ_PARENT.ids + SDQ_PARENT_IMPACT.ids


def _gbo(theta: np.ndarray, n_goals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    g = _items(GBO, theta, rng)
    g[:, 1][n_goals < 2] = np.nan
    g[:, 2][n_goals < 3] = np.nan
    return g


def _honosca(
    theta: np.ndarray,
    rng: np.random.Generator,
    persistent: np.ndarray | None,
    stable_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """HoNOSCA ratings whose item-specific parts persist within a child over occasions.

    The item-specific part of y* is e_ijt = sqrt(rho) u_ij + sqrt(1 - rho) eps_ijt with
    rho = :data:`HONOSCA_ITEM_STABILITY`: u_ij, the child's persistent deviation on item j,
    and eps_ijt, the occasion's, are N(0, 1). Each occasion alone is the model of
    :mod:`.latent` (e ~ N(0, 1)), so cross-sectional properties do not depend on rho. The
    first occasion is drawn as e = eps from ``rng``; u is then drawn given it,
    u = sqrt(rho) e + sqrt(1 - rho) v with v from ``stable_rng`` (the joint distribution is the
    same, and ``rng`` draws exactly what it did before rho existed). Returns (ratings, u).
    """
    eps = rng.standard_normal((len(theta), len(HONOSCA.ids)))
    rho = HONOSCA_ITEM_STABILITY
    if persistent is None:
        e = eps
        v = stable_rng.standard_normal(eps.shape)
        persistent = np.sqrt(rho) * eps + np.sqrt(1 - rho) * v
    else:
        e = np.sqrt(rho) * persistent + np.sqrt(1 - rho) * eps
    return HONOSCA.sample(theta, rng, noise=e).astype(float), persistent


def complete_measures(
    lat: dict[str, np.ndarray],
    n_goals: np.ndarray,
    rng: np.random.Generator,
    stable_rng: np.random.Generator,
    occasions: tuple[str, ...] = ("pre", "review", "post"),
) -> dict[str, dict[str, np.ndarray]]:
    """Complete answers (no missing items) at every occasion, for every child.

    ``stable_rng`` draws only the children's persistent HoNOSCA item deviations (see
    :func:`_honosca`); everything else comes from ``rng``.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    u = None
    for occ in occasions:
        th = lat[occ]
        honosca, u = _honosca(th, rng, u, stable_rng)
        out[occ] = {
            "honosca": honosca,
            "sdq_parent": _sdq_parent(th, rng),
            "gbo": _gbo(th, n_goals, rng),
        }
    return out


def _frame(ids: tuple[str, ...], values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({c: values[:, k] for k, c in enumerate(ids)})


IDS = {"honosca": HONOSCA.ids, "sdq_parent": SDQ_PARENT_IDS, "gbo": GBO.ids}


def change_truth(pre: dict[str, np.ndarray], post: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per scale: n, means, mean change (post - pre) and reliable change proportions."""
    rows = []
    for inst_id, scales in TRUTH_SCALES.items():
        inst = load_instrument(inst_id)
        a = score_items(_frame(IDS[inst_id], pre[inst_id]), inst_id)
        b = score_items(_frame(IDS[inst_id], post[inst_id]), inst_id)
        for sc_id in scales:
            sc = inst.scale(sc_id)
            x = a[sc_id].to_numpy(dtype=float)
            y = b[sc_id].to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            d = y[ok] - x[ok]
            rc = sc.reliable_change
            thr = rc.threshold if rc is not None and rc.threshold is not None else np.nan
            better = d if sc.higher_is_better else -d
            n = int(ok.sum())
            rows.append(
                {
                    "instrument": inst_id,
                    "scale": sc_id,
                    "higher_is_better": bool(sc.higher_is_better),
                    "reliable_threshold": thr,
                    "n": n,
                    "mean_pre": float(x[ok].mean()) if n else np.nan,
                    "mean_post": float(y[ok].mean()) if n else np.nan,
                    "mean_change": float(d.mean()) if n else np.nan,
                    "sd_change": float(d.std(ddof=1)) if n > 1 else np.nan,
                    "prop_reliable_improvement": float((better >= thr).mean())
                    if n and np.isfinite(thr)
                    else np.nan,
                    "prop_reliable_deterioration": float((-better >= thr).mean())
                    if n and np.isfinite(thr)
                    else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _satisfaction(delta: np.ndarray, s: SimulationSettings, rng: np.random.Generator):
    """Parent and young-person satisfaction traits; both rise with the child's improvement."""
    n = len(delta)
    z = (
        (delta - s.clinical_effect) / s.clinical_effect_sd
        if s.clinical_effect_sd > 0
        else 0 * delta
    )
    e_p, e_y = rng.standard_normal(n), rng.standard_normal(n)
    sat_p = 0.35 * z + np.sqrt(1 - 0.35**2) * e_p
    sat_y = 0.35 * z + 0.4 * e_p + np.sqrt(1 - 0.35**2 - 0.4**2) * e_y
    return sat_p[:, None], sat_y[:, None]


def simulate_clinical(
    s: SimulationSettings,
    schools: Schools,
    pupils: Pupils,
    refs: Referrals,
    rng: np.random.Generator,
    truth_rng: tuple[np.random.Generator, np.random.Generator],
    stable_rng: np.random.Generator,
    mhst_rng: np.random.Generator | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame, dict]:
    """Returns (responses by instrument, change truth, experience truth, dropout record).

    ``stable_rng`` draws the persistent HoNOSCA item deviations of the simulated children and
    ``truth_rng`` is the pair (Monte Carlo draws, their persistent deviations) of the expected
    truth; separate streams keep every other draw what it was before they were added.
    """
    fr = refs.frame
    n = len(fr)
    gender = pupils.gender[refs.pupil]
    age = fr["age"].to_numpy()
    lgbt = np.where(age < 11, np.nan, pupils.lgbt[refs.pupil])
    mu = clinical_shift(gender, age, pupils.fsm[refs.pupil], pupils.sen[refs.pupil], lgbt)
    review_fraction = np.clip(3 / np.maximum(refs.planned_contacts - 1, 1), 0, 1)
    lat = draw_clinical(mu, s, rng, review_fraction)
    fr["presenting_need"] = pd.array(presenting_need(lat["pre"], rng), dtype="str")
    n_goals = rng.choice([1, 2, 3], size=n, p=GOAL_COUNT_P)
    comp = complete_measures(lat, n_goals, rng, stable_rng)
    extract = np.datetime64(s.extract_date, "D")
    first = refs.first
    seen = ~np.isnat(first)
    contact = lambda k: first + np.rint(k * refs.interval).astype("timedelta64[D]")  # noqa: E731
    last_contact = contact(np.maximum(refs.n_contacts - 1, 0))
    closed = seen & ~np.isnat(refs.discharge) & (refs.n_contacts >= 2)
    # --- baseline --------------------------------------------------------------------------
    has_pre = {k: seen & (rng.random(n) < s.baseline_measure_rate) for k in IDS}
    pre_obs = {k: _observe(k, comp["pre"][k], s, rng) for k in IDS}
    # --- follow-up at discharge ------------------------------------------------------------
    elig = np.flatnonzero(closed)
    offset = schools.dropout_offset[refs.school]
    if s.dropout == "mcar":
        lin = np.zeros(len(elig))
    elif s.dropout == "mar":
        sev = np.full(n, np.nan)
        for inst_id, col in (("sdq_parent", "total_difficulties"), ("honosca", "total")):
            sc = score_items(_frame(IDS[inst_id], pre_obs[inst_id]), inst_id)
            v = np.where(has_pre[inst_id], sc[col].to_numpy(dtype=float), np.nan)
            # HoNOSCA (scored second) wins where present; its SD differs, so standardise each.
            zv = np.where(
                np.isfinite(v), standardise(np.where(has_pre[inst_id], v, np.nan)), np.nan
            )
            sev = np.where(np.isfinite(zv), zv, sev)
        z = np.where(np.isfinite(sev[elig]), sev[elig], 0.0)
        lin = -s.dropout_strength * z + offset[elig]
    else:
        z = standardise(lat["delta"][elig])
        lin = s.dropout_strength * z + offset[elig]
    a = calibrate_intercept(lin, s.follow_up_rate) if len(elig) else np.nan
    p_follow = special.expit(a + lin) if len(elig) else np.zeros(0)
    followed = np.zeros(n, dtype=bool)
    followed[elig] = rng.random(len(elig)) < p_follow
    post_obs = {k: _observe(k, comp["post"][k], s, rng) for k in IDS}
    # --- review (fourth contact) ---------------------------------------------------------------
    review_date = contact(3)
    # a review needs a fourth contact that is not also the last one of a closed episode
    can_review = seen & (refs.n_contacts >= 4) & (review_date <= extract)
    can_review &= np.isnat(refs.discharge) | (refs.n_contacts >= 5)
    rev_obs = {k: _observe(k, comp["review"][k], s, rng) for k in IDS}
    has_rev = {k: can_review & (rng.random(n) < REVIEW_RATES[k]) for k in IDS}
    # --- assemble responses ------------------------------------------------------------------
    gbo_rater = np.where(age >= 11, "self", "parent")
    raters = {"honosca": "clinician", "sdq_parent": "parent", "gbo": gbo_rater}
    goal_text = _goal_texts(n_goals, rng)
    responses: dict[str, pd.DataFrame] = {}
    for inst_id in IDS:
        parts = []
        for wave, mask, dates, values in (
            ("assessment", has_pre[inst_id], first, pre_obs[inst_id]),
            ("review", has_rev[inst_id], review_date, rev_obs[inst_id]),
            ("discharge", followed, last_contact, post_obs[inst_id]),
        ):
            rows = np.flatnonzero(mask)
            parts.append(
                _responses(inst_id, fr, rows, raters[inst_id], wave, dates, IDS[inst_id], values)
            )
        df = pd.concat(parts, ignore_index=True)
        if inst_id == "gbo":
            df = _add_goal_text(df, fr, goal_text)
        responses[inst_id] = _sorted(df)
    esq, esq_complete = _esq(s, fr, followed, last_contact, lat["delta"], age, rng)
    responses.update(esq)
    if s.mhst_measures and mhst_rng is not None:
        # Own stream, drawn after everything else: the other tables do not change.
        extra = mhst_responses(
            lat,
            age,
            seen,
            followed,
            {"assessment": first, "discharge": last_contact},
            lambda inst_id, rows, rater, wave, dates: _responses(
                inst_id, fr, rows, rater, wave, dates, (), np.empty((len(fr), 0))
            ),
            s.item_missing_rate,
            s.baseline_measure_rate,
            mhst_rng,
        )
        responses.update({inst_id: _sorted(df) for inst_id, df in extra.items()})
    # --- truth -------------------------------------------------------------------------------
    cohort = np.flatnonzero(closed)
    realised = change_truth(
        {k: comp["pre"][k][cohort] for k in IDS}, {k: comp["post"][k][cohort] for k in IDS}
    )
    expected = _expected_change(s, mu[cohort], *truth_rng)
    truth = realised.merge(expected, on=["instrument", "scale"], how="left")
    experience = _experience_truth(esq_complete, closed)
    dropout = {
        "mechanism": s.dropout,
        "follow_up_rate": s.follow_up_rate,
        "strength": 0.0 if s.dropout == "mcar" else s.dropout_strength,
        "school_sd": 0.0 if s.dropout == "mcar" else s.school_dropout_sd,
        "intercept": float(a) if np.isfinite(a) else None,
        "depends_on": {
            "mcar": "nothing",
            "mar": "observed baseline HoNOSCA total (SDQ parent total where HoNOSCA is missing) "
            "and school",
            "mnar": "the child's unobserved improvement (delta) and school",
        }[s.dropout],
        "model": {
            "mcar": "p = follow_up_rate",
            "mar": "logit p = a - strength * z(baseline severity) + school effect",
            "mnar": "logit p = a + strength * z(delta) + school effect",
        }[s.dropout],
        "eligible": "referrals closed by the extract date after two or more contacts",
        "n_eligible": len(elig),
        "n_followed_up": int(followed.sum()),
        "baseline_measure_rate": s.baseline_measure_rate,
    }
    return responses, truth, experience, dropout


def _observe(inst_id: str, values: np.ndarray, s: SimulationSettings, rng) -> np.ndarray:
    """Recorded answers: HoNOSCA 'not known' (9) and blank cells, SDQ and GBO blanks."""
    out = values.copy()
    if inst_id == "honosca":
        nk = rng.random(out.shape) < np.minimum(
            s.honosca_not_known_rate * HONOSCA_NOT_KNOWN_WEIGHT, 1
        )
        out[nk] = 9
        out = blank_cells(out, s.item_missing_rate / 2, rng)
    elif inst_id == "sdq_parent":
        structural = np.isnan(out)
        out = blank_cells(out, s.item_missing_rate, rng)
        out[structural] = np.nan
    else:
        goal1 = blank_cells(out[:, :1], s.item_missing_rate / 2, rng)
        out[:, :1] = goal1
    return out


def _responses(inst_id, fr, rows, rater, wave, dates, ids, values) -> pd.DataFrame:
    rater_col = rater[rows] if isinstance(rater, np.ndarray) else np.full(len(rows), rater)
    data = {
        "person_id": pd.array(fr["person_id"].to_numpy()[rows], dtype="str"),
        "instrument": pd.array([inst_id] * len(rows), dtype="str"),
        "rater": pd.array(rater_col, dtype="str"),
        "date": pd.to_datetime(dates[rows]),
        "wave": pd.array([wave] * len(rows), dtype="str"),
        "referral_id": pd.array(fr["referral_id"].to_numpy()[rows], dtype="str"),
        "school_id": pd.array(fr["school_id"].to_numpy()[rows], dtype="str"),
    }
    return pd.concat([pd.DataFrame(data), int_columns(values[rows], ids)], axis=1)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    order = {"assessment": 0, "review": 1, "discharge": 2}
    key = df["wave"].map(order)
    return (
        df.assign(_k=key)
        .sort_values(["referral_id", "_k", "rater"], kind="stable")
        .drop(columns="_k")
        .reset_index(drop=True)
    )


def _goal_texts(n_goals: np.ndarray, rng) -> np.ndarray:
    n = len(n_goals)
    picks = np.argsort(rng.random((n, len(GOAL_TEXTS))), axis=1)[:, :3]
    texts = np.array(GOAL_TEXTS, dtype=object)[picks]
    texts[np.arange(3)[None, :] >= n_goals[:, None]] = None
    return texts


def _add_goal_text(df: pd.DataFrame, fr: pd.DataFrame, texts: np.ndarray) -> pd.DataFrame:
    pos = pd.Index(fr["referral_id"]).get_indexer(df["referral_id"])
    for k in range(3):
        df[f"goal{k + 1}_text"] = pd.array(texts[pos, k], dtype="str")
    return df


def _esq(s, fr, followed, dates, delta, age, rng):
    """CHI-ESQ at discharge, and the complete answers every child would have given."""
    sat_p, sat_y = _satisfaction(delta, s, rng)
    out, complete = {}, {}
    n = len(fr)
    versions = (
        ("chi_esq_parent", "parent", sat_p, np.ones(n, dtype=bool)),
        ("chi_esq_9_11", "self", sat_y, (age >= 9) & (age <= 11)),
        ("chi_esq_12_18", "self", sat_y, age >= 12),
    )
    for inst_id, rater, sat, age_ok in versions:
        full = _items(ESQ, sat, rng)
        complete[inst_id] = (full, age_ok)
        dk = rng.random(full.shape) < np.minimum(s.dont_know_rate * ESQ_DONT_KNOW_WEIGHT, 1)
        values = blank_cells(np.where(dk, 9, full), s.item_missing_rate, rng)
        rows = np.flatnonzero(followed & age_ok & (rng.random(n) < s.esq_rate))
        df = _responses(inst_id, fr, rows, rater, "discharge", dates, ESQ.ids, values)
        for col, phrases, rate in (
            ("good", ESQ_GOOD, 0.4),
            ("improve", ESQ_IMPROVE, 0.25),
            ("other", ESQ_OTHER, 0.08),
        ):
            txt = np.array(phrases, dtype=object)[rng.integers(0, len(phrases), len(rows))]
            txt[rng.random(len(rows)) >= rate] = None
            df[col] = pd.array(txt, dtype="str")
        out[inst_id] = _sorted(df)
    return out, complete


def _expected_change(s: SimulationSettings, mu: np.ndarray, rng, stable_rng) -> pd.DataFrame:
    """Model expectation by Monte Carlo: the cohort's demographic mix, fresh latent draws."""
    cols = [
        "instrument",
        "scale",
        "expected_mean_change",
        "expected_prop_reliable_improvement",
        "expected_prop_reliable_deterioration",
    ]
    if s.truth_mc_size == 0 or len(mu) == 0:
        return pd.DataFrame(columns=cols)
    pick = rng.integers(0, len(mu), s.truth_mc_size)
    m = mu[pick]
    lat = draw_clinical(m, s, rng, np.full(len(m), 0.5))
    n_goals = rng.choice([1, 2, 3], size=len(m), p=GOAL_COUNT_P)
    comp = complete_measures(lat, n_goals, rng, stable_rng, occasions=("pre", "post"))
    t = change_truth(comp["pre"], comp["post"])
    return pd.DataFrame(
        {
            "instrument": t["instrument"],
            "scale": t["scale"],
            "expected_mean_change": t["mean_change"],
            "expected_prop_reliable_improvement": t["prop_reliable_improvement"],
            "expected_prop_reliable_deterioration": t["prop_reliable_deterioration"],
        }
    )


def _experience_truth(complete: dict, cohort: np.ndarray) -> pd.DataFrame:
    """Mean CHI-ESQ scale scores had every child in the truth cohort answered."""
    rows = []
    for inst_id, (values, age_ok) in complete.items():
        mask = cohort & age_ok
        if not mask.any():
            continue
        sc = score_items(_frame(ESQ.ids, values[mask]), inst_id)
        for scale in ("satisfaction_care", "satisfaction_environment"):
            rows.append(
                {
                    "instrument": inst_id,
                    "scale": scale,
                    "n": int(mask.sum()),
                    "mean": float(sc[scale].mean()),
                    "prop_certainly_true": float((values[mask] == 2).mean()),
                }
            )
    cols = ["instrument", "scale", "n", "mean", "prop_certainly_true"]
    return pd.DataFrame(rows, columns=cols)


__all__ = ["TRUTH_SCALES", "change_truth", "simulate_clinical"]
