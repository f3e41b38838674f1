"""fit_mixed's closed forms (InterceptProfile) against statsmodels and RemlModel.

fit_mixed finds the variances with outcomes._mixed's InterceptProfile. Until December 2026 it
used statsmodels' MixedLM below 20,000 rows, followed by RemlModel's bounded refinement (REML);
that path lives on here as the reference (``_statsmodels_path``), with the independent
dense/Woodbury code of RemlModel.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from scipy import optimize

from _reml_reference import RemlModel
from outcomes._mixed import InterceptProfile
from outcomes.longitudinal import fit_mixed
from outcomes.longitudinal import mixed as M


def _scores(seed, n_child, n_waves, tau, tau_school, n_school, missing, unbalanced):
    rng = np.random.default_rng(seed)
    school = rng.integers(0, n_school, n_child)
    level = (
        rng.normal(0, math.sqrt(tau), n_child)
        + rng.normal(0, math.sqrt(tau_school), n_school)[school]
    )
    sex = rng.choice(["f", "m"], n_child)
    frames = [
        pd.DataFrame(
            {
                "child": np.arange(n_child),
                "school": school,
                "wave": 6 * w,
                "sex": sex,
                "score": 20 + w + level + rng.normal(0, 3, n_child),
            }
        )
        for w in range(n_waves)
    ]
    data = pd.concat(frames, ignore_index=True)
    if missing:
        data.loc[(data["wave"] > 0) & (rng.random(len(data)) < missing), "score"] = np.nan
    if unbalanced:  # every third child misses the last wave
        data = data[~((data["child"] % 3 == 0) & (data["wave"] == 6 * (n_waves - 1)))]
    return data


def _fit(data, *, school: bool, reml: bool = True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_mixed(
            data, "score", "wave", person_id="child", cluster="school" if school else None,
            covariates=["sex"], reml=reml,
        )  # fmt: skip


def _statsmodels_path(data, *, school: bool, reml: bool = True) -> SimpleNamespace:
    """fit_mixed's path up to version 0.1: statsmodels' MixedLM (Powell's method when the
    gradient methods do not converge and it does), then, for REML, RemlModel.fit from that estimate (a
    bounded optimiser that reaches a zero variance where MixedLM stops just inside it)."""
    import statsmodels.formula.api as smf

    y, X, groups = _inputs(data, school)
    rm = RemlModel(y, X, groups)
    names = [f"x{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names)
    df["_y"] = y
    df["_child"] = groups["child"]
    formula = "_y ~ 0 + " + " + ".join(names)
    if school:
        df["_school"] = groups["school"]
        model = smf.mixedlm(formula, df, groups=df["_school"], re_formula="1",
                            vc_formula={"child": "0 + C(_child)"})  # fmt: skip
    else:
        model = smf.mixedlm(formula, df, groups=df["_child"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(reml=reml)
        if not res.converged:
            retry = model.fit(reml=reml, method="powell")
            res = retry if retry.converged else res
    tau = float(np.asarray(res.cov_re)[0, 0])
    v = {"school": tau, "child": float(res.vcomp[0])} if school else {"child": tau}
    v["residual"] = float(res.scale)
    loglik = float(res.llf)
    if reml:
        v = rm.fit(v)
        loglik = -rm.deviance(v) / 2
    return SimpleNamespace(variances=v, loglik=loglik, params=np.asarray(res.fe_params))


def _inputs(data, school):
    """(y, X, groups) of fit_mixed's model of ``score`` on wave and sex."""
    prep = M.prepare(data, "score", "wave", child="child", school="school" if school else None,
                     covariates=["sex"])  # fmt: skip
    X = M._design(prep, prep.frame).to_numpy()
    groups = {"child": pd.factorize(prep.frame["_child"])[0]}
    if school:
        groups = {"school": pd.factorize(prep.frame["_school"])[0], **groups}
    return prep.frame["_y"].to_numpy(), X, groups


def _reml_model(data, school):
    return RemlModel(*_inputs(data, school))


def _polished(rm: RemlModel, start: dict[str, float]) -> dict[str, float]:
    """Today's estimate taken to its optimum: Nelder-Mead with tight tolerances on RemlModel's
    own profiled deviance, over the log relative SDs of the components that are not 0."""
    free = [k for k in rm.names if start[k] > 0]
    if not free:
        return start

    def theta(t):
        out = np.zeros(len(rm.names))
        for k, v in zip(free, t, strict=True):
            out[rm.names.index(k)] = math.exp(v)
        return out

    t0 = [0.5 * math.log(start[k] / start["residual"]) for k in free]
    res = optimize.minimize(
        lambda t: rm._profiled(theta(t))[0], t0, method="Nelder-Mead",
        options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 5000},
    )  # fmt: skip
    s2 = rm._profiled(theta(res.x))[1]
    out = {k: float(th**2 * s2) for k, th in zip(rm.names, theta(res.x), strict=True)}
    return {**out, "residual": float(s2)}


# no shrinking: each example is two fits of 500 to 12,500 rows
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    n_child=st.integers(500, 2500),
    n_waves=st.integers(2, 5),
    tau=st.sampled_from([0.0, 0.05, 1.0, 9.0]),
    school=st.booleans(),
    tau_school=st.sampled_from([0.0, 0.3, 2.0]),
    missing=st.sampled_from([0.0, 0.2, 0.5]),
    unbalanced=st.booleans(),
)
# a nested fit whose interior optimum a coarse 2-D grid plus Nelder-Mead missed
@example(
    seed=232, n_child=500, n_waves=4, tau=9.0, school=True, tau_school=0.3, missing=0.0,
    unbalanced=True,
)  # fmt: skip
def test_closed_form_reaches_the_reml_optimum_statsmodels_approaches(
    seed, n_child, n_waves, tau, school, tau_school, missing, unbalanced
):
    if school:  # statsmodels' nested fit grows fast: keep it to seconds
        n_child //= 3
    data = _scores(seed, n_child, n_waves, tau, tau_school, 25, missing, unbalanced)
    new = _fit(data, school=school)
    old = _statsmodels_path(data, school=school)
    rm = _reml_model(data, school)
    dev_new, dev_old = rm.deviance(new.variances), rm.deviance(old.variances)
    # (1) never a worse REML deviance than statsmodels' path, by RemlModel's own computation
    assert dev_new <= dev_old + 1e-8 * abs(dev_old)
    assert new.loglik == pytest.approx(-dev_new / 2, rel=1e-12)
    # (2) variances: where statsmodels' path, taken to its optimum, is at the optimum (its deviance
    # no higher than ours), they agree to 1e-6 of the total variance, give or take what the
    # deviance can resolve: it is rounded at ~2e-13 of itself, which on a flat optimum hides
    # ~5e-5 of a variance's standard error (so 1e-4 se is allowed on top). Where it is not,
    # ours has the lower deviance: its optimisers stop short of a flat optimum (~1e-5),
    # or RemlModel.fit leaves a variance at 0 from statsmodels' start (see
    # test_closed_form_leaves_a_zero_statsmodels_path_is_stuck_at).
    best = _polished(rm, old.variances)
    dev_best = rm.deviance(best)
    assert dev_best >= dev_new - 1e-8 * abs(dev_new)
    total = sum(best.values())
    stuck = any((v == 0) != (old.variances[k] == 0) for k, v in new.variances.items())
    if stuck:  # statsmodels' path ends with other variances at 0: ours must be clearly better
        assert dev_new < dev_old - 1e-7, (new.variances, old.variances)
    else:
        free = [k for k in rm.names if new.variances[k] > 0] + ["residual"]
        se = dict(
            zip(free, np.sqrt(np.diag(rm._variance_information(new.variances)[2])), strict=True)
        )
        for k, v in new.variances.items():
            if dev_best <= dev_new:
                tol = 1e-6 * total + 1e-4 * se.get(k, 0.0)
            else:
                tol = 1e-4 * total
            assert v == pytest.approx(best[k], abs=tol), k
    # (3) fixed effects and lme4's vcov: the closed forms equal RemlModel's at the same
    # variances, and the fixed effects those at the optimum
    beta, C = rm.fixed(new.variances)
    np.testing.assert_allclose(new.params.to_numpy(), beta, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(new.cov_params.to_numpy(), C, rtol=1e-8, atol=1e-14)
    if dev_best <= dev_new and not stuck:
        beta_best, _ = rm.fixed(best)
        np.testing.assert_allclose(new.params.to_numpy(), beta_best, rtol=1e-6, atol=1e-7)
    # (4) Satterthwaite df equal RemlModel's analytic ones at the same variances
    df = rm.satterthwaite(new.variances, np.eye(len(beta)))
    np.testing.assert_allclose(new.to_frame()["df"].to_numpy(), df, rtol=1e-6)
    assert new.converged


def test_closed_form_leaves_a_zero_statsmodels_path_is_stuck_at():
    # Found by the property test: statsmodels (0.14) stopped at child variance 0.71, and
    # RemlModel.fit from there ends at 0 (school and child), 2.02 worse in REML deviance than
    # child 0.318, which the closed-form search finds with no start value. (statsmodels 0.15
    # stops elsewhere on these data: the start is written out here so the case stays.)
    data = _scores(253, 688, 3, 0.05, 0.0, 25, 0.0, True)
    new = _fit(data, school=True)
    assert new.variances["child"] == pytest.approx(0.318059, rel=1e-4)
    assert new.variances["school"] == 0.0
    rm = _reml_model(data, True)
    stuck = rm.fit({"school": 1e-8, "child": 0.71, "residual": 8.4})
    assert stuck == {"school": 0.0, "child": 0.0, "residual": pytest.approx(8.875148, rel=1e-6)}
    assert rm.deviance(new.variances) == pytest.approx(rm.deviance(stuck) - 2.0215, abs=1e-3)
    assert new.loglik == pytest.approx(-rm.deviance(new.variances) / 2, rel=1e-12)


def test_statsmodels_is_not_imported_by_a_fit():
    # the fit needs no statsmodels (it loaded about 0.5 s of modules for small data)
    import subprocess
    import sys

    code = (
        "import sys, warnings; warnings.simplefilter('ignore'); import pandas as pd; "
        "from outcomes.longitudinal import fit_mixed; "
        "d = pd.DataFrame({'c': [1, 2, 3, 1, 2, 3], 'w': [0, 0, 0, 1, 1, 1], "
        "'y': [1.0, 2, 4, 2, 2.5, 5]}); fit_mixed(d, 'y', 'w', person_id='c'); "
        "print('statsmodels' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_closed_form_matches_lme4_and_lmertest_at_a_variance_boundary():
    # the lme4 fit of tests/test_r_agreement.py (MIXED), to tighter tolerances
    from test_r_agreement import MIXED

    with pytest.warns(M.LongitudinalWarning, match="school variance is estimated at"):
        res = fit_mixed(MIXED, "score", "wave", person_id="child", cluster="school", group="arm",
                        covariates=["age"])  # fmt: skip
    # R: lmer(score ~ wave * arm + age + (1 | school) + (1 | child)), lmerTest summary
    expected = {
        "Intercept": (7.5818606712, 8.5573655948, 13.48615211),
        "wave[6]": (0.2220447108, 0.7417943545, 25.44064873),
        "wave[12]": (1.9000000000, 0.7067361342, 25.20386751),
        "arm[programme]": (0.6625000000, 1.3644510883, 18.70180491),
        "age": (0.9954961845, 0.6734892705, 13.43105583),
        "wave[6]:arm[programme]": (1.8154552892, 1.0245656776, 25.32784714),
        "wave[12]:arm[programme]": (1.4202803160, 1.0581396296, 25.38428641),
    }
    assert res.variances["school"] == 0.0
    assert res.variances["child"] == pytest.approx(5.449003236, rel=1e-6)
    assert res.variances["residual"] == pytest.approx(1.997903853, rel=1e-6)
    assert res.loglik == pytest.approx(-88.83070059, abs=1e-7)
    fe = res.to_frame().set_index("term")
    for term, (est, se, df) in expected.items():
        assert fe.loc[term, "estimate"] == pytest.approx(est, abs=1e-6), term
        assert fe.loc[term, "se"] == pytest.approx(se, rel=1e-6), term
        assert fe.loc[term, "df"] == pytest.approx(df, rel=1e-5), term


@pytest.mark.parametrize("school", [False, True])
def test_closed_form_ml_is_at_least_statsmodels_ml(school):
    data = _scores(7, 800, 3, 1.0, 1.0, 20, 0.2, True)
    new = _fit(data, school=school, reml=False)
    old = _statsmodels_path(data, school=school, reml=False)
    assert new.method == "ML"
    assert new.loglik >= old.loglik - 1e-8 * abs(old.loglik)
    for k, v in new.variances.items():
        assert v == pytest.approx(old.variances[k], rel=1e-3), k
    np.testing.assert_allclose(new.params.to_numpy(), old.params, rtol=1e-4)
    assert np.isinf(new.to_frame()["df"]).all()  # ML: normal tests


def test_profile_needs_no_start_where_remlmodel_from_a_default_start_stalls():
    # RemlModel.fit from a poor start can stop at a zero child variance (benchmarks' CAP note);
    # the profile's grid over the ratio finds the interior optimum without any start.
    data = _scores(3, 3000, 2, 4.0, 0.0, 1, 0.0, False)
    prep = M.prepare(data, "score", "wave", child="child", covariates=["sex"])
    X = M._design(prep, prep.frame).to_numpy()
    y, child = prep.frame["_y"].to_numpy(), prep.frame["_child"].to_numpy()
    v = InterceptProfile(y, X, {"child": child}).fit()
    rm = RemlModel(y, X, {"child": child})
    assert v["child"] > 0
    assert rm.deviance(v) <= rm.deviance(rm.fit({"child": 1.0, "residual": 1.0})) + 1e-8


def test_a_child_in_two_schools_is_refused():
    y = np.arange(4.0)
    with pytest.raises(ValueError, match="more than one school"):
        InterceptProfile(y, np.ones((4, 1)), {"school": np.array([0, 1, 1, 1]),
                                              "child": np.array([0, 0, 1, 1])})  # fmt: skip


# ----------------------------------------------------------------------------- small and degenerate data
def _small(seed, n_child, n_waves, tau, n_school=0, missing=0.0):
    """A long table of a few children: score = wave + child level + school level + noise."""
    rng = np.random.default_rng(seed)
    school = rng.integers(0, max(n_school, 1), n_child)
    level = rng.normal(0, math.sqrt(tau), n_child) + rng.normal(0, 1.0, max(n_school, 1))[school]
    data = pd.DataFrame({
        "child": np.repeat(np.arange(n_child), n_waves),
        "school": np.repeat(school, n_waves),
        "wave": np.tile(np.arange(n_waves), n_child),
        "score": np.repeat(level, n_waves) + np.tile(np.arange(n_waves), n_child)
        + rng.normal(0, 1.0, n_child * n_waves),
    })  # fmt: skip
    drop = (data["wave"] > 0) & (rng.random(len(data)) < missing)
    return data[~drop].reset_index(drop=True)


def _fit_small(data, *, school=False, reml=True, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_mixed(data, "score", "wave", person_id="child",
                         cluster="school" if school else None, reml=reml, **kw)  # fmt: skip


def test_a_shifted_outcome_leaves_the_variances():
    # y + 1e9 once moved the child variance from 0.22 to 62 (y'H⁻¹y − β̂'X'H⁻¹y cancelled
    # 18 digits away); the profile now works on y's OLS residual
    data = _small(0, 6, 3, 0.5)
    base = _fit_small(data)
    shifted = _fit_small(data.assign(score=data["score"] + 1e9))
    for k, v in base.variances.items():
        assert shifted.variances[k] == pytest.approx(v, rel=1e-5), k
    fe, fs = base.to_frame(), shifted.to_frame()
    np.testing.assert_allclose(fs["se"], fe["se"], rtol=1e-5)
    np.testing.assert_allclose(fs["df"], fe["df"], rtol=1e-4)
    assert fs["estimate"].iloc[0] - 1e9 == pytest.approx(fe["estimate"].iloc[0], abs=1e-5)


@pytest.mark.parametrize(
    "change, school, match",
    [
        # every child scored once: V = (τ + σ²)I, any split is an optimum (0 was reported)
        (lambda d: d.drop_duplicates("child"), False, "cannot be told apart"),
        (lambda d: d.assign(score=5.0), False, "score is constant"),
        # σ̂² ≈ 1e-16, se 0 and negative Satterthwaite df were reported
        (lambda d: d.assign(score=d["child"] * 1.0), False, "residual variance is 0"),
        # the same far from zero: the residual left is the rounding of 1e9 (once fitted, with
        # a residual variance of 1e-14)
        (lambda d: d.assign(score=d["child"] + 1e9), False, "residual variance is 0"),
        (
            lambda d: d.assign(score=d["child"] * 0.37 + 0.5 * d["wave"] - 3e7),
            False,
            "residual variance is 0",
        ),
        (lambda d: d.assign(school=0), True, "one school"),
        (lambda d: d.assign(school=d["child"]), True, "one scored child"),
    ],
    ids=[
        "one-score-per-child",
        "constant",
        "constant-within-child",
        "constant-within-child-shifted",
        "child-plus-wave-shifted",
        "one-school",
        "own-school",
    ],
)
def test_variances_that_cannot_be_told_apart_are_refused(change, school, match):
    data = _small(1, 6, 3, 0.5, n_school=2)
    data = change(data)
    if match == "cannot be told apart":  # one score per child, at two waves
        data = data.assign(wave=np.arange(len(data)) % 2)
    with pytest.raises(M.ModelSpecificationError, match=match):
        _fit_small(data, school=school)


def test_one_child_with_many_waves_and_others_with_one_is_refused():
    # 50 waves of one child and one score of five others: each later wave's dummy fits its
    # one score, so nothing within a child is left for the residual (σ̂² was 1e-15)
    rng = np.random.default_rng(0)
    data = pd.concat([
        pd.DataFrame({"child": 0, "wave": np.arange(50), "score": rng.normal(size=50)}),
        pd.DataFrame({"child": np.arange(1, 6), "wave": 0, "score": rng.normal(size=5)}),
    ])  # fmt: skip
    with pytest.raises(M.ModelSpecificationError, match="cannot be told apart"):
        _fit_small(data)


def _polished_any(rm, ours):
    """RemlModel's profiled deviance minimised by Nelder-Mead from ours and from a spread of
    starts (every component free), the lowest kept."""
    best = ours
    starts = [ours] + [
        {**{k: r for k in rm.names}, "residual": 1.0} for r in (1e-3, 0.1, 1.0, 10.0)
    ]
    for s in starts:
        s = {k: (v if v > 0 or k == "residual" else 1e-4 * ours["residual"]) for k, v in s.items()}
        cand = _polished(rm, s)
        if rm.deviance(cand) < rm.deviance(best):
            best = cand
    return best


small_data = dict(
    seed=st.integers(0, 10_000),
    n_child=st.integers(2, 12),
    n_waves=st.integers(2, 4),
    tau=st.sampled_from([0.0, 0.1, 1.0, 10.0]),
    n_school=st.sampled_from([0, 2, 3]),
    missing=st.sampled_from([0.0, 0.3]),
)


def _small_or_skip(seed, n_child, n_waves, tau, n_school, missing):
    from hypothesis import assume

    data = _small(seed, n_child, n_waves, tau, n_school, missing)
    assume(data["wave"].nunique() == n_waves)
    if n_school:
        kids = data.groupby("school")["child"].nunique()
        assume(len(kids) >= 2 and (kids > 1).any())
    # too few scores within children to separate the variances: refused, as tested above
    assume(len(data) - data["child"].nunique() > n_waves - 1)
    return data


@settings(max_examples=40, deadline=None)
@given(**small_data, reml=st.booleans())
def test_small_fits_reach_remlmodels_polished_optimum(
    seed, n_child, n_waves, tau, n_school, missing, reml
):
    data = _small_or_skip(seed, n_child, n_waves, tau, n_school, missing)
    res = _fit_small(data, school=bool(n_school), reml=reml)
    prep = M.prepare(data, "score", "wave", child="child",
                     school="school" if n_school else None)  # fmt: skip
    X = M._design(prep, prep.frame).to_numpy()
    y = prep.frame["_y"].to_numpy()
    groups = {"child": pd.factorize(prep.frame["_child"])[0]}
    if n_school:
        groups = {"school": pd.factorize(prep.frame["_school"])[0], **groups}
    if reml:
        rm = RemlModel(y, X, groups)
        ours = res.variances
        best = _polished_any(rm, ours)
        dev, dev_best = rm.deviance(ours), rm.deviance(best)
        assert dev <= dev_best + 1e-8 * max(1.0, abs(dev_best)), (ours, best)
        assert res.loglik == pytest.approx(-dev / 2, rel=1e-10, abs=1e-10)
        beta, C = rm.fixed(ours)
        np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(res.cov_params.to_numpy(), C, rtol=1e-7, atol=1e-12)
    else:  # ML: the profile's own deviance, against a dense ML log-likelihood
        ours = res.variances
        ml = lambda v: _dense_ml_deviance(y, X, groups, v)  # noqa: E731
        assert -2 * res.loglik == pytest.approx(ml(ours), rel=1e-10)
        for k in ours:
            for f in (0.9, 1.1):
                v = {**ours, k: ours[k] * f if ours[k] > 0 else 1e-3 * ours["residual"]}
                assert ml(v) >= ml(ours) - 1e-8 * abs(ml(ours)), (k, f)


def _dense_ml_deviance(y, X, groups, v):
    """−2 log-likelihood at the ML β̂ for variances v, from the dense V."""
    V = v["residual"] * np.eye(len(y))
    for k, g in groups.items():
        V = V + v[k] * (g[:, None] == g[None, :])
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    r = y - X @ beta
    return float(np.linalg.slogdet(V)[1] + r @ Vi @ r + len(y) * math.log(2 * math.pi))


@settings(max_examples=30, deadline=None)
@given(**small_data, log_c=st.sampled_from([-12, -6, 6, 12]), shift=st.sampled_from([0.0, 1e9]))
def test_small_fits_scale_and_shift_with_the_outcome(
    seed, n_child, n_waves, tau, n_school, missing, log_c, shift
):
    # y → c·y + a: variances × c², slopes × c, intercept × c + a, se × c, df unchanged
    data = _small_or_skip(seed, n_child, n_waves, tau, n_school, missing)
    c = 10.0**log_c
    base = _fit_small(data, school=bool(n_school))
    moved = _fit_small(data.assign(score=data["score"] * c + shift * c), school=bool(n_school))
    total = sum(base.variances.values())
    for k, v in base.variances.items():
        # the searches stop at ~1e-7 of a ratio: 1e-6 of the total variance
        assert moved.variances[k] / c**2 == pytest.approx(v, rel=1e-6, abs=1e-6 * total), k
    fb, fm = base.to_frame(), moved.to_frame()
    est = fm["estimate"].to_numpy() / c
    est[0] -= shift
    np.testing.assert_allclose(est, fb["estimate"], rtol=1e-6, atol=1e-6 * fb["se"].max())
    np.testing.assert_allclose(fm["se"] / c, fb["se"], rtol=1e-6)
    np.testing.assert_allclose(fm["df"], fb["df"], rtol=1e-5)


@pytest.mark.parametrize("offset", [1e3, 1e7, 1e9])
def test_a_covariate_far_from_zero_leaves_the_variances_and_its_slope(offset):
    # x + 1e9 was refused as collinear with the intercept (raw singular values); past that,
    # X'H⁻¹X on raw columns lost 1e-5 of the child variance at x + 1e3, 15% at x + 1e7
    # (with negative df) and raised LinAlgError at x + 1e9
    data = _small(2, 8, 3, 0.5)
    data["x"] = np.repeat(np.random.default_rng(3).normal(size=8), 3)
    base = _fit_small(data, covariates=["x"])
    moved = _fit_small(data.assign(x=data["x"] + offset), covariates=["x"])
    for k, v in base.variances.items():
        assert moved.variances[k] == pytest.approx(v, rel=1e-6), k
    fb, fm = base.to_frame().set_index("term"), moved.to_frame().set_index("term")
    for term in ["wave[1]", "wave[2]", "x"]:
        assert fm.loc[term, "estimate"] == pytest.approx(fb.loc[term, "estimate"], rel=1e-6)
        assert fm.loc[term, "se"] == pytest.approx(fb.loc[term, "se"], rel=1e-6)
        assert fm.loc[term, "df"] == pytest.approx(fb.loc[term, "df"], rel=1e-5)


def test_mixed_cluster_icc_of_singleton_clusters_is_not_estimated():
    # one observation per cluster: V = (τ + σ²)I, any split is an optimum; the profile's
    # preference for zeros made the ICC 0 (the ANOVA estimator gives nan)
    from outcomes.survey import SurveyWarning, cluster_icc

    d = pd.DataFrame({"y": [1.0, 2.0, 3.5, 4.0], "k": [0, 1, 2, 3]})
    with pytest.warns(SurveyWarning, match="cannot be told apart"):
        assert math.isnan(cluster_icc(d, "y", "k", method="mixed"))
    assert math.isnan(cluster_icc(d, "y", "k"))
