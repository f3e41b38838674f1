"""REML for linear models with random intercepts: the numbers lme4 and lmerTest report.

statsmodels' ``MixedLM`` finds the estimates. This module takes them as a starting point and

* checks the boundary of the parameter space: a variance of 0 is a legitimate REML estimate
  (lme4's bounded optimiser ends there), while gradient optimisers stop just inside it;
* gives the fixed-effect covariance (X'V⁻¹X)⁻¹ at the REML estimates, which is lme4's
  ``vcov`` (statsmodels inverts the joint Hessian of all parameters instead);
* gives Satterthwaite degrees of freedom for any contrast, as lmerTest.

V = σ²I + Σ_k τ_k Z_k Z_k' is block diagonal (one block per school, or per child when there is
no school level); blocks of equal size are handled together as stacked numpy arrays.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse
from scipy.sparse.csgraph import connected_components

_LOG_2PI = math.log(2 * math.pi)


@dataclass
class _Batch:
    rows: np.ndarray  # (blocks, size) row indices
    same: list[np.ndarray]  # per component, (blocks, size, size) 1.0 where two rows share a group


@dataclass
class _State:
    dev: float  # REML deviance, -2 log-likelihood (lme4's REMLcrit)
    beta: np.ndarray
    cov: np.ndarray  # (X'V^-1 X)^-1
    winv: list[np.ndarray]  # per batch, V_b^-1


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


class RemlModel:
    """y = Xβ + Σ_k Z_k u_k + e with independent random intercepts per grouping in ``groups``.

    Example:
        >>> y = np.array([1.0, 2.0, 2.5, 4.0, 3.0, 5.5])
        >>> m = RemlModel(y, np.ones((6, 1)), {"school": np.array([0, 0, 1, 1, 2, 2])})
        >>> v = m.fit({"school": 0.5, "residual": 1.0})
        >>> round(v["school"], 4), round(v["residual"], 4)  # balanced: the ANOVA estimates
        (1.1458, 1.5833)
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, groups: dict[str, np.ndarray]):
        self.y = np.asarray(y, dtype=float)
        self.X = np.asarray(X, dtype=float)
        self.names = list(groups)
        self._sat_cache: dict = {}
        codes = [np.unique(np.asarray(g), return_inverse=True)[1] for g in groups.values()]
        n = len(self.y)
        self.n, self.p = n, self.X.shape[1]
        # rows that share any group are in one block of V
        offset, cols = 0, []
        for c in codes:
            cols.append(c + offset)
            offset += int(c.max()) + 1
        link = sparse.coo_matrix(
            (np.ones(n * len(codes)), (np.tile(np.arange(n), len(codes)), np.concatenate(cols))),
            shape=(n, offset),
        ).tocsr()
        _, block = connected_components(link @ link.T, directed=False)
        order = np.argsort(block, kind="stable")
        sizes = np.bincount(block)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self._codes, self._blocks = codes, (order, sizes, starts)
        self._dense: list[_Batch] | None = None
        # For the optimisation, V/σ² = I + ZΛΛZ' is handled by Woodbury's identity within each
        # block (as lme4): only q x q matrices, q = random effects in the block, are factorised.
        # Pieces are stacked by q: Z'Z, Z'X, Z'y and which component each column belongs to.
        self._XtX = self.X.T @ self.X
        self._Xty = self.X.T @ self.y
        self._yty = float(self.y @ self.y)
        by_q: dict[int, list] = {}
        for blk in range(int(block.max()) + 1):
            r = order[starts[blk] : starts[blk] + sizes[blk]]
            cols, comp = [], []
            for k, c in enumerate(codes):
                for g in np.unique(c[r]):
                    cols.append(c[r] == g)
                    comp.append(k)
            Z = np.column_stack(cols).astype(float)
            by_q.setdefault(Z.shape[1], []).append(
                (Z.T @ Z, Z.T @ self.X[r], Z.T @ self.y[r], np.array(comp))
            )
        self._wood = [tuple(np.stack(part) for part in zip(*v, strict=True)) for v in by_q.values()]

    @property
    def batches(self) -> list[_Batch]:
        """Dense blocks of V's pattern, stacked by block size (built on first use: only the
        Satterthwaite computation needs them)."""
        if self._dense is None:
            order, sizes, starts = self._blocks
            self._dense = []
            for size in np.unique(sizes):
                which = np.flatnonzero(sizes == size)
                rows = order[starts[which][:, None] + np.arange(size)]
                same = [
                    (c[rows][:, :, None] == c[rows][:, None, :]).astype(float) for c in self._codes
                ]
                self._dense.append(_Batch(rows, same))
        return self._dense

    # -- the likelihood
    def _state(self, tau: np.ndarray, sigma2: float) -> _State:
        M = np.zeros((self.p, self.p))
        Xty = np.zeros(self.p)
        yWy, logdet = 0.0, 0.0
        winv = []
        for b in self.batches:
            size = b.rows.shape[1]
            V = sigma2 * np.eye(size) + sum(t * s for t, s in zip(tau, b.same, strict=True))
            sign, ld = np.linalg.slogdet(V)
            if np.any(sign <= 0):
                return _State(math.inf, np.full(self.p, np.nan), np.full((self.p,) * 2, np.nan), [])
            W = np.linalg.inv(V)
            Xb, yb = self.X[b.rows], self.y[b.rows]
            WX = W @ Xb
            Wy = np.einsum("bij,bj->bi", W, yb)
            M += np.einsum("bip,biq->pq", Xb, WX)
            Xty += np.einsum("bip,bi->p", Xb, Wy)
            yWy += float(np.einsum("bi,bi->", yb, Wy))
            logdet += float(ld.sum())
            winv.append(W)
        sign, ld_m = np.linalg.slogdet(M)
        if sign <= 0:
            return _State(math.inf, np.full(self.p, np.nan), np.full((self.p,) * 2, np.nan), [])
        cov = np.linalg.inv(M)
        beta = cov @ Xty
        rWr = yWy - float(beta @ Xty)
        dev = logdet + ld_m + rWr + (self.n - self.p) * _LOG_2PI
        return _State(dev, beta, cov, winv)

    def _split(self, variances: dict[str, float]) -> tuple[np.ndarray, float]:
        return np.array([variances[k] for k in self.names], dtype=float), float(
            variances["residual"]
        )

    def deviance(self, variances: dict[str, float]) -> float:
        """REML deviance −2ℓ_R (lme4 ``REMLcrit``; ``logLik(fit)`` is minus half of it)."""
        return self._gls(*self._split(variances))[0]

    def _woodbury(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """log|H|, X'H⁻¹X, X'H⁻¹y and y'H⁻¹y for H = V/σ² = I + ZΛΛZ', Λ = diag(θ).

        With G = I + ΛZ'ZΛ per block: log|H| = log|G| and H⁻¹ = I − ZΛG⁻¹ΛZ', so
        X'H⁻¹X = X'X − (ΛZ'X)'G⁻¹(ΛZ'X), and likewise for the others.
        """
        theta = np.asarray(theta, dtype=float)
        M, Xty, yHy, logdet = self._XtX.copy(), self._Xty.copy(), self._yty, 0.0
        for ZtZ, ZtX, Zty, comp in self._wood:
            lam = theta[comp]  # (blocks, q)
            G = lam[:, :, None] * ZtZ * lam[:, None, :] + np.eye(ZtZ.shape[1])
            logdet += float(np.linalg.slogdet(G)[1].sum())
            rhs = np.concatenate([lam[:, :, None] * ZtX, (lam * Zty)[:, :, None]], axis=2)
            cross = np.einsum("bqi,bqj->ij", rhs, np.linalg.solve(G, rhs))
            M -= cross[: self.p, : self.p]
            Xty -= cross[: self.p, self.p]
            yHy -= cross[self.p, self.p]
        return logdet, M, Xty, yHy

    def _gls(self, tau: np.ndarray, sigma2: float) -> tuple[float, np.ndarray, np.ndarray]:
        """REML deviance, β̂ and (X'V⁻¹X)⁻¹ at variances τ (components) and σ² (residual)."""
        nan = (math.inf, np.full(self.p, np.nan), np.full((self.p, self.p), np.nan))
        if not sigma2 > 0 or np.any(np.asarray(tau) < 0):
            return nan
        logdet, M, Xty, yHy = self._woodbury(np.sqrt(np.asarray(tau, dtype=float) / sigma2))
        sign, ld_m = np.linalg.slogdet(M)
        if sign <= 0:
            return nan
        beta = np.linalg.solve(M, Xty)
        rHr = yHy - float(beta @ Xty)
        n, p = self.n, self.p
        # V = σ²H: log|V| = n log σ² + log|H|; X'V⁻¹X = M/σ²; r'V⁻¹r = r'H⁻¹r/σ²
        dev = (n - p) * math.log(sigma2) + logdet + ld_m + rHr / sigma2 + (n - p) * _LOG_2PI
        return dev, beta, sigma2 * np.linalg.inv(M)

    def _profiled(self, theta: np.ndarray) -> tuple[float, float]:
        """Deviance with σ² profiled out, for relative SDs θ_k = sqrt(τ_k/σ²) (lme4's θ),
        and the σ̂² = r'H⁻¹r / (n − p) that achieves it."""
        logdet, M, Xty, yHy = self._woodbury(theta)
        sign, ld_m = np.linalg.slogdet(M)
        if sign <= 0:
            return math.inf, math.nan
        rHr = yHy - float(np.linalg.solve(M, Xty) @ Xty)
        nu = self.n - self.p
        s2 = rHr / nu
        if not s2 > 0:
            return math.inf, math.nan
        return logdet + ld_m + nu * (1 + math.log(2 * math.pi * s2)), s2

    def fit(self, start: dict[str, float]) -> dict[str, float]:
        """REML estimates, boundary included: the lowest deviance found from ``start`` with
        every subset of the variance components also tried fixed at 0."""
        tau0, s0 = self._split(start)
        theta0 = np.sqrt(np.clip(tau0, 0, None) / s0) if s0 > 0 else np.ones(len(tau0))
        theta0 = np.where(np.isfinite(theta0), theta0, 1.0)  # a failed start still starts
        k = len(self.names)
        best_dev, best_theta = math.inf, theta0
        # Most zeros first: an interior point must beat the boundary by more than rounding
        # (1e-7 in deviance) to be preferred, so a variance that is 0 is reported as 0.
        for zeros in itertools.chain.from_iterable(
            itertools.combinations(range(k), r) for r in range(k, -1, -1)
        ):
            free = [j for j in range(k) if j not in zeros]
            theta = np.zeros(k)
            if free:
                x0 = np.maximum(theta0[free], 1e-2)

                def f(x, free=free):
                    t = np.zeros(k)
                    t[free] = x
                    return self._profiled(t)[0]

                res = optimize.minimize(
                    f,
                    x0,
                    method="L-BFGS-B",
                    bounds=[(0, None)] * len(free),
                    options={"ftol": 1e-14, "gtol": 1e-9},
                )
                theta[free] = res.x
            dev = self._profiled(theta)[0]
            if dev < best_dev - 1e-7:
                best_dev, best_theta = dev, theta
        s2 = self._profiled(best_theta)[1]
        out = {name: float(t**2 * s2) for name, t in zip(self.names, best_theta, strict=True)}
        out["residual"] = float(s2)
        return out

    # -- fixed effects
    def fixed(self, variances: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """GLS estimates β̂ and their covariance (X'V⁻¹X)⁻¹ at the given variances (lme4)."""
        _, beta, cov = self._gls(*self._split(variances))
        return beta, cov

    def satterthwaite(self, variances: dict[str, float], L: np.ndarray) -> np.ndarray:
        """Satterthwaite df for each row ℓ of ``L`` (as lmerTest):
        df = 2 (ℓ'Cℓ)² / (g' A g), C = (X'V⁻¹X)⁻¹, g_k = ∂(ℓ'Cℓ)/∂φ_k = ℓ'C X'V⁻¹V_kV⁻¹X Cℓ,
        A = 2 H⁻¹ with H the Hessian of the REML deviance in the variance parameters φ
        (components at 0 are held there, as their θ-derivatives vanish in lmerTest).
        """
        key = tuple(sorted(variances.items()))
        if key not in self._sat_cache:
            self._sat_cache[key] = self._variance_information(variances)
        return _satterthwaite_df(*self._sat_cache[key], L)

    def _variance_information(self, variances: dict[str, float]):
        """C = (X'V⁻¹X)⁻¹, A_k = X'V⁻¹V_kV⁻¹X and 2H⁻¹ (H the Hessian of the REML deviance in
        the variances, analytic: ∂²D/∂φ_k∂φ_l = −tr(PV_kPV_l) + 2y'PV_kPV_lPy) at ``variances``.
        Dense per block, once per fit."""
        tau, s2 = self._split(variances)
        st = self._state(tau, s2)
        free = [j for j in range(len(tau)) if tau[j] > 0]
        nfree = len(free) + 1  # plus the residual
        p = self.p
        A = np.zeros((nfree, p, p))  # X'W V_k W X
        Q = np.zeros((nfree, nfree))  # tr(W V_k W V_l)
        R = np.zeros((nfree, nfree, p, p))  # X'W V_k W V_l W X
        U = np.zeros((nfree, nfree))  # u_k' W u_l, u_k = V_k W r
        XWu = np.zeros((nfree, p))
        r = self.y - self.X @ st.beta
        for b, W in zip(self.batches, st.winv, strict=True):
            size = b.rows.shape[1]
            Vk = [b.same[j] for j in free] + [np.broadcast_to(np.eye(size), W.shape)]
            WX = W @ self.X[b.rows]
            e = np.einsum("bij,bj->bi", W, r[b.rows])
            WVk = [W @ v for v in Vk]
            u = [np.einsum("bij,bj->bi", v, e) for v in Vk]
            Wu = [np.einsum("bij,bj->bi", W, x) for x in u]
            for i in range(nfree):
                A[i] += np.einsum("bip,bij,bjq->pq", WX, Vk[i], WX, optimize=True)
                XWu[i] += np.einsum("bip,bi->p", self.X[b.rows], Wu[i])
                for j in range(nfree):
                    Q[i, j] += float(np.einsum("bij,bji->", WVk[i], WVk[j]))
                    R[i, j] += np.einsum(
                        "bip,bij,bjk,bkq->pq", WX, Vk[i], WVk[j], WX, optimize=True
                    )
                    U[i, j] += float(np.einsum("bi,bi->", u[i], Wu[j]))
        C = st.cov
        H = np.zeros((nfree, nfree))
        for i in range(nfree):
            for j in range(nfree):
                trPP = Q[i, j] - 2 * np.trace(C @ R[i, j]) + np.trace(C @ A[i] @ C @ A[j])
                yPPPy = U[i, j] - XWu[i] @ C @ XWu[j]
                H[i, j] = -trPP + 2 * yPPPy
        return C, A, 2 * np.linalg.pinv(H)


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
        >>> round(v["school"], 4), round(v["residual"], 4)  # as RemlModel's example
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
        self.X = X  # the design, as RemlModel.X (for reading the fit, not for the sums)
        arrays = [np.asarray(g) for g in groups.values()]
        child = np.unique(arrays[-1], return_inverse=True)[1].ravel()
        A = np.column_stack([X, y])
        count = np.bincount(child)
        means = np.stack([np.bincount(child, weights=A[:, j]) for j in range(p + 1)], 1)
        means /= count[:, None]
        within = A - means[child]
        self._W = within.T @ within
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
        self._A, self._child, self._means, self._count = A, child, means, count
        self._school_of, self._size_of = school, size_of
        self._sat_cache: dict = {}

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
        dev = logdet + nu * (1 + math.log(2 * math.pi * s2)) + (ld_m if self.reml else 0.0)
        return dev, s2, beta, Minv

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
            dev += ld_m - p * math.log(s2)
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
        """(λ_s, λ_c) of least profiled deviance, boundary included. As RemlModel.fit, a point
        with more ratios at 0 is kept unless another beats it by more than 1e-7 in deviance,
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
        rows = self._A - (lam_c * n_i * w)[self._child][:, None] * self._means[self._child]
        rows -= w[self._child][:, None] * ks[school[self._child]]
        sums = {"child": child_sum, "residual": rows}
        traces = {
            "child": float(np.sum(n_i * w - kappa[school] * (n_i * w) ** 2)),
            "residual": float(np.sum(n_i * (1.0 - lam_c * w - kappa[school] * w**2))),
        }
        if len(self.names) == 2:
            sums["school"] = school_sum
            traces["school"] = float(np.sum(g / (1.0 + lam_s * g)))
        keys = self._keys()
        inner = {self.names[0]: "school", self.names[-1]: "child", "residual": "residual"}
        e = np.r_[-beta, 1.0]
        grad, A = [], []
        for k in keys:
            S = sums[inner[k]]
            B = S.T @ S / s2**2  # [X y]'V⁻¹V_kV⁻¹[X y]
            A.append(B[:p, :p])
            grad.append(traces[inner[k]] / s2 - np.trace(C @ B[:p, :p]) - e @ B @ e)
        return np.array(grad), C, A

    def satterthwaite(self, variances: dict[str, float], L: np.ndarray) -> np.ndarray:
        """Satterthwaite df for each row ℓ of ``L``, as RemlModel.satterthwaite (lmerTest):
        df = 2 (ℓ'Cℓ)² / (g'(2H⁻¹)g), g_k = ℓ'C A_k Cℓ, H the Hessian of the REML deviance in
        the variances φ (those at 0 held there). C, A_k and the gradient are closed forms
        (:meth:`_score`); H is its central difference, step 1e-4 φ_k. RemlModel's dense V
        blocks per school would not fit in memory on large data."""
        key = tuple(sorted(variances.items()))
        if key not in self._sat_cache:  # score and Hessian are O(N): once per fit, not contrast
            keys = self._keys()
            free = [i for i, k in enumerate(keys) if k == "residual" or variances[k] > 0]
            _, C, A = self._score(variances)
            H = self._hessian(variances, free)
            self._sat_cache[key] = (C, [A[i] for i in free], 2 * np.linalg.pinv(H))
        return _satterthwaite_df(*self._sat_cache[key], L)
