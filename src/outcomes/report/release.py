"""The publication layer: one disclosure-controlled release of the analysis results.

Every number a reader sees (table cell, sentence, figure, CSV, executive summary) comes from a
:class:`Release`. Analyses hand their raw tables to a release method that applies the rule for
each kind of statistic (docs/disclosure.md); what comes out is a :class:`ReleasedTable`, and
the report's sections and figures accept nothing else (``Section.table`` and ``Section.figure``
refuse a plain DataFrame or a matplotlib figure). Raw analysis results never reach a section:
a section's ``render`` function receives the release and the config only.

The rules, per kind of statistic:

* counts: 0 stays 0, 1..threshold becomes the marker, others are rounded to ``base``, with
  secondary suppression across every stated partition (``disclosure.apply``);
* proportions: recomputed from the released counts; the marker when either count is hidden;
* means, medians, SDs, effect sizes: the marker where their n is hidden, otherwise rounded to
  the stated number of decimals;
* CIs, test statistics and p-values of a mean change: recomputed from the released mean, SD
  and n (so they carry no information beyond the released numbers); other model statistics
  are rounded (``stats``) and their exact counts and degrees of freedom are never released.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as st

from .. import disclosure
from .._internal.quality import QualityRecord, mask_numbers, note_parts
from .._internal.spreadsheet import columns_frame, holds_other_than_text
from ..errors import PublishedElsewhereError

MARKER = disclosure.MARKER
NOT_APPLICABLE = disclosure.NOT_APPLICABLE


@dataclass(frozen=True)
class ReleasedTable:
    """A table that has been through the release rules; the only table a section can show."""

    name: str
    _frame: pd.DataFrame

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the released table (changing it cannot change what is published).

        A shallow copy: under pandas' copy-on-write a change to it copies what it changes, so
        the published table stays as it is, and the sections' many reads copy nothing."""
        return self._frame.copy(deep=False)

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def empty(self) -> bool:
        return self._frame.empty

    def row(self, **match: object) -> dict | None:
        """The first row whose columns equal ``match`` (as text), or None."""
        f = self._frame
        hit = np.ones(len(f), bool)
        for col, val in match.items():
            hit &= (f[col].astype(str) == str(val)).to_numpy()
        rows = f[hit]
        return None if rows.empty else rows.iloc[0].to_dict()


def is_hidden(v: object) -> bool:
    """True for the suppressed marker and for anything that is not a number.

    Example:
        >>> [is_hidden(v) for v in ("*", 10, float("nan"))]
        [True, False, True]
    """
    return isinstance(v, str) or v is None or (isinstance(v, float) and not np.isfinite(v))


def fmt_count(v: object) -> str:
    """A released count in prose: ``1,234``, or the marker when suppressed.

    Example:
        >>> fmt_count(1235), fmt_count("*")
        ('1,235', '*')
    """
    if isinstance(v, str):
        return v
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return NOT_APPLICABLE


def fmt_pct(num: object, den: object) -> str:
    """A percentage of two released counts; the marker when either is hidden or den is 0.

    Example:
        >>> fmt_pct(45, 60), fmt_pct("*", 60)
        ('75%', '*')
    """
    if is_hidden(num) or is_hidden(den) or float(den) <= 0:
        return MARKER
    return f"{100 * float(num) / float(den):.0f}%"


def fmt_stat(v: object, decimals: int = 1, *, sign: bool = False) -> str:
    """A released statistic in prose (already rounded by the release).

    Example:
        >>> fmt_stat(0.34, 2, sign=True), fmt_stat("*")
        ('+0.34', '*')
    """
    if isinstance(v, str):
        return v
    if v is None or not np.isfinite(float(v)):
        return NOT_APPLICABLE
    return f"{float(v):+.{decimals}f}" if sign else f"{float(v):.{decimals}f}"


def scale_decimals(lo: float, hi: float, default: int = 1) -> int:
    """Decimals for means on a scale: ``default`` (1) on the scale's unit, one more for a scale
    spanning fewer than 10 points (a 1-5 Likert mean to 1 decimal would hide real change).

    Example:
        >>> scale_decimals(0, 52), scale_decimals(1, 5)
        (1, 2)
    """
    return default + 1 if (hi - lo) < 10 else default


@dataclass
class Release:
    """Every released table of one report, the reasons parts could not be computed, and the
    data-quality record.

    Example:
        >>> rel = Release(enabled=True, threshold=7, base=5)
        >>> t = pd.DataFrame({"group": ["a", "b", "c", "Total"], "n": [3, 12, 40, 55],
        ...                   "mean": [1.234, 2.345, 3.456, 3.1]})
        >>> rel.counts(t, "demo", counts=["n"], means={"mean": ("n", 1)}, totals=True).frame.values.tolist()
        [['a', '*', '*'], ['b', '*', '*'], ['c', 40, 3.5], ['Total', 55, 3.1]]
    """

    enabled: bool = True
    threshold: int = 7
    base: int = 5
    decimals: int = 1
    tables_dir: Path | None = None
    #: "mhsds": zero counts are hidden too (NHS England's MHSDS rule; threshold 4, base 5)
    rule: str = "default"
    tables: dict[str, ReleasedTable] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    quality: QualityRecord = field(default_factory=QualityRecord)
    facts: dict[str, object] = field(default_factory=dict)

    # ------------------------------------------------------------------ bookkeeping
    def get(self, name: str) -> ReleasedTable | None:
        return self.tables.get(name)

    def fail(self, part: str, why: str) -> None:
        """Record that ``part`` (a section or one of its analyses) could not be computed."""
        self.failures.setdefault(part, []).append(why)

    def _store(self, t: pd.DataFrame, name: str) -> ReleasedTable:
        t = t.reset_index(drop=True)
        t.attrs = {}
        rt = ReleasedTable(name, t)
        self.tables[name] = rt
        if self.tables_dir is not None:
            save_csv(t, self.tables_dir, name)
        return rt

    # ------------------------------------------------------------------ release rules
    def few_behind(self, share: object, *ns: object) -> np.ndarray:
        """Where a share of people that is not a ratio of released counts (a Kaplan-Meier
        share seen within the standard, published rounded to 0.05) says, of any of the
        denominators ``ns`` a reader has beside it, that 1 to ``threshold`` people are in it,
        or 1 to ``threshold`` are not: the count rule's small numbers, which the rounding does
        not hide when n is small (0.4 of 15 gives 6 back; with n published to the nearest 5,
        5 to 7). Such shares are published as the marker. Exact shares and denominators; all
        False when disclosure control is off.

        Example:
            >>> Release().few_behind([0.4, 0.5, 0.95, 0.0, 1.0], [15, 40, 200, 15, 15]).tolist()
            [True, False, False, False, False]
            >>> Release().few_behind([0.5], [40], [10]).tolist()  # 5 of the 10 seen
            [True]
        """
        s = np.asarray(share, dtype=float)
        few = np.zeros(s.shape, dtype=bool)
        if not self.enabled:
            return few
        for n in ns:
            m = np.asarray(n, dtype=float)
            k = np.rint(s * m)
            small = ((k >= 1) & (k <= self.threshold)) | ((m - k >= 1) & (m - k <= self.threshold))
            few |= small & np.isfinite(k)
        return few

    def counts(
        self,
        table: pd.DataFrame,
        name: str,
        *,
        counts: Sequence[str],
        percentages: Mapping[str, tuple[str, str]] | None = None,
        means: Mapping[str, tuple[str, int]] | None = None,
        groups: str | Sequence[str] | None = None,
        column_totals: Mapping[str, Sequence[str]] | None = None,
        keep: Sequence[str] = (),
        within: Mapping[str, str] | None = None,
        weighted: Mapping[str, str] | None = None,
        totals: bool = False,
        store: bool = True,
    ) -> ReleasedTable:
        """Counts by the small-numbers rule (with secondary suppression over the Total rows
        and ``column_totals``), proportions from released counts, statistics over n people
        (``means={column: (n_column, decimals)}``) hidden with their n and rounded, and counts
        within a group (``within={count: n_column}``) hidden with the group's n. Rows labelled
        Total are margins only with ``totals=True`` or ``groups``. ``weighted={column:
        count_column}``: a share or mean whose Total is its rows' weighted by the count, given
        secondary suppression of its own (``disclosure.apply``'s ``weighted=``)."""
        t, _ = self._counts_frame(
            table, counts=counts, percentages=percentages, means=means, groups=groups,
            column_totals=column_totals, keep=keep, within=within, weighted=weighted,
            totals=totals,
        )  # fmt: skip
        # store=False: an intermediate that a derived table is computed from
        return self._store(t, name) if store else ReleasedTable(name, t)

    def _counts_frame(
        self,
        table: pd.DataFrame,
        *,
        counts: Sequence[str],
        percentages: Mapping[str, tuple[str, str]] | None = None,
        means: Mapping[str, tuple[str, int]] | None = None,
        groups: str | Sequence[str] | None = None,
        column_totals: Mapping[str, Sequence[str]] | None = None,
        keep: Sequence[str] = (),
        within: Mapping[str, str] | None = None,
        weighted: Mapping[str, str] | None = None,
        totals: bool = False,
        known: Sequence = (),
    ) -> tuple[pd.DataFrame, set[tuple[int, str]]]:
        """:meth:`counts`' table, unstored, with the cells ``known`` (``disclosure.apply``'s)
        fixes: published in effect, by the tables its sums come from."""
        fixed: set[tuple[int, str]] = set()
        # a new frame (reset_index's, a view under copy-on-write: nothing below writes into
        # the caller's table), without the caller's attrs
        t = table.reset_index(drop=True)
        t.attrs = {}
        means = dict(means or {})
        if self.enabled:
            roles = [*counts, *(percentages or {}), *means, *keep]
            # Without Total rows the labels play no part: leave them out, so that a label such
            # as a scale called "total" is never read as (or refused for looking like) a margin
            structural = [c for c in t.columns if c not in roles] if totals or groups else []
            cols = [c for c in t.columns if c in set(roles) | set(structural)]
            # read before control hides them; only the MHSDS rule hides zeros
            zeros = (
                {c: (t[c].astype(object) == 0).to_numpy() for c in counts}
                if self.rule == "mhsds"
                else {}
            )
            out = disclosure.apply(
                # the table itself when every column plays a part (selecting them all copied it)
                t if cols == list(t.columns) else t[cols],
                counts=list(counts),
                threshold=self.threshold,
                base=self.base,
                percentages=dict(percentages or {}),
                means={c: n for c, (n, _) in means.items()},
                groups=groups,
                column_totals=dict(column_totals) if column_totals is not None else {},
                keep=list(keep),
                within=dict(within or {}),
                weighted=dict(weighted or {}),
                percent_scale=1.0,
                decimals=3,
                known=list(known) or None,
                log=False,  # the release keeps the published table only
            )
            fixed = set(out.attrs["disclosure"].get("known", ()))
            # the released columns in place of the table's, as one new frame (not a setitem
            # per column); its attrs (the rule's settings) are not wanted, and pandas would
            # deep-copy them into every column read
            out.attrs = {}
            released = dict(out.items())
            t = columns_frame(t, [released.get(c, col) for c, col in t.items()], list(t.columns))
            if self.rule == "mhsds":
                _hide_zeros(t, zeros, percentages or {}, means)
        for c, (_, d) in means.items():
            t[c] = _rounded(t[c], d)
            if c in ("p", "p_adj"):
                t[c] = p_values(t[c], d)
        return t, fixed

    def counts_linked(
        self,
        table: pd.DataFrame,
        name: str,
        *,
        counts: Sequence[str],
        links: Sequence[tuple[Sequence[int], ReleasedTable | None, Sequence[int]]] = (),
        **kw,
    ) -> ReleasedTable:
        """:meth:`counts` for a table whose rows add up with rows published elsewhere: a team
        is the sum of the schools it serves, a period the sum of its months. Each link
        ``(rows, other, other_rows)`` states that this table's ``rows`` sum to ``other``'s
        ``other_rows`` (``other`` None: to this table's own rows) in every count column the
        two share. The table's own totals cannot see such an equation, so an intruder could
        use it: while a link holds exactly one hidden cell, the smallest shown cell of its
        ``rows`` (or else of its parts in this table) is hidden too and the table is released
        again (its own totals then protect that cell in turn). A ``weighted`` share or mean
        column is linked too (its value x weight adds up as a count does), its partner the
        row of the smallest shown weight. The other way round, a cell of this table that the
        other tables' shown cells fix (a team whose schools are all shown), alone or with
        this table's totals, is published in effect: it is never a partner, here or in its
        Total (``disclosure.apply``'s ``known=``). Without links: :meth:`counts`."""
        weights = dict(kw.get("weighted") or {})
        forced: set[tuple[int, str]] = set()
        t = table.reset_index(drop=True)
        known = _known_sums(links, [*counts, *weights]) if self.enabled else []
        while True:
            marked = t.copy() if forced else t  # the first round marks nothing
            for i, c in forced:
                marked[c] = marked[c].astype(object)
                marked.loc[i, c] = MARKER
            try:
                pub, fixed = self._counts_frame(marked, counts=counts, known=known, **kw)
            except PublishedElsewhereError as e:
                row = t.iloc[e.row]
                labels = [v for v in row if isinstance(v, str) and v != MARKER]  # its labels
                raise PublishedElsewhereError(
                    f"{name}: the row {' / '.join(labels) or e.row!r} has {e.column!r} of 1 to "
                    f"{self.threshold}, and the tables it is linked to give it away (their "
                    "shown cells fix it, with this table's totals): no suppression here can "
                    "hide it; check the links, or release those tables with this one in mind",
                    e.row,
                    e.column,
                ) from e
            if not self.enabled:
                break
            new = set()
            ours = _Cells(pub)
            read = {}  # the other tables' cells, read once per round (no copy per link)
            for rows, other, other_rows in links:
                if other is None:
                    theirs = ours
                else:
                    theirs = read.get(id(other))
                    if theirs is None:
                        theirs = read[id(other)] = _Cells(other._frame)
                for c in [*counts, *weights]:
                    if c not in theirs.columns:
                        continue
                    # a fixed cell of ours is as good as shown, hidden or not
                    cells = [ours.at(i, c) if (i, c) not in fixed else 0 for i in rows]
                    cells += [
                        theirs.at(j, c) if other is not None or (j, c) not in fixed else 0
                        for j in other_rows
                    ]
                    if sum(is_hidden(v) for v in cells) != 1:
                        continue
                    # the sum's smallest non-zero shown cell (a zero hides nothing), by its
                    # weight for a weighted column; of the parts only when they are this
                    # table's and the sum's cells are all hidden; never a fixed cell
                    size = weights.get(c, c)
                    for mine in (rows, other_rows if other is None else ()):
                        shown = [(_sort_value(ours.at(i, size)), i) for i in mine
                                 if not is_hidden(ours.at(i, c)) and (i, c) not in fixed]  # fmt: skip
                        if shown:
                            new.add((min(shown, key=lambda s: (s[0] == 0, *s))[1], c))
                            break
            if not new - forced:
                break
            forced |= new
        return self._store(pub, name)

    def change(
        self,
        table: pd.DataFrame,
        name: str,
        *,
        decimals: Mapping[int, int] | Sequence[int] | int | None = None,
        n: str = "n",
        means: Sequence[str] = ("mean_pre", "mean_post"),
        diff: str = "mean_diff",
        sd: str = "sd_diff",
        adjust: str | None = None,
        labels: Sequence[str] = (),
        confidence: float = 0.95,
    ) -> ReleasedTable:
        """Mean change over n paired people: n by the count rule; means, the mean change and
        its SD rounded (``decimals``: one number, or one per row); the CI, d_z, t-test p and
        adjusted p recomputed from those released values, never from the exact ones."""
        t = table.reset_index(drop=True)
        keep_cols = [*labels, n, *[m for m in means if m in t.columns], diff, sd]
        t = t[keep_cols].copy()
        dec = (
            np.full(len(t), self.decimals)
            if decimals is None
            else np.broadcast_to(np.asarray(decimals, dtype=int), (len(t),))
        )
        # the SD as a statistic too: hidden with n
        stat_cols = [*[m for m in means if m in t.columns], diff, sd]
        if self.enabled:
            # one row per measure, no Total rows: the labels (a scale may be "total") stay out
            out = disclosure.apply(
                t[[n, *stat_cols]],
                counts=[n],
                threshold=self.threshold,
                base=self.base,
                means={c: n for c in stat_cols},
                column_totals={},
                log=False,
            )
            for c in [n, *stat_cols]:
                t[c] = out[c]
        for c in stat_cols:
            t[c] = [
                v if is_hidden(v) else round(float(v), int(d)) + 0.0
                for v, d in zip(t[c].to_numpy(dtype=object), dec, strict=True)
            ]
        nn = pd.to_numeric(t[n], errors="coerce").to_numpy(dtype=float)
        md = pd.to_numeric(t[diff], errors="coerce").to_numpy(dtype=float)
        sdv = pd.to_numeric(t[sd], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(nn) & (nn > 1) & np.isfinite(md) & np.isfinite(sdv) & (sdv > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = sdv / np.sqrt(nn)
            tcrit = st.t.ppf(0.5 + confidence / 2, nn - 1)
            lo, hi = md - tcrit * se, md + tcrit * se
            dz = md / sdv
            p = 2 * st.t.sf(np.abs(md / se), nn - 1)
        hidden = np.array([is_hidden(v) for v in t[n].to_numpy(dtype=object)])

        def col(x: np.ndarray, d: np.ndarray | int) -> list:
            d = np.broadcast_to(np.asarray(d), (len(x),))
            return [
                MARKER if h else (round(float(v), int(k)) + 0.0 if o else np.nan)
                for v, o, h, k in zip(x, ok, hidden, d, strict=True)
            ]

        t["ci_low"], t["ci_high"] = col(lo, dec), col(hi, dec)
        t["d_z"] = col(dz, 2)
        t["p"] = p_values(col(p, 3))
        if adjust:
            from ..change import adjust_pvalues

            pv = np.where(ok & ~hidden, p, np.nan)
            t["p_adj"] = p_values(col(adjust_pvalues(pv, adjust), 3))
        return self._store(t, name)

    def stats(
        self, table: pd.DataFrame, name: str, *, decimals: Mapping[str, int], labels=()
    ) -> ReleasedTable:
        """Model statistics without counts (coefficients, effect sizes, p-values): only the
        named columns, each rounded to its decimals; counts and df are never released here."""
        t = table.reset_index(drop=True)
        t = t[[*labels, *decimals]].copy()
        for c, d in decimals.items():
            t[c] = _rounded(t[c], d)
            if c in ("p", "p_adj"):
                t[c] = p_values(t[c], d)
        return self._store(t, name)

    def derived(self, table: pd.DataFrame, name: str) -> ReleasedTable:
        """A table computed only from released tables (e.g. a rate and its CI from released
        counts): it carries no information beyond them, so it is released as it is."""
        return self._store(table.copy(), name)

    def labels(self, table: pd.DataFrame, name: str) -> ReleasedTable:
        """A table of text only (instrument names, file hashes); any number is refused."""
        t = table.reset_index(drop=True).copy()
        num = [c for c in t.columns if pd.api.types.is_numeric_dtype(t[c])]
        if num:
            raise TypeError(f"{name}: labels() releases text only; numeric columns {num}")
        return self._store(t, name)

    def note_text(self, text: str) -> str:
        """A note as published (a warning's message, a data-quality note, why a part could
        not be computed): a count that a library message declares (``NoteTemplate``) goes
        through the count rule, a number it declares not a count (a wave, a year, a threshold,
        a score range) and its own words are published as written, and every other whole
        number is masked: unknown, it is never published as another number.

        Example:
            >>> Release().note_text("waves 1 and 2 in 2026; threshold 11")
            'waves * and * in *; threshold *'
        """
        if not self.enabled:
            return text
        out = []
        for part in note_parts(text):
            if part.kind == "count":
                out.append(self._count_text(int(part.text.replace(",", ""))))
            elif part.kind == "free":
                out.append(mask_numbers(part.text, MARKER, keep_zero=self.rule != "mhsds"))
            else:
                out.append(part.text)
        return "".join(out)

    def _count_text(self, k: int) -> str:
        """One count by the count rule, as text (``disclosure``'s rounding)."""
        if k == 0:
            return MARKER if self.rule == "mhsds" else "0"
        if k <= self.threshold:
            return MARKER
        return str(int(disclosure._round(np.array([k]), self.threshold, self.base)[0]))


def _known_sums(links: Sequence, columns: Sequence[str]) -> list[dict[tuple[int, str], float]]:
    """The sums of a linked table's cells that a reader has before it is published (for
    ``disclosure.apply``'s ``known=``): a link to another table whose cells in a column are
    all shown gives its rows' sum there; a link within the table, rows - other rows = 0.

    Example:
        >>> shown = ReleasedTable("s", pd.DataFrame({"n": [10, 10, MARKER, 25]}))
        >>> _known_sums([([0], shown, [0, 1]), ([1], shown, [2]), ([2], None, [0, 1])], ["n"])
        [{(0, 'n'): 1.0}, {(2, 'n'): 1.0, (0, 'n'): -1.0, (1, 'n'): -1.0}]
    """
    sums = []
    read: dict[int, _Cells] = {}  # each other table's cells read once
    for rows, other, other_rows in links:
        theirs = None
        if other is not None:
            theirs = read.get(id(other))
            if theirs is None:
                theirs = read[id(other)] = _Cells(other._frame)
        for c in columns:
            if theirs is None:
                combo = {(int(i), c): 1.0 for i in rows}
                for j in other_rows:
                    combo[(int(j), c)] = combo.get((int(j), c), 0.0) - 1.0
                sums.append(combo)
            elif c in theirs.columns and not any(is_hidden(theirs.at(j, c)) for j in other_rows):
                sums.append({(int(i), c): 1.0 for i in rows})
    return sums


def _sort_value(v: object) -> float:
    """A released number as a float; infinity where it is hidden (it sorts last)."""
    return np.inf if is_hidden(v) else float(v)


class _Cells:
    """A table's cells by row label and column, read from one object array per column (a
    pandas lookup per cell cost most of the time of releasing a linked table)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.columns = set(frame.columns)
        self._arrays: dict[object, np.ndarray] = {}
        index = frame.index
        default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
        self._position = None if default else {label: k for k, label in enumerate(index)}

    def at(self, label: object, column: object) -> object:
        a = self._arrays.get(column)
        if a is None:
            a = self._arrays[column] = self.frame[column].to_numpy(dtype=object)
        return a[label if self._position is None else self._position[label]]


def _hide_zeros(t: pd.DataFrame, zeros: dict, percentages: Mapping, means: Mapping) -> None:
    """The MHSDS rule's zero: a count that was 0 shown as the marker, with the percentages
    whose numerator and the statistics whose n it is. After the count rule, as NHS England
    publishes: a hidden 0 gets no secondary suppression (a 0 is not a person to protect).

    Example:
        >>> t = pd.DataFrame({"k": [0, 10], "n": [20, 20], "pct": [0.0, 0.5]}, dtype=object)
        >>> _hide_zeros(t, {"k": [True, False], "n": [False, False]}, {"pct": ("k", "n")}, {})
        >>> t.values.tolist()
        [['*', 20, '*'], [10, 20, 0.5]]
    """
    for c, zero in zeros.items():
        t.loc[np.asarray(zero, bool), c] = MARKER
    for p, spec in percentages.items():
        num = spec if isinstance(spec, str) else spec[0]
        if num in zeros:
            t.loc[np.asarray(zeros[num], bool), p] = MARKER
    for c, (n, _) in means.items():
        if n in zeros:
            t.loc[np.asarray(zeros[n], bool), c] = MARKER


def save_csv(df: pd.DataFrame, folder: Path, name: str) -> Path:
    """Write a table as CSV: missing values as the not-applicable symbol, as in the HTML, and
    text that a spreadsheet could run as a formula written as text."""
    from .._internal.spreadsheet import write_csv

    # beyond 6 significant figures the digits follow summation order (the random
    # pseudonyms), not the data; released statistics are rounded well before that anyway
    given = [col for _, col in df.items()]  # items(), not iloc: a quarter of the cost
    cols = [
        _six_figures_column(col) if col.dtype.kind == "f" or col.dtype == object else col
        for col in given
    ]
    out = columns_frame(df, cols, list(df.columns), given=given)
    return write_csv(out, Path(folder) / f"{name}.csv", na_rep=NOT_APPLICABLE)


def _six_figures_column(col: pd.Series) -> pd.Series:
    """``col.map(_six_figures)`` without ``map``'s Python call per cell where the result's
    dtype is known: a float64 column stays float64, and a column holding text stays as the
    Series constructor infers it (``map`` converts nothing once a text cell is present).
    Numbers held as objects without text still go through ``map``, whose inference may
    convert them."""
    values = col.to_numpy(dtype=object)
    if col.dtype == np.float64:
        six = np.array([_six_figures(v) for v in values], dtype=float)
        if np.array_equal(six, col.to_numpy(), equal_nan=True):
            return col  # rounded already (released statistics are): the column itself
        return pd.Series(six, index=col.index, name=col.name)
    if col.dtype != object or not any(isinstance(v, str) for v in values):
        return col.map(_six_figures)
    out = np.fromiter((_six_figures(v) for v in values), dtype=object, count=len(values))
    same = all(a is b or (type(a) is float and a == b) for a, b in zip(out, values, strict=True))
    if same and holds_other_than_text(values):
        return col  # nothing rounded, and kept as objects: the column itself
    return pd.Series(out, index=col.index, name=col.name)


def _six_figures(v: object) -> object:
    if isinstance(v, float | np.floating) and np.isfinite(v):
        return float(f"{float(v):.6g}")
    return v


def p_values(values: Iterable, decimals: int = 3) -> list:
    """p-values as published: rounded, and ``<0.001`` (at 3 decimals) instead of a 0.

    Example:
        >>> p_values([0.0, 0.0004, 0.0123, "*"])
        ['<0.001', '<0.001', 0.012, '*']
    """
    floor = 10.0**-decimals
    out = []
    for v in values:
        if isinstance(v, str) or v is None or not np.isfinite(float(v)):
            out.append(v)
        else:
            out.append(f"<{floor:.{decimals}f}" if float(v) < floor else round(float(v), decimals))
    return out


def _rounded(col: pd.Series, decimals: int) -> list:
    """Numbers rounded; the marker and non-numbers kept; missing stays missing."""
    out = []
    for v in col.to_numpy(dtype=object):
        if isinstance(v, str) or v is None or isinstance(v, bool | np.bool_):
            out.append(v)
        else:
            try:
                f = float(v)
            except (TypeError, ValueError):
                out.append(v)
                continue
            # + 0.0 turns -0.0 into 0.0: a rounded "-0.0" reads as a (hidden) negative value
            out.append(round(f, decimals) + 0.0 if np.isfinite(f) else np.nan)
    return out


def wilson(x: Iterable, n: Iterable, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval of released counts (NaN where either is hidden).

    Example:
        >>> lo, hi = wilson([10], [40])
        >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
        (0.142, 0.402)
    """
    from statsmodels.stats.proportion import proportion_confint

    xs = pd.to_numeric(pd.Series(list(x), dtype=object), errors="coerce").to_numpy(dtype=float)
    ns = pd.to_numeric(pd.Series(list(n), dtype=object), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ns) & (ns > 0)
    lo, hi = np.full(len(xs), np.nan), np.full(len(xs), np.nan)
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(
            np.minimum(xs[ok], ns[ok]), ns[ok], alpha=1 - confidence, method="wilson"
        )
    return lo, hi
