"""Likert perception surveys: item summaries, reliability, a one-factor check and change.

Built for the WCS-10 workforce confidence survey but generic: any instrument YAML (or a plain
frame of numeric item columns) works. The pieces:

- :func:`item_summary` / :func:`item_distribution`: per item n, mean, median, the share
  agreeing (top-two box) with a Wilson CI, and the full response distribution;
  :func:`plot_diverging` draws the diverging stacked bar chart.
- :func:`reliability`: Cronbach's alpha (computed as pingouin and psych::alpha do) with the
  Feldt CI and McDonald's omega from a one-factor model; :func:`item_analysis`: item-rest
  correlations, alpha if item deleted, loadings, and a flag for items that look reverse-keyed
  by mistake; :func:`one_factor`.
- :func:`compare_waves`: change between baseline and follow-up, for matched staff (paired
  t, Wilcoxon signed-rank, matched rank-biserial) or unmatched staff (Mann-Whitney U with
  rank-biserial, ordinal logistic regression, difference in % agreeing with a Newcombe CI).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._internal.params import (
    BY,
    COLUMN,
    COLUMN_MAP,
    ERRORS,
    INSTRUMENT,
    OPTIONAL_TEXT,
    POSITIVE_COUNT,
    PROBABILITY,
    ArrayLike,
    Columns,
    Options,
    renamed_params,
    validate_params,
)
from ._internal.quality import (
    OTHER_WAVES,
    NoteTemplate,
    QualityRecord,
    first_lines,
    recorded,
    with_notes,
)
from ._internal.text import did_you_mean, format_p
from ._stats import wilson_ci
from .errors import DataStructureError, InvalidResponsesError, OutcomesError
from .instruments import Instrument, load_instrument, scoring
from .survey import _as_list, _check_frame, _resolve_waves, _wave_name, _wilcoxon_row

__all__ = [
    "FactorCheck",
    "LikertChange",
    "LikertWarning",
    "compare_waves",
    "item_analysis",
    "item_codes",
    "item_distribution",
    "item_summary",
    "one_factor",
    "plot_diverging",
    "reliability",
]


# A responses table and the parameters that pick items from it (checked by validate_params).
_ITEMS_FROM = {
    "data": "dataframe",
    "items": [Columns(), None],
    "instrument": [*INSTRUMENT, None],
    "scale": OPTIONAL_TEXT,
    "columns": COLUMN_MAP,
    "coding": OPTIONAL_TEXT,
    "levels": [ArrayLike(scores=True), None],
}


# A table of items and the parameters that say which columns are items and how to read them
# (checked by validate_params).
_ITEM_TABLE = {
    "items": "dataframe",
    "instrument": [*INSTRUMENT, None],
    "scale": OPTIONAL_TEXT,
    "columns": COLUMN_MAP,
    "coding": OPTIONAL_TEXT,
    "item_columns": [Columns(), None],
    "nan_policy": Options(str, {"pairwise", "listwise"}),
}


# the messages' counts of respondents and rows (the report releases them by the count rule)
_NO_ITEM = NoteTemplate("{n} respondent(s) answered no item and were left out", counts=["n"])
_LISTWISE = NoteTemplate("{n} respondent(s) with a missing item left out (listwise)", counts=["n"])
_TOO_FEW = NoteTemplate("alpha undefined: {n} respondent(s); at least two are needed", counts=["n"])
_SHORT = NoteTemplate(
    "{n} respondent(s) answered fewer than {need} items: no {scale} score",
    counts=["n"], values=["need"],
)  # fmt: skip
_UNPARTNERED = NoteTemplate(
    "{n} response(s) without a partner at the other wave left out", counts=["n"]
)
_NO_ID = NoteTemplate(
    "{n} row(s) have no {column}: matched analysis needs an id on every row", counts=["n"]
)


class LikertWarning(UserWarning):
    """A statistic could not be computed or should be read with care (the note says why)."""


# ----------------------------------------------------------------------------- item data
@validate_params(
    {
        **scoring.RESPONSES_PARAMS,
        "scored": "boolean",
        "errors": ERRORS,
    }
)
def item_codes(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    scored: bool = False,
    errors: str = "raise",
) -> pd.DataFrame:
    """Canonical item codes (NaN = no answer) from numbers or response labels.

    Uses the scoring engine's parsing, so labels ("Strongly agree"), aliases, missing codes
    ("Not applicable" = 9) and alternative codings behave exactly as in ``oc.score``.
    ``scored=True`` returns item scores instead (after reverse keying and recodes), which is
    what reliability needs. Items absent from the data (optional ones) are left out.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({f"q{i}": ["Agree", "Not applicable"] for i in range(1, 11)})
        >>> item_codes(df, "workforce_confidence")["q1"].tolist()
        [4.0, nan]
    """
    return _item_code_frames(data, instrument, (scored,), columns, coding, errors)[0]


def _item_code_frames(
    data: pd.DataFrame,
    instrument: str | Instrument,
    kinds: Sequence[bool],
    columns: Mapping[str, str] | None,
    coding: str | None,
    errors: str = "raise",
) -> list[pd.DataFrame]:
    """:func:`item_codes` with ``scored=`` each of ``kinds``, the cells read once."""
    inst = load_instrument(instrument)
    # Scores (reverse keys and recodes applied) or codes, from the engine that scores scales;
    # a cell the engine rejects is missing, never a score (errors="flag").
    frames = scoring.item_frames(data, inst, kinds, columns=columns, errors=errors, coding=coding)
    out = []
    for codes in frames:
        present = [i for i in codes.columns if _item_column(data, i, columns) is not None]
        kept = codes[present]
        kept.attrs["issues"] = codes.attrs.get("issues")
        out.append(kept)
    return out


def _item_column(data: pd.DataFrame, item: str, columns: Mapping[str, str] | None) -> str | None:
    """The data column holding ``item`` (directly, or renamed by ``columns=``), if any."""
    for src, target in (columns or {}).items():
        if target == item and src in data.columns:
            return src
    return item if item in data.columns else None


@dataclass
class _Items:
    matrix: pd.DataFrame  # float, NaN = missing; one column per item
    levels: list[float]
    level_labels: dict[float, str]
    item_labels: dict[str, str]
    min_answered: int


def _default_scale(inst: Instrument, scale: str | None):
    if scale is not None:
        try:
            sc = inst.scale(scale)
        except KeyError as exc:
            raise OutcomesError(str(exc.args[0])) from None
        if len(sc.items) < 2:
            built = (
                f"built from scales {list(sc.scales)}" if sc.scales else "not a multi-item scale"
            )
            raise OutcomesError(
                f"{inst.id} scale {scale!r} is {built}: item statistics need a scale of two or "
                "more items (name one of its component scales, or the items with items=)"
            )
        return sc
    for sc in inst.scales:
        if len(sc.items) >= 2:
            return sc
    raise OutcomesError(f"{inst.id} has no scale of two or more items; name the items with items=")


def _resolve_items(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None,
    instrument: str | Instrument | None,
    scale: str | None,
    columns: Mapping[str, str] | None,
    coding: str | None,
    levels: Sequence[float] | None,
    kinds: Sequence[bool],
    what: str,
    exclude: Sequence[str] = (),
) -> list[_Items]:
    """The item matrix (codes, or scores where ``scored``) of each of ``kinds``, its levels and
    labels, from one reading of the cells."""
    if instrument is not None:
        inst = load_instrument(instrument)
        frames = _item_code_frames(data, inst, kinds, columns, coding)
        codes = frames[0]
        if items is None:
            sc = _default_scale(inst, scale)
            chosen, need = list(sc.items), sc.required_answered
        else:
            chosen, need = list(items), len(items)
        absent = [i for i in chosen if i not in codes.columns]
        if absent:
            raise DataStructureError(
                f"{what}: items {absent} of {inst.id} are not in the data"
                f"{did_you_mean(absent[0], codes.columns)}"
            )
        sets = {inst.item(i).response_set for i in chosen}
        rset = inst.response_sets[sorted(sets)[0]]
        if levels is None:
            if len(sets) > 1:
                raise OutcomesError(
                    f"{what}: items {chosen} use different response sets {sorted(sets)}; "
                    "analyse them separately or give levels="
                )
            levels = [float(c) for c in rset.valid_codes]
        labels = {float(o.code): o.label for o in rset.options}
        item_labels = {i: inst.item(i).label for i in chosen}
        return [
            _Items(f[chosen].astype(float), sorted(levels), labels, item_labels, need)
            for f in frames
        ]
    _check_frame(data, list(items or []), what)
    skip = {str(c) for c in exclude if c}
    chosen = (
        list(items) if items is not None else [str(c) for c in data.columns if str(c) not in skip]
    )
    if len(chosen) == 0:
        raise DataStructureError(f"{what}: no item columns")
    mat = {}
    for c in chosen:
        col = data[c]
        if pd.api.types.is_bool_dtype(col.dtype) or not pd.api.types.is_numeric_dtype(col.dtype):
            example = col.dropna().iloc[:3].tolist()
            raise InvalidResponsesError(
                f"{what}: column {c!r} is not numeric (values such as {example}); pass "
                "instrument= to read response labels, or items= to choose the item columns"
            )
        mat[c] = col.to_numpy(dtype=float, na_value=np.nan)
    matrix = pd.DataFrame(mat, index=data.index)
    observed = np.unique(matrix.to_numpy()[~np.isnan(matrix.to_numpy())])
    if levels is None:
        levels = observed.tolist()
    else:
        outside = sorted(set(observed.tolist()) - {float(v) for v in levels})
        if outside:
            col_of = {v: [c for c in chosen if (matrix[c] == v).any()] for v in outside[:5]}
            raise InvalidResponsesError(
                f"{what}: values {outside[:5]} are not among levels={list(levels)} "
                f"(found in columns {col_of})"
            )
    levels = sorted(float(v) for v in levels)
    labels = {v: f"{v:g}" for v in levels}
    # numbers as given: codes and scores are the same (no instrument to reverse-key them)
    return [_Items(matrix, levels, labels, {c: c for c in chosen}, len(chosen)) for _ in kinds]


def _grouped(data: pd.DataFrame, by: list[str]):
    """The rows grouped by ``by`` (missing keys kept, keys sorted, only groups seen), on a
    fresh index: positions, so that a repeated index label is safe."""
    return data[by].reset_index(drop=True).groupby(by, dropna=False, sort=True, observed=True)


def _groups(data: pd.DataFrame, by: list[str]) -> list[tuple[tuple, np.ndarray]]:
    """(group key, row positions) pairs."""
    if not by:
        return [((), np.arange(len(data)))]
    g = _grouped(data, by)
    return [((k if isinstance(k, tuple) else (k,)), sub.index.to_numpy()) for k, sub in g]


def _key_column(values: list) -> pd.Series:
    """Group keys as one column, typed as the keys would be if each group's rows had been
    built apart and stacked: a missing key (NaN) is a float, so it turns text keys to object."""
    missing = np.array([isinstance(v, float) and np.isnan(v) for v in values], dtype=bool)
    if not missing.any() or missing.all():
        return pd.Series(values)
    present = pd.Series([v for v, m in zip(values, missing, strict=True) if not m])
    stacked = pd.concat([present, pd.Series(np.full(int(missing.sum()), np.nan))])
    where = np.concatenate([np.flatnonzero(~missing), np.flatnonzero(missing)])
    return stacked.iloc[np.argsort(where, kind="stable")].reset_index(drop=True)


# ----------------------------------------------------------------------------- summaries
@recorded("likert.item_summary")
@validate_params(
    {
        **_ITEMS_FROM,
        "top": POSITIVE_COUNT,
        "by": BY,
        "confidence": PROBABILITY,
    }
)
def item_summary(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    levels: Sequence[float] | None = None,
    top: int = 2,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per item: n, missing, mean, SD, median and the share agreeing (top-``top`` box).

    ``agree`` counts answers in the ``top`` highest levels (Agree and Strongly agree on a
    five-point scale); ``prop_agree`` is a proportion (0-1) with a Wilson CI. Levels come
    from the instrument's response set, or ``levels=``, or the values seen.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"q1": [1, 4, 5, 5], "q2": [2, 2, 3, 4]})
        >>> item_summary(df, levels=[1, 2, 3, 4, 5])[["item", "n", "agree", "prop_agree"]]
          item  n  agree  prop_agree
        0   q1  4      3        0.75
        1   q2  4      1        0.25
    """
    by_cols = _as_list(by)
    _check_frame(data, by_cols, "item_summary")
    [it] = _resolve_items(
        data,
        items=items,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=levels,
        kinds=(False,),
        what="item_summary",
        exclude=by_cols,
    )
    if not 1 <= top < len(it.levels):
        raise OutcomesError(f"top must be between 1 and {len(it.levels) - 1}, got {top}")
    cut = it.levels[-top]
    rows = []
    for key, idx in _groups(data, by_cols):
        m = it.matrix.iloc[idx]
        x = m.to_numpy()
        answered = ~np.isnan(x)
        n = answered.sum(axis=0)
        agree = (x >= cut).sum(axis=0)
        with warnings.catch_warnings():
            # numpy's "empty slice" warning for an item nobody answered is noise: the "no
            # answers" note below says it, and @recorded turns that note into a quality note.
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(x, axis=0) if len(x) else np.full(x.shape[1], np.nan)
            sd = np.nanstd(x, axis=0, ddof=1) if len(x) else np.full(x.shape[1], np.nan)
            med = np.nanmedian(x, axis=0) if len(x) else np.full(x.shape[1], np.nan)
        sd = np.where(n > 1, sd, np.nan)
        lo, hi = wilson_ci(agree, n, confidence)
        part = pd.DataFrame(
            {
                "item": list(m.columns),
                "label": [it.item_labels[c] for c in m.columns],
                "n": n.astype(np.int64),
                "missing": (len(m) - n).astype(np.int64),
                "mean": mean,
                "sd": sd,
                "median": med,
                "agree": agree.astype(np.int64),
                "prop_agree": np.where(n > 0, agree / np.maximum(n, 1), np.nan),
                "ci_low": lo,
                "ci_high": hi,
                "note": pd.array(["no answers" if k == 0 else "" for k in n], dtype="string"),
            }
        )
        for b, k in zip(by_cols, key, strict=True):
            part.insert(by_cols.index(b), b, k)
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out.attrs["agree_levels"] = it.levels[-top:]
    return out


@recorded("likert.item_distribution")
@validate_params(
    {
        **_ITEMS_FROM,
        "by": BY,
    }
)
def item_distribution(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    levels: Sequence[float] | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Long table of answers: ``item, level, label, count, n, prop`` (every level, zeros kept).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"q1": [1, 2, 2, None]})
        >>> item_distribution(df, levels=[1, 2, 3])[["level", "count", "prop"]]
           level  count      prop
        0    1.0      1  0.333333
        1    2.0      2  0.666667
        2    3.0      0  0.000000
    """
    by_cols = _as_list(by)
    _check_frame(data, by_cols, "item_distribution")
    [it] = _resolve_items(
        data,
        items=items,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=levels,
        kinds=(False,),
        what="item_distribution",
        exclude=by_cols,
    )
    lv = np.array(it.levels)
    x = it.matrix.to_numpy(dtype=float)
    names = list(it.matrix.columns)
    k, n_lv = x.shape[1], len(lv)
    if by_cols:
        g = _grouped(data, by_cols)
        code = g.ngroup().to_numpy()
        keys = [k_ if isinstance(k_, tuple) else (k_,) for k_ in g.size().index]
    else:
        code, keys = np.zeros(len(x), dtype=np.int64), [()]
    n_groups = len(keys)
    # One pass over the answers: each lands in its (group, level) bin, item by item, so the
    # cost is a bincount per item whatever the number of groups.
    order = np.argsort(lv, kind="stable")
    srt = lv[order]
    # rows within a group run item by item, levels ascending (as the long table is read)
    counts = np.zeros((n_groups, k, n_lv), dtype=np.int64)
    n = np.zeros((n_groups, k), dtype=np.int64)
    for j in range(k):
        col = x[:, j]
        answered = ~np.isnan(col)
        n[:, j] = np.bincount(code[answered], minlength=n_groups)
        pos = np.minimum(np.searchsorted(srt, col), n_lv - 1)
        hit = answered & (srt[pos] == col)
        counts[:, j, :] = np.bincount(
            code[hit] * n_lv + pos[hit], minlength=n_groups * n_lv
        ).reshape(n_groups, n_lv)
    n_full = np.broadcast_to(n[:, :, None], counts.shape)
    labels = np.array([it.level_labels.get(v, f"{v:g}") for v in lv], dtype=object)[order]
    out = pd.DataFrame(
        {
            "item": np.tile(np.repeat(np.array(names, dtype=object), n_lv), n_groups),
            "level": np.tile(lv[order], n_groups * k),
            "label": np.tile(labels, n_groups * k),
            "count": counts.ravel().astype(np.int64),
            "n": n_full.ravel().astype(np.int64),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["prop"] = np.where(out["n"] > 0, out["count"] / out["n"], np.nan)
    rows = np.repeat(np.arange(n_groups), k * n_lv)
    for j, b in enumerate(by_cols):
        out.insert(j, b, _key_column([key[j] for key in keys]).take(rows).reset_index(drop=True))
    return out


@validate_params(
    {
        **_ITEMS_FROM,
        "ax": ["ax", None],
        "title": OPTIONAL_TEXT,
    }
)
def plot_diverging(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    levels: Sequence[float] | None = None,
    ax=None,
    title: str | None = None,
):
    """Diverging stacked bar chart: disagreement to the left of zero, agreement to the right,
    the middle (neutral) level split across zero. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    dist = item_distribution(
        data,
        items=items,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=levels,
    )
    lv = sorted(dist["level"].unique())
    n_lv = len(lv)
    wide = dist.pivot(index="item", columns="level", values="prop").reindex(columns=lv)
    order = list(dict.fromkeys(dist["item"]))
    wide = wide.loc[order[::-1]].fillna(0.0) * 100
    labels = dist.drop_duplicates("level").set_index("level")["label"].reindex(lv)
    item_lab = dict(zip(dist["item"], dist["item"], strict=False))
    if instrument is not None:
        inst = load_instrument(instrument)
        item_lab = {i: f"{i}: {inst.item(i).label}" for i in order}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * len(order) + 1.5))
    colours = plt.get_cmap("RdBu")(np.linspace(0.1, 0.9, n_lv))
    if n_lv % 2:
        colours[n_lv // 2] = (0.8, 0.8, 0.8, 1.0)  # a visible grey for the neutral middle
    mid = (n_lv - 1) / 2
    vals = wide.to_numpy()
    # Left edge of each row: everything below the middle plus half the neutral level.
    below = vals[:, : int(np.floor(mid))].sum(axis=1)
    neutral = vals[:, int(mid)] / 2 if n_lv % 2 else 0.0
    left = -(below + neutral)
    y = np.arange(len(wide))
    for j, level in enumerate(lv):
        ax.barh(
            y, vals[:, j], left=left, color=colours[j], edgecolor="white", label=str(labels[level])
        )
        left = left + vals[:, j]
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [item_lab.get(i, i) for i in wide.index])
    ax.set_xlabel("% of respondents (disagree <- 0 -> agree)")
    lim = max(100.0, float(np.nanmax(np.abs(np.c_[left, -(below + neutral)]))))
    ax.set_xlim(-lim, lim)
    ax.legend(
        ncol=min(n_lv, 5),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        frameon=False,
        fontsize="small",
    )
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- reliability
def _prepare_matrix(m: pd.DataFrame, nan_policy: str) -> tuple[pd.DataFrame, list[str]]:
    if nan_policy not in ("pairwise", "listwise"):
        raise OutcomesError(f"nan_policy must be 'pairwise' or 'listwise', not {nan_policy!r}")
    notes = []
    empty = m.isna().all(axis=1)
    if empty.any():
        notes.append(_NO_ITEM(n=empty.sum()))
    m = m[~empty]
    if nan_policy == "listwise":
        part = m.isna().any(axis=1)
        if part.any():
            notes.append(_LISTWISE(n=part.sum()))
        m = m[~part]
    return m, notes


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    total = c.sum()
    if k < 2 or not np.isfinite(total) or total <= 0:
        return np.nan
    return k / (k - 1) * (1 - np.trace(c) / total)


def _feldt(alpha: float, n: int, k: int, confidence: float) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987): 1 - (1 - alpha) F quantiles with (n-1, (n-1)(k-1)) df."""
    if not np.isfinite(alpha) or n < 2 or k < 2:
        return np.nan, np.nan
    df1, df2 = n - 1, (n - 1) * (k - 1)
    a = 1 - confidence
    return (
        1 - (1 - alpha) * stats.f.isf(a / 2, df1, df2),
        1 - (1 - alpha) * stats.f.isf(1 - a / 2, df1, df2),
    )


@dataclass
class FactorCheck:
    """One-factor model of the items (iterated principal axis = minres on the correlations).

    ``loadings`` has ``item, loading, uniqueness``; ``omega`` is McDonald's omega total for
    the unit-weighted sum, ``variance_explained`` the share of item variance the factor
    accounts for, ``eigenvalues`` those of the correlation matrix (a first eigenvalue far
    above the second supports one factor) and ``rmsr`` the root mean square of the residual
    correlations (below about 0.08 is a reasonable fit).
    """

    n: int
    loadings: pd.DataFrame
    omega: float
    variance_explained: float
    eigenvalues: np.ndarray
    rmsr: float
    notes: list[str] = field(default_factory=list)
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.loadings.copy()

    def summary(self) -> str:
        if not np.isfinite(self.omega):
            return "One-factor check not possible: " + "; ".join(self.notes) + "."
        ev = self.eigenvalues
        ratio = ev[0] / ev[1] if len(ev) > 1 and ev[1] > 0 else np.inf
        weak = self.loadings.loc[self.loadings["loading"].abs() < 0.3, "item"].tolist()
        neg = self.loadings.loc[self.loadings["loading"] < 0, "item"].tolist()
        text = (
            f"A single factor explains {self.variance_explained:.0%} of the item variance "
            f"(first eigenvalue {ev[0]:.2f}, {ratio:.1f} times the second; residual RMSR "
            f"{self.rmsr:.3f}); omega = {self.omega:.2f} (n = {self.n})."
        )
        if neg:
            text += f" Items loading negatively (reverse-keyed by mistake?): {', '.join(neg)}."
        if weak:
            text += f" Weakly loading items (|loading| < 0.3): {', '.join(weak)}."
        return with_notes(text, self.quality)


def _corr(m: pd.DataFrame) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return m.corr(min_periods=2).to_numpy()


def _fit_one_factor(m: pd.DataFrame) -> FactorCheck:
    from statsmodels.multivariate.factor import Factor

    notes: list[str] = []
    sd = m.std(ddof=1)
    const = [c for c in m.columns if not (sd[c] > 0)]
    if const:
        notes.append(f"items with no variance left out of the factor model: {const}")
    use = [c for c in m.columns if c not in const]
    n = len(m)
    empty = pd.DataFrame({"item": list(m.columns), "loading": np.nan, "uniqueness": np.nan})
    if len(use) < 3:
        notes.append("a one-factor model needs at least three items that vary")
        return FactorCheck(n, empty, np.nan, np.nan, np.array([]), np.nan, notes)
    r = _corr(m[use])
    if not np.all(np.isfinite(r)):
        notes.append("some pairs of items were never answered together: no correlation matrix")
        return FactorCheck(n, empty, np.nan, np.nan, np.array([]), np.nan, notes)
    eig = np.sort(np.linalg.eigvalsh(r))[::-1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = Factor(corr=r, n_factor=1, method="pa", nobs=n).fit(maxiter=500, tol=1e-10)
        except (np.linalg.LinAlgError, ValueError) as exc:
            fit = None
            notes.append(
                f"one-factor model could not be fitted ({exc}); fewer respondents than items?"
            )
    if fit is None:
        return FactorCheck(n, empty, np.nan, np.nan, eig, np.nan, notes)
    msgs = first_lines(caught)
    notes += msgs
    lam = np.asarray(fit.loadings).ravel()
    if lam.sum() < 0:  # a factor's sign is arbitrary: point it the way most items go
        lam = -lam
    if np.any(lam**2 >= 1):
        notes.append("Heywood case: an item's communality reached 1; read omega with care")
    uniq = np.clip(1 - lam**2, 0, None)
    s = lam.sum()
    omega = s**2 / (s**2 + uniq.sum())
    resid = r - np.outer(lam, lam)
    off = resid[~np.eye(len(use), dtype=bool)]
    load = pd.DataFrame({"item": use, "loading": lam, "uniqueness": uniq})
    load = pd.DataFrame({"item": list(m.columns)}).merge(load, on="item", how="left")
    return FactorCheck(
        n=n,
        loadings=load,
        omega=float(omega),
        variance_explained=float((lam**2).sum() / len(use)),
        eigenvalues=eig,
        rmsr=float(np.sqrt(np.mean(off**2))),
        notes=notes,
    )


@recorded("likert.one_factor")
@validate_params(_ITEM_TABLE)
def one_factor(
    items: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    item_columns: Sequence[str] | None = None,
    nan_policy: str = "pairwise",
) -> FactorCheck:
    """Fit one factor to the items' correlation matrix (minres via iterated principal axes).

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> f = rng.normal(size=500)
        >>> df = pd.DataFrame({f"q{i}": f + rng.normal(size=500) for i in range(4)})
        >>> round(float(one_factor(df).loadings["loading"].mean()), 1)
        0.7
    """
    [it] = _resolve_items(
        items,
        items=item_columns,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=None,
        kinds=(True,),
        what="one_factor",
    )
    m, notes = _prepare_matrix(it.matrix, nan_policy)
    fc = _fit_one_factor(m)
    fc.notes = notes + fc.notes
    return fc


@recorded("likert.reliability")
@validate_params(
    {
        **_ITEM_TABLE,
        "by": BY,
        "confidence": PROBABILITY,
    }
)
def reliability(
    items: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    item_columns: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    nan_policy: str = "pairwise",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Internal consistency: Cronbach's alpha with the Feldt CI, and McDonald's omega.

    Parameters
    ----------
    items
        A frame of numeric item columns, or (with ``instrument=``) a responses table whose
        item columns hold codes or labels; ``scale=`` picks the scale (default: the first
        scale with two or more items) and reverse-keyed items are reversed first.
    item_columns
        Which columns are items, when ``items`` has other columns too.
    by
        Repeat per group (e.g. wave, school or role).
    nan_policy
        ``"pairwise"`` (default, as pingouin and psych::alpha) or ``"listwise"``.

    Returns
    -------
    DataFrame: the ``by`` columns, ``n, k, alpha, alpha_ci_low, alpha_ci_high, omega,
    variance_explained, note``. Where a value cannot be computed it is NaN and ``note`` says
    why (e.g. every answer identical).

    Example:
        >>> import pingouin as pg
        >>> data = pg.read_dataset("cronbach_wide_missing")
        >>> reliability(data)[["n", "k", "alpha"]].round(4)
            n   k   alpha
        0  12  11  0.7327
    """
    by_cols = _as_list(by)
    _check_frame(items, by_cols, "reliability")
    [it] = _resolve_items(
        items,
        items=item_columns,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=None,
        kinds=(True,),
        what="reliability",
        exclude=by_cols,
    )
    k = it.matrix.shape[1]
    if k < 2:
        raise OutcomesError(f"reliability needs at least two items, got {list(it.matrix.columns)}")
    rows = []
    for key, idx in _groups(items, by_cols):
        m, notes = _prepare_matrix(it.matrix.iloc[idx], nan_policy)
        n = len(m)
        alpha = lo = hi = omega = ve = np.nan
        if n < 2:
            notes.append(_TOO_FEW(n=n))
        else:
            cov = m.cov().to_numpy()
            if not np.isfinite(cov).all():
                notes.append("alpha undefined: some pairs of items were never answered together")
            elif np.allclose(np.diag(cov), 0):
                notes.append(
                    "alpha undefined: no item varies (every respondent gave the same answers)"
                )
            elif cov.sum() <= 0:
                notes.append("alpha undefined: the total score has no variance")
            else:
                alpha = float(_alpha_from_cov(cov))
                lo, hi = _feldt(alpha, n, k, confidence)
                const = [c for c in m.columns if not (m[c].std() > 0)]
                if const:
                    notes.append(f"items with no variance: {const}")
                if alpha < 0:
                    notes.append(
                        "negative alpha: the items do not hang together (reverse-keyed item?)"
                    )
                fc = _fit_one_factor(m)
                omega, ve = fc.omega, fc.variance_explained
                notes += fc.notes
                flagged = fc.loadings.loc[fc.loadings["loading"] < 0, "item"].tolist()
                if flagged:
                    notes.append(f"items loading negatively, check their keying: {flagged}")
        rows.append(
            {
                **dict(zip(by_cols, key, strict=True)),
                "n": n,
                "k": k,
                "alpha": alpha,
                "alpha_ci_low": lo,
                "alpha_ci_high": hi,
                "omega": omega,
                "variance_explained": ve,
                "note": "; ".join(notes),
            }
        )
    out = pd.DataFrame(rows)
    out["note"] = out["note"].astype("string")
    for r in out.itertuples():
        if not np.isfinite(r.alpha):
            warnings.warn(f"reliability: {r.note}", LikertWarning, stacklevel=2)
    return out


@recorded("likert.item_analysis")
@validate_params(_ITEM_TABLE)
def item_analysis(
    items: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    item_columns: Sequence[str] | None = None,
    nan_policy: str = "pairwise",
) -> pd.DataFrame:
    """Item-level reliability: item-rest correlation, alpha if item deleted, factor loading.

    ``looks_reversed`` is True when an item correlates negatively with the rest of the scale
    or loads negatively on the common factor: usually an item that should have been
    reverse-keyed and was not (or was reversed twice). All from the item covariance matrix:
    item-rest r_i = (S_i - C_ii) / sqrt(C_ii (T - 2 S_i + C_ii)), with S_i the row sum of
    the covariance matrix C and T its total; alpha without item i uses the same sums.

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(1)
        >>> f = rng.normal(size=300)
        >>> df = pd.DataFrame({f"q{i}": f + rng.normal(size=300) for i in range(4)})
        >>> df["q3"] = -df["q3"]  # a reverse-keyed item left unreversed
        >>> item_analysis(df)["looks_reversed"].tolist()
        [False, False, False, True]
    """
    [it] = _resolve_items(
        items,
        items=item_columns,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=None,
        kinds=(True,),
        what="item_analysis",
    )
    m, _ = _prepare_matrix(it.matrix, nan_policy)
    k = m.shape[1]
    if k < 2:
        raise OutcomesError(f"item_analysis needs at least two items, got {list(m.columns)}")
    c = m.cov().to_numpy() if len(m) >= 2 else np.full((k, k), np.nan)
    diag = np.diag(c)
    row = c.sum(axis=1)
    total = c.sum()
    trace = np.trace(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        rest_var = total - 2 * row + diag
        r_rest = (row - diag) / np.sqrt(diag * rest_var)
        a_del = (k - 1) / (k - 2) * (1 - (trace - diag) / rest_var) if k > 2 else np.full(k, np.nan)
    a_del = np.where(rest_var > 0, a_del, np.nan)
    fc = _fit_one_factor(m) if len(m) >= 2 else None
    loading = (
        fc.loadings.set_index("item")["loading"].reindex(m.columns).to_numpy()
        if fc is not None
        else np.full(k, np.nan)
    )
    notes = []
    for i in range(k):
        why = []
        if not diag[i] > 0:
            why.append("no variance: every answer to this item is the same")
        if k == 2:
            why.append("alpha if deleted undefined with two items")
        if np.isfinite(r_rest[i]) and r_rest[i] < 0:
            why.append(
                f"negative item-rest correlation ({r_rest[i]:.2f}): reverse-keyed by mistake?"
            )
        elif np.isfinite(loading[i]) and loading[i] < 0:
            why.append(f"negative loading ({loading[i]:.2f}): reverse-keyed by mistake?")
        notes.append("; ".join(why))
    n_item = m.notna().sum().to_numpy()
    out = pd.DataFrame(
        {
            "item": list(m.columns),
            "label": [it.item_labels[c] for c in m.columns],
            "n": n_item.astype(np.int64),
            "mean": m.mean().to_numpy(),
            "sd": m.std(ddof=1).to_numpy(),
            "item_rest_r": r_rest,
            "alpha_if_deleted": a_del,
            "loading": loading,
            "looks_reversed": (np.nan_to_num(r_rest, nan=0) < 0)
            | (np.nan_to_num(loading, nan=0) < 0),
            "note": pd.array(notes, dtype="string"),
        }
    )
    return out


# ----------------------------------------------------------------------------- change
UNMATCHED_COLUMNS = [
    "outcome",
    "label",
    "n_baseline",
    "n_followup",
    "mean_baseline",
    "mean_followup",
    "median_baseline",
    "median_followup",
    "prop_agree_baseline",
    "prop_agree_followup",
    "agree_diff",
    "agree_diff_ci_low",
    "agree_diff_ci_high",
    "mwu_u",
    "mwu_p",
    "rank_biserial",
    "ordinal_or",
    "ordinal_or_ci_low",
    "ordinal_or_ci_high",
    "ordinal_p",
    "note",
]
MATCHED_COLUMNS = [
    "outcome",
    "label",
    "n_pairs",
    "mean_baseline",
    "mean_followup",
    "mean_change",
    "ci_low",
    "ci_high",
    "t",
    "t_p",
    "d_z",
    "wilcoxon_v",
    "wilcoxon_p",
    "wilcoxon_method",
    "rank_biserial",
    "prop_improved",
    "prop_same",
    "prop_worse",
    "note",
]


@dataclass
class LikertChange:
    """Result of :func:`compare_waves`. ``design`` is ``"matched"`` or ``"unmatched"``; one row
    per outcome (each item, then the scale score) and ``by`` group."""

    design: str
    waves: tuple
    scale_name: str
    by: list[str]
    table: pd.DataFrame
    agree_levels: list[float]
    notes: list[str] = field(default_factory=list)
    confidence: float = 0.95
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        t = self.table[self.table["outcome"] == self.scale_name]
        b, f = (_wave_name(w) for w in self.waves)
        out = []
        for _, r in t.iterrows():
            lead = ""
            if self.by:
                lead = ", ".join(f"{c} {r[c]}" for c in self.by) + ": "
            if self.design == "matched":
                if r["n_pairs"] < 2 or not np.isfinite(r["mean_change"]):
                    out.append(
                        f"{lead}too few staff answered at both waves to compare ({r['note']})."
                    )
                    continue
                out.append(
                    f"{lead}Among {int(r['n_pairs'])} staff who answered at both waves, mean "
                    f"{self.scale_name} went from {r['mean_baseline']:.2f} at {b} to "
                    f"{r['mean_followup']:.2f} at {f} (change {r['mean_change']:+.2f}, "
                    f"{self.confidence:.0%} CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}; paired "
                    f"t-test {format_p(r['t_p'])}; Wilcoxon {format_p(r['wilcoxon_p'])})."
                )
            else:
                if not (r["n_baseline"] and r["n_followup"]):
                    out.append(f"{lead}no comparison possible ({r['note']}).")
                    continue
                out.append(
                    f"{lead}Mean {self.scale_name} was {r['mean_baseline']:.2f} at {b} "
                    f"(n = {int(r['n_baseline'])}) and {r['mean_followup']:.2f} at {f} "
                    f"(n = {int(r['n_followup'])}); Mann-Whitney {format_p(r['mwu_p'])}, "
                    f"rank-biserial r = {r['rank_biserial']:+.2f} (positive = higher at {f})."
                )
        items = self.table[self.table["outcome"] != self.scale_name]
        if self.design == "unmatched" and not self.by and len(items):
            up = items.loc[items["agree_diff"] > 0, "outcome"].tolist()
            out.append(f"The share agreeing rose on {len(up)} of {len(items)} items.")
        if self.notes:
            out.append("Notes: " + "; ".join(self.notes) + ".")
        return with_notes(" ".join(out), self.quality, shown=self.notes)

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Share agreeing per item at each wave (dumbbell chart); returns the Axes."""
        import matplotlib.pyplot as plt

        t = self.table[self.table["outcome"] != self.scale_name]
        if self.by:
            raise OutcomesError("plot() draws one group; filter the table or call without by=")
        if self.design == "matched":
            raise OutcomesError(
                "plot() shows unmatched results; use item_summary by wave for matched staff"
            )
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.4 * len(t) + 1.5))
        y = np.arange(len(t))[::-1]
        b = t["prop_agree_baseline"].to_numpy() * 100
        f = t["prop_agree_followup"].to_numpy() * 100
        ax.hlines(y, b, f, color="grey", linewidth=1)
        ax.plot(b, y, "o", color="#b2182b", label=_wave_name(self.waves[0]))
        ax.plot(f, y, "o", color="#2166ac", label=_wave_name(self.waves[1]))
        ax.set_yticks(
            y,
            [
                f"{o}: {lab}" if lab != o else o
                for o, lab in zip(t["outcome"], t["label"], strict=True)
            ],
        )
        ax.set_xlim(0, 100)
        ax.set_xlabel("% agreeing")
        ax.legend(frameon=False)
        return ax


def _ordinal_logit(
    y0: np.ndarray, y1: np.ndarray, confidence: float
) -> tuple[float, float, float, float, str]:
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    y = np.r_[y0, y1]
    if len(np.unique(y)) < 2:
        return np.nan, np.nan, np.nan, np.nan, "ordinal model impossible: one answer only"
    endog = pd.Series(pd.Categorical(y, ordered=True))
    exog = pd.DataFrame({"followup": np.r_[np.zeros(len(y0)), np.ones(len(y1))]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = OrderedModel(endog, exog, distr="logit").fit(
                method="bfgs", disp=False, maxiter=500
            )
        except (np.linalg.LinAlgError, ValueError) as exc:
            return np.nan, np.nan, np.nan, np.nan, f"ordinal model failed: {exc}"
    msg = "; ".join(first_lines(caught))
    if not res.mle_retvals.get("converged", True):
        msg = "; ".join(filter(None, [msg, "ordinal model did not converge"]))
    b = float(res.params.iloc[0])
    ci = np.asarray(res.conf_int(alpha=1 - confidence).iloc[0], dtype=float)
    return (
        float(np.exp(b)),
        float(np.exp(ci[0])),
        float(np.exp(ci[1])),
        float(res.pvalues.iloc[0]),
        msg,
    )


def _unmatched_row(name, label, y0, y1, cut, is_item, ordinal, confidence) -> dict:
    from statsmodels.stats.proportion import confint_proportions_2indep

    y0, y1 = y0[~np.isnan(y0)], y1[~np.isnan(y1)]
    n0, n1 = len(y0), len(y1)
    row = dict.fromkeys(UNMATCHED_COLUMNS, np.nan)
    row.update(outcome=name, label=label, n_baseline=n0, n_followup=n1, note="")
    if n0 == 0 or n1 == 0:
        row["note"] = "no answers at " + ("baseline" if n0 == 0 else "follow-up")
        return row
    row.update(
        mean_baseline=y0.mean(),
        mean_followup=y1.mean(),
        median_baseline=float(np.median(y0)),
        median_followup=float(np.median(y1)),
    )
    notes = []
    if is_item:
        a0, a1 = int((y0 >= cut).sum()), int((y1 >= cut).sum())
        lo, hi = confint_proportions_2indep(
            a1, n1, a0, n0, method="newcomb", compare="diff", alpha=1 - confidence
        )
        row.update(
            prop_agree_baseline=a0 / n0,
            prop_agree_followup=a1 / n1,
            agree_diff=a1 / n1 - a0 / n0,
            agree_diff_ci_low=float(lo),
            agree_diff_ci_high=float(hi),
        )
    if len(np.unique(np.r_[y0, y1])) < 2:
        notes.append("every answer identical: no test")
    else:
        mw = stats.mannwhitneyu(y1, y0, alternative="two-sided")
        # rank-biserial = 2 U_followup / (n0 n1) - 1: positive when follow-up answers are higher
        row.update(
            mwu_u=float(mw.statistic),
            mwu_p=float(mw.pvalue),
            rank_biserial=2 * float(mw.statistic) / (n0 * n1) - 1,
        )
        if is_item and ordinal:
            orr, olo, ohi, op, msg = _ordinal_logit(y0, y1, confidence)
            row.update(ordinal_or=orr, ordinal_or_ci_low=olo, ordinal_or_ci_high=ohi, ordinal_p=op)
            if msg:
                notes.append(msg)
    row["note"] = "; ".join(notes)
    return row


def _matched_row(name, label, y0, y1, confidence) -> dict:
    ok = ~np.isnan(y0) & ~np.isnan(y1)
    y0, y1 = y0[ok], y1[ok]
    n = len(y0)
    row = dict.fromkeys(MATCHED_COLUMNS, np.nan)
    row.update(outcome=name, label=label, n_pairs=n, note="")
    if n == 0:
        row["note"] = "nobody answered this at both waves"
        return row
    d = y1 - y0
    row.update(
        mean_baseline=y0.mean(),
        mean_followup=y1.mean(),
        mean_change=d.mean(),
        prop_improved=(d > 0).mean(),
        prop_same=(d == 0).mean(),
        prop_worse=(d < 0).mean(),
    )
    notes = []
    if n < 2:
        notes.append("one pair: no test")
    else:
        sd = d.std(ddof=1)
        if sd > 0:
            res = stats.ttest_rel(y1, y0)
            ci = res.confidence_interval(confidence)
            row.update(
                ci_low=float(ci.low),
                ci_high=float(ci.high),
                t=float(res.statistic),
                t_p=float(res.pvalue),
                d_z=d.mean() / sd,
            )
        else:
            notes.append("every pair changed by the same amount: no t-test")
        w = _wilcoxon_row(d, {})
        row.update(
            wilcoxon_v=w["statistic"],
            wilcoxon_p=w["p"],
            wilcoxon_method=w["method"],
            rank_biserial=w["effect"],
        )
        if "no test" in w["note"]:
            notes.append(w["note"])
    row["note"] = "; ".join(notes)
    return row


@recorded("likert.compare_waves")
@renamed_params(respondent="person_id")
@validate_params(
    {
        **_ITEMS_FROM,
        "wave": COLUMN,
        "waves": [ArrayLike(), None],
        "date": [COLUMN, None],
        "person_id": [COLUMN, None],
        "design": Options(str, {"auto", "matched", "unmatched"}),
        "by": BY,
        "top": POSITIVE_COUNT,
        "min_answered": [POSITIVE_COUNT, None],
        "ordinal": "boolean",
        "confidence": PROBABILITY,
        "dayfirst": "boolean",
    }
)
def compare_waves(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    instrument: str | Instrument | None = None,
    scale: str | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    levels: Sequence[float] | None = None,
    wave: str = "wave",
    waves: Sequence | None = None,
    date: str | None = "date",
    person_id: str | None = None,
    design: str = "auto",
    by: str | Sequence[str] | None = None,
    top: int = 2,
    min_answered: int | None = None,
    ordinal: bool = True,
    confidence: float = 0.95,
    dayfirst: bool = True,
) -> LikertChange:
    """Change in perceptions between a baseline and a follow-up wave, per item and for the scale.

    ``design="matched"`` pairs staff by ``person_id=`` id and uses those who answered at both
    waves: mean change with a paired t CI and d_z, Wilcoxon signed-rank with the matched
    rank-biserial, and the shares who moved up, stayed or moved down. ``design="unmatched"``
    compares the two waves' respondents as independent samples: Mann-Whitney U with the
    rank-biserial correlation (positive = higher at follow-up), an ordinal logistic
    regression per item (odds ratio of a higher answer at follow-up; statsmodels
    ``OrderedModel``, logit link) and the difference in the share agreeing with a Newcombe
    CI. ``"auto"``: matched when ``person_id=`` is given, else unmatched.

    Waves are resolved as in :func:`outcomes.survey.compare_prevalence` (``date`` read by the
    project's date rules; ``dayfirst=False`` reads ``05/01/2025`` as 1 May).

    The scale score is the mean of answered items, needing ``min_answered`` answers (default:
    the instrument scale's rule, or every item without an instrument).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"wave": [1] * 4 + [2] * 4,
        ...                    "q1": [2, 3, 3, 4, 4, 4, 5, 5], "q2": [1, 2, 3, 3, 3, 4, 4, 5]})
        >>> res = compare_waves(df, items=["q1", "q2"], levels=[1, 2, 3, 4, 5], ordinal=False)
        >>> res.to_frame()[["outcome", "mean_baseline", "mean_followup", "rank_biserial"]]
             outcome  mean_baseline  mean_followup  rank_biserial
        0         q1          3.000           4.50         0.8750
        1         q2          2.250           4.00         0.8750
        2  mean_item          2.625           4.25         0.9375
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    respondent = person_id
    by_cols = _as_list(by)
    need = [wave, *by_cols, *([respondent] if respondent else [])]
    _check_frame(data, need, "compare_waves")
    if design == "auto":
        design = "matched" if respondent else "unmatched"
    if design not in ("matched", "unmatched"):
        raise OutcomesError(f"design must be 'auto', 'matched' or 'unmatched', not {design!r}")
    if design == "matched" and not respondent:
        raise OutcomesError("design='matched' needs person_id= (the staff id column)")
    base, follow = _resolve_waves(data, wave, waves, date, dayfirst)
    skip = [wave, respondent, date, *by_cols]
    codes, scored = _resolve_items(
        data,
        items=items,
        instrument=instrument,
        scale=scale,
        columns=columns,
        coding=coding,
        levels=levels,
        kinds=(False, True),
        what="compare_waves",
        exclude=skip,
    )
    need_n = min_answered if min_answered is not None else scored.min_answered
    answered = scored.matrix.notna().sum(axis=1)
    score = scored.matrix.mean(axis=1).where(answered >= need_n)
    scale_name = scale or (
        _default_scale(load_instrument(instrument), None).id
        if instrument is not None and items is None
        else "mean_item"
    )
    if len(levels or codes.levels) < 2:
        raise OutcomesError("compare_waves needs at least two response levels")
    cut = codes.levels[-top]
    notes = []
    short = int((answered < need_n).sum() - (answered == 0).sum())
    if short:
        notes.append(_SHORT(n=short, need=need_n, scale=scale_name))
    wv = data[wave]
    outcomes = [
        (c, codes.item_labels[c], codes.matrix[c].to_numpy(), True) for c in codes.matrix.columns
    ]
    outcomes.append((scale_name, scale_name, score.to_numpy(dtype=float), False))
    in_w = wv.isin([base, follow]).to_numpy()
    other = int((~in_w).sum())
    if other:
        notes.append(OTHER_WAVES(n=other))
    rows = []
    for key, idx in _groups(data, by_cols):
        pos = idx
        w = wv.to_numpy(dtype=object)[pos]
        is0, is1 = w == base, w == follow
        group_vals = dict(zip(by_cols, key, strict=True))
        if design == "unmatched":
            for name, label, y, is_item in outcomes:
                r = _unmatched_row(
                    name, label, y[pos][is0], y[pos][is1], cut, is_item, ordinal, confidence
                )
                rows.append({**group_vals, **r})
        else:
            ids = data[respondent].to_numpy(dtype=object)[pos]
            p0, p1 = _match(ids, is0, is1, respondent)
            for name, label, y, _ in outcomes:
                r = _matched_row(name, label, y[pos][p0], y[pos][p1], confidence)
                rows.append({**group_vals, **r})
            unmatched = int(is0.sum() + is1.sum() - 2 * len(p0))
            if unmatched:
                lab = ", ".join(f"{b} {k}" for b, k in group_vals.items())
                notes.append(_UNPARTNERED(n=unmatched) + (f" ({lab})" if lab else ""))
    cols = by_cols + (UNMATCHED_COLUMNS if design == "unmatched" else MATCHED_COLUMNS)
    table = pd.DataFrame(rows, columns=cols)
    table["note"] = table["note"].fillna("").astype("string")
    return LikertChange(
        design, (base, follow), scale_name, by_cols, table, codes.levels[-top:], notes, confidence
    )


def _match(
    ids: np.ndarray, is0: np.ndarray, is1: np.ndarray, respondent: str
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the baseline and follow-up answers of each respondent seen at both waves."""
    missing = pd.isna(ids) & (is0 | is1)
    if missing.any():
        raise DataStructureError(_NO_ID(n=missing.sum(), column=repr(respondent)))
    s0 = pd.Series(np.flatnonzero(is0), index=ids[is0])
    s1 = pd.Series(np.flatnonzero(is1), index=ids[is1])
    for s, label in ((s0, "baseline"), (s1, "follow-up")):
        dup = s.index[s.index.duplicated()].unique().tolist()
        if dup:
            raise DataStructureError(f"{respondent} values appear twice at {label}: {dup[:5]}")
    common = s0.index.intersection(s1.index)
    return s0.loc[common].to_numpy(), s1.loc[common].to_numpy()
