"""Trends across any number of survey waves: the models behind :func:`outcomes.survey.trend`.

A repeated cross-section (new pupils each wave, the same schools) is analysed with GEE, pupils
clustered in schools, robust (sandwich) standard errors (Liang & Zeger 1986):

- the level at each wave: the (weighted) mean of the 0/1 case indicator or of the score, with
  a design-based SE, schools as sampling units (:func:`outcomes.weighting.weighted_mean`);
- the change of each wave against baseline: ``y ~ C(wave)`` (wave categorical);
- the trend: ``y ~ time`` with time the wave's months since baseline in years (``12m`` = 1),
  or the wave's position (0, 1, 2, ...) when the labels carry no time;
- with comparison schools: ``y ~ C(wave) * programme`` (difference in differences at each
  wave) and ``y ~ time * programme`` (difference in trends).

The link is the identity (a linear probability model for a prevalence), so changes read in
percentage points. The working correlation is exchangeable within a school; with weights it
is independence (statsmodels treats weights as case weights, which is sound for the
independence structure). This module receives prepared columns; the checks live in
:func:`outcomes.survey.trend`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._internal.quality import QualityRecord, first_lines, with_notes
from ._internal.text import format_p
from .weighting import weighted_mean

COLUMNS = [
    "arm",
    "term",
    "wave",
    "time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "n",
    "n_clusters",
    "method",
    "note",
]
ARMS = {1.0: "programme", 0.0: "comparison"}


def _design(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    """The design matrix of ``y ~ C(wc, Treatment(0))`` (model "waves") or ``y ~ t`` ("time"),
    crossed with ``prog`` when the name ends in "*prog": the columns, names and order patsy
    gives, built straight from the codes (patsy reads a categorical cell by cell in Python,
    seconds at a million rows)."""
    base, _, cross = model.partition("*")
    cols: dict[str, np.ndarray] = {"Intercept": np.ones(len(frame))}
    if base == "waves":
        wc = frame["wc"].to_numpy()
        # the reference is wave 0, or the first wave present when wave 0 has no rows
        for c in np.unique(wc)[1:]:
            cols[f"C(wc, Treatment(0))[T.{c}]"] = (wc == c).astype(float)
    else:
        cols["t"] = frame["t"].to_numpy(dtype=float)
    if cross:
        prog = frame["prog"].to_numpy(dtype=float)
        main = [c for c in cols if c != "Intercept"]
        cols["prog"] = prog
        cols.update({f"{c}:prog": cols[c] * prog for c in main})
    return pd.DataFrame(cols, index=frame.index)


def _gee(frame: pd.DataFrame, model: str, weighted: bool, cov_type: str):
    """A gaussian identity GEE by school; (result, warning text) or (None, why not)."""
    from ._internal import sm

    cov = sm.cov_struct.Independence() if weighted else sm.cov_struct.Exchangeable()
    kw = {"weights": frame["w"].to_numpy()} if weighted else {}
    # integer codes in the schools' sorted order: the same clusters in the same order as the
    # labels themselves, without sorting a million strings
    groups = pd.factorize(frame["cluster"], sort=True)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gee = sm.GEE(
                frame["y"].to_numpy(dtype=float),
                _design(frame, model),
                groups=groups,
                family=sm.families.Gaussian(),
                cov_struct=cov,
                missing="drop",
                **kw,
            )
            res = gee.fit(cov_type=cov_type)
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
            return None, f"model could not be fitted: {exc}"
    return res, "; ".join(first_lines(caught))


def _term_rows(res, msg, terms: dict, confidence: float, base: dict) -> list[dict]:
    rows = []
    for name, extra in terms.items():
        row = {**base, **extra}
        if res is None or name not in res.params.index:
            rows.append({**row, "note": msg or f"{name} not estimable"})
            continue
        ci = res.conf_int(alpha=1 - confidence).loc[name]
        rows.append(
            {
                **row,
                "estimate": float(res.params[name]),
                "se": float(res.bse[name]),
                "ci_low": float(ci.iloc[0]),
                "ci_high": float(ci.iloc[1]),
                "p": float(res.pvalues[name]),
                "note": msg,
            }
        )
    return rows


def _method(weighted: bool, cov_type: str) -> str:
    corr = "independence, weighted" if weighted else "exchangeable"
    return f"GEE gaussian identity, schools as clusters, {corr}, {cov_type} SE"


def fit_arm(
    frame: pd.DataFrame,
    waves: list,
    times: list[float],
    *,
    arm: str,
    weighted: bool,
    confidence: float,
    cov_type: str,
) -> list[dict]:
    """Levels, changes against baseline and the trend for one arm (columns y, wc, t, cluster, w)."""
    rows = []
    n_cl = int(frame["cluster"].nunique())
    for code, (w, t) in enumerate(zip(waves, times, strict=True)):
        sub = frame[frame["wc"] == code]
        est = weighted_mean(sub["y"], sub["w"], sub["cluster"], confidence=confidence)
        rows.append(
            {
                "arm": arm,
                "term": "level",
                "wave": w,
                "time": t,
                **{k: est[k] for k in ("estimate", "se", "ci_low", "ci_high")},
                "n": est["n"],
                "n_clusters": est["n_clusters"],
                "method": "design-based (weighted) mean, schools as sampling units"
                if weighted
                else "mean, schools as sampling units (linearisation)",
                "note": "" if est["n"] else "no respondents at this wave",
            }
        )
    method = _method(weighted, cov_type)
    base = {"arm": arm, "n": len(frame), "n_clusters": n_cl, "method": method}
    res, msg = _gee(frame, "waves", weighted, cov_type)
    terms = {
        f"C(wc, Treatment(0))[T.{c}]": {"term": "change from baseline", "wave": w, "time": t}
        for c, (w, t) in enumerate(zip(waves, times, strict=True))
        if c > 0
    }
    rows += _term_rows(res, msg, terms, confidence, base)
    res, msg = _gee(frame, "time", weighted, cov_type)
    rows += _term_rows(res, msg, {"t": {"term": "trend"}}, confidence, base)
    return rows


def fit_contrast(
    frame: pd.DataFrame,
    waves: list,
    times: list[float],
    *,
    weighted: bool,
    confidence: float,
    cov_type: str,
) -> list[dict]:
    """Programme against comparison schools (column prog 1/0): DiD per wave, trend difference."""
    method = _method(weighted, cov_type)
    base = {
        "arm": "programme - comparison",
        "n": len(frame),
        "n_clusters": int(frame["cluster"].nunique()),
        "method": method,
    }
    res, msg = _gee(frame, "waves*prog", weighted, cov_type)
    terms = {
        f"C(wc, Treatment(0))[T.{c}]:prog": {
            "term": "difference in differences",
            "wave": w,
            "time": t,
        }
        for c, (w, t) in enumerate(zip(waves, times, strict=True))
        if c > 0
    }
    rows = _term_rows(res, msg, terms, confidence, base)
    res, msg = _gee(frame, "time*prog", weighted, cov_type)
    rows += _term_rows(res, msg, {"t:prog": {"term": "difference in trends"}}, confidence, base)
    return rows


@dataclass
class TrendResult:
    """Result of :func:`outcomes.survey.trend`: one row per estimate (see :meth:`to_frame`).

    ``term`` is ``level`` (the estimate at a wave), ``change from baseline``, ``trend`` (change
    per ``time_unit``), ``difference in differences`` / ``difference in trends`` (programme
    minus comparison schools) or ``change from baseline (matched pupils)`` (mixed model).
    """

    kind: str
    outcome: str
    waves: list
    times: list[float]
    time_unit: str
    by: list[str]
    table: pd.DataFrame
    weighting: str | None = None
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        """The estimates: the ``by`` columns, then ``arm, term, wave, time, estimate, se,
        ci_low, ci_high, p, n, n_clusters, method, note``."""
        out = self.table.copy()
        out.attrs["weighting"] = self.weighting or "unweighted"
        return out

    def _fmt(self, v: float, diff: bool = False) -> str:
        if self.kind == "prevalence":
            return f"{100 * v:+.1f}" if diff else f"{100 * v:.1f}%"
        return f"{v:+.2f}" if diff else f"{v:.2f}"

    def summary(self) -> str:
        """One paragraph per group and arm: the level at each wave, the trend and the DiD."""
        unit = " percentage points" if self.kind == "prevalence" else ""
        what = (
            f"prevalence of {self.outcome}" if self.kind == "prevalence" else f"mean {self.outcome}"
        )
        level = f"{self.confidence:.0%}"
        parts = []
        keys = self.by + ["arm"]
        for key, rows in self.table.groupby(keys, dropna=False, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{b} {k}" for b, k in zip(self.by, key, strict=False))
            arm = key[-1]
            lv = rows[rows["term"] == "level"]
            head = f"{label}: " if label else ""
            if len(lv):
                vals = ", ".join(
                    f"{self._fmt(r.estimate)} at {r.wave} (n = {int(r.n)})"
                    for r in lv.itertuples()
                    if np.isfinite(r.estimate)
                )
                parts.append(f"{head}In {arm} schools the {what} was {vals}.")
            for term, text in (
                ("trend", "The trend was"),
                ("difference in trends", "The difference in trends (programme - comparison) was"),
            ):
                tr = rows[rows["term"] == term]
                if len(tr) and np.isfinite(tr["estimate"].iloc[0]):
                    r = tr.iloc[0]
                    parts.append(
                        f"{text} {self._fmt(r.estimate, True)}{unit} per {self.time_unit} "
                        f"({level} CI {self._fmt(r.ci_low, True)} to {self._fmt(r.ci_high, True)}; "
                        f"{format_p(r.p)})."
                    )
            dd = rows[rows["term"] == "difference in differences"]
            for r in dd.itertuples():
                if np.isfinite(r.estimate):
                    parts.append(
                        f"Difference in differences at {r.wave}: {self._fmt(r.estimate, True)}"
                        f"{unit} ({level} CI {self._fmt(r.ci_low, True)} to "
                        f"{self._fmt(r.ci_high, True)}; {format_p(r.p)})."
                    )
        weighting = (
            f" Results are weighted ({self.weighting})."
            if self.weighting
            else " Results are unweighted."
        )
        text = " ".join(parts) + weighting
        if self.notes:
            text += " Notes: " + "; ".join(self.notes) + "."
        return with_notes(text, self.quality, shown=self.notes)

    def plot(self, ax=None):
        """The level at each wave with its CI, one line per arm (and group); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        scale = 100.0 if self.kind == "prevalence" else 1.0
        lv = self.table[self.table["term"] == "level"]
        for key, rows in lv.groupby([*self.by, "arm"], dropna=False, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            y = rows["estimate"].to_numpy(dtype=float) * scale
            err = np.vstack(
                [
                    y - rows["ci_low"].to_numpy(dtype=float) * scale,
                    rows["ci_high"].to_numpy(dtype=float) * scale - y,
                ]
            )
            ax.errorbar(
                rows["time"].to_numpy(dtype=float),
                y,
                yerr=err,
                marker="o",
                capsize=4,
                label=", ".join(map(str, key)),
            )
        ax.set_xticks(self.times, [str(w) for w in self.waves])
        ax.set_xlabel("wave")
        ax.set_ylabel("prevalence (%)" if self.kind == "prevalence" else "mean")
        ax.set_title(self.outcome)
        ax.legend(frameon=False)
        return ax

    def __repr__(self) -> str:
        return f"TrendResult({self.kind}, {len(self.waves)} waves, {len(self.table)} rows)"
