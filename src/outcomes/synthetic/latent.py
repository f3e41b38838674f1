"""The latent-response item model: every simulated questionnaire answer comes from here.

Each item is an ordinal variable cut from a continuous response propensity

    y*_ij = lambda_j * theta_i,d(j) + sqrt(1 - lambda_j**2) * e_ij,    e_ij ~ N(0, 1)
    Y_ij  = number of thresholds c_j1 < ... < c_jK that y*_ij exceeds

(the normal-ogive graded response model in its "underlying variable" form; Muthen 1984,
Psychometrika 49:115). ``theta`` is the respondent's latent trait on the item's dimension
``d(j)``, standardised so that ``y*`` is N(0, 1) when theta is. The thresholds are chosen from
the marginal proportions we want when theta ~ N(0, 1): c_jk = Phi^-1(1 - P(Y_j >= k)). The
loading ``lambda_j`` sets how strongly items hang together: the latent (polychoric)
correlation of two items on one dimension is lambda_i * lambda_j, which is what gives a scale
its internal consistency. Everything is vectorised over respondents and items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .._internal.params import COUNT, ArrayLike, validate_params


@dataclass(frozen=True)
class ItemBlock:
    """Parameters of a set of items answered together (one questionnaire or section).

    ``dims`` gives, per item, the column of the latent matrix it loads on; ``props[j]`` the
    target marginal P(Y >= k), k = 1..K_j, at theta ~ N(0, 1) (decreasing; shorter rows are
    padded so the item simply has fewer categories); ``offset`` is added to the count of
    thresholds passed (e.g. 1 for items coded 1-5); ``reverse`` items are reported as
    ``K - Y`` (the questionnaire's reverse-keyed wording: a high trait gives a low code).
    """

    ids: tuple[str, ...]
    dims: tuple[int, ...]
    loadings: tuple[float, ...]
    props: tuple[tuple[float, ...], ...]
    offset: int = 0
    reverse: tuple[bool, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not (len(self.dims) == len(self.loadings) == len(self.props) == n):
            raise ValueError("ItemBlock: ids, dims, loadings and props differ in length")
        for j, p in enumerate(self.props):
            arr = np.asarray(p, dtype=float)
            if np.any(arr <= 0) or np.any(arr >= 1) or np.any(np.diff(arr) > 0):
                raise ValueError(f"ItemBlock item {self.ids[j]!r}: props must fall within (0, 1)")
        if any(not 0 <= abs(a) < 1 for a in self.loadings):
            raise ValueError("ItemBlock: loadings must lie in (-1, 1)")

    @cached_property
    def thresholds(self) -> np.ndarray:
        """(items x max categories-1) thresholds, padded with +inf."""
        k = max(len(p) for p in self.props)
        out = np.full((len(self.ids), k), np.inf)
        for j, p in enumerate(self.props):
            out[j, : len(p)] = stats.norm.ppf(1 - np.asarray(p, dtype=float))
        return out

    @cached_property
    def n_categories(self) -> np.ndarray:
        return np.array([len(p) for p in self.props])

    @validate_params(
        {
            "theta": np.ndarray,
            "rng": np.random.Generator,
            "noise": [np.ndarray, None],
        }
    )
    def sample(
        self, theta: np.ndarray, rng: np.random.Generator, *, noise: np.ndarray | None = None
    ) -> np.ndarray:
        """Integer codes, shape (respondents, items), from a latent matrix ``theta``.

        ``noise`` (respondents x items, standard normal) replaces the fresh item-specific
        draws, e.g. to make a respondent's ratings of one item correlated over occasions.
        """
        return ordinal_responses(
            theta[:, list(self.dims)],
            np.asarray(self.loadings, dtype=float),
            self.thresholds,
            rng,
            offset=self.offset,
            reverse=self.reverse,
            n_categories=self.n_categories,
            noise=noise,
        )


@validate_params(
    {
        "theta": np.ndarray,
        "loadings": np.ndarray,
        "thresholds": np.ndarray,
        "rng": np.random.Generator,
        "offset": COUNT,
        "reverse": [ArrayLike(), None],
        "n_categories": [np.ndarray, None],
        "noise": [np.ndarray, None],
    }
)
def ordinal_responses(
    theta: np.ndarray,
    loadings: np.ndarray,
    thresholds: np.ndarray,
    rng: np.random.Generator,
    *,
    offset: int = 0,
    reverse: Sequence[bool] | None = None,
    n_categories: np.ndarray | None = None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Codes from the underlying-variable model; ``theta`` is (n, items), one column per item.

    ``noise`` is the item-specific part e (standard normal, shape (n, items)); by default it
    is drawn fresh from ``rng``, and when given nothing is drawn.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> th = rng.standard_normal((50_000, 1))
        >>> y = ordinal_responses(th, np.array([0.6]), np.array([[0.0, 1.0]]), rng)
        >>> round(float((y >= 1).mean()), 2), round(float((y >= 2).mean()), 2)  # 1-Phi(0), 1-Phi(1)
        (0.5, 0.16)
    """
    n, j = theta.shape
    if noise is None:
        noise = rng.standard_normal((n, j))
    elif noise.shape != (n, j):
        raise ValueError(f"noise has shape {noise.shape}, expected {(n, j)}")
    ystar = theta * loadings + np.sqrt(1.0 - loadings**2) * noise
    # one threshold column at a time: the (n, items, thresholds) comparison cube of a single
    # broadcast was the simulator's largest cost at a million pupils
    codes = np.zeros((n, j), dtype=np.int64)
    for c in range(thresholds.shape[1]):
        codes += ystar > thresholds[:, c]
    if reverse is not None and any(reverse):
        k = n_categories if n_categories is not None else np.isfinite(thresholds).sum(axis=1)
        rev = np.asarray(reverse, dtype=bool)
        codes = np.where(rev, k - codes, codes)
    return codes + offset


def correlated_normal(n: int, corr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """n draws from N(0, corr); corr must be a valid correlation matrix."""
    chol = np.linalg.cholesky(np.asarray(corr, dtype=float))
    return rng.standard_normal((n, chol.shape[0])) @ chol.T


def calibrate_intercept(linear: np.ndarray, target: float) -> float:
    """The intercept a with mean(expit(a + linear)) == target, so a logistic selection model
    hits a chosen overall rate whatever its covariate effects (Brent's method)."""
    linear = np.asarray(linear, dtype=float)
    if target <= 0:
        return -np.inf
    if target >= 1:
        return np.inf
    if linear.size == 0:
        return float(special.logit(target))
    f = lambda a: float(special.expit(a + linear).mean()) - target  # noqa: E731
    # bracket: a logit beyond the covariates' own range pins the mean near 0 or 1
    lo = float(special.logit(target)) - float(np.abs(linear).max()) - 1.0
    hi = float(special.logit(target)) + float(np.abs(linear).max()) + 1.0
    if f(lo) > 0 or f(hi) < 0:  # rates so extreme that expit underflows
        return float(special.logit(target) - linear.mean())
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


def standardise(x: np.ndarray) -> np.ndarray:
    """(x - mean) / sd, ignoring NaN; NaN becomes 0 (the mean) and a constant column 0."""
    x = np.asarray(x, dtype=float)
    if x.size == 0 or np.all(np.isnan(x)):
        return np.zeros_like(x)
    m, s = np.nanmean(x), np.nanstd(x)
    z = (x - m) / s if s > 0 else np.zeros_like(x)
    return np.where(np.isnan(z), 0.0, z)


def int_columns(values: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Float codes (NaN = blank) as nullable integer columns, converted in one step."""
    return pd.DataFrame(np.asarray(values, dtype=float), columns=list(names)).astype("Int64")


def blank_cells(codes: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Float copy of ``codes`` with each cell set to NaN with probability ``rate``."""
    out = codes.astype(float)
    if rate > 0:
        out[rng.random(out.shape) < rate] = np.nan
    return out


def break_off(codes: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Respondents who stop early: a share ``rate`` lose every item after a random point."""
    out = codes.astype(float)
    n, j = out.shape
    if rate <= 0 or n == 0:
        return out
    stops = rng.random(n) < rate
    where = rng.integers(1, j, size=n)
    tail = np.arange(j)[None, :] >= where[:, None]
    out[stops[:, None] & tail] = np.nan
    return out
