"""REML for linear models with random intercepts: the numbers lme4 and lmerTest report.

:class:`InterceptProfile` fits random intercepts per child, or per school and per child
within school, in closed form:

* the REML (or ML) deviance profiled to a function of the variance ratios, searched with no
  start value, a variance of 0 included (lme4's bounded optimiser ends there, while gradient
  optimisers such as statsmodels' stop just inside it);
* the fixed-effect covariance (X'V⁻¹X)⁻¹ at the REML estimates, which is lme4's ``vcov``
  (statsmodels inverts the joint Hessian of all parameters instead);
* Satterthwaite degrees of freedom for any contrast, as lmerTest.

The tests hold it to an independent dense implementation (``tests/_reml_reference.py``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

_LOG_2PI = math.log(2 * math.pi)


def _satterthwaite_df(
    C: np.ndarray, A: list[np.ndarray], cov_phi: np.ndarray, L: np.ndarray
) -> np.ndarray:
    """lmerTest's Satterthwaite df for each row ℓ of ``L``: 2 (ℓ'Cℓ)² / (g' cov_phi g) with
    g_k = ℓ'C A_k Cℓ, C = (X'V⁻¹X)⁻¹, A_k = X'V⁻¹V_kV⁻¹X over the free variance parameters and
    cov_phi = 2H⁻¹ (H the Hessian of the REML deviance in them)."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    CL = L @ C
    v = np.einsum("ip,ip->i", CL, L)
    g = np.stack([np.einsum("ip,pq,iq->i", CL, Ak, CL) for Ak in A], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * v**2 / np.einsum("ik,kl,il->i", g, cov_phi, g)


class InterceptProfile:
    """Random intercepts per child, or per school and per child within school, in closed form.

    For large data: every likelihood evaluation costs O(schools + distinct group sizes) after
    one O(N) pass, whatever N. With λ_c = τ_c/σ², λ_s = τ_s/σ² and H = V/σ², a child i with
    n_i rows has H_i = I + λ_c J, so H_i⁻¹ = I − λ_c/(1 + n_iλ_c) J and |H_i| = 1 + n_iλ_c;
    a school adds λ_s 11' to its block, which Sherman-Morrison folds in with
    g_s = 1'A_s⁻¹1 = Σ_i n_i w_i, w_i = 1/(1 + n_iλ_c) (A_s the school's child blocks):
    |H_s| = Π_i(1 + n_iλ_c) · (1 + λ_s g_s). For the columns of [X y], with x̄_i child means and
    m_s = Σ_i n_i w_i x̄_i / g_s,

        [X y]'H⁻¹[X y] = W + Σ_i n_i w_i (x̄_i − m_s)(x̄_i − m_s)' + Σ_s g_s/(1 + λ_s g_s) m_s m_s'

    (W the within-child cross-products): positive terms, so no precision is lost as a variance
    grows. The deviance profiled over β and σ² is a function of the ratios alone (lme4's
    profiled deviance); :meth:`fit` minimises it over ratios ≥ 0 from grids that include 0,
    so no start value is needed (with schools, λ_c is profiled out by a 1-D search inside
    the 1-D search over λ_s). A model with a child intercept only is one school with
    λ_s held at 0.

    Example:
        >>> y = np.array([1.0, 2.0, 2.5, 4.0, 3.0, 5.5])
        >>> m = InterceptProfile(y, np.ones((6, 1)), {"school": np.array([0, 0, 1, 1, 2, 2])})
        >>> v = m.fit()
        >>> round(v["school"], 4), round(v["residual"], 4)  # balanced: the ANOVA estimates
        (1.1458, 1.5833)
    """

    #: log10 ratio grid before the 1-D searches (every other point for the inner search of
    #: the nested model); 0 is tried too.
    GRID = np.linspace(-8.0, 8.0, 65)

    def __init__(self, y: np.ndarray, X: np.ndarray, groups: dict[str, np.ndarray], *, reml=True):
        """``groups``: ``{"child": ids}`` or ``{"school": ids, "child": ids}`` (outer first,
        each child in one school)."""
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
        self.names = list(groups)
        n, p = X.shape
        self.n, self.p, self.reml = n, p, reml
        self.X = X  # the design, for reading the fit (the sums below do not need it)
        # The sums below use Q of X = QR (orthonormal columns): with X itself, a covariate
        # such as x + 1e3 beside the intercept made X'H⁻¹X ill-conditioned (1e-5 of the child
        # variance lost; x + 1e7 moved it 15% and x + 1e9 raised LinAlgError). β = R⁻¹β_Q,
        # and REML's log|X'H⁻¹X| is log|Q'H⁻¹Q| + 2 log|det R|. y enters the deviance only
        # through y − Xb, so y is replaced by its residual on Q (two passes, to the rounding
        # of y): y + 1e9 otherwise left y'H⁻¹y − β̂'X'H⁻¹y to cancel 18 digits away (it moved
        # the variances 100-fold).
        self._b0 = np.zeros(p)
        self._R = np.eye(p)
        if np.all(np.isfinite(X)) and np.all(np.isfinite(y)) and n >= p:
            Q, R = np.linalg.qr(X)
            if np.all(np.abs(np.diag(R)) > 0):
                X, self._R = Q, R
                for _ in range(2):
                    step = Q.T @ y
                    self._b0 = self._b0 + step
                    y = y - Q @ step
        self._ldR2 = 2 * float(np.sum(np.log(np.abs(np.diag(self._R)))))
        self._Rinv = np.linalg.inv(self._R)
        arrays = [np.asarray(g) for g in groups.values()]
        child = np.unique(arrays[-1], return_inverse=True)[1].ravel()
        A = np.column_stack([X, y])
        count = np.bincount(child)
        means = np.stack([np.bincount(child, weights=A[:, j]) for j in range(p + 1)], 1)
        means /= count[:, None]
        within = A - means[child]
        self._W = within.T @ within
        self._within = within
        self.n_children = len(count)
        if len(arrays) == 2:
            first = np.zeros(len(count), dtype=np.int64)
            first[child] = np.arange(n)  # any row of each child names its school
            school = np.unique(arrays[0], return_inverse=True)[1].ravel()
            if np.any(school != school[first][child]):
                raise ValueError("InterceptProfile: a child is in more than one school")
            school = school[first]
        else:
            school = np.zeros(len(count), dtype=np.int64)
        n_school = int(school.max()) + 1
        # centre each child's means on its school's row mean, so the sums below stay small
        rows = np.bincount(school, weights=count)
        centre = np.stack([np.bincount(school, weights=count * means[:, j]) for j in range(p + 1)])
        self._centre = (centre / rows).T  # (schools, p + 1)
        d = means - self._centre[school]
        self._sizes, size_of = np.unique(count, return_inverse=True)
        self._of_size = np.bincount(size_of)  # children of each size
        self._Q = np.zeros((len(self._sizes), p + 1, p + 1))
        for k in range(len(self._sizes)):
            dk = d[size_of == k]
            self._Q[k] = self._sizes[k] * (dk.T @ dk)
        # one entry per (school, child size) pair present: Σ n_i and Σ n_i d_i
        pair, pair_of = np.unique(school * len(self._sizes) + size_of, return_inverse=True)
        self._pair_school = pair // len(self._sizes)
        self._pair_size = pair % len(self._sizes)
        self._pair_n = np.bincount(pair_of, weights=count)
        self._pair_d = np.stack(
            [np.bincount(pair_of, weights=count * d[:, j]) for j in range(p + 1)], 1
        )
        self._n_school = n_school
        # for the score (Satterthwaite): rows, their child, each child's school and size
        self._means, self._count = means, count
        self._school_of, self._size_of = school, size_of
        self._sat_cache: dict = {}

    def within_fit(self) -> tuple[int, float]:
        """(residual df, residual sum of squares) of the outcome regressed on the design
        within children (each child's mean removed): what the residual variance is estimated
        from, for callers that must refuse a model whose variances cannot be told apart. One
        SVD gives both the rank (numpy's ``matrix_rank`` tolerance, the cut-off of ``lstsq``)
        and the residual; the rows are already within-child here, so no second pass. The
        sums are in Q's coordinates, which span the same columns as X."""
        W = self._within
        U, S, _ = np.linalg.svd(W[:, : self.p], full_matrices=False)
        tol = (S.max() if S.size else 0.0) * max(W.shape[0], self.p) * np.finfo(float).eps
        U = U[:, S > tol]
        y = W[:, self.p]
        resid = y - U @ (U.T @ y)
        return self.n - self.n_children - U.shape[1], float(resid @ resid)

    def _school_terms(self, lam_s: float, lam_c: float):
        """w per child size, and per school g_s = Σ n_i w_i and m_s (see the class notes)."""
        w = 1.0 / (1.0 + self._sizes * lam_c)
        wp = w[self._pair_size]
        g = np.bincount(self._pair_school, weights=wp * self._pair_n, minlength=self._n_school)
        b = np.stack(
            [
                np.bincount(self._pair_school, weights=wp * col, minlength=self._n_school)
                for col in self._pair_d.T
            ],
            1,
        )
        return w, g, self._centre + b / g[:, None]

    def _cross(self, lam_s: float, lam_c: float) -> tuple[np.ndarray, float]:
        """[X y]'H⁻¹[X y] and log|H| at ratios λ_s, λ_c."""
        w, g, m = self._school_terms(lam_s, lam_c)
        e = m - self._centre  # m_s minus the school's centre
        G = (
            self._W
            + np.einsum("k,kij->ij", w, self._Q)
            - np.einsum("s,si,sj->ij", g, e, e)
            + np.einsum("s,si,sj->ij", g / (1.0 + lam_s * g), m, m)
        )
        logdet = float(self._of_size @ np.log1p(self._sizes * lam_c))
        logdet += float(np.log1p(lam_s * g).sum())
        return G, logdet

    def _at(self, lam_s: float, lam_c: float) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Profiled deviance, σ̂², β̂ and (X'H⁻¹X)⁻¹ at the ratios."""
        p = self.p
        nan = (math.inf, math.nan, np.full(p, np.nan), np.full((p, p), np.nan))
        if not (0 <= lam_s < math.inf and 0 <= lam_c < math.inf):
            return nan
        G, logdet = self._cross(lam_s, lam_c)
        if not np.all(np.isfinite(G)):
            return nan
        M, Xty, yHy = G[:p, :p], G[:p, p], G[p, p]
        sign, ld_m = np.linalg.slogdet(M)
        if sign <= 0:
            return nan
        Minv = np.linalg.inv(M)
        beta = np.linalg.solve(M, Xty)
        nu = self.n - p if self.reml else self.n
        s2 = (yHy - float(beta @ Xty)) / nu
        if not s2 > 0:
            return nan
        dev = logdet + nu * (1 + math.log(2 * math.pi * s2))
        dev += ld_m + self._ldR2 if self.reml else 0.0
        # back from Q's coordinates to X's
        beta = np.linalg.solve(self._R, beta + self._b0)
        return dev, s2, beta, self._Rinv @ Minv @ self._Rinv.T

    def _ratios(self, variances: dict[str, float]) -> tuple[float, float]:
        s2 = variances["residual"]
        outer = variances[self.names[0]] if len(self.names) == 2 else 0.0
        return outer / s2, variances[self.names[-1]] / s2

    def deviance(self, variances: dict[str, float]) -> float:
        """−2 log-likelihood (REML: lme4's ``REMLcrit``) at the given variances."""
        lam_s, lam_c = self._ratios(variances)
        s2 = variances["residual"]
        G, logdet = self._cross(lam_s, lam_c)
        p = self.p
        M, Xty, yHy = G[:p, :p], G[:p, p], G[p, p]
        sign, ld_m = np.linalg.slogdet(M)
        if sign <= 0 or not s2 > 0:
            return math.inf
        rHr = yHy - float(np.linalg.solve(M, Xty) @ Xty)
        nu = self.n - p if self.reml else self.n
        # V = σ²H: log|V| = n log σ² + log|H|; X'V⁻¹X = M/σ² (REML adds log|X'V⁻¹X|)
        dev = self.n * math.log(s2) + logdet + rHr / s2 + nu * math.log(2 * math.pi)
        if self.reml:
            dev += ld_m + self._ldR2 - p * math.log(s2)
        return dev

    def _line(self, f, logs: np.ndarray | None = None) -> tuple[float, float]:
        """(x, f(x)) minimising f over x ≥ 0: 0, a log grid (``logs``, default GRID; extended
        upward while its top is best), then a bounded search between the best grid point's
        neighbours."""
        grid = 10.0 ** (self.GRID if logs is None else logs)
        devs = np.array([f(x) for x in grid])
        while np.argmin(devs) == len(grid) - 1 and grid[-1] < 1e16:
            more = grid[-1] * 10.0 ** np.arange(0.25, 4.01, 0.25)
            grid = np.concatenate([grid, more])
            devs = np.concatenate([devs, [f(x) for x in more]])
        j = int(np.argmin(devs))
        if j == 0:  # between 0 and the first grid point the search runs on x itself
            res = optimize.minimize_scalar(
                f, bounds=(0.0, grid[1]), method="bounded", options={"xatol": 1e-14 * grid[1]}
            )
            x, dev = float(res.x), float(res.fun)
        else:
            res = optimize.minimize_scalar(
                lambda t: f(math.exp(t)),
                bounds=(math.log(grid[j - 1]), math.log(grid[min(j + 1, len(grid) - 1)])),
                method="bounded",
                options={"xatol": 1e-10},
            )
            x, dev = math.exp(res.x), float(res.fun)
        if devs[j] < dev:
            x, dev = float(grid[j]), float(devs[j])
        f0 = f(0.0)
        return (0.0, f0) if f0 <= dev else (x, dev)

    def ratios(self) -> tuple[float, float]:
        """(λ_s, λ_c) of least profiled deviance, boundary included. A point with more ratios at 0 is kept unless another beats it by more than 1e-7 in deviance,
        so a variance that is 0 is reported as exactly 0."""
        dev = lambda s, c: self._at(s, c)[0]  # noqa: E731
        cands = [((0.0, 0.0), dev(0.0, 0.0))]
        c, d = self._line(lambda x: dev(0.0, x))
        cands.append(((0.0, c), d))
        if len(self.names) == 2:
            s, d = self._line(lambda x: dev(x, 0.0))
            cands.append(((s, 0.0), d))
            # both free: λ_c profiled out by the same 1-D search at each λ_s, and that profile
            # searched over λ_s. Costlier than a 2-D optimiser, but a 2-D search started on a
            # coarse grid can end on a face where the deviance is flat in log λ_s (it did).
            inner = self.GRID[::2]
            s, d = self._line(lambda x: self._line(lambda c: dev(x, c), inner)[1])
            c, _ = self._line(lambda x: dev(s, x), inner)
            cands.append(((s, c), d))
        zeros = [sum(v == 0.0 for v in r) for r, _ in cands]
        order = sorted(range(len(cands)), key=lambda i: -zeros[i])
        best_r, best_d = cands[order[0]]
        for i in order[1:]:
            if cands[i][1] < best_d - 1e-7:
                best_r, best_d = cands[i]
        return best_r

    def fit(self) -> dict[str, float]:
        """REML (or ML) variance estimates, keyed as ``groups`` plus ``"residual"``."""
        lam_s, lam_c = self.ratios()
        s2 = float(self._at(lam_s, lam_c)[1])
        out = {self.names[0]: lam_s * s2} if len(self.names) == 2 else {}
        out.update({self.names[-1]: lam_c * s2, "residual": s2})
        return out

    def _keys(self) -> list[str]:
        return ([self.names[0]] if len(self.names) == 2 else []) + [self.names[-1], "residual"]

    def _hessian(self, variances: dict[str, float], free: list[int]) -> np.ndarray:
        """Hessian of the REML deviance in the variances ``free`` (indices into :meth:`_keys`): the
        central difference of the closed-form score, step 1e-4 of each variance."""
        keys = self._keys()
        H = np.zeros((len(free), len(free)))
        for a, i in enumerate(free):
            h = 1e-4 * variances[keys[i]]
            up = self._score({**variances, keys[i]: variances[keys[i]] + h})[0]
            down = self._score({**variances, keys[i]: variances[keys[i]] - h})[0]
            H[:, a] = (up - down)[free] / (2 * h)
        return (H + H.T) / 2

    def fixed(self, variances: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """GLS β̂ and (X'V⁻¹X)⁻¹ at the given variances (lme4's ``vcov``)."""
        _, _, beta, Minv = self._at(*self._ratios(variances))
        return beta, variances["residual"] * Minv

    def _score(self, variances: dict[str, float]) -> tuple[np.ndarray, np.ndarray, list]:
        """Gradient of the REML deviance in the variances (school if fitted, child, residual),
        C = (X'V⁻¹X)⁻¹ and A_k = X'V⁻¹V_kV⁻¹X, from the closed forms.

        ∂D/∂φ_k = tr(V⁻¹V_k) − tr(C A_k) − r'V⁻¹V_kV⁻¹r. Every V_k is Z_kZ_k' (or I), so the
        last two need only the group sums of H⁻¹[X y]: for child i in school s,
        1_i'H⁻¹[X y] = n_i w_i (x̄_i − κ_s g_s m_s) and 1_s'H⁻¹[X y] = g_s m_s / (1 + λ_s g_s),
        κ_s = λ_s/(1 + λ_s g_s); the residual's V_k = I needs the rows of H⁻¹[X y].
        Valid for any variances keeping V positive definite (a step below 0 included).
        """
        lam_s, lam_c = self._ratios(variances)
        s2 = variances["residual"]
        p = self.p
        G, _ = self._cross(lam_s, lam_c)
        Minv = np.linalg.inv(G[:p, :p])
        beta = Minv @ G[:p, p]
        C = s2 * Minv
        w_size, g, m = self._school_terms(lam_s, lam_c)
        w = w_size[self._size_of]  # per child
        n_i = self._count
        kappa = lam_s / (1.0 + lam_s * g)
        school = self._school_of
        ks = (kappa * g)[:, None] * m  # κ_s g_s m_s, per school
        child_sum = (n_i * w)[:, None] * (self._means - ks[school])
        school_sum = (g / (1.0 + lam_s * g))[:, None] * m
        # the residual's V_k = I: the rows of H⁻¹[X y] are a_ij − d_i within child i, with
        # ā_i − d_i = w_i (x̄_i − κ_s g_s m_s) (as 1 − λ_c n_i w_i = w_i), so their
        # cross-products are W + Σ_i n_i (ā_i − d_i)(ā_i − d_i)': positive terms over
        # children, no pass over the rows
        e = w[:, None] * (self._means - ks[school])
        grams = {
            "child": child_sum.T @ child_sum,
            "residual": self._W + (n_i[:, None] * e).T @ e,
        }
        traces = {
            "child": float(np.sum(n_i * w - kappa[school] * (n_i * w) ** 2)),
            "residual": float(np.sum(n_i * (1.0 - lam_c * w - kappa[school] * w**2))),
        }
        if len(self.names) == 2:
            grams["school"] = school_sum.T @ school_sum
            traces["school"] = float(np.sum(g / (1.0 + lam_s * g)))
        keys = self._keys()
        inner = {self.names[0]: "school", self.names[-1]: "child", "residual": "residual"}
        e = np.r_[-beta, 1.0]
        grad, A = [], []
        for k in keys:
            B = grams[inner[k]] / s2**2  # [X y]'V⁻¹V_kV⁻¹[X y]
            A.append(B[:p, :p])
            grad.append(traces[inner[k]] / s2 - np.trace(C @ B[:p, :p]) - e @ B @ e)
        return np.array(grad), C, A

    def satterthwaite(self, variances: dict[str, float], L: np.ndarray) -> np.ndarray:
        """Satterthwaite df for each row ℓ of ``L``, as lmerTest:
        df = 2 (ℓ'Cℓ)² / (g'(2H⁻¹)g), g_k = ℓ'C A_k Cℓ, H the Hessian of the REML deviance in
        the variances φ (those at 0 held there). C, A_k and the gradient are closed forms
        (:meth:`_score`); H is its central difference, step 1e-4 φ_k. (The dense V blocks per
        school of the tests' reference would not fit in memory on large data.)"""
        key = tuple(sorted(variances.items()))
        if key not in self._sat_cache:  # score and Hessian are O(N): once per fit, not contrast
            keys = self._keys()
            free = [i for i, k in enumerate(keys) if k == "residual" or variances[k] > 0]
            _, C, A = self._score(variances)
            H = self._hessian(variances, free)
            self._sat_cache[key] = (C, [A[i] for i in free], 2 * np.linalg.pinv(H))
        # C and A_k are in the coordinates of Q (X = QR): ℓ'β = ℓ'R⁻¹β_Q
        return _satterthwaite_df(*self._sat_cache[key], np.atleast_2d(L) @ self._Rinv)
