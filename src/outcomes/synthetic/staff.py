"""The staff workforce-confidence survey (WCS-10) at the survey waves, partly the same staff.

Each member of staff has a latent confidence: role shift + school effect + a stable part and a
wave-to-wave part (stability 0.7). In programme schools it rises by ``staff_effect`` latent SDs
over the first year (training and consultation from the team); comparison schools do not move.
At baseline a share ``staff_response_rate`` answers; at later waves those who answered the
previous wave answer again with probability ``staff_retention`` and the rest at the rate that
keeps the overall response rate unchanged, so later waves mix returning and new respondents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._scoring import score_items
from .itembank import wcs_block, wcs_overall_block
from .latent import blank_cells, int_columns
from .population import Schools, synthetic_ids
from .settings import SURVEY_WAVES, SimulationSettings

WCS = wcs_block()
WCS_OVERALL = wcs_overall_block()
ROLES = ("teacher", "teaching assistant", "senior leader", "pastoral/SENCo", "other support staff")
ROLE_P = {
    "primary": np.array([0.45, 0.35, 0.08, 0.05, 0.07]),
    "secondary": np.array([0.60, 0.15, 0.07, 0.08, 0.10]),
}
ROLE_SHIFT = np.array([0.0, -0.2, 0.3, 0.5, -0.3])
STAFF_STABILITY = 0.7
NA_WEIGHT = np.array([1, 1, 1, 0.5, 2, 1, 2, 1, 1, 2])  # "not applicable" commoner on q5, q7, q10
COMMENTS = (
    "More training on anxiety would help",
    "The team have been very supportive",
    "Hard to find time to attend sessions",
    "Would like clearer referral guidance",
    "Feel more confident than last year",
    "Need quicker feedback after referrals",
)


def _effect(s: SimulationSettings, in_prog: np.ndarray, months: int) -> np.ndarray:
    return s.staff_effect * min(months / 12, 1.0) * in_prog.astype(float)


def _answers(latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    items = WCS.sample(latent[:, None], rng).astype(float)
    overall = WCS_OVERALL.sample(latent[:, None], rng).astype(float)
    return np.hstack([items, overall])


def _confidence(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cols = {c: values[:, k] for k, c in enumerate((*WCS.ids, "overall"))}
    sc = score_items(pd.DataFrame(cols), "workforce_confidence")
    return sc["confidence"].to_numpy(dtype=float), sc["overall_confidence"].to_numpy(dtype=float)


def simulate_staff(
    s: SimulationSettings,
    schools: Schools,
    rng: np.random.Generator,
    truth_rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (staff survey table, truth rows by group and wave)."""
    n_staff = schools.frame["n_staff"].to_numpy()
    school = np.repeat(np.arange(schools.n), n_staff)
    n = len(school)
    phase = schools.phase[school]
    u = rng.random(n)
    role_idx = np.where(
        phase == "secondary",
        (u[:, None] > np.cumsum(ROLE_P["secondary"])[None, :]).sum(axis=1),
        (u[:, None] > np.cumsum(ROLE_P["primary"])[None, :]).sum(axis=1),
    )
    role_idx = np.minimum(role_idx, len(ROLES) - 1)
    base = ROLE_SHIFT[role_idx] + schools.staff_effect[school]
    stable = rng.standard_normal(n)
    in_prog = schools.in_programme[school]
    ids = synthetic_ids("ST", n, 5)
    a0 = np.datetime64(s.start_date, "D")
    r, ret = s.staff_response_rate, s.staff_retention
    q_new = float(np.clip((r - r * ret) / (1 - r), 0, 1)) if r < 1 else 1.0
    answered_last = np.zeros(n, dtype=bool)
    frames, truth = [], []
    for wave in s.survey_waves:
        months = SURVEY_WAVES[wave]
        latent = (
            base
            + np.sqrt(STAFF_STABILITY) * stable
            + np.sqrt(1 - STAFF_STABILITY) * rng.standard_normal(n)
            + _effect(s, in_prog, months)
        )
        full = _answers(latent, rng)
        conf, overall = _confidence(full)
        for grp, flag in (("programme", True), ("comparison", False)):
            m = in_prog == flag
            if m.any():
                truth.append(
                    {
                        "group": grp,
                        "wave": wave,
                        "n": int(m.sum()),
                        "mean_confidence": float(np.nanmean(conf[m])),
                        "mean_overall": float(np.nanmean(overall[m])),
                    }
                )
        if wave == s.survey_waves[0]:
            p = np.full(n, r)
        else:
            p = np.where(answered_last, ret, q_new)
        answer = rng.random(n) < p
        rows = np.flatnonzero(answer)
        obs = full[rows].copy()
        na = rng.random((len(rows), 10)) < np.minimum(s.dont_know_rate * NA_WEIGHT, 1)
        obs[:, :10][na] = 9
        obs = blank_cells(obs, s.item_missing_rate, rng)
        day = a0 + np.timedelta64(int(months * 30.44), "D")
        sday = day + rng.integers(20, 50, schools.n).astype("timedelta64[D]")
        dates = sday[school[rows]] + rng.integers(0, 10, len(rows)).astype("timedelta64[D]")
        comments = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), len(rows))]
        comments[rng.random(len(rows)) >= 0.12] = None
        data = {
            "respondent_id": pd.array(ids[rows], dtype="str"),
            "school_id": pd.array(schools.frame["school_id"].to_numpy()[school[rows]], dtype="str"),
            "wave": pd.array([wave] * len(rows), dtype="str"),
            "date": pd.to_datetime(dates),
            "role": pd.array(np.array(ROLES, dtype=object)[role_idx[rows]], dtype="str"),
        }
        items = int_columns(obs, (*WCS.ids, "overall"))
        items["comments"] = pd.array(comments, dtype="str")
        frames.append(pd.concat([pd.DataFrame(data), items], axis=1))
        answered_last = answer
    survey = pd.concat(frames, ignore_index=True)
    if n == 0:
        # no staff at all: keep the columns and their types
        survey = frames[0]
    realised = pd.DataFrame(
        truth, columns=["group", "wave", "n", "mean_confidence", "mean_overall"]
    )
    expected = _expected_staff(s, schools, truth_rng)
    out = realised.merge(expected, on=["group", "wave"], how="left")
    for col in ("mean_confidence", "mean_overall"):
        for pre in ("", "expected_"):
            c = pre + col
            if c not in out:
                continue
            b = out[out["wave"] == s.survey_waves[0]].set_index("group")[c]
            out[pre + col.replace("mean_", "change_")] = out[c] - out["group"].map(b)
    return survey, out


def _expected_staff(s: SimulationSettings, schools: Schools, rng) -> pd.DataFrame:
    """Wave means of the scored confidence under the model, by Monte Carlo with common
    random numbers across waves (the same staff and noise, shifted)."""
    cols = ["group", "wave", "expected_mean_confidence", "expected_mean_overall"]
    if s.truth_mc_size == 0:
        return pd.DataFrame(columns=cols)
    n = s.truth_mc_size
    rows = []
    groups = [("programme", True)] + ([("comparison", False)] if s.n_comparison_schools else [])
    for grp, flag in groups:
        pool = np.flatnonzero(schools.in_programme == flag)
        w = schools.frame["n_staff"].to_numpy()[pool].astype(float)
        if w.sum() == 0:
            continue
        sub = np.random.default_rng(rng.integers(2**31))
        phase = schools.phase[sub.choice(pool, n, p=w / w.sum())]
        u = sub.random(n)
        ridx = np.where(
            phase == "secondary",
            (u[:, None] > np.cumsum(ROLE_P["secondary"])[None, :]).sum(axis=1),
            (u[:, None] > np.cumsum(ROLE_P["primary"])[None, :]).sum(axis=1),
        )
        # a fresh school effect per person: the expectation over schools like these
        base = ROLE_SHIFT[np.minimum(ridx, 4)] + sub.normal(0, 0.3, n) + sub.standard_normal(n)
        seed = int(sub.integers(2**31))
        for wave in s.survey_waves:
            lat = base + _effect(s, np.full(n, flag), SURVEY_WAVES[wave])
            conf, overall = _confidence(_answers(lat, np.random.default_rng(seed)))
            rows.append(
                {
                    "group": grp,
                    "wave": wave,
                    "expected_mean_confidence": float(np.nanmean(conf)),
                    "expected_mean_overall": float(np.nanmean(overall)),
                }
            )
    return pd.DataFrame(rows, columns=cols)
