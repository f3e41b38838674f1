"""How much the answer depends on the inputs: one-way (tornado) and probabilistic sensitivity.

A *model* is any function of keyword inputs returning one number (net present value, cost
per outcome...). One-way analysis moves each input alone from its low to its high value with
the others at base; probabilistic analysis draws every input from its distribution at once
(Monte Carlo, seeded) and reports the spread of the result and the probability that it
exceeds a threshold (e.g. P(NPV > 0), the probability that benefits exceed costs).

Distributions are scipy frozen distributions or mappings: ``{"dist": "normal", "mean", "sd"}``,
``{"dist": "uniform", "low", "high"}``, ``{"dist": "triangular", "low", "mode", "high"}``,
``{"dist": "gamma", "mean", "sd"}`` (costs: positive, skewed), ``{"dist": "beta", "mean",
"sd"}`` (shares), ``{"dist": "lognormal", "mean", "sd"}`` (mean and SD on the natural scale).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import stats

from .._internal.params import (
    COUNT,
    FINITE,
    PROBABILITY,
    TEXT,
    HasMethods,
    Interval,
    check_value,
    validate_params,
)
from .._internal.text import shown, unknown
from ..errors import OutcomesError

__all__ = ["OneWayResult", "PSAResult", "distribution", "one_way", "probabilistic"]

_DISTS = {
    "normal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "gamma": ("mean", "sd"),
    "beta": ("mean", "sd"),
    "lognormal": ("mean", "sd"),
}


@validate_params(
    {
        "spec": [Mapping, HasMethods(["rvs", "mean"], "a scipy distribution")],
        "name": TEXT,
    }
)
def distribution(spec: Mapping | object, name: str = "input"):
    """A scipy frozen distribution from a spec mapping (or the frozen distribution itself).

    Example:
        >>> d = distribution({"dist": "gamma", "mean": 2000, "sd": 500})
        >>> round(d.mean()), round(d.std())
        (2000, 500)
    """
    if hasattr(spec, "rvs") and hasattr(spec, "mean"):
        return spec
    if not isinstance(spec, Mapping) or "dist" not in spec:
        raise OutcomesError(
            f"{name}: a distribution is a mapping with 'dist' or a scipy one, got {shown(spec)}"
        )
    kind = spec["dist"]
    if kind not in _DISTS:
        raise OutcomesError(f"{name}: {unknown('distribution', kind, _DISTS)}")
    need = _DISTS[kind]
    extra = sorted(set(spec) - {"dist", *need})
    missing = [k for k in need if k not in spec]
    if missing or extra:
        raise OutcomesError(f"{name}: {kind} takes {list(need)}; missing {missing}, extra {extra}")
    p = {k: check_value(f"{name}.{k}", spec[k], FINITE) for k in need}
    if kind == "normal":
        if p["sd"] < 0:
            raise OutcomesError(f"{name}.sd must be >= 0, got {p['sd']!r}")
        return stats.norm(p["mean"], p["sd"])
    if kind == "uniform":
        if p["high"] < p["low"]:
            raise OutcomesError(f"{name}: high {p['high']!r} must not be below low {p['low']!r}")
        return stats.uniform(p["low"], p["high"] - p["low"])
    if kind == "triangular":
        lo, mode, hi = p["low"], p["mode"], p["high"]
        if not (lo <= mode <= hi) or hi == lo:
            raise OutcomesError(f"{name}: need low <= mode <= high with low < high")
        return stats.triang((mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    mean, sd = p["mean"], p["sd"]
    if sd <= 0:
        raise OutcomesError(f"{name}.sd must be > 0, got {sd!r}")
    if kind == "gamma":
        if mean <= 0:
            raise OutcomesError(f"{name}.mean must be > 0 for a gamma distribution, got {mean!r}")
        shape = (mean / sd) ** 2  # method of moments: mean = k theta, var = k theta^2
        return stats.gamma(shape, scale=sd**2 / mean)
    if kind == "beta":
        if not (0 < mean < 1) or sd**2 >= mean * (1 - mean):
            raise OutcomesError(
                f"{name}: a beta needs 0 < mean < 1 and sd^2 < mean(1 - mean), got mean "
                f"{mean!r} and sd {sd!r}"
            )
        common = mean * (1 - mean) / sd**2 - 1
        return stats.beta(mean * common, (1 - mean) * common)
    if mean <= 0:
        raise OutcomesError(f"{name}.mean must be > 0 for a lognormal distribution, got {mean!r}")
    sigma2 = np.log(1 + (sd / mean) ** 2)
    return stats.lognorm(np.sqrt(sigma2), scale=mean * np.exp(-sigma2 / 2))


def _call(model: Callable[..., float], inputs: Mapping[str, float], where: str) -> float:
    """The model's result at ``inputs``; ``where`` says which evaluation, for messages."""
    value = model(**inputs)
    if isinstance(value, bool | np.bool_):
        raise OutcomesError(
            f"the model must return one number, returned {value!r} {where} (True is not 1)"
        )
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        out = None
    if out is None or not np.isfinite(out):
        raise OutcomesError(
            f"the model must return one finite number, returned {shown(value)} {where}"
        )
    return out


def _check_inputs(model: Callable[..., float], names: list[str], what: str) -> None:
    """Refuse an input the model does not take (with a did-you-mean) or a model input given
    no value, before the model runs: its own TypeError would not say which."""
    try:
        params = inspect.signature(model).parameters.values()
    except (TypeError, ValueError):  # a builtin or C function: let the call itself fail
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    takes = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for name in names:
        if name not in takes:
            raise OutcomesError(f"{what}: {unknown('model input', name, takes)}")
    needed = [
        p.name
        for p in params
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in names
    ]
    if needed:
        raise OutcomesError(f"{what}: give a value for the model input(s) {needed}")


@dataclass
class OneWayResult:
    """Each input moved alone from low to high: the result at both ends and the swing."""

    table: pd.DataFrame
    base_value: float
    outcome: str

    def to_frame(self) -> pd.DataFrame:
        """``input, base, low, high, result_low, result_high, swing``, widest swing first."""
        return self.table.copy()

    def summary(self) -> str:
        """The inputs the result depends on most."""
        top = self.table.head(3)
        parts = [
            f"{r.input} ({r.result_low:,.0f} to {r.result_high:,.0f})"
            for r in top.itertuples(index=False)
        ]
        return (
            f"{self.outcome} at base values: {self.base_value:,.0f}. It depends most on "
            + "; ".join(parts)
            + "."
        )

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Tornado plot: one bar per input from the result at its low to its high value."""
        import matplotlib.pyplot as plt

        t = self.table.iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.45 * len(t) + 1.2))
        y = np.arange(len(t))
        lo = np.minimum(t["result_low"], t["result_high"])
        hi = np.maximum(t["result_low"], t["result_high"])
        ax.barh(y, hi - lo, left=lo, color="#4c78a8")
        ax.axvline(self.base_value, color="black", lw=1)
        ax.set_yticks(y, t["input"])
        ax.set_xlabel(self.outcome)
        ax.set_title("One-way sensitivity (tornado)")
        return ax


@validate_params(
    {
        "model": "callable",
        "base": Mapping,
        "ranges": Mapping,
        "outcome": TEXT,
    }
)
def one_way(
    model: Callable[..., float],
    base: Mapping[str, float],
    ranges: Mapping[str, tuple[float, float]],
    *,
    outcome: str = "result",
) -> OneWayResult:
    """One-way sensitivity: move each input in ``ranges`` alone between its low and high.

    Example:
        Net benefit = n x value - cost; n from 10 to 30 swings it by 20 x 500:

        >>> r = one_way(lambda n, value, cost: n * value - cost,
        ...             {"n": 20, "value": 500, "cost": 8000},
        ...             {"n": (10, 30), "cost": (6000, 9000)})
        >>> r.to_frame()[["input", "swing"]].values.tolist()
        [['n', 10000.0], ['cost', 3000.0]]
    """
    base = {k: check_value(f"base[{shown(k)}]", v, FINITE) for k, v in base.items()}
    for name in ranges:
        if name not in base:
            raise OutcomesError(f"ranges: {unknown('input', name, base)}")
    _check_inputs(model, list(base), "base")
    base_value = _call(model, base, "at the base values")
    rows = []
    for name, pair in ranges.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise OutcomesError(f"ranges[{name!r}] must be a (low, high) pair")
        lo, hi = (
            check_value(f"ranges[{name!r}] low", pair[0], FINITE),
            check_value(f"ranges[{name!r}] high", pair[1], FINITE),
        )
        if lo > hi:
            raise OutcomesError(f"ranges[{name!r}]: low {lo} is above high {hi}")
        r_lo = _call(model, {**base, name: lo}, f"with {name} at its low value {lo!r}")
        r_hi = _call(model, {**base, name: hi}, f"with {name} at its high value {hi!r}")
        rows.append({"input": name, "base": base[name], "low": lo, "high": hi,
                     "result_low": r_lo, "result_high": r_hi, "swing": abs(r_hi - r_lo)})  # fmt: skip
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable")
    return OneWayResult(table.reset_index(drop=True), base_value, outcome)


@dataclass
class PSAResult:
    """Monte Carlo draws of the inputs and the result."""

    draws: pd.DataFrame
    threshold: float
    confidence: float
    outcome: str

    @property
    def values(self) -> np.ndarray:
        return self.draws["result"].to_numpy()

    @property
    def prob_above(self) -> float:
        """Share of draws whose result exceeds the threshold (P(NPV > 0) for a CBA)."""
        return float(np.mean(self.values > self.threshold))

    def to_frame(self) -> pd.DataFrame:
        """One row: ``mean, sd, ci_low, ci_high, prob_above, threshold, n_draws``."""
        a = (1 - self.confidence) / 2
        v = self.values
        return pd.DataFrame([{
            "mean": v.mean(), "sd": v.std(ddof=1), "ci_low": np.quantile(v, a),
            "ci_high": np.quantile(v, 1 - a), "prob_above": self.prob_above,
            "threshold": self.threshold, "n_draws": len(v),
        }])  # fmt: skip

    def summary(self) -> str:
        """The result's spread and the probability that it exceeds the threshold."""
        r = self.to_frame().iloc[0]
        pct = int(round(self.confidence * 100))
        return (
            f"{self.outcome}: mean {r['mean']:,.0f} ({pct}% of draws between {r.ci_low:,.0f} "
            f"and {r.ci_high:,.0f}); probability above {self.threshold:,.0f}: "
            f"{self.prob_above:.0%} ({int(r.n_draws)} draws)."
        )

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Histogram of the result with the threshold marked."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.hist(self.values, bins=50, color="#4c78a8")
        ax.axvline(self.threshold, color="black", lw=1)
        ax.set_xlabel(self.outcome)
        ax.set_ylabel("Draws")
        ax.set_title("Probabilistic sensitivity")
        return ax


@validate_params(
    {
        "model": "callable",
        "inputs": Mapping,
        "n_draws": Interval(Integral, 100, None),
        "seed": COUNT,
        "threshold": FINITE,
        "confidence": PROBABILITY,
        "outcome": TEXT,
    }
)
def probabilistic(
    model: Callable[..., float],
    inputs: Mapping[str, object],
    *,
    n_draws: int = 5000,
    seed: int = 0,
    threshold: float = 0.0,
    confidence: float = 0.95,
    outcome: str = "result",
) -> PSAResult:
    """Probabilistic sensitivity analysis: draw every input, evaluate the model per draw.

    ``inputs`` maps each model input to a number (fixed) or a distribution (see the module
    docstring).

    Example:
        NPV = benefit - cost with benefit ~ Normal(12000, 3000) and cost fixed at 10000:
        P(NPV > 0) = Phi(2000 / 3000) = 0.75.

        >>> r = probabilistic(lambda benefit, cost: benefit - cost,
        ...     {"benefit": {"dist": "normal", "mean": 12000, "sd": 3000}, "cost": 10000},
        ...     n_draws=20000, seed=1)
        >>> round(r.prob_above, 2)
        0.75
    """
    threshold = float(threshold)
    _check_inputs(model, list(inputs), "inputs")
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for name, spec in inputs.items():
        if isinstance(spec, bool | np.bool_ | str) or spec is None:
            # True is not 1 and text is not a number: neither is a value or a distribution
            raise OutcomesError(
                f"inputs[{shown(name)}] must be a finite number or a distribution, "
                f"got {shown(spec)}"
            )
        if isinstance(spec, int | float | np.number):
            cols[name] = np.full(n_draws, check_value(f"inputs[{shown(name)}]", spec, FINITE))
        else:
            cols[name] = np.asarray(distribution(spec, name).rvs(size=n_draws, random_state=rng))
    draws = pd.DataFrame(cols)
    records = draws.to_dict("records")
    draws["result"] = [
        _call(model, r, f"for draw {k} ({shown(r, 80)})") for k, r in enumerate(records)
    ]
    return PSAResult(draws, threshold, confidence, outcome)
