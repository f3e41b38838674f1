"""Multiple imputation: Rubin's rules by hand and against statsmodels; MAR recovery."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import outcomes as oc
from outcomes.errors import DataStructureError, OutcomesError
from outcomes.longitudinal.imputation import (
    TABLE_COLUMNS,
    ImputationResult,
    impute_change,
    pool_rubin,
)


def simulate_mar(seed: int, n: int = 200) -> pd.DataFrame:
    """Baseline/6/12 months, true change -4 at 12 months; dropout MAR given baseline."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0, 4, n)
    means = {0: 20.0, 6: 17.0, 12: 16.0}
    y = {w: mu + b + rng.normal(0, 4, n) for w, mu in means.items()}
    z = (y[0] - 20) / np.sqrt(32)
    miss6 = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * z)))
    miss12 = miss6 | (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.5 * z))))
    y[6] = np.where(miss6, np.nan, y[6])
    y[12] = np.where(miss12, np.nan, y[12])
    sex = rng.choice(["f", "m"], n)
    return pd.concat(
        [
            pd.DataFrame({"child": np.arange(n), "wave": w, "score": y[w], "sex": sex})
            for w in means
        ],
        ignore_index=True,
    )


# ----------------------------------------------------------------------------- Rubin's rules
def test_pool_rubin_by_hand():
    # Q = (1, 2, 3), U = (1, 1, 1), m = 3: Qbar = 2, W = 1, B = 1, T = 1 + (4/3) 1 = 7/3,
    # lambda = (4/3) / (7/3) = 4/7, r = 4/3, nu_old = (m - 1) / lambda^2 = 2 * 49/16 = 49/8.
    r = pool_rubin([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    assert r["estimate"] == 2.0
    assert r["total"] == pytest.approx(7 / 3)
    assert r["se"] == pytest.approx(np.sqrt(7 / 3))
    assert r["lambda"] == pytest.approx(4 / 7)
    assert r["riv"] == pytest.approx(4 / 3)
    assert r["df"] == pytest.approx(49 / 8)
    # fmi = (r + 2/(nu + 3)) / (r + 1) = (4/3 + 16/73) / (7/3) = 1020/1533
    assert r["fmi"] == pytest.approx(1020 / 1533)
    crit = stats.t.ppf(0.975, 49 / 8)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(
        (2 - crit * np.sqrt(7 / 3), 2 + crit * np.sqrt(7 / 3))
    )
    assert r["p"] == pytest.approx(2 * stats.t.sf(2 / np.sqrt(7 / 3), 49 / 8))


def test_pool_rubin_barnard_rubin_df_by_hand():
    # nu_com = 10: nu_obs = (11/13) * 10 * (1 - 4/7) = 330/91;
    # nu = nu_old nu_obs / (nu_old + nu_obs) = (49/8)(330/91) / (49/8 + 330/91) = 16170/7099.
    r = pool_rubin([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], df_complete=10)
    assert r["df"] == pytest.approx(16170 / 7099)
    assert r["df"] < 10  # never more than the complete-data df


def test_pool_rubin_without_between_variance():
    r = pool_rubin([5.0] * 4, [0.25] * 4)
    assert (r["between"], r["lambda"], r["se"]) == (0.0, 0.0, 0.5)
    assert np.isinf(r["df"])
    assert r["ci_high"] == pytest.approx(5 + stats.norm.ppf(0.975) * 0.5)
    # With a finite complete-data df: nu = nu_obs = (21/23) * 20.
    assert pool_rubin([5.0] * 4, [0.25] * 4, df_complete=20)["df"] == pytest.approx(420 / 23)


def test_pool_rubin_matches_statsmodels_mice_combine():
    import statsmodels.api as sm
    from statsmodels.imputation.mice import MICE, MICEData

    rng = np.random.default_rng(8)
    x = rng.normal(size=120)
    y = 1 + 0.5 * x + rng.normal(size=120)
    y[rng.random(120) < 0.3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mice = MICE("y ~ x", sm.OLS, MICEData(pd.DataFrame({"y": y, "x": x}), rng=3), n_skip=0)
        pooled_sm = mice.fit(n_burnin=3, n_imputations=6)
    for j in range(2):
        est = [float(r.params.iloc[j]) for r in mice.results_list]
        var = [float(r.bse.iloc[j]) ** 2 for r in mice.results_list]
        ours = pool_rubin(est, var)
        assert ours["estimate"] == pytest.approx(float(pooled_sm.params[j]), rel=1e-12)
        assert ours["se"] == pytest.approx(float(pooled_sm.bse[j]), rel=1e-9)
        assert ours["lambda"] == pytest.approx(float(pooled_sm.frac_miss_info[j]), rel=1e-9)


def test_pool_rubin_bad_input():
    with pytest.raises(OutcomesError, match="at least two"):
        pool_rubin([1.0], [1.0])
    with pytest.raises(OutcomesError, match="same length"):
        pool_rubin([1.0, 2.0], [1.0])
    with pytest.raises(OutcomesError, match="variances >= 0"):
        pool_rubin([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(OutcomesError, match="df_complete"):
        pool_rubin([1.0, 2.0], [1.0, 1.0], df_complete=0)


# ----------------------------------------------------------------------------- must-show
def test_programme_multiple_imputation_recovers_truth():
    """Synthetic programme, follow-up MAR given baseline HoNOSCA (strength 1.5, seed 0)."""
    from outcomes.synthetic import simulate_programme

    data = simulate_programme(seed=0, n_schools=30, dropout_strength=1.5, truth_mc_size=0)
    ref = data.referrals
    closed = set(ref.loc[ref["discharge_date"].notna() & (ref["n_contacts"] >= 2), "referral_id"])
    scores = oc.score(data.responses["honosca"], "honosca")
    scores = scores[scores["referral_id"].isin(closed)]
    truth = data.truth.change("honosca", "total")
    res = impute_change(
        scores,
        "total",
        "wave",
        person_id="referral_id",
        waves=["assessment", "review", "discharge"],
        m=5,
        cycles=5,
        mixed=False,
        seed=1,
    )
    t = res.table.set_index("analysis")
    comp = t.loc["completers: paired t"]
    mi = t.loc["multiple imputation: OLS (MICE)"]
    # Seed 0 (simulator as of ad62823): truth -3.16; completers -2.27 (95% CI -2.78 to
    # -1.75); MI -3.22 (95% CI -3.80 to -2.64). Stated tolerances: the completers' CI misses
    # the truth and is more than 0.5 points off; MI is within 0.6 points, nearer the truth,
    # and its 95% CI covers it.
    assert not comp["ci_low"] <= truth <= comp["ci_high"]
    assert abs(comp["estimate"] - truth) > 0.5
    assert abs(mi["estimate"] - truth) < 0.6
    assert abs(mi["estimate"] - truth) < abs(comp["estimate"] - truth)
    assert mi["ci_low"] < truth < mi["ci_high"]
    # Only children with a baseline score are analysed; the rest are counted.
    assert res.excluded["children without a baseline score"] > 0


@pytest.fixture(scope="module")
def small_result() -> ImputationResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return impute_change(
            simulate_mar(seed=21, n=80),
            "score",
            "wave",
            person_id="child",
            covariates=["sex"],
            m=4,
            cycles=3,
            seed=5,
        )


def test_four_analyses_side_by_side(small_result):
    t = small_result.to_frame()
    assert list(t.columns) == TABLE_COLUMNS
    assert t["analysis"].tolist() == [
        "completers: paired t",
        "all available: mixed model",
        "multiple imputation: OLS (MICE)",
        "multiple imputation: mixed model",
    ]
    assert t["n_children"].tolist()[1:] == [80, 80, 80]
    assert t["n_children"].iloc[0] == t["n_followup_observed"].iloc[0]
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    assert t["m"].tolist()[2:] == [4, 4]
    assert (t["fmi"].iloc[2:] > 0).all()


def test_completers_row_is_the_paired_t():
    data = simulate_mar(seed=21, n=80)
    wide = data.pivot(index="child", columns="wave", values="score")
    d = (wide[12] - wide[0]).dropna()
    ref = stats.ttest_rel(wide.loc[d.index, 12], wide.loc[d.index, 0])
    res = impute_change(data, "score", "wave", person_id="child", m=2, cycles=1, mixed=False)
    row = res.table.iloc[0]
    ci = ref.confidence_interval()
    assert row["estimate"] == pytest.approx(d.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert row["p"] == pytest.approx(ref.pvalue)
    assert row["df"] == len(d) - 1


def test_mixed_model_on_complete_imputed_data_equals_mean_change():
    # Each imputed dataset is complete and balanced with no covariates, so the mixed model's
    # change is the mean paired difference: pooled MI-mixed = pooled MI-OLS estimate.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = impute_change(
            simulate_mar(seed=22, n=60), "score", "wave", person_id="child", m=3, cycles=2
        )
    t = res.table.set_index("analysis")["estimate"]
    assert t["multiple imputation: mixed model"] == pytest.approx(
        t["multiple imputation: OLS (MICE)"], abs=1e-6
    )


def test_imputations_keep_observed_values(small_result):
    data = simulate_mar(seed=21, n=80)
    wide = data.pivot(index="child", columns="wave", values="score")
    assert len(small_result.imputations) == 4
    for imp in small_result.imputations:
        imp = imp.set_index("child")
        observed = wide[12].notna().to_numpy()
        assert np.allclose(imp["y2"].to_numpy()[observed], wide[12].to_numpy()[observed])
        assert imp[["y0", "y1", "y2"]].notna().all().all()
        assert "c0_0" in imp.columns  # sex as a 0/1 column in the imputation model
    # Independent chains: the imputed datasets differ.
    a, b = (small_result.imputations[k]["y2"].to_numpy() for k in (0, 1))
    assert not np.allclose(a, b)


def test_pmm_imputes_observed_values():
    data = simulate_mar(seed=26, n=60)
    res = impute_change(
        data, "score", "wave", person_id="child", m=2, cycles=2, method="pmm", mixed=False
    )
    observed = set(data.loc[data["wave"] == 12, "score"].dropna())
    for imp in res.imputations:
        assert set(imp["y2"]) <= observed


def test_norm_draws_follow_the_regression():
    from outcomes.longitudinal.imputation import _norm_draw

    # y = 2 + 3 x + N(0, 1); imputing at x = 0 should give mean 2 and SD 1 (the draws of
    # beta and sigma^2 add a little spread: var = 1 + var(intercept) ~ 1 + 1/4000).
    rng = np.random.default_rng(0)
    x = rng.normal(size=4000)
    X = np.column_stack([np.ones_like(x), x])
    y = 2 + 3 * x + rng.normal(size=4000)
    draws = _norm_draw(y, X, np.column_stack([np.ones(20000), np.zeros(20000)]), rng)
    assert draws.mean() == pytest.approx(2, abs=0.05)
    assert draws.std() == pytest.approx(1, abs=0.03)


def test_same_seed_same_answer():
    data = simulate_mar(seed=23, n=50)
    kw = dict(person_id="child", m=2, cycles=1, mixed=False)
    a = impute_change(data, "score", "wave", seed=9, **kw).table
    b = impute_change(data, "score", "wave", seed=9, **kw).table
    c = impute_change(data, "score", "wave", seed=10, **kw).table
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[1, "estimate"] != c.loc[1, "estimate"]


def test_summary_and_plot(small_result):
    text = small_result.summary()
    assert "completers: paired t (n = " in text and "multiple imputation" in text
    assert "missing at random" in text
    ax = small_result.plot()
    where = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert max(where, key=where.get) == "completers: paired t"  # listed first, at the top


def test_missing_covariate_children_left_out_and_counted():
    data = simulate_mar(seed=24, n=50)
    data.loc[data["child"].isin([0, 1, 2]), "sex"] = np.nan
    res = impute_change(
        data,
        "score",
        "wave",
        person_id="child",
        covariates=["sex"],
        m=2,
        cycles=1,
        mixed=False,
    )
    assert res.excluded["children left out for a missing covariate"] == 3
    assert res.table.loc[1, "n_children"] == 47


def test_bad_input():
    data = simulate_mar(seed=25, n=30)
    with pytest.raises(OutcomesError, match="parameter 'm'"):
        impute_change(data, "score", "wave", person_id="child", m=1)
    with pytest.raises(OutcomesError, match="parameter 'method'.*'norm'"):
        impute_change(data, "score", "wave", person_id="child", method="hotdeck")
    with pytest.raises(OutcomesError, match="cycles"):
        impute_change(data, "score", "wave", person_id="child", cycles=0)
    with pytest.raises(OutcomesError, match="must differ"):
        impute_change(data, "score", "wave", person_id="child", followup=0)
    with pytest.raises(DataStructureError, match="follow-up wave 24"):
        impute_change(data, "score", "wave", person_id="child", followup=24)
    with pytest.raises(DataStructureError, match=r"\['attendance'\] not found"):
        impute_change(data, "score", "wave", person_id="child", auxiliary=["attendance"])
    with pytest.raises(OutcomesError, match="confidence"):
        impute_change(data, "score", "wave", person_id="child", confidence=1.5)
    # Scores at 12 months only for children without a baseline score.
    cut = data[~((data.wave == 12) & data.child.isin(data.loc[data.wave == 0, "child"]))]
    cut = pd.concat([cut, pd.DataFrame({"child": [500], "wave": [12], "score": [3.0]})])
    with pytest.raises(OutcomesError, match=r"no child with a baseline score .* \[12\]"):
        impute_change(cut, "score", "wave", person_id="child")
    with pytest.raises(DataStructureError, match="child 3 at wave 6"):
        impute_change(
            pd.concat([data, data[(data.child == 3) & (data.wave == 6)]]),
            "score",
            "wave",
            person_id="child",
        )


# ----------------------------------------------------------------------------- direct designs
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 40),
    k=st.integers(2, 5),
    ints=st.booleans(),
)
def test_property_direct_designs_are_patsys(seed, n, k, ints):
    # The chain's designs built directly are statsmodels' (patsy's) designs, bit for bit.
    from statsmodels.imputation.mice import MICEData

    from outcomes.longitudinal.imputation import _chain_class

    rng = np.random.default_rng(seed)
    data = pd.DataFrame({f"y{j}": rng.normal(0, 10**j, n) for j in range(k)})
    if ints:
        data["c0"] = rng.integers(-5, 5, n)
    for c in [c for c in data.columns if c != "c0"]:
        data.loc[rng.random(n) < 0.3, c] = np.nan
    data.iloc[0] = data.iloc[0].fillna(1.0)  # every column keeps an observed value
    data.iloc[1] = data.iloc[1].fillna(2.0)
    for method in ("norm", "pmm"):
        direct = _chain_class(method)(data.copy(), k_pmm=1, rng=np.random.default_rng(1))
        patsy = MICEData(data.copy(), k_pmm=1, rng=np.random.default_rng(1))
        for v in data.columns:
            assert direct._direct(v) is not None
            pairs = [
                *zip(direct.get_split_data(v), patsy.get_split_data(v), strict=True),
                *zip(direct.get_fitting_data(v), patsy.get_fitting_data(v), strict=True),
            ]
            for a, b in pairs:
                if isinstance(b, dict):
                    assert a == b
                    continue
                np.testing.assert_array_equal(a, b)
                # the same memory layout too: it sets the rounding of X'X in the fits
                assert a.flags.f_contiguous == b.flags.f_contiguous


def test_direct_designs_give_the_same_imputations(monkeypatch):
    # End to end: the same seed gives the same table with and without the direct designs.
    from outcomes.longitudinal import imputation

    data = simulate_mar(7, n=120)
    data["age"] = np.tile(np.arange(120) % 7 + 10, 3)
    kw = dict(person_id="child", m=3, cycles=3, seed=11, covariates=["age"])
    for method in ("norm", "pmm"):
        fast = impute_change(data, "score", "wave", method=method, **kw)
        cls = imputation._chain_class(method)
        monkeypatch.setattr(cls, "_direct", lambda self, v: None)
        monkeypatch.setattr(imputation, "_chain_class", lambda m, cls=cls: cls)
        slow = impute_change(data, "score", "wave", method=method, **kw)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(fast.table, slow.table)
        for a, b in zip(fast.imputations, slow.imputations, strict=True):
            pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------------- the chains
def _old_chain_class(method):
    """imputation._chain_class before the chains were forked and held as arrays (a copy)."""
    from statsmodels.imputation.mice import MICEData

    from outcomes.longitudinal.imputation import _norm_draw

    class DirectMICEData(MICEData):
        """statsmodels' ``MICEData``; where a variable's conditional model is the default one
        (every other column as a main effect) and every column is a number, its response and
        design are taken from the data directly: statsmodels evaluates the formula with patsy
        on every update (about a third of an imputation's time on the report's demo), and for
        numeric columns patsy's design is the intercept then the columns in formula order,
        the same numbers."""

        def _direct(self, vname: str) -> tuple[np.ndarray, np.ndarray] | None:
            """The response and the design transposed (one row per term), or None."""
            others = [c for c in self.data.columns if c != vname]
            if self.conditional_formula[vname] != vname + " ~ " + " + ".join(others):
                return None
            dtypes = list(self.data.dtypes)
            # patsy makes booleans and text categorical; extension dtypes are left to it
            if not all(isinstance(d, np.dtype) and d.kind in "fiu" for d in dtypes):
                return None
            # by column, as pandas holds a float block: patsy's designs reach the fits as
            # column-major arrays, and a row-major copy changes the rounding of X'X
            values = np.array([self.data[c].to_numpy(dtype=float) for c in self.data.columns])
            if np.isnan(values).any():  # patsy would drop the row
                return None
            j = self.data.columns.get_loc(vname)
            design = np.empty((len(others) + 1, values.shape[1]))
            design[0] = 1.0
            design[1:] = np.delete(values, j, axis=0)
            return values[j], design

        def get_split_data(self, vname):
            direct = self._direct(vname)
            if direct is None or vname in self.predict_kwds:
                return super().get_split_data(vname)
            endog, design = direct
            ixo, ixm = self.ix_obs[vname], self.ix_miss[vname]
            take = design.take  # C order (fancy indexing need not be), so its .T is column-major
            return endog[ixo][:, None], take(ixo, axis=1).T, take(ixm, axis=1).T, {}, {}

        def get_fitting_data(self, vname):
            direct = self._direct(vname)
            if direct is None or self.init_kwds[vname] or self.fit_kwds[vname]:
                return super().get_fitting_data(vname)
            endog, design = direct
            ix = self.ix_obs[vname]
            return endog[ix], design.take(ix, axis=1).T, {}, {}

    if method != "norm":
        return DirectMICEData

    class NormMICEData(DirectMICEData):
        """statsmodels' chained equations with Bayesian normal draws in place of PMM."""

        def update(self, vname):
            y_obs, x_obs, x_miss, _, _ = self.get_split_data(vname)
            if len(x_miss) == 0:
                return
            vals = _norm_draw(
                np.asarray(y_obs, float).ravel(),
                np.asarray(x_obs, float),
                np.asarray(x_miss, float),
                self.rng,
            )
            self._store_changes(vname, vals)

    return NormMICEData


def _old_chains(to_impute, f, b, *, method, m, cycles, donors, seed):
    """impute_change's chains before _impute_chains (a copy): a MICEData per chain and the
    analysis model through MICE.next_sample."""
    from statsmodels.imputation.mice import MICE
    from statsmodels.regression.linear_model import OLS

    n = len(to_impute)
    chain_class = _old_chain_class(method)
    datasets, fits = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for stream in np.random.SeedSequence(seed).spawn(m):
            imp = chain_class(
                to_impute, k_pmm=max(1, min(donors, n - 1)), rng=np.random.default_rng(stream)
            )
            fits.append(MICE(f"I({f} - {b}) ~ 1", OLS, imp, n_skip=cycles - 1).next_sample())
            datasets.append(imp.data.copy())
    ests = [float(r.params.iloc[0]) for r in fits]
    vars_ = [float(r.bse.iloc[0]) ** 2 for r in fits]
    return datasets, ests, vars_, {str(c.message).split(chr(10))[0] for c in caught}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 40),
    waves=st.integers(2, 4),
    covariate=st.sampled_from([None, "float", "int", "missing"]),
    method=st.sampled_from(["norm", "pmm"]),
    m=st.integers(2, 4),
    cycles=st.integers(1, 4),
)
def test_property_chains_are_the_old_chains(seed, n, waves, covariate, method, m, cycles):
    # Forked chains, held as arrays, with the analysis model fitted directly: the same
    # imputed data, estimates and variances, bit for bit, as a MICEData and MICE per chain.
    from outcomes.longitudinal.imputation import _impute_chains

    rng = np.random.default_rng(seed)
    data = pd.DataFrame({f"y{j}": rng.normal(20 - j, 4, n) for j in range(waves)})
    for j in range(1, waves):
        data.loc[rng.random(n) < 0.4, f"y{j}"] = np.nan
        data.loc[rng.integers(0, n), f"y{j}"] = 1.5  # every wave keeps an observed score
    if covariate == "float":
        data["c0"] = rng.normal(0, 1, n)
    elif covariate == "int":
        data["c0"] = rng.integers(0, 3, n)
    elif covariate == "missing":  # a covariate imputed too
        data["c0"] = np.where(rng.random(n) < 0.3, np.nan, rng.normal(0, 1, n))
        data.loc[0, "c0"] = 0.5
    f = f"y{waves - 1}"
    kw = dict(method=method, m=m, cycles=cycles, donors=5, seed=seed % 1000)
    try:
        old = _old_chains(data, f, "y0", **kw)
    except (np.linalg.LinAlgError, ValueError) as e:  # too few children for a fit
        with pytest.raises(type(e)):
            _impute_chains(data, f, "y0", **kw)
        return
    new = _impute_chains(data, f, "y0", **kw)
    assert new[1] == old[1] and new[2] == old[2]
    assert new[3] == old[3]
    for a, b in zip(new[0], old[0], strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_forked_chains_keep_their_own_state():
    # A fork's updates leave the chain it came from (and the other forks) as they were.
    from outcomes.longitudinal.imputation import _chain_class

    data = pd.DataFrame({"y0": [1.0, 2, 3, 4, 5], "y1": [1.5, np.nan, 2.5, np.nan, 6]})
    for method in ("norm", "pmm"):
        start = _chain_class(method)(data, k_pmm=2)
        before = start.data.copy()
        one = start.fork(np.random.default_rng(1))
        two = start.fork(np.random.default_rng(1))
        one.update_all(3)
        pd.testing.assert_frame_equal(start.data, before)
        pd.testing.assert_frame_equal(two.data, before)
        assert start.models == {} and start.results == {}
        two.update_all(3)
        pd.testing.assert_frame_equal(one.data, two.data)
