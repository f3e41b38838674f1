"""A dense REML implementation for random intercepts: the tests' reference for
outcomes._mixed.InterceptProfile (it was fit_mixed's refinement of statsmodels' estimate up to
version 0.1).

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

from outcomes._mixed import _satterthwaite_df

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
