"""Growth of every data-sized public verb that has no growth benchmark elsewhere (issue 21).

Sizes 1e3..1e5 rows by default, 1e6 with OUTCOMES_BENCH_MAX=1000000. Per case: seconds and
peak traced memory per size, the floor measured in the same run where there is a fair one,
the ratio to it, and the growth exponent b of seconds ~ n**b (fitted from 1e4 up, as
bench_growth.py; 1 is linear).

- ``waiting_times_by_school``: n referrals over n/50 schools (20,000 schools at 1M), both
  stages, with the Total row. Floor: one ``np.lexsort`` of the same rows by (school, days),
  the sort the one-pass Kaplan-Meier needs. ``per_group_fits_before`` times the method it
  replaced (one statsmodels ``SurvfuncRight`` per school and stage) up to 1e5 rows.
- ``prevalence_clustered``: n pupils over n/200 schools, by year group and gender, with the
  ANOVA ICC and design effect; floor: a ``np.bincount`` of cases per school.
- ``simulate_programme``: the number of schools set so that about n children are on roll
  (``truth_mc_size=0``: the Monte Carlo truth is a fixed cost); ``n`` reported is the
  children on roll actually simulated.
- every other data-sized verb (service, change tables, instruments' ``validate``, coded
  scores, attrition, mixed models and imputation, ESQ, Likert, survey, SPC, economics,
  synthetic responses): one contender each on n rows, inputs built once per size. Referrals
  are spread over n/50 schools and survey pupils over n/200 schools (two waves), so groups
  grow with n: the worst case for a verb that still loops over groups. Verbs with a growth
  benchmark elsewhere are not repeated: ``score`` (bench_scoring), pairing, the NHS metric,
  paired and reliable change (bench_metric), ``disclosure.apply`` (bench_growth),
  ``pseudonymise`` (bench_privacy), the MHSDS pipeline (bench_mhsds).

``OUTCOMES_BENCH_CASES=a,b`` runs only the named cases; a case that raises is recorded with
its error and the others still run. Each case also records the 1-minute load average.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import bench_service
from _harness import measure
from bench_growth import _exponent

from outcomes import service, survey
from outcomes.synthetic import simulate_programme

MAX = int(os.environ.get("OUTCOMES_BENCH_MAX", 100_000))
SIZES = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= MAX]
AS_OF = pd.Timestamp("2025-08-31")
#: children on roll per simulated school (22 schools give about 8,000 children)
CHILDREN_PER_SCHOOL = 365


def _referrals(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2023-09-01")
    ref = start + pd.to_timedelta(rng.integers(0, (AS_OF - start).days, n), unit="D")
    wait = pd.to_timedelta(np.ceil(rng.gamma(3, 28 / 3, n)), unit="D")
    first = (ref + wait).where(ref + wait <= AS_OF)
    second = (first + pd.Timedelta(days=10)).where(first + pd.Timedelta(days=10) <= AS_OF)
    raw = pd.DataFrame(
        {
            "referral_id": np.arange(n),
            "person_id": np.arange(n),
            "school_id": rng.integers(0, max(1, n // 50), n),
            "referral_date": ref,
            "first_contact_date": first,
            "second_contact_date": second,
        }
    )
    return service.prepare_referrals(raw, as_of=AS_OF)


def _waits(n: int) -> dict:
    r = _referrals(n)
    days = (r["first_contact_date"].fillna(AS_OF) - r["referral_date"]).dt.days.to_numpy(float)
    school = r["school_id"].to_numpy()
    out = {
        "contender": lambda: service.waiting_times(r, as_of=AS_OF, by="school_id"),
        "floor": lambda: np.lexsort((days, school)),
    }
    if n <= 100_000:
        out["per_group_fits_before"] = lambda: _per_group_fits(r)
    return out


def _per_group_fits(r: pd.DataFrame) -> None:
    """The replaced method's core: one SurvfuncRight per school and stage (and the total)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    for col in ("first_contact_date", "second_contact_date"):
        event = r[col].notna().to_numpy()
        days = (r[col].fillna(AS_OF) - r["referral_date"]).dt.days.to_numpy(float)
        frame = pd.DataFrame({"d": days, "e": event.astype(float), "g": r["school_id"]})
        for _, sub in frame.groupby("g"):
            SurvfuncRight(sub["d"].to_numpy(), sub["e"].to_numpy())
        SurvfuncRight(days, event.astype(float))


def _prevalence(n: int) -> dict:
    rng = np.random.default_rng(0)
    school = rng.integers(0, max(2, n // 200), n)
    d = pd.DataFrame(
        {
            "case": rng.random(n) < 0.2,
            "school": school.astype(str),
            "year": rng.integers(7, 12, n),
            "gender": rng.choice(["F", "M", "X"], n),
        }
    )
    case = d["case"].to_numpy(float)
    return {
        "contender": lambda: survey.prevalence(d, "case", cluster="school", by=["year", "gender"]),
        "floor": lambda: np.bincount(school, weights=case),
    }


_CHILDREN: dict[int, int] = {}


def _simulate(n: int) -> dict:
    k = max(2, round(n / CHILDREN_PER_SCHOOL))

    def contender() -> None:
        _CHILDREN[n] = simulate_programme(
            seed=0, n_schools=k, truth_mc_size=0
        ).truth.children_on_roll

    return {"contender": contender}


# ------------------------------------------------------------------ every other data-sized verb
# One contender per verb on n rows (issue 21: every public verb linear to 1M rows). Inputs are
# built once per size and shared; groups grow with n (n/50 schools of referrals, n/200 survey
# schools), the worst case for anything that still loops over groups.
_DATA: dict[tuple[str, int], object] = {}


def _cached(kind: str, n: int, build) -> object:
    if (kind, n) not in _DATA:
        _DATA[(kind, n)] = build(n)
    return _DATA[(kind, n)]


def _raw_referrals(n: int) -> pd.DataFrame:
    # n/50 schools: the number of groups grows with n
    return bench_service.referrals(n, schools=max(1, n // 50), seed=1)


def _prepared(n: int) -> pd.DataFrame:
    return _cached(
        "prepared", n, lambda n: service.prepare_referrals(_raw_referrals(n), as_of=AS_OF)
    )


def _pupils(n: int) -> pd.DataFrame:
    """A two-wave school survey: n rows, n/200 schools, each pupil at both waves."""

    def build(n: int) -> pd.DataFrame:
        rng = np.random.default_rng(2)
        person = np.arange(n) // 2
        school = rng.integers(0, max(2, n // 200), n // 2 + 1)[person]
        wave = np.where(np.arange(n) % 2 == 0, "baseline", "12m")
        score = rng.normal(24, 5, n) + (wave == "12m") + rng.normal(0, 2, n // 2 + 1)[person]
        return pd.DataFrame(
            {
                "person_id": person,
                "school_id": school.astype(str),
                "wave": wave,
                "year_group": rng.integers(7, 12, n // 2 + 1)[person],
                "gender": rng.choice(["girl", "boy"], n // 2 + 1)[person],
                "score": score.round(1),
                "case": (score < 20).astype(int),
                "weight": rng.uniform(0.5, 2, n),
                "group": np.where(person % 2 == 0, "a", "b"),
            }
        )

    return _cached("pupils", n, build)


def _items(n: int) -> pd.DataFrame:
    """n SWEMWBS administrations (items q1..q7 coded 1-5, 1% blank), two waves."""

    def build(n: int) -> pd.DataFrame:
        rng = np.random.default_rng(3)
        x = rng.integers(1, 6, (n, 7)).astype(float)
        x[rng.random((n, 7)) < 0.01] = np.nan
        d = pd.DataFrame(x, columns=[f"q{i}" for i in range(1, 8)])
        d["person_id"] = np.arange(n) // 2
        d["wave"] = np.where(np.arange(n) % 2 == 0, 1, 2)
        d["school_id"] = (d["person_id"] % max(2, n // 200)).astype(str)
        return d

    return _cached("items", n, build)


def _esq(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    d = pd.DataFrame(rng.integers(0, 3, (n, 12)), columns=[f"q{i}" for i in range(1, 13)])
    d["person_id"] = np.arange(n)
    d["good"] = rng.choice(["Kind staff", "They listened", "", "Call me on 07700 900123"], n)
    d["improve"] = rng.choice(["Shorter wait", None, "More sessions"], n)
    return d


def _coded(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "person_id": np.arange(n) // 2,
            "referral_id": np.arange(n) // 2,
            "date": "2025-01-10",
            "code": np.where(np.arange(n) % 2 == 0, 720433000, 445455005),
            "score": rng.integers(0, 22, n),
        }
    )


def _pairs(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(6)
    pre = rng.normal(20, 5, n).round(1)
    return pd.DataFrame(
        {
            "scale": rng.choice(["a", "b", "c"], n),
            "school_id": rng.integers(0, 10, n).astype(str),
            "pre": pre,
            "post": (pre - rng.normal(2, 4, n)).round(1),
        }
    )


def _costs(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "item": np.arange(n).astype(str),
            "category": rng.choice(["staff", "sessions", "materials"], n),
            "quantity": rng.integers(1, 20, n),
            "unit_cost": rng.uniform(10, 200, n).round(2),
            "site": rng.integers(0, max(1, n // 100), n).astype(str),
        }
    )


def _on(build, call, floor=None):
    """A case: the inputs ``build(n)`` made once per size, then ``call(inputs)`` timed (and
    ``floor(inputs)`` beside it when given)."""

    def make(n: int):
        x = build(n)
        if floor is None:
            return lambda: call(x)
        return {"contender": lambda: call(x), "floor": lambda: floor(x)}

    return make


def _service_cases() -> dict:
    by = "school_id"
    change = "2024-09-01"
    return {
        "prepare_referrals": _on(
            _raw_referrals, lambda r: service.prepare_referrals(r, as_of=AS_OF)
        ),
        "referral_counts_by_school": _on(_prepared, lambda r: service.referral_counts(r, by=by)),
        "not_accepted_reasons_by_school": _on(
            _prepared, lambda r: service.not_accepted_reasons(r, by=by)
        ),
        "children_seen_by_school": _on(_prepared, lambda r: service.children_seen(r, by=by)),
        "compare_inappropriate_by_school": _on(
            _prepared, lambda r: service.compare_inappropriate(r, change_date=change, by=by)
        ),
        "inappropriate_rate_by_school": _on(
            _prepared, lambda r: service.inappropriate_rate(r, by=by)
        ),
        "monthly_activity_by_school": _on(
            _prepared, lambda r: service.monthly_activity(r, as_of=AS_OF, by=by)
        ),
        "inappropriate_trend": _on(
            _prepared, lambda r: service.inappropriate_trend(r, change_date=change)
        ),
        "compare_median_wait_200_resamples": _on(
            _prepared,
            lambda r: service.compare_median_wait(r, change_date=change, as_of=AS_OF, n_boot=200),
        ),
        "publish_referral_counts_by_school": _on(
            lambda n: service.referral_counts(_prepared(n), by=by),
            lambda t: service.publish(t, "referral_counts"),
        ),
    }


def _other_cases() -> dict:
    from outcomes import change, economics, esq, likert, spc
    from outcomes import synthetic as syn
    from outcomes.coded_scores import pivot_coded_scores
    from outcomes.instruments import validate
    from outcomes.longitudinal import fit_mixed
    from outcomes.longitudinal.attrition import attrition
    from outcomes.longitudinal.imputation import impute_change

    q = [f"q{i}" for i in range(1, 8)]
    levels = [1, 2, 3, 4, 5]
    wave_args = {"person_id": "person_id", "date": None}

    def rc(n: int) -> pd.DataFrame:
        d = _pairs(n)
        return change.reliable_change(
            d["pre"], d["post"], sd=5.0, reliability=0.8, cutoff=20, higher_is_better=False
        )

    def roll(n: int) -> tuple:
        d = _pupils(n)
        return d, d.groupby(["year_group", "gender"]).size().rename("count").reset_index()

    margins = {"year_group": dict.fromkeys(range(7, 12), 100), "gender": {"girl": 250, "boy": 250}}
    thresholds = np.tile([-1.5, -0.5, 0.5, 1.5], (7, 1))

    def uniform(n: int) -> np.ndarray:
        return np.random.default_rng(8).random(n)

    def normal(n: int) -> np.ndarray:
        return np.random.default_rng(9).standard_normal(n)

    def counts(n: int) -> np.ndarray:
        return np.random.default_rng(10).integers(0, 30, n)

    return {
        "paired_change_table_3_scales": _on(
            _pairs,
            lambda d: change.paired_change_table(
                d, outcome="scale", by="school_id", higher_is_better=False
            ),
        ),
        "reliable_change_summary": _on(rc, change.reliable_change_summary),
        "caseness_change": _on(
            _pairs,
            lambda d: change.caseness_change(
                d["pre"], d["post"], cutoff=20, higher_is_better=False
            ),
        ),
        # floor: the argsort Benjamini-Hochberg needs (n log n)
        "adjust_pvalues_bh": _on(
            uniform, lambda p: change.adjust_pvalues(p, "fdr_bh"), floor=np.argsort
        ),
        "validate_swemwbs": _on(_items, lambda d: validate(d[q], "swemwbs")),
        "pivot_coded_scores": _on(_coded, pivot_coded_scores),
        "attrition": _on(
            _pupils,
            lambda d: attrition(d, "score", "wave", person_id="person_id", demographics=["gender"]),
        ),
        "fit_mixed": _on(_pupils, lambda d: fit_mixed(d, "score", "wave", person_id="person_id")),
        "impute_change_m5": _on(
            _pupils,
            lambda d: impute_change(
                d, "score", "wave", person_id="person_id", covariates=["gender"], m=5
            ),
        ),
        "esq_item_summary": _on(_esq, lambda d: esq.item_summary(d, instrument="chi_esq_parent")),
        "esq_free_text": _on(_esq, lambda d: esq.free_text(d, instrument="chi_esq_parent", seed=0)),
        "likert_item_distribution": _on(
            _items, lambda d: likert.item_distribution(d, items=q, levels=levels)
        ),
        "likert_item_distribution_by_school": _on(
            _items, lambda d: likert.item_distribution(d, items=q, levels=levels, by="school_id")
        ),
        "likert_item_summary": _on(
            _items, lambda d: likert.item_summary(d, items=q, levels=levels)
        ),
        "likert_compare_waves": _on(
            _items, lambda d: likert.compare_waves(d, items=q, levels=levels, **wave_args)
        ),
        "likert_item_analysis": _on(_items, lambda d: likert.item_analysis(d, item_columns=q)),
        "likert_reliability": _on(_items, lambda d: likert.reliability(d, item_columns=q)),
        "likert_one_factor": _on(_items, lambda d: likert.one_factor(d, item_columns=q)),
        "prevalence_by_year_gender": _on(
            _pupils, lambda d: survey.prevalence(d, "case", by=["year_group", "gender"])
        ),
        "means_clustered": _on(
            _pupils, lambda d: survey.means(d, "score", cluster="school_id", by="year_group")
        ),
        "compare_means_clustered": _on(
            _pupils, lambda d: survey.compare_means(d, "score", cluster="school_id", **wave_args)
        ),
        "compare_prevalence_clustered": _on(
            _pupils,
            lambda d: survey.compare_prevalence(d, "case", cluster="school_id", **wave_args),
        ),
        "case_indicator": _on(_pupils, lambda d: survey.case_indicator(d, "score", below=20)),
        "cluster_icc": _on(_pupils, lambda d: survey.cluster_icc(d, "score", "school_id")),
        "poststratify": _on(roll, lambda x: survey.poststratify(*x)),
        "rake": _on(_pupils, lambda d: survey.rake(d, margins)),
        "weighted_mean_clustered": _on(
            _pupils, lambda d: survey.weighted_mean(d["score"], d["weight"], d["school_id"])
        ),
        "trend_two_waves": _on(
            _pupils, lambda d: survey.trend(d, "case", "wave", cluster="school_id")
        ),
        "benchmark_schools": _on(
            _pupils, lambda d: survey.benchmark(d, "case", cluster="school_id", wave="wave")
        ),
        "anova_icc": _on(
            _pupils, lambda d: syn.anova_icc(d["score"].to_numpy(), d["school_id"].to_numpy())
        ),
        "ordinal_responses": _on(
            normal,
            lambda th: syn.ordinal_responses(
                th[:, None] * np.ones(7), np.full(7, 0.8), thresholds, np.random.default_rng(0)
            ),
        ),
        "spc_xmr": _on(normal, spc.xmr),
        "spc_p_chart": _on(counts, lambda e: spc.p_chart(e, np.full(len(e), 100))),
        "spc_funnel": _on(
            counts,
            lambda e: spc.funnel(e, np.full(len(e), 100), np.arange(len(e)).astype(str)),
        ),
        "cost_table": _on(_costs, lambda c: economics.cost_table(c, price_year=2025)),
        # BCa over children, 2,000 resamples (the default): scipy's resampling is O(n x B);
        # its jackknife, n x (n - 1) values, is replaced by an O(n) one
        "cost_per_outcome_bca": _on(
            lambda n: (np.random.default_rng(11).random(n) < 0.4).astype(float),
            lambda x: economics.cost_per_outcome(1e6, x),
        ),
        "cost_totals_by_site": _on(
            lambda n: economics.cost_table(_costs(n), price_year=2025),
            lambda t: economics.cost_totals(t, by="site"),
        ),
    }


CASES = {
    "waiting_times_by_school": _waits,
    "prevalence_clustered": _prevalence,
    "simulate_programme": _simulate,
    **_service_cases(),
    **_other_cases(),
}
#: Largest size per case where one call would take minutes: none now. cost_table costs lines
#: by column (a Python loop over lines took 6.6 s at 1e5); fit_mixed, and the m fits of
#: impute_change, fit by closed forms (outcomes._mixed.InterceptProfile: the REML deviance
#: profiled to a function of the variance ratios, O(N) per pass, global search from a grid
#: including 0, no start value) where statsmodels' MixedLM below 20,000 rows took about 3 ms a
#: row. impute_change at 1e6 rows: about 8 s CPU (statsmodels' MICEData), 1.2 GB.
CAP: dict[str, int] = {}
#: OUTCOMES_BENCH_CASES=name,name,... runs only those cases
ONLY = [c for c in os.environ.get("OUTCOMES_BENCH_CASES", "").split(",") if c]


def run() -> dict:
    warnings.simplefilter("ignore")
    out: dict = {"sizes": SIZES}
    out["load_average_start"] = os.getloadavg()
    for name, make in CASES.items():
        if ONLY and name not in ONLY:
            continue
        res: dict = {}
        sizes = [n for n in SIZES if n <= CAP.get(name, n)]
        try:
            for n in sizes:
                fns = make(n)
                fns = fns if isinstance(fns, dict) else {"contender": fns}
                repeat = 3 if n <= 100_000 else 1
                for part, fn in fns.items():
                    res.setdefault(part, []).append(measure(fn, repeat=repeat))
                print(name, n, res["contender"][-1]["seconds"], file=sys.stderr, flush=True)
        except Exception as e:  # one verb failing must not lose the others' timings
            out[name] = {"error": f"{type(e).__name__}: {e}"[:300]}
            continue
        entry: dict = {
            "seconds": [r["seconds"] for r in res["contender"]],
            "peak_mb": [r["peak_mb"] for r in res["contender"]],
            "sizes": sizes,
            "growth_exponent": _exponent(sizes, [r["seconds"] for r in res["contender"]]),
        }
        if "floor" in res:
            entry["floor_seconds"] = [r["seconds"] for r in res["floor"]]
            entry["ratio_to_floor"] = [
                c / f for c, f in zip(entry["seconds"], entry["floor_seconds"], strict=True)
            ]
            # the floor's own growth on this machine: a verb can grow no slower than it
            entry["floor_growth_exponent"] = _exponent(sizes, entry["floor_seconds"])
        if "per_group_fits_before" in res:
            before = [r["seconds"] for r in res["per_group_fits_before"]]
            entry["per_group_fits_before_seconds"] = before
            entry["per_group_fits_before_exponent"] = _exponent(SIZES[: len(before)], before)
        if name == "simulate_programme":
            entry["children_on_roll"] = [_CHILDREN[n] for n in SIZES]
        entry["load_average"] = os.getloadavg()
        out[name] = entry
        print(name, entry["seconds"], entry["growth_exponent"], file=sys.stderr, flush=True)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
