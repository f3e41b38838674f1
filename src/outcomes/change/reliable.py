"""Reliable and clinically significant change (Jacobson & Truax 1991; NHS England thresholds).

:func:`reliable_change` returns a plain DataFrame, one row per pair (aligned with the input),
with ``change, rci, reliable, category``; the settings used (method, S_diff, criterion,
cut-off, direction) are kept in ``frame.attrs["reliable_change"]``. The counts, percentages
with Wilson CIs, a report sentence and the Jacobson-Truax scatter come from the companion
:func:`reliable_change_summary`, which reads those attrs. We chose a plain frame (not a
DataFrame subclass) so that it joins, filters and saves like any other table.

* Jacobson-Truax: S_diff = s1 * sqrt(2) * sqrt(1 - r_xx); RCI = (post - pre) / S_diff;
  reliable when |RCI| > 1.96 (``critical=``).
* Threshold (NHS England CYP outcomes metric): reliable when |post - pre| >= threshold.
* Clinical range: scores at or beyond the cut-off in the worse direction (lower is better:
  score >= cut-off; higher is better: score <= cut-off). Cut-offs a, b, c from norms:
  lower is better a = M1 - 2 s1, b = M0 + 2 s0; higher is better a = M1 + 2 s1, b = M0 - 2 s0;
  c = (s0 M1 + s1 M0) / (s0 + s1) (1 = clinical, 0 = functional population).
* Categories: recovered (reliable improvement and moved from the clinical to the non-clinical
  range), improved (other reliable improvement), unchanged, deteriorated (reliable worsening);
  with ``harmed=True``, deteriorations that moved into the clinical range are "harmed".
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from .._internal.params import (
    FINITE,
    INSTRUMENT,
    OPTIONAL_TEXT,
    POSITIVE,
    POSITIVE_COUNT,
    PROBABILITY,
    ArrayLike,
    Interval,
    Options,
    Pair,
    validate_params,
)
from .._internal.quality import QualityRecord, quality_of, recorded, with_notes
from .._stats import wilson_ci
from ..errors import DataStructureError, OutcomesError
from .paired import _as_float

__all__ = [
    "ReliableChangeSummary",
    "jacobson_truax_cutoffs",
    "reliable_change",
    "reliable_change_summary",
    "s_diff",
]

CATEGORIES = ("recovered", "improved", "unchanged", "deteriorated")
_DECIMALS = 9  # change is rounded so that 19.98 - 16.98 counts as 3 (float noise), not 2.9999...


def s_diff(sd: float, reliability: float) -> float:
    """Standard error of the difference, S_diff = sd * sqrt(2) * sqrt(1 - reliability).

    Example:
        >>> round(s_diff(7.5, 0.80), 3)
        4.743
    """
    _check_sd_rel(sd, reliability)
    return float(sd * math.sqrt(2) * math.sqrt(1 - reliability))


def _check_sd_rel(sd: float, reliability: float) -> None:
    if not (isinstance(reliability, int | float) and 0 < reliability < 1):
        raise OutcomesError(f"reliability must lie strictly between 0 and 1, not {reliability!r}")
    if not (isinstance(sd, int | float) and math.isfinite(sd) and sd > 0):
        raise OutcomesError(f"sd must be a positive number, not {sd!r}")


@validate_params(
    {
        "clinical": [Pair(ordered=False), None],
        "functional": [Pair(ordered=False), None],
        "higher_is_better": "boolean",
    }
)
def jacobson_truax_cutoffs(
    clinical: tuple[float, float] | None,
    functional: tuple[float, float] | None,
    *,
    higher_is_better: bool,
) -> dict[str, float]:
    """Cut-offs a, b and c from (mean, sd) of the clinical and the functional population.

    Example (M1 = 40, M0 = 60, s0 = s1 = 7.5, higher is better):
        >>> jacobson_truax_cutoffs((40, 7.5), (60, 7.5), higher_is_better=True)
        {'a': 55.0, 'b': 45.0, 'c': 50.0}
    """
    out: dict[str, float] = {}
    sign = 1 if higher_is_better else -1
    for name, grp in (("clinical", clinical), ("functional", functional)):
        if grp is not None and not (len(grp) == 2 and grp[1] > 0):
            raise OutcomesError(f"{name} norms must be (mean, sd) with sd > 0, not {grp!r}")
    if clinical is not None:
        m1, s1 = clinical
        out["a"] = m1 + sign * 2 * s1
    if functional is not None:
        m0, s0 = functional
        out["b"] = m0 - sign * 2 * s0
    if clinical is not None and functional is not None:
        worse = m1 < m0 if higher_is_better else m1 > m0
        if not worse:
            raise OutcomesError(
                f"the clinical mean ({m1}) should be worse than the functional mean ({m0}) "
                f"for a scale where {'higher' if higher_is_better else 'lower'} is better"
            )
        out["c"] = (s0 * m1 + s1 * m0) / (s0 + s1)
    return out


@dataclass(frozen=True)
class _Settings:
    method: str
    higher_is_better: bool
    threshold: float | None
    sd: float | None
    reliability: float | None
    s_diff: float | None
    critical: float | None
    criterion: float
    cutoff: float | None
    cutoff_kind: str | None
    harmed: bool
    instrument: str | None
    scale: str | None
    cutoff_convention: str

    def describe(self) -> str:
        if self.method == "threshold":
            return f"a change of at least {self.threshold:g} points"
        return (
            f"Jacobson-Truax RCI beyond \u00b1{self.critical:g} (S_diff {self.s_diff:.3f}, "
            f"a change of more than {self.criterion:.2f} points)"
        )


def _norm_pair(x) -> tuple[float, float] | None:
    if x is None:
        return None
    if hasattr(x, "mean") and hasattr(x, "sd"):
        return (float(x.mean), float(x.sd))
    return (float(x[0]), float(x[1]))


def _resolve(
    *,
    pre: np.ndarray,
    post: np.ndarray,
    instrument,
    scale,
    sd,
    reliability,
    threshold,
    cutoff,
    higher_is_better,
    method,
    critical,
    clinical_norms,
    functional_norms,
    harmed,
    cutoff_convention,
) -> _Settings:
    sc = None
    if (instrument is None) != (scale is None):
        raise OutcomesError("give both instrument= and scale=, or neither")
    inst_id = None
    if instrument is not None:
        from ..instruments.model import load_instrument

        inst = load_instrument(instrument)
        inst_id = inst.id
        try:
            sc = inst.scale(scale)
        except KeyError as err:
            raise OutcomesError(str(err).strip("'\"")) from None
    where = f"{inst_id}/{scale}" if sc is not None else "this scale"
    yrc = sc.reliable_change if sc is not None else None
    if higher_is_better is None:
        if sc is None:
            raise OutcomesError(
                "reliable_change needs the scale's direction: give higher_is_better=True/False "
                "(or instrument= and scale=)"
            )
        higher_is_better = sc.higher_is_better

    explicit_jt = sd is not None or reliability is not None
    if method not in ("jt", "threshold"):
        raise OutcomesError(f"method must be 'jt' or 'threshold', not {method!r}")
    if method == "threshold" or (threshold is not None and not explicit_jt):
        use = "threshold"
    elif threshold is not None and explicit_jt:
        raise OutcomesError(
            "give threshold= or sd=/reliability=, not both (the threshold method ignores sd)"
        )
    elif explicit_jt or (yrc is not None and yrc.sd is not None and yrc.reliability is not None):
        use = "jt"
    elif yrc is not None and yrc.threshold is not None:
        use = "threshold"
    else:
        raise OutcomesError(
            f"{where} has no reliable-change threshold and no SD/reliability; give threshold=, "
            "or sd= (a number, or 'baseline' for the sample's baseline SD) and reliability="
        )

    thr = s1 = rel = sdiff = crit = None
    if use == "threshold":
        thr = threshold if threshold is not None else (yrc.threshold if yrc is not None else None)
        if thr is None:
            raise OutcomesError(f"method='threshold': {where} has no threshold; give threshold=")
        if not (isinstance(thr, int | float) and math.isfinite(thr) and thr > 0):
            raise OutcomesError(f"threshold must be a positive number, not {thr!r}")
        criterion = float(thr)
    else:
        s1 = sd if sd is not None else (yrc.sd if yrc is not None else None)
        rel = (
            reliability
            if reliability is not None
            else (yrc.reliability if yrc is not None else None)
        )
        if s1 is None or rel is None:
            raise OutcomesError(
                f"Jacobson-Truax needs both sd= and reliability= ({where}: "
                f"sd={s1!r}, reliability={rel!r})"
            )
        if isinstance(s1, str):
            if s1 != "baseline":
                raise OutcomesError(f"sd must be a number or 'baseline', not {s1!r}")
            ok = ~(np.isnan(pre) | np.isnan(post))
            if ok.sum() < 2:
                raise OutcomesError("sd='baseline' needs at least 2 complete pairs")
            s1 = float(np.std(pre[ok], ddof=1))
            if s1 == 0:
                raise OutcomesError("sd='baseline': the baseline scores have zero variance")
        if not (isinstance(critical, int | float) and critical > 0):
            raise OutcomesError(f"critical must be a positive number, not {critical!r}")
        sdiff = s_diff(float(s1), rel)
        crit = float(critical)
        criterion = crit * sdiff

    cut, kind = None, None
    if isinstance(cutoff, str):
        if cutoff not in ("a", "b", "c"):
            raise OutcomesError(f"cutoff must be a number or 'a', 'b', 'c', not {cutoff!r}")
        norms = sc.norms if sc is not None else None
        clin = _norm_pair(clinical_norms) or _norm_pair(norms.clinical if norms else None)
        func = _norm_pair(functional_norms) or _norm_pair(norms.functional if norms else None)
        cuts = jacobson_truax_cutoffs(clin, func, higher_is_better=bool(higher_is_better))
        if cutoff not in cuts:
            need = {"a": "clinical", "b": "functional", "c": "clinical and functional"}[cutoff]
            raise OutcomesError(f"cut-off {cutoff!r} needs {need} norms (mean, sd) for {where}")
        cut, kind = cuts[cutoff], cutoff
    elif cutoff is not None:
        if (
            isinstance(cutoff, bool)
            or not isinstance(cutoff, int | float)
            or not math.isfinite(cutoff)
        ):
            raise OutcomesError(f"cutoff must be a number or 'a', 'b', 'c', not {cutoff!r}")
        cut, kind = float(cutoff), "value"
    elif sc is not None and sc.clinical_cutoff is not None:
        cut, kind = float(sc.clinical_cutoff.value), "instrument"
    if cutoff_convention not in ("clinical", "neither"):
        raise OutcomesError(
            f"cutoff_convention must be 'clinical' or 'neither', not {cutoff_convention!r}"
        )
    return _Settings(
        method=use,
        higher_is_better=bool(higher_is_better),
        threshold=None if thr is None else float(thr),
        sd=None if s1 is None else float(s1),
        reliability=None if rel is None else float(rel),
        s_diff=sdiff,
        critical=crit,
        criterion=float(criterion),
        cutoff=cut,
        cutoff_kind=kind,
        harmed=bool(harmed),
        instrument=inst_id,
        scale=scale,
        cutoff_convention=cutoff_convention,
    )


@recorded("reliable_change")
@validate_params(
    {
        "pre": ArrayLike(scores=True),
        "post": ArrayLike(scores=True),
        "instrument": [*INSTRUMENT, None],
        "scale": OPTIONAL_TEXT,
        "sd": [POSITIVE, Options(str, {"baseline"}), None],
        "reliability": [Interval(Real, 0, 1, closed="left"), None],
        "threshold": [POSITIVE, None],
        "cutoff": [FINITE, Options(str, {"a", "b", "c"}), None],
        "higher_is_better": ["boolean", None],
        "method": Options(str, {"jt", "threshold"}),
        "critical": POSITIVE,
        "clinical_norms": [Pair(ordered=False), None],
        "functional_norms": [Pair(ordered=False), None],
        "harmed": "boolean",
        "cutoff_convention": Options(str, {"clinical", "neither"}),
    }
)
def reliable_change(
    pre,
    post,
    *,
    instrument: str | None = None,
    scale: str | None = None,
    sd: float | Literal["baseline"] | None = None,
    reliability: float | None = None,
    threshold: float | None = None,
    cutoff: float | Literal["a", "b", "c"] | None = None,
    higher_is_better: bool | None = None,
    method: Literal["jt", "threshold"] = "jt",
    critical: float = 1.96,
    clinical_norms: tuple[float, float] | None = None,
    functional_norms: tuple[float, float] | None = None,
    harmed: bool = False,
    cutoff_convention: Literal["clinical", "neither"] = "clinical",
) -> pd.DataFrame:
    """Reliable change and clinically significant change, one row per pair.

    Which criterion is used:

    * ``threshold=`` given, or ``method="threshold"``: reliable when |post - pre| >= threshold
      (NHS England; ``>=`` counts).
    * ``sd=`` and ``reliability=`` given (``sd="baseline"`` uses the sample's baseline SD):
      Jacobson-Truax, reliable when |RCI| > ``critical`` (1.96).
    * only ``instrument=``/``scale=``: Jacobson-Truax if the YAML gives sd and reliability,
      otherwise its threshold; an error if it has neither.

    The clinical cut-off is ``cutoff=`` (a score, or ``"a"``, ``"b"``, ``"c"`` from
    ``clinical_norms``/``functional_norms`` = (mean, sd) or the YAML norms), else the YAML
    ``clinical_cutoff``; without one nobody is classed "recovered".

    Conventions (docs/reliable_change.md states them with their sources):

    * ``cutoff_convention="clinical"`` (default): a score exactly at the cut-off is in the
      clinical range (as caseness elsewhere in the library and the instruments' published
      "at or above" cut-offs). ``"neither"``: a score exactly at the cut-off is neither
      clinical nor functional, as R's clinicalsignificance (``pre < cutoff`` / ``post >
      cutoff`` strictly): someone who ends exactly on the cut-off is then not "recovered".
    * ``critical`` defaults to 1.96 as in Jacobson & Truax (1991); R's clinicalsignificance uses
      qnorm(0.975) = 1.959964. They differ only for |RCI| in (1.959964, 1.96].
    * Cut-off b uses the functional population's SD, b = M0 ∓ 2 s0 (Jacobson & Truax 1991);
      clinicalsignificance uses the clinical SD there.

    Returns
    -------
    DataFrame (index of ``pre`` if it is a Series) with ``pre, post, change, rci`` (NaN for
    the threshold method), ``reliable``, ``reliable_improvement``, ``reliable_deterioration``,
    ``clinical_pre``, ``clinical_post`` and ``category``. Pairs with a missing score keep their
    row with missing results; :func:`reliable_change_summary` counts them. Settings are in
    ``.attrs["reliable_change"]``.

    Example:
        >>> from outcomes.change.reliable import reliable_change
        >>> rc = reliable_change([20, 18, 12, 9], [10, 15, 13, 16], sd=7.5, reliability=0.8,
        ...                      cutoff=14, higher_is_better=False)
        >>> rc["category"].tolist()
        ['recovered', 'unchanged', 'unchanged', 'unchanged']
        >>> reliable_change([5, 9], [1, 9], instrument="sdq_parent", scale="emotional")[
        ...     "category"].tolist()
        ['recovered', 'unchanged']
    """
    a, idx = _as_float(pre, "pre")
    b, idx_b = _as_float(post, "post")
    if len(a) != len(b):
        raise DataStructureError(
            f"pre and post must have the same length (got {len(a)} and {len(b)})"
        )
    if idx is not None and idx_b is not None and not idx.equals(idx_b):
        raise DataStructureError(
            "pre and post are Series with different index labels; align them or pass arrays"
        )
    st = _resolve(
        pre=a,
        post=b,
        instrument=instrument,
        scale=scale,
        sd=sd,
        reliability=reliability,
        threshold=threshold,
        cutoff=cutoff,
        higher_is_better=higher_is_better,
        method=method,
        critical=critical,
        clinical_norms=clinical_norms,
        functional_norms=functional_norms,
        harmed=harmed,
        cutoff_convention=cutoff_convention,
    )
    out = _classify(a, b, st)
    out.index = idx if idx is not None else (idx_b if idx_b is not None else pd.RangeIndex(len(a)))
    # counted before the frame has attrs (each column read deep-copies them)
    n_missing = int(out["category"].isna().sum())
    out.attrs["reliable_change"] = st.__dict__.copy()
    quality = QualityRecord()
    if n_missing:
        quality.add(
            "reliable_change",
            MISSING_NOTE,
            rows=n_missing,
            action="kept with no category (counted as missing)",
            warn=False,
        )
    out.attrs["quality"] = quality
    return out


MISSING_NOTE = "pair(s) with a missing score"
#: reliable_change's defaults, read from its signature (their one home) by the callers that
#: classify as it does without making its frame
_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(reliable_change).parameters.items()
    if p.default is not inspect.Parameter.empty
}


@functools.cache
def _category_dtype(harmed: bool) -> pd.CategoricalDtype:
    """The category column's dtype, made once: from_codes with categories= checks them on
    every call (a third of a classification of a few hundred pairs)."""
    return pd.CategoricalDtype(list(CATEGORIES) + (["harmed"] if harmed else []))


def _classify(a: np.ndarray, b: np.ndarray, st: _Settings) -> pd.DataFrame:
    missing, change, rci, reliable, imp, det, clin_a, clin_b, code = _classified(a, b, st)
    category = pd.Categorical.from_codes(code, dtype=_category_dtype(st.harmed))

    def nullable(x: np.ndarray, also_missing: np.ndarray | None = None) -> pd.arrays.BooleanArray:
        mask = missing if also_missing is None else (missing | also_missing)
        return pd.arrays.BooleanArray(np.asarray(x, bool), mask)

    no_cut = np.full(len(a), st.cutoff is None)
    return pd.DataFrame(
        {
            "pre": a,
            "post": b,
            "change": change,
            "rci": np.where(missing, np.nan, rci),
            "reliable": nullable(reliable),
            "reliable_improvement": nullable(imp),
            "reliable_deterioration": nullable(det),
            "clinical_pre": pd.arrays.BooleanArray(np.asarray(clin_a, bool), np.isnan(a) | no_cut),
            "clinical_post": pd.arrays.BooleanArray(np.asarray(clin_b, bool), np.isnan(b) | no_cut),
            "category": category,
        }
    )


def _classified(a: np.ndarray, b: np.ndarray, st: _Settings) -> tuple[np.ndarray, ...]:
    """Each pair's classification as arrays: missing, change, rci, reliable, improvement,
    deterioration, clinical before and after, and the category's code (-1: missing)."""
    missing = np.isnan(a) | np.isnan(b)
    change = b - a
    ch = np.round(change, _DECIMALS)
    if st.method == "threshold":
        rci = np.full(len(a), np.nan)
        reliable = np.abs(ch) >= st.threshold
    else:
        rci = change / st.s_diff
        reliable = np.abs(np.round(rci, _DECIMALS)) > st.critical
    better = ch > 0 if st.higher_is_better else ch < 0
    worse = ch < 0 if st.higher_is_better else ch > 0
    imp = reliable & better
    det = reliable & worse
    if st.cutoff is not None:
        # signed distance beyond the cut-off in the worse direction: > 0 clinical, < 0 functional
        worse_by = (
            (st.cutoff - a, st.cutoff - b)
            if st.higher_is_better
            else (a - st.cutoff, b - st.cutoff)
        )
        if st.cutoff_convention == "neither":  # on the cut-off: neither clinical nor functional
            clin_a, clin_b = worse_by[0] > 0, worse_by[1] > 0
            func_a, func_b = worse_by[0] < 0, worse_by[1] < 0
        else:  # on the cut-off counts as clinical
            clin_a, clin_b = worse_by[0] >= 0, worse_by[1] >= 0
            func_a, func_b = ~clin_a, ~clin_b
        recovered = imp & clin_a & func_b
        harmed = det & func_a & clin_b if st.harmed else np.zeros(len(a), bool)
    else:
        clin_a = clin_b = np.zeros(len(a), bool)
        recovered = harmed = np.zeros(len(a), bool)
    code = np.select(
        [missing, recovered, imp, harmed, det],
        [-1, 0, 1, 4, 3],
        default=2,
    )
    return missing, change, rci, reliable, imp, det, clin_a, clin_b, code


# ----------------------------------------------------------------------------- summary
def _settings_of(frame: pd.DataFrame) -> _Settings:
    raw = frame.attrs.get("reliable_change")
    if raw is None:
        raise OutcomesError(
            "this frame has lost the settings of reliable_change (pandas drops .attrs in some "
            "operations); summarise the frame returned by reliable_change() directly"
        )
    return _Settings(**raw)


@dataclass
class ReliableChangeSummary:
    """Counts and percentages (Wilson CIs) of reliable-change categories.

    ``frame`` holds one row per pair (from :func:`reliable_change`); ``by`` optional groups.
    """

    frame: pd.DataFrame
    settings: _Settings
    by: pd.Series | None = None
    confidence: float = 0.95
    quality: QualityRecord = field(default_factory=QualityRecord)
    #: to_frame() makes a new table with no notes of its own (no ``note`` column, no attrs),
    #: so @recorded need not build it to look for them
    TABLE_NOTES: ClassVar[bool] = False

    def to_frame(self) -> pd.DataFrame:
        """Rows per (group and) measure: ``count, denominator, proportion, ci_low, ci_high``.

        Measures: each category; ``reliable_improvement`` (recovered + improved);
        ``recovered_of_clinical`` (recovered among those in the clinical range at baseline,
        when there is a cut-off); ``missing`` (pairs with a missing score, of all pairs).
        """
        labels, entries = self._entries()
        n_g = len(labels)
        gname = "group" if self.by is None else (self.by.name or "group")
        # built by columns, group-major (each group's measures together): a frame from a
        # list of row dicts cost most of a report's reliable-change time. Without groups
        # there is no group column (rather than one made and dropped).
        count = np.stack([k for _, k, _ in entries], axis=1).ravel().astype(np.int64)
        denom = np.stack([d for _, _, d in entries], axis=1).ravel().astype(np.int64)
        cols: dict[str, object] = {}
        if self.by is not None:
            # a list of the labels, so the column gets the dtype pandas infers for them
            cols[gname] = [labels[g] for g in range(n_g) for _ in entries]
        cols["measure"] = [m for _ in range(n_g) for m, _, _ in entries]
        cols["count"], cols["denominator"] = count, denom
        lo, hi = wilson_ci(count, denom, self.confidence)
        d = denom.astype(float)
        cols["proportion"] = np.where(d > 0, count / np.where(d > 0, d, 1), np.nan)
        cols["ci_low"], cols["ci_high"] = lo, hi
        return pd.DataFrame(cols)

    def counts(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per measure of :meth:`to_frame`: the count and the denominator of each group (in
        the order of ``to_frame``'s groups), without the proportions and their CIs.

        Example:
            >>> rc = reliable_change([20, 18, 12], [10, 15, 13], sd=7.5, reliability=0.8,
            ...                      higher_is_better=False)
            >>> k, n = reliable_change_summary(rc).counts()["reliable_improvement"]
            >>> int(k[0]), int(n[0])
            (1, 3)
        """
        return {m: (k, d) for m, k, d in self._entries()[1]}

    def _entries(self) -> tuple[pd.Index, list[tuple[str, np.ndarray, np.ndarray]]]:
        """The groups' labels, and per measure its counts and denominators by group."""
        f = self.frame
        category = f["category"]  # once: each column read deep-copies the frame's attrs
        if self.by is None:
            gcode, labels = np.zeros(len(f), dtype=np.int64), pd.Index(["all"])
        else:
            gcode, labels = pd.factorize(self.by, sort=True)
        clin_pre = f["clinical_pre"].fillna(False).to_numpy(dtype=bool)
        entries = _tally(
            category.cat.codes.to_numpy(),
            list(category.cat.categories),
            clin_pre,
            gcode,
            len(labels),
            self.settings.cutoff is not None,
        )
        return labels, entries

    def summary(self) -> str:
        """A sentence per group for a report."""
        t = self.to_frame()
        gcol = None if self.by is None else (self.by.name or "group")
        parts = []
        for g, sub in t.groupby(gcol, sort=False) if gcol else [(None, t)]:
            m = sub.set_index("measure")
            n = int(m.loc["unchanged", "denominator"])
            pct = int(round(100 * self.confidence))

            def say(key: str, m=m, pct=pct) -> str:
                return _say(m.loc[key], pct)

            head = f"{g}: of" if g is not None else "Of"
            text = f"{head} {n} people with paired scores, {say('reliable_improvement')} showed reliable improvement"
            if self.settings.cutoff is not None:
                text += (
                    f", including {say('recovered_of_clinical')} of the "
                    f"{int(m.loc['recovered_of_clinical', 'denominator'])} who started in the clinical "
                    "range and recovered (moved out of it)"
                )
            text += f"; {say('unchanged')} showed no reliable change and {say('deteriorated')} reliably deteriorated"
            if "harmed" in m.index:
                text += f" ({int(m.loc['harmed', 'count'])} of them moving into the clinical range)"
            text += f". Reliable change: {self.settings.describe()}."
            miss = int(m.loc["missing", "count"])
            if miss:
                text += f" {miss} pair(s) with a missing score were not classified."
            parts.append(text)
        return with_notes("\n".join(parts), self.quality, shown=[MISSING_NOTE])

    @validate_params(
        {
            "ax": ["ax", None],
            "max_points": POSITIVE_COUNT,
        }
    )
    def plot(self, ax=None, max_points: int = 5000):
        """The Jacobson-Truax scatter: baseline vs follow-up, the band of no reliable change
        around the diagonal and the cut-off lines. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        st = self.settings
        f = self.frame[self.frame["category"].notna()]
        if len(f) > max_points:  # a fixed subsample keeps the picture readable and reproducible
            f = f.iloc[np.sort(np.random.default_rng(0).choice(len(f), max_points, replace=False))]
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 5))
        colours = {
            "recovered": "#1a9850",
            "improved": "#91cf60",
            "unchanged": "#999999",
            "deteriorated": "#fc8d59",
            "harmed": "#d73027",
        }
        for cat in f["category"].cat.categories:
            sub = f[f["category"] == cat]
            if len(sub):
                ax.scatter(
                    sub["pre"],
                    sub["post"],
                    s=14,
                    alpha=0.7,
                    color=colours[cat],
                    label=f"{cat} ({len(sub)})",
                )
        vals = np.r_[f["pre"].to_numpy(), f["post"].to_numpy()]
        if st.cutoff is not None:
            vals = np.r_[vals, st.cutoff]
        lo, hi = (float(np.min(vals)), float(np.max(vals))) if len(vals) else (0.0, 1.0)
        pad = 0.05 * (hi - lo or 1)
        lo, hi = lo - pad - st.criterion, hi + pad + st.criterion
        x = np.array([lo, hi])
        ax.plot(x, x, color="black", lw=1)
        ax.plot(x, x + st.criterion, color="black", lw=0.8, ls="--")
        ax.plot(
            x, x - st.criterion, color="black", lw=0.8, ls="--", label="no reliable change band"
        )
        if st.cutoff is not None:
            ax.axvline(st.cutoff, color="tab:blue", lw=0.8, ls=":")
            ax.axhline(st.cutoff, color="tab:blue", lw=0.8, ls=":", label=f"cut-off {st.cutoff:g}")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        better = "higher" if st.higher_is_better else "lower"
        ax.set_xlabel("baseline score")
        ax.set_ylabel(f"follow-up score ({better} is better)")
        ax.legend(fontsize=7, frameon=False, loc="best")
        return ax

    def __repr__(self) -> str:
        return f"ReliableChangeSummary({self.summary()!r})"


def _tally(
    code: np.ndarray,
    cats: list[str],
    clin_pre: np.ndarray,
    gcode: np.ndarray,
    n_g: int,
    has_cutoff: bool,
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Per measure of :meth:`ReliableChangeSummary.to_frame`, its counts and denominators by
    group, from the category codes (-1: missing) and the groups' codes."""
    n_c = len(cats)
    ok = code >= 0
    # counts per group x category with one bincount (fast on a million pairs)
    counts = np.bincount(gcode[ok] * n_c + code[ok], minlength=n_g * n_c).reshape(n_g, n_c)
    total = np.bincount(gcode, minlength=n_g)
    n = counts.sum(axis=1)
    clin = np.bincount(gcode[clin_pre & ok], minlength=n_g)
    col = {c: counts[:, i] for i, c in enumerate(cats)}
    entries = [(cat, col[cat], n) for cat in cats]
    entries.append(("reliable_improvement", col["recovered"] + col["improved"], n))
    if has_cutoff:
        entries.append(("recovered_of_clinical", col["recovered"], clin))
    entries.append(("missing", total - n, total))
    return entries


def _reliable_change_counts(
    pre: np.ndarray, post: np.ndarray, *, instrument: object, scale: str
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``reliable_change_summary(reliable_change(pre, post, instrument=, scale=)).counts()``
    without the two frames, for a caller that publishes the counts only (the report's
    reliable-change table classifies about 24 scales): the same settings, classification
    and counts.

    Example:
        >>> k, n = _reliable_change_counts([5, 9], [1, 9], instrument="sdq_parent",
        ...                                scale="emotional")["recovered"]
        >>> int(k[0]), int(n[0])
        (1, 2)
    """
    a, _ = _as_float(pre, "pre")
    b, _ = _as_float(post, "post")
    if len(a) != len(b):
        raise DataStructureError(
            f"pre and post must have the same length (got {len(a)} and {len(b)})"
        )
    st = _resolve(pre=a, post=b, **{**_DEFAULTS, "instrument": instrument, "scale": scale})
    missing, *_, clin_a, _, code = _classified(a, b, st)
    cats = list(_category_dtype(st.harmed).categories)
    clin_pre = np.asarray(clin_a, bool) & ~np.isnan(a) & (st.cutoff is not None)
    gcode = np.zeros(len(a), dtype=np.int64)
    return {m: (k, d) for m, k, d in _tally(code, cats, clin_pre, gcode, 1, st.cutoff is not None)}


def _say(r: pd.Series, pct: int) -> str:
    if r["denominator"] == 0:
        return f"{int(r['count'])}"
    return (
        f"{int(r['count'])} ({100 * r['proportion']:.0f}%, {pct}% CI "
        f"{100 * r['ci_low']:.0f}% to {100 * r['ci_high']:.0f}%)"
    )


@recorded("reliable_change_summary")
@validate_params(
    {
        "frame": "dataframe",
        "by": [ArrayLike(), None],
        "confidence": PROBABILITY,
    }
)
def reliable_change_summary(
    frame: pd.DataFrame,
    *,
    by: pd.Series | Sequence | None = None,
    confidence: float = 0.95,
) -> ReliableChangeSummary:
    """Summarise a :func:`reliable_change` frame: counts, % with Wilson CIs, a sentence, a plot.

    Example:
        >>> from outcomes.change.reliable import reliable_change, reliable_change_summary
        >>> rc = reliable_change([20, 18, 12, 9], [10, 15, 13, 16], sd=7.5, reliability=0.8,
        ...                      cutoff=14, higher_is_better=False)
        >>> s = reliable_change_summary(rc)
        >>> s.to_frame().set_index("measure").loc["recovered", ["count", "denominator"]].tolist()
        [1, 4]
    """
    if not isinstance(frame, pd.DataFrame) or "category" not in frame.columns:
        raise DataStructureError(
            "reliable_change_summary: pass the frame returned by reliable_change()"
        )
    if not 0 < confidence < 1:
        raise OutcomesError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")
    st = _settings_of(frame)
    if by is not None:
        if isinstance(by, pd.Series):
            if not by.index.equals(frame.index):
                raise DataStructureError("by= is a Series whose index differs from the frame's")
        else:
            labels = np.asarray(by)
            if labels.ndim != 1 or len(labels) != len(frame):
                raise DataStructureError(f"by= has {len(labels)} labels for {len(frame)} pairs")
            by = pd.Series(labels, index=frame.index, name="group")
        if by.isna().any():
            raise DataStructureError("by= has missing group labels")
    quality = QualityRecord()
    quality.extend(quality_of(frame))
    return ReliableChangeSummary(
        frame=frame, settings=st, by=by, confidence=confidence, quality=quality
    )
