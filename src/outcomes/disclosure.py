"""Statistical disclosure control for every published table (NHS Digital small-numbers rule).

The rule (specs/statistics.md): a count of 0 stays 0; a count of 1 to ``threshold`` (7) is shown
as ``*``; every other count is rounded to the nearest ``base`` (5); percentages are recomputed
from the rounded counts; a mean or median over 1 to ``threshold`` people is shown as ``*``.
Secondary suppression then hides further cells so that no suppressed cell can be worked out
from a total minus the cells that are shown.

How the table fits together is read from its labels:

* a row labelled ``Total`` (or ``All``, pandas' margins name) in the index or in a label column
  is the sum of the other rows (within each of ``groups`` when given; a row whose group label is
  ``Total`` is the grand total of every non-total row);
* a count column named ``Total``/``All`` is the sum of the other count columns (a two-way table
  with margins); ``column_totals=`` states other column sums explicitly.

Every such "line" (a total and its parts) is a linear equation an intruder can use. Secondary
suppression makes sure that no suppressed cell is determined by the equations, given the shown
cells: first by the usual rule that no line holds exactly one suppressed cell, then by an exact
check (the suppressed cell must have a non-zero component in some null vector of the equations
restricted to the suppressed cells). The audit log of every change is returned in
``result.attrs["disclosure_log"]``. It holds the unrounded values, so it is for the analyst's
file only and must never be published.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from ._attrs import attach
from ._internal.params import (
    BY,
    COLUMN_MAP,
    COUNT,
    POSITIVE,
    POSITIVE_COUNT,
    TEXT,
    Columns,
    Options,
    validate_params,
)
from ._internal.spreadsheet import columns_frame
from ._internal.text import did_you_mean, unknown
from .errors import DataStructureError, OutcomesError, PublishedElsewhereError

__all__ = [
    "DEFAULT_TOTAL_LABELS", "LOG_COLUMNS", "MARKER", "NOT_APPLICABLE", "apply", "is_protected",
]  # fmt: skip

#: what a suppressed cell shows, everywhere (tables, CSV, prose)
MARKER = "*"
RULES = ("default", "mhsds")
#: what a cell with no value shows (a statistic that does not exist, e.g. no follow-up yet),
#: everywhere: never a blank, which could be read as "one person"
NOT_APPLICABLE = "–"
DEFAULT_TOTAL_LABELS: tuple[str, ...] = ("Total", "All", "Totals", "Grand total")
# A label that reads like a total but is not declared one would get no secondary suppression
# (its parts could be recovered by subtraction): such labels are refused, not guessed.
_TOTAL_LIKE = re.compile(r"(sub[- ]?|grand |overall )?totals?:?( \(.*\))?")
# Counts are handled as floats; beyond 2**53 a whole number is no longer exact.
_MAX_EXACT = 2**53
LOG_COLUMNS = ["row", "column", "original", "published", "reason"]


# ----------------------------------------------------------------------------- table layout
@dataclass
class _Layout:
    counts: list[str]
    percentages: dict[str, tuple[str, str | None]]
    means: dict[str, str]
    keep: list[str]
    suppress_with: dict[str, str]
    column_totals: dict[str, list[str]]


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, str) or not isinstance(x, Sequence):
        return [x]
    return list(x)


def _is_number(v) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool | np.bool_)


def _numberish(col: pd.Series, marker: str) -> bool:
    """Numeric columns, and object columns holding only numbers and the marker (a table that has
    already been through :func:`apply`)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return False
    if pd.api.types.is_numeric_dtype(col.dtype):
        return True
    if col.dtype != object:
        return False
    vals = col.dropna().to_numpy(dtype=object)
    if len(vals) == 0:
        return False
    numeric = np.fromiter((_is_number(v) for v in vals), bool, len(vals))
    is_marker = np.fromiter((isinstance(v, str) and v == marker for v in vals), bool, len(vals))
    # A column of nothing but markers is a count column that was suppressed throughout.
    return bool(np.all(numeric | is_marker))


def _count_like(col: pd.Series, marker: str) -> bool:
    """Numberish and every number a whole number >= 0."""
    if not _numberish(col, marker):
        return False
    if pd.api.types.is_numeric_dtype(col.dtype):
        nums = col.to_numpy(dtype=float, na_value=np.nan)
    else:
        vals = col.to_numpy(dtype=object)
        nums = np.array([float(v) for v in vals if _is_number(v)], dtype=float)
    nums = nums[~np.isnan(nums)]
    return bool(np.all((nums >= 0) & (nums == np.round(nums)) & np.isfinite(nums)))


def _layout(
    table: pd.DataFrame,
    counts,
    percentages,
    means,
    keep,
    suppress_with,
    column_totals,
    total_labels: set[str],
    marker: str,
) -> _Layout:
    cols = list(table.columns)
    have = set(cols)

    def need(name, what: str) -> None:
        if name not in have:
            raise DataStructureError(
                f"{what} names column {name!r}, which is not in the table; "
                f"columns present: {[str(c) for c in cols]}"
            )

    pct: dict[str, tuple[str, str | None]] = {}
    for p, spec in (percentages or {}).items():
        need(p, "percentages=")
        num, den = (
            (spec, None) if isinstance(spec, Hashable) and not isinstance(spec, tuple) else spec
        )
        need(num, f"percentages[{p!r}]")
        if den is not None:
            need(den, f"percentages[{p!r}]")
        pct[p] = (num, den)
    mns = {}
    for m, n in (means or {}).items():
        need(m, "means=")
        need(n, f"means[{m!r}]")
        mns[m] = n
    keep = _as_list(keep)
    for k in keep:
        need(k, "keep=")
    sw = dict(suppress_with or {})
    for c, ref in sw.items():
        need(c, "suppress_with=")
        need(ref, f"suppress_with[{c!r}]")

    declared = set(pct) | set(mns) | set(keep) | set(sw)
    implied = [num for num, _ in pct.values()] + [d for _, d in pct.values() if d is not None]
    implied += list(mns.values()) + list(sw.values())
    if counts is None:
        auto = [c for c in cols if c not in declared and _count_like(table[c], marker)]
        count_list = list(dict.fromkeys(auto + [c for c in implied if c not in auto]))
        # keep the table's column order
        count_list = [c for c in cols if c in set(count_list)]
    else:
        count_list = _as_list(counts)
        for c in count_list:
            need(c, "counts=")
        missing = [c for c in implied if c not in count_list]
        count_list = [c for c in cols if c in set(count_list) | set(missing)]
    clash = sorted(str(c) for c in set(count_list) & declared)
    if clash:
        raise OutcomesError(
            f"column(s) {clash} are declared both as counts and as percentages/means/keep/"
            "suppress_with; each column has one role"
        )
    # Any other numeric column would be published unprotected: refuse rather than guess.
    loose = [
        str(c) for c in cols if c not in set(count_list) | declared and _numberish(table[c], marker)
    ]
    if loose:
        raise DataStructureError(
            f"numeric column(s) {loose} are neither counts nor declared; pass them in "
            "percentages=, means=, suppress_with= or keep= (keep publishes them unchanged)"
        )

    if column_totals is None:
        tot_cols = [c for c in count_list if str(c).strip().casefold() in total_labels]
        if len(tot_cols) > 1:
            raise DataStructureError(
                f"more than one total column {[str(c) for c in tot_cols]}; "
                "state the sums with column_totals={'Total': [...parts]}"
            )
        ct = {tot_cols[0]: [c for c in count_list if c != tot_cols[0]]} if tot_cols else {}
    else:
        ct = {}
        for tot, parts in column_totals.items():
            for c in [tot, *parts]:
                need(c, "column_totals=")
                if c not in count_list:
                    raise OutcomesError(
                        f"column_totals names {c!r}, which is not a count column"
                        f"{did_you_mean(c, count_list)}"
                    )
            ct[tot] = list(parts)
    return _Layout(count_list, pct, mns, keep, sw, ct)


def _parse_counts(table: pd.DataFrame, counts: list[str], marker: str):
    """Counts as a float matrix (NaN = missing), plus a mask of cells already shown as marker."""
    n, c = len(table), len(counts)
    values = np.full((n, c), np.nan)
    starred = np.zeros((n, c), bool)
    bad: list[str] = []
    # a number's text is always read by float(): a marker float() refuses is no number's text
    try:
        float(marker)
        numeric_marker = True
    except (TypeError, ValueError):
        numeric_marker = False
    for j, name in enumerate(counts):
        raw = table[name]
        obj = raw.to_numpy(dtype=object)
        if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf" and not numeric_marker:
            # a plain numeric column (the usual case) holds no true/false value and no marker:
            # read as floats directly rather than through text, as below, per cell
            num = raw.to_numpy(dtype=float)
            star = np.zeros(n, bool)
            big = obj[np.abs(num) >= _MAX_EXACT]
            present = ~np.isnan(num)
        else:
            if pd.api.types.is_bool_dtype(raw.dtype) or any(
                isinstance(v, bool | np.bool_) for v in obj
            ):
                raise OutcomesError(
                    f"count column {name!r} holds true/false values; counts must be whole "
                    "numbers (convert deliberately, e.g. with .astype(int), if 1/0 is meant)"
                )
            big = [v for v in obj if _is_number(v) and abs(float(v)) >= _MAX_EXACT]
            star = (raw.astype("string") == marker).fillna(False).to_numpy(dtype=bool)
            num = pd.to_numeric(raw.mask(star), errors="coerce").to_numpy(dtype=float)
            present = ~pd.isna(raw).to_numpy() & ~star
        if len(big):
            raise OutcomesError(
                f"count column {name!r} holds {big[0]!r}, beyond the 2**53 up to which counts "
                "are handled exactly; refusing rather than publishing a wrong number"
            )
        wrong = present & (np.isnan(num) | (num < 0) | (num != np.round(num)) | ~np.isfinite(num))
        for i in np.flatnonzero(wrong)[:20]:
            bad.append(f"row {table.index[i]!r}, column {name!r}: {obj[i]!r}")
        values[:, j] = np.where(wrong, np.nan, num)
        starred[:, j] = star
    if bad:
        raise OutcomesError(
            "counts must be whole numbers >= 0 (or the marker "
            f"{marker!r} for an already suppressed cell); found: " + "; ".join(bad)
        )
    return values, starred


# ----------------------------------------------------------------------------- margins
def _label_columns(table: pd.DataFrame, label_cols: list) -> list[tuple[object, object]]:
    """Index levels (by name) and label columns side by side, as ``(name, values)`` pairs.

    Pairs rather than a frame: building a frame of them (and dropping and selecting columns
    of it) cost more than the rest of a small table's release."""
    names = list(table.index.names)
    out: list[tuple[object, object]] = [
        (
            nm
            if nm is not None and names.count(nm) == 1 and nm not in label_cols
            else f"__index_{k}",
            table.index.get_level_values(k),
        )
        for k, nm in enumerate(names)
    ]
    return out + [(c, table[c]) for c in label_cols]


def _is_total(columns: list[tuple[object, object]], n: int, total_labels: set[str]) -> np.ndarray:
    hit = np.zeros(n, bool)
    for _, values in columns:
        # each distinct label read once (a label column repeats a few values down many rows)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts = [str(u).strip().casefold() for u in np.asarray(uniques, dtype=object)]
        # the last slot answers code -1 (a missing label): never a total
        total_u = np.array([t in total_labels for t in texts] + [False])
        looks_u = np.array([_TOTAL_LIKE.fullmatch(t) is not None for t in texts] + [False])
        hit |= total_u[codes]
        odd = (looks_u & ~total_u)[codes]
        if odd.any():
            label = np.asarray(values, dtype=object)[int(np.flatnonzero(odd)[0])]
            raise DataStructureError(
                f"the label {label!r} reads like a total but is not one of the total labels "
                f"{sorted(total_labels)}; if it is a total row pass total_labels=[..., {label!r}] "
                "so that its parts are protected, otherwise rename it"
            )
    return hit


def _group_keys(columns: list[tuple[object, object]], n: int) -> np.ndarray:
    """One integer per row, equal for rows whose group labels read the same as text (each
    label as pandas' string dtype shows it, a missing one as ``<NA>``, joined by ``\x1f``).

    The text of each distinct label is made once, and the joined text once per distinct
    combination of labels, rather than once per row."""
    if n == 0:
        return np.zeros(0, np.int64)
    codes, texts = [], []
    for _, values in columns:
        if _text_is_distinct(values.dtype):
            c, uniques = pd.factorize(values, use_na_sentinel=True)
            # the last slot answers code -1 (a missing label)
            texts.append([*pd.Series(uniques).astype("string").tolist(), "<NA>"])
        else:  # equal values may read differently (2 and 2.0, 0.0 and -0.0): text per row
            text = pd.Series(values).astype("string").fillna("<NA>")
            c, uniques = pd.factorize(text)
            texts.append(uniques.tolist())
        codes.append(c)
    combos, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
    joined = ["\x1f".join(t[k] for t, k in zip(texts, combo, strict=True)) for combo in combos]
    same_text, _ = pd.factorize(np.array(joined, dtype=object))
    return same_text[inverse.reshape(n)]


def _text_is_distinct(dtype) -> bool:
    """Whether distinct values of this dtype (as :func:`pandas.factorize` tells them apart)
    always read as distinct text: not so for objects or floats, where 2 == 2.0 and 0.0 == -0.0."""
    return (
        isinstance(dtype, pd.CategoricalDtype | pd.StringDtype)
        or pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _row_structure(table, label_cols, groups, total_labels):
    """(total-row position, part positions, description) for every row margin."""
    labels = _label_columns(table, label_cols)
    n = len(table)
    group_names = _as_list(groups)
    present = {name for name, _ in labels}
    for g in group_names:
        if g not in present:
            raise DataStructureError(
                f"groups= names {g!r}, which is neither a label column nor an index level"
            )
    others = [(name, v) for name, v in labels if name not in group_names]
    is_total = _is_total(others, n, total_labels)
    if group_names:
        grouping = [(name, v) for g in group_names for name, v in labels if name == g]
        is_grand = _is_total(grouping, n, total_labels)
        keys = _group_keys(grouping, n)
    else:
        is_grand = np.zeros(n, bool)
        keys = np.zeros(n, dtype=np.int64)
    margins: list[tuple[int, np.ndarray, str]] = []
    leaves = ~is_total & ~is_grand
    # each group's rows in table order, the groups in order of first appearance (as
    # factorize numbers them)
    rows = np.flatnonzero(~is_grand)
    group = pd.factorize(keys[rows])[0]
    order = np.argsort(group, kind="stable")
    for in_g in np.split(rows[order], np.flatnonzero(np.diff(group[order])) + 1):
        tot = in_g[is_total[in_g]]
        if len(tot) > 1:
            labels_ = [table.index[i] for i in tot]
            raise DataStructureError(
                f"several total rows {labels_} in one group; pass groups=[...] naming the "
                "column(s) or index level(s) that separate the sections"
            )
        parts = in_g[leaves[in_g]]
        if len(tot) and len(parts):
            margins.append((int(tot[0]), parts, f"total row {table.index[tot[0]]!r}"))
    grand = np.flatnonzero(is_grand)
    if len(grand) > 1:
        raise DataStructureError(
            f"several grand-total rows {[table.index[i] for i in grand]}; keep one"
        )
    if len(grand) and leaves.any():
        margins.append(
            (int(grand[0]), np.flatnonzero(leaves), f"grand total row {table.index[grand[0]]!r}")
        )
    return margins, is_total | is_grand, keys, is_grand


def _constraints(n_rows, counts, row_margins, column_totals):
    """Signed incidence matrix: one row per equation total - sum(parts) = 0, one column per cell
    (cell k = row i * n_counts + count column j)."""
    c = len(counts)
    pos = {name: j for j, name in enumerate(counts)}
    rows, cols, vals, desc, is_margin_cell = [], [], [], [], np.zeros(n_rows * c, bool)
    m = 0
    for tot, parts, what in row_margins:
        for j, name in enumerate(counts):
            cells = parts * c + j
            rows += [m] * (len(cells) + 1)
            cols += [tot * c + j, *cells.tolist()]
            vals += [-1] + [1] * len(cells)
            desc.append(f"{what}, column {name!r}")
            is_margin_cell[tot * c + j] = True
            m += 1
    for tot_col, parts in column_totals.items():
        jt = pos[tot_col]
        jp = np.array([pos[p] for p in parts])
        for i in range(n_rows):
            rows += [m] * (len(jp) + 1)
            cols += [i * c + jt, *(i * c + jp).tolist()]
            vals += [-1] + [1] * len(jp)
            desc.append(f"total column {tot_col!r}")
            is_margin_cell[i * c + jt] = True
            m += 1
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(m, n_rows * c), dtype=float)
    return a, desc, is_margin_cell


# ----------------------------------------------------------------------------- secondary suppression
#: a line touching more suppressed cells than this is "long" (a Total row or column running
#: through the whole table); the others are short and split the cells into small blocks
LONG_LINE = 32


def _determined(a: sparse.csr_matrix, supp: np.ndarray) -> np.ndarray:
    """Suppressed cells whose value follows from the equations and the shown cells.

    With the shown cells known, the suppressed values x solve A_S x = b. Cell s is pinned down
    exactly when the unit vector e_s lies in the row space of A_S, i.e. when the orthogonal
    projector P onto that row space has P_ss = 1.

    P is built in linear time rather than from one dense SVD of A_S: the short lines split the
    suppressed cells into independent blocks (a row of the table, a small group), each
    block's row space gets an orthonormal basis from a small SVD, and the few long lines
    (Total rows/columns spanning the table) add what they hold outside those spaces: their
    residual after projecting out every block, whose orthonormal basis comes from one thin
    SVD. The pieces are mutually orthogonal, so P_ss is the sum of their squared entries.
    """
    s = np.flatnonzero(supp)
    out = np.zeros(len(supp), bool)
    if len(s) == 0 or a.shape[0] == 0:
        return out
    sub = a[:, s].tocsr()
    sub.eliminate_zeros()
    per_line = np.diff(sub.indptr)
    if not per_line.any():
        return out
    # Singular values below this count as zero: the usual rank tolerance, scaled by a bound
    # on the norm of A_S (sqrt of the largest row sum times the largest column sum).
    col_nnz = np.bincount(sub.indices, minlength=len(s))
    scale = float(np.sqrt(per_line.max() * max(int(col_nnz.max()), 1)))
    tol = max(sub.shape) * np.finfo(float).eps * scale
    long_lines = per_line > LONG_LINE
    short = sub[(per_line > 0) & ~long_lines]
    long_ = sub[long_lines].toarray()
    p_diag = np.zeros(len(s))
    # blocks: cells joined by short lines (components of the cell-line incidence graph)
    n_s = len(s)
    graph = sparse.bmat([[None, abs(short).T], [abs(short), None]], format="csr")
    _, label = csgraph.connected_components(graph, directed=False)
    cell_block, line_block = label[:n_s], label[n_s:]
    cell_at, n_cells = _place(cell_block, label.max() + 1)
    line_at, n_lines = _place(line_block, label.max() + 1)
    entries = short.tocoo()
    # Blocks of one shape are stacked and decomposed in one batched SVD (most are one table
    # row each), so there is no Python work per block.
    for nl, nc in {(int(a), int(b)) for a, b in zip(n_lines, n_cells, strict=True) if a}:
        blocks = np.flatnonzero((n_lines == nl) & (n_cells == nc))
        slot = np.full(len(n_cells), -1)
        slot[blocks] = np.arange(len(blocks))
        mine = slot[cell_block[entries.col]] >= 0
        stack = np.zeros((len(blocks), nl, nc))
        r, c = entries.row[mine], entries.col[mine]
        stack[slot[cell_block[c]], line_at[r], cell_at[c]] = entries.data[mine]
        _, sv, vh = np.linalg.svd(stack, full_matrices=False)
        basis = vh * (sv > tol)[:, :, None]  # rows beyond the rank zeroed
        cells = np.zeros((len(blocks), nc), dtype=np.int64)
        in_group = slot[cell_block] >= 0
        cells[slot[cell_block[in_group]], cell_at[in_group]] = np.flatnonzero(in_group)
        p_diag[cells] += (basis**2).sum(axis=1)
        if len(long_):
            part = long_[:, cells]  # (long lines, blocks, cells)
            coef = np.einsum("kbc,brc->kbr", part, basis)
            long_[:, cells] = part - np.einsum("kbr,brc->kbc", coef, basis)
    if len(long_):
        _, sv, vh = np.linalg.svd(long_, full_matrices=False)
        basis = vh[: int(np.sum(sv > tol))]
        p_diag += (basis**2).sum(axis=0)
    out[s] = p_diag > 1 - 1e-9
    return out


def _place(block: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Each member's position within its block, and each block's size."""
    order = np.argsort(block, kind="stable")
    size = np.bincount(block, minlength=n_blocks)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    at = np.empty(len(block), dtype=np.int64)
    at[order] = np.arange(len(block)) - start[block[order]]
    return at, size


class _Suppressor:
    def __init__(self, a, desc, values, is_margin_cell, known=None):
        self.a = a
        # cells a reader has from elsewhere: never chosen (hiding them protects nothing)
        self.known = known
        self.inc = abs(a).tocsr()
        self.inc_c = self.inc.tocsc()
        self.desc = desc
        self.v = values
        self.is_margin = is_margin_cell
        # lines through each cell as a padded table (a cell lies on a few lines), so that
        # choose() counts lonely lines for all candidates in one gather; -1 pads
        deg = np.diff(self.inc_c.indptr)
        width = int(deg.max()) if len(deg) else 0
        self.lines_pad = np.full((len(deg), width), -1, dtype=np.int64)
        cols = np.arange(len(self.inc_c.indices)) - np.repeat(self.inc_c.indptr[:-1], deg)
        self.lines_pad[np.repeat(np.arange(len(deg)), deg), cols] = self.inc_c.indices

    def _cells(self, c: int) -> np.ndarray:
        return self.inc.indices[self.inc.indptr[c] : self.inc.indptr[c + 1]]

    def _lines_of(self, k: int) -> np.ndarray:
        return self.inc_c.indices[self.inc_c.indptr[k] : self.inc_c.indptr[k + 1]]

    def _lines_near(self, k: int, supp: np.ndarray) -> list[int]:
        """Lines through cell k first, then lines reached through other suppressed cells on
        them, and so on outwards. A cell pinned down by a combination of lines (a group total
        fixed by the grand total) may have every other cell on its own lines hidden already;
        the protecting cell then lies on a line the combination runs through."""
        order: list[int] = []
        seen_lines: set[int] = set()
        seen_cells = {k}
        frontier = [k]
        while frontier:
            nxt = []
            for cell in frontier:
                for line in self._lines_of(cell):
                    if line in seen_lines:
                        continue
                    seen_lines.add(int(line))
                    order.append(int(line))
                    for other in self._cells(line):
                        if supp[other] and other not in seen_cells:
                            seen_cells.add(int(other))
                            nxt.append(int(other))
            frontier = nxt
        return order

    def choose(self, line: int, supp: np.ndarray, n_supp: np.ndarray) -> int | None:
        """The cell to hide next on ``line``: a small non-zero inner cell, preferably one that
        also fixes another line holding a single suppressed cell; totals and zeros last."""
        cells = self._cells(line)
        cand = cells[~supp[cells]] if self.known is None else cells[~(supp | self.known)[cells]]
        if len(cand) == 0:
            return None
        v = self.v[cand]
        zero = ~(v > 0)  # zero or missing
        lonely = np.append(n_supp == 1, False)  # the last slot answers the -1 padding
        helps = lonely[self.lines_pad[cand]].sum(axis=1) - lonely[line]
        order = np.lexsort(
            (cand, np.where(np.isnan(v), 0.0, v), -helps, self.is_margin[cand], zero)
        )
        return int(cand[order[0]])

    def run(self, supp: np.ndarray) -> dict[int, str]:
        added: dict[int, str] = {}
        if self.a.shape[0] == 0:
            return added
        for _ in range(supp.size + 1):
            # Rule pass: no line may hold exactly one suppressed cell.
            while True:
                n_supp = self.inc @ supp.astype(float)
                lonely = np.flatnonzero(n_supp == 1)
                before = int(supp.sum())
                for line in lonely:
                    if supp[self._cells(line)].sum() != 1:
                        continue
                    k = self.choose(line, supp, n_supp)
                    if k is None:
                        continue
                    supp[k] = True
                    added[k] = f"secondary: protects a suppressed cell on the {self.desc[line]}"
                    n_supp[self._lines_of(k)] += 1
                if int(supp.sum()) == before:
                    break
            # Exact pass: catches cells pinned down by a combination of lines.
            det = np.flatnonzero(_determined(self.a, supp))
            if len(det) == 0:
                return added
            n_supp = self.inc @ supp.astype(float)
            for k in det:
                picked = None
                for line in self._lines_near(k, supp):
                    picked = self.choose(line, supp, n_supp)
                    if picked is not None:
                        supp[picked] = True
                        added[picked] = (
                            "secondary: a combination of margins would reveal a suppressed cell "
                            f"(hidden on the {self.desc[line]})"
                        )
                        break
                if picked is not None:
                    break
            else:
                raise OutcomesError(
                    "secondary suppression could not protect every suppressed cell: every cell "
                    "of the lines that reveal it is already hidden; check the Total rows and "
                    "columns"
                )
        raise OutcomesError("secondary suppression did not converge")  # pragma: no cover


# ----------------------------------------------------------------------------- rounding
def _round(values: np.ndarray, threshold: int, base: int) -> np.ndarray:
    """Round half up to a multiple of ``base``; never down into 1..threshold (or to 0)."""
    r = np.floor(values / base + 0.5) * base
    floor = np.ceil((threshold + 1) / base) * base
    return np.where(values > threshold, np.maximum(r, floor), r)


@validate_params(
    {
        "table": "dataframe",
        "counts": Columns(),
        "threshold": COUNT,
        "base": POSITIVE_COUNT,
        "marker": TEXT,
    }
)
def is_protected(
    table: pd.DataFrame,
    counts: Sequence[str],
    *,
    threshold: int = 7,
    base: int = 5,
    marker: str = MARKER,
) -> bool:
    """True when every shown cell of ``counts`` is 0, the marker, missing or a multiple of
    ``base`` above ``threshold``. Checks the first half of the rule, not the margins.

    Example:
        >>> import pandas as pd
        >>> is_protected(pd.DataFrame({"n": [0, "*", 15]}), ["n"])
        True
    """
    for c in counts:
        obj = table[c].to_numpy(dtype=object)
        for v in obj:
            if v is None or (isinstance(v, float) and np.isnan(v)) or v == marker:
                continue
            if not _is_number(v):
                return False
            if v != 0 and (v <= threshold or v % base != 0):
                return False
    return True


# ----------------------------------------------------------------------------- public
@validate_params(
    {
        "table": "dataframe",
        "counts": [Columns(), None],
        "threshold": COUNT,
        "base": POSITIVE_COUNT,
        "percentages": COLUMN_MAP,
        "means": COLUMN_MAP,
        "suppress_with": COLUMN_MAP,
        "keep": [Columns(empty=True)],
        "groups": BY,
        "column_totals": COLUMN_MAP,
        "total_labels": Columns(),
        "decimals": COUNT,
        "percent_scale": POSITIVE,
        "marker": TEXT,
        "rule": Options(str, set(RULES)),
        "within": COLUMN_MAP,
        "weighted": COLUMN_MAP,
        "known": [Sequence, None],
        "log": "boolean",
    }
)
def apply(
    table: pd.DataFrame,
    *,
    counts: str | Sequence[str] | None = None,
    threshold: int = 7,
    base: int = 5,
    percentages: Mapping[str, str | tuple[str, str]] | None = None,
    means: Mapping[str, str] | None = None,
    suppress_with: Mapping[str, str] | None = None,
    keep: str | Sequence[str] = (),
    groups: str | Sequence[str] | None = None,
    column_totals: Mapping[str, Sequence[str]] | None = None,
    total_labels: Sequence[str] = DEFAULT_TOTAL_LABELS,
    decimals: int = 1,
    percent_scale: float = 100.0,
    marker: str = MARKER,
    rule: str = "default",
    within: Mapping[str, str] | None = None,
    weighted: Mapping[str, str] | None = None,
    known: Sequence[Sequence[tuple[int, str]] | Mapping[tuple[int, str], float]] | None = None,
    log: bool = True,
) -> pd.DataFrame:
    """Apply the small-numbers rule, with secondary suppression, to a table for publication.

    Parameters
    ----------
    table
        One row per category. Labels live in the index or in text columns; a row labelled
        ``Total`` (or ``All``) is the sum of the other rows.
    counts
        Count columns. Default: every numeric column not named in another role, plus the
        numerators/denominators of ``percentages`` and the n columns of ``means``. Any other
        numeric column is refused (an error) unless listed in ``keep``.
    threshold, base
        Counts 1..threshold become the marker; larger counts are rounded (half up) to a
        multiple of ``base``, never below the first multiple above ``threshold``.
    percentages
        ``{pct_column: numerator}`` (denominator: the Total row of the numerator's column in the
        same group) or ``{pct_column: (numerator, denominator_column)}`` (row-wise). Recomputed
        from the published counts as ``percent_scale * num / den``, rounded to ``decimals``;
        the marker when either count is suppressed.
    means
        ``{statistic_column: n_column}`` for means, medians or any statistic over n people;
        the marker when n is suppressed (1..threshold people, or hidden by secondary
        suppression), otherwise unchanged.
    suppress_with
        ``{column: count_column}``: other numbers (e.g. confidence limits) hidden whenever the
        count is; otherwise unchanged.
    keep
        Numeric columns that are labels (a year, a school number) and are published unchanged.
    groups
        Label columns or index levels splitting the table into sections, each with its own Total
        row; a row whose group label is ``Total`` is the grand total of all sections.
    column_totals
        ``{total_column: [part columns]}``; by default a count column named ``Total``/``All`` is
        the sum of all other count columns.
    marker
        What a suppressed cell shows.
    rule
        ``"default"``: the rule above. ``"mhsds"``: NHS England's MHSDS publication rule
        (specs/mhsds.md 3.12): every count below 5, **0 included**, is the marker, others are
        rounded to the nearest 5; a percentage is the marker when its numerator is, otherwise
        it is computed from the *unrounded* counts and rounded to a whole number; no secondary
        suppression (NHS does none). ``threshold``, ``base``, ``decimals``, ``within`` and total rows
        do not apply to it.
    within
        ``{count_column: n_column}``: counts within a group (cases among n). A count whose
        group's n is suppressed is suppressed too (even 0 or a large count: "none of them" is
        information about every member), before secondary suppression protects it.
    weighted
        ``{column: weight_count_column}``: a share or mean (declared in ``percentages=`` or
        ``means=``) whose Total row is its rows' values weighted by the count column (a share
        within the waiting standard by the referrals, a mean change by the children paired).
        Value x weight adds up like a count, so a hidden value beside a shown Total and shown
        siblings comes back by difference: secondary suppression is run on these sums over
        the same Total rows (a hidden value stays hidden; more are hidden, the row with the
        smallest published weight first, until none is determined). A value hidden only
        with its n is protected already by the n's secondary suppression; the rule matters
        for values hidden for reasons of their own (a marker in the input).
    known
        Sums of this table's cells that a reader has from tables published elsewhere (a team
        whose schools are all shown in the table by school): each a sequence of ``(row
        position, column)`` cells, or ``{(row position, column): coefficient}``, in a count or
        ``weighted`` column. A cell they fix, alone or with this table's Total rows and
        columns, is published in effect: secondary suppression neither relies on it as a
        partner nor protects it (hidden already, it stays hidden). A count of 1 to
        ``threshold`` they fix is refused: no suppression here can hide it.
    log
        False: no audit log is made (``attrs`` has no ``disclosure_log``), for a caller that
        publishes the table and keeps no log; the table is the same.

    Returns
    -------
    DataFrame
        Same shape, index and columns. Count columns hold whole numbers, ``marker`` or NaN
        (object dtype). ``result.attrs["disclosure_log"]`` lists every changed cell (``row``,
        ``column``, ``original``, ``published``, ``reason``); it holds the unrounded values and is
        not for publication. ``result.attrs["disclosure"]`` records the settings and counts.
        Applying the function again changes nothing (the log is then empty).

    Example
    -------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"school": ["A", "B", "C", "Total"], "n": [3, 12, 40, 55]})
    >>> apply(t)["n"].tolist()
    ['*', '*', 40, 55]
    """
    if not isinstance(table, pd.DataFrame):
        raise OutcomesError(f"disclosure.apply needs a DataFrame, not {type(table).__name__}")
    if rule not in RULES:
        raise OutcomesError(unknown("disclosure rule", rule, RULES))
    if rule == "mhsds":
        return _apply_mhsds(table, counts, percentages or {}, marker, log=log)
    if isinstance(table.columns, pd.MultiIndex):
        raise DataStructureError("flatten the column MultiIndex before applying disclosure control")
    if table.columns.duplicated().any():
        dup = [str(c) for c in table.columns[table.columns.duplicated()]]
        raise DataStructureError(f"duplicate column names {dup}")
    if int(threshold) != threshold or threshold < 0:
        raise OutcomesError(f"threshold must be a whole number >= 0, not {threshold!r}")
    if int(base) != base or base < 1:
        raise OutcomesError(f"base must be a whole number >= 1, not {base!r}")
    threshold, base = int(threshold), int(base)
    labels_set = {str(t).strip().casefold() for t in total_labels}

    lay = _layout(
        table, counts, percentages, means, keep, suppress_with, column_totals, labels_set, marker
    )
    values, starred = _parse_counts(table, lay.counts, marker)
    n, c = values.shape
    label_cols = [
        col
        for col in table.columns
        if col
        not in set(lay.counts) | set(lay.percentages) | set(lay.means) | set(lay.suppress_with)
        and col not in set(lay.keep)
    ]
    row_margins, is_total_row, group_keys, is_grand = _row_structure(
        table, label_cols, groups, labels_set
    )

    flat = values.ravel()
    primary = (starred | ((flat.reshape(n, c) >= 1) & (flat.reshape(n, c) <= threshold))).ravel()
    a, desc, is_margin_cell = _constraints(n, lay.counts, row_margins, lay.column_totals)
    supp = primary.copy()
    cpos0 = {name: j for j, name in enumerate(lay.counts)}
    known_cells, sums, known_w = _known(known, table, cpos0, weighted or {}, a, row_margins)
    if known_cells is not None:
        _refuse_known_small(known_cells & primary & ~starred.ravel(), table, lay.counts, threshold)
    a_rule, desc_rule = a, desc
    if sums.get(None) is not None:
        # a known sum of several cells is one more line: a hidden cell alone on it comes back
        a_rule = sparse.vstack([a, sums[None]]).tocsr()
        desc_rule = desc + ["sum known from another table"] * sums[None].shape[0]
    suppressor = _Suppressor(a_rule, desc_rule, flat, is_margin_cell, known_cells)
    pairs = []
    for sub, group_n in (within or {}).items():
        for col in (sub, group_n):
            if col not in cpos0:
                raise OutcomesError(
                    f"within= names {col!r}, which is not a count column"
                    f"{did_you_mean(col, lay.counts)}"
                )
        pairs.append((cpos0[sub], cpos0[group_n], group_n))
    secondary: dict[int, str] = {}
    while True:
        if known_cells is None:
            secondary.update(suppressor.run(supp))
        else:
            # a known cell hidden here protects nothing and needs no protection: to the rule
            # it is shown (it stays hidden in the output)
            work = supp & ~known_cells
            secondary.update(suppressor.run(work))
            supp |= work
        # a count within a hidden group is hidden with it, then the margins are checked again
        grid = supp.reshape(n, c)
        grown = False
        for js, jn, group_n in pairs:
            new = grid[:, jn] & ~grid[:, js]
            for i in np.flatnonzero(new):
                secondary[i * c + js] = f"within a group whose n ({group_n!r}) is suppressed"
            grid[:, js] |= grid[:, jn]
            grown |= bool(new.any())
        if not grown:
            break
    supp = supp.reshape(n, c)

    rounded = _round(values, threshold, base)
    # None: no log wanted (building it was a third of the time of a small table's release)
    log_parts: list[pd.DataFrame] | None = [] if log else None
    # the published columns, put in place of the table's as one new frame at the end (a
    # setitem per column cost more than the rule itself on a small table)
    out_cols: dict = {}
    published_num = np.where(supp, np.nan, rounded)
    labels = table.index.to_numpy(dtype=object)
    primary_reason = f"primary: count between 1 and {threshold}"
    for j, name in enumerate(lay.counts):
        finite = np.isfinite(values[:, j])
        original = _whole_objects(values[:, j])
        col = _whole_objects(rounded[:, j])
        col[supp[:, j]] = marker
        out_cols[name] = pd.Series(col, index=table.index, dtype=object)
        if log_parts is None:
            continue
        hidden = supp[:, j] & ~starred[:, j]
        cells = np.arange(n) * c + j
        why = np.array([secondary.get(k, primary_reason) for k in cells[hidden]], dtype=object)
        log_parts.append(_log_frame(labels[hidden], name, original[hidden], marker, why))
        changed = ~supp[:, j] & finite & (rounded[:, j] != values[:, j])
        log_parts.append(
            _log_frame(
                labels[changed],
                name,
                original[changed],
                col[changed],
                f"rounded to a multiple of {base}",
            )
        )

    cpos = {name: j for j, name in enumerate(lay.counts)}
    for p, (num, den) in lay.percentages.items():
        jn = cpos[num]
        num_v, num_s = published_num[:, jn], supp[:, jn]
        if den is None:
            den_v, den_s = _total_row_denominator(
                table, p, published_num[:, jn], supp[:, jn], is_total_row, group_keys, is_grand
            )
        else:
            den_v, den_s = published_num[:, cpos[den]], supp[:, cpos[den]]
        with np.errstate(divide="ignore", invalid="ignore"):
            val = np.round(percent_scale * num_v / den_v, decimals)
        val = np.where(den_v > 0, val, np.nan)
        col = val.astype(object)
        col[num_s | den_s] = marker
        _log_changes(
            log_parts,
            table,
            p,
            col,
            "percentage recomputed from published counts",
            marker,
            "percentage hidden: its numerator or denominator is suppressed",
        )
        out_cols[p] = pd.Series(col, index=table.index, dtype=object)

    for m, ncol in lay.means.items():
        hide = supp[:, cpos[ncol]]
        col = table[m].to_numpy(dtype=object).copy()
        col[hide] = marker
        _log_changes(
            log_parts,
            table,
            m,
            col,
            "",
            marker,
            f"statistic hidden: its n ({ncol!r}) is suppressed",
        )
        out_cols[m] = pd.Series(col, index=table.index, dtype=object)
    for m, wcol in (weighted or {}).items():
        if m not in out_cols or m not in set(lay.means) | set(lay.percentages):
            raise OutcomesError(
                f"weighted= names {m!r}, which is not declared in means= or percentages="
            )
        if wcol not in cpos:
            raise OutcomesError(
                f"weighted[{m!r}] names {wcol!r}, which is not a count column"
                f"{did_you_mean(wcol, lay.counts)}"
            )
        col = out_cols[m].to_numpy(dtype=object).copy()
        added = _weighted_partners(
            col,
            published_num[:, cpos[wcol]],
            row_margins,
            wcol,
            marker,
            known_w.get(m),
            sums.get(m),
        )
        col[added] = marker
        if len(added) and log_parts is not None:
            log_parts.append(
                _log_frame(
                    table.index.to_numpy(dtype=object)[added], m,
                    table[m].to_numpy(dtype=object)[added], marker,
                    f"secondary: weighted by {wcol!r}, a Total row would give back a hidden value",
                )
            )  # fmt: skip
        out_cols[m] = pd.Series(col, index=table.index, dtype=object)
    for s, ref in lay.suppress_with.items():
        hide = supp[:, cpos[ref]]
        col = table[s].to_numpy(dtype=object).copy()
        col[hide] = marker
        _log_changes(
            log_parts, table, s, col, "", marker, f"hidden with the suppressed count {ref!r}"
        )
        out_cols[s] = pd.Series(col, index=table.index, dtype=object)

    out = columns_frame(table, [out_cols.get(c, col) for c, col in table.items()], table.columns)
    out.attrs = dict(table.attrs)
    if log_parts is not None:
        parts = [p for p in log_parts if len(p)]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LOG_COLUMNS)
        out.attrs["disclosure_log"] = attach(frame)
    out.attrs["disclosure"] = {
        "rule": f"0 stays 0; 1-{threshold} suppressed; others rounded to the nearest {base}",
        "threshold": threshold,
        "base": base,
        "counts": [str(x) for x in lay.counts],
        "primary": int((primary & ~starred.ravel()).sum()),
        "secondary": len(secondary),
        "already_suppressed": int(starred.sum()),
    }
    if known_cells is not None:
        # (row position, column) of every cell a reader has from elsewhere
        rows_, cols_ = np.divmod(np.flatnonzero(known_cells), c)
        out.attrs["disclosure"]["known"] = [
            *((int(i), lay.counts[j]) for i, j in zip(rows_, cols_, strict=True)),
            *((int(i), m) for m, mask in known_w.items() for i in np.flatnonzero(mask)),
        ]
    return out


def _weighted_partners(
    col: np.ndarray,
    weight: np.ndarray,
    row_margins: list,
    wcol: object,
    marker: str,
    known: np.ndarray | None = None,
    sums: sparse.csr_matrix | None = None,
) -> list[int]:
    """The rows of a weighted share or mean column to hide further, so that no hidden value
    follows from its Total rows: value x weight is a cell of the count rule's margins, with
    the published weight (NaN where hidden) choosing the partner. ``known``: rows whose value
    a reader has from elsewhere (shown to the rule, never a partner); ``sums``: further
    lines, sums of rows known from elsewhere.

    Example:
        >>> m = [(3, np.array([0, 1, 2]), "total row 'Total'")]
        >>> _weighted_partners(np.array(["*", 0.5, 0.5, 0.49], dtype=object),
        ...                    np.array([15.0, 40.0, 60.0, 115.0]), m, "n", "*")
        [1]
    """
    n = len(col)
    # a missing value on a row of weight 0 adds nothing to its Total: nothing to give back
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in col])
    hidden = np.array([isinstance(v, str) and v == marker for v in col])
    hidden |= missing & ~(weight == 0)
    if known is not None:
        hidden &= ~known
    a, desc, is_margin_cell = _constraints(n, [wcol], row_margins, {})
    if sums is not None:
        a = sparse.vstack([a, sums]).tocsr()
        desc = desc + ["sum known from another table"] * sums.shape[0]
    # a hidden weight last: its row's value x weight is unknown anyway
    added = _Suppressor(
        a, desc, np.where(np.isnan(weight), np.inf, weight), is_margin_cell, known
    ).run(hidden)
    return sorted(added)


def _known(
    known: Sequence | None,
    table: pd.DataFrame,
    cpos: dict,
    weighted: Mapping,
    a: sparse.csr_matrix,
    row_margins: list,
) -> tuple[np.ndarray | None, dict, dict[object, np.ndarray]]:
    """The cells whose values a reader has without this table's shown cells: ``known``'s
    sums (cells of tables published elsewhere), with this table's own margins. A cell is
    known when its unit vector lies in the row space of those equations (the exact check's
    test, every cell unknown). The count cells as one flat mask (None: ``known`` is empty);
    the sums of several cells as lines for the rule (key None for the counts, over the flat
    cells; a weighted column's name for its rows); and a row mask per weighted column (its
    value x weight adds up as a count does)."""
    if not known:
        return None, {}, {}
    n, c = len(table), len(cpos)
    rows: dict[object, list[dict[int, float]]] = {}
    for k, combo in enumerate(known):
        items = combo.items() if isinstance(combo, Mapping) else ((cell, 1.0) for cell in combo)
        by_col: dict[object, dict[int, float]] = {}
        for cell, coef in items:
            if not (isinstance(cell, tuple) and len(cell) == 2):
                raise OutcomesError(
                    f"known[{k}] holds {cell!r}; each cell is a (row position, column) pair"
                )
            i, col = cell
            if col not in cpos and col not in weighted:
                raise OutcomesError(
                    f"known[{k}] names column {col!r}, which is neither a count column nor "
                    f"weighted{did_you_mean(col, [*cpos, *weighted])}"
                )
            if not (isinstance(i, numbers.Integral) and 0 <= i < n):
                raise OutcomesError(f"known[{k}] names row {i!r}; rows are positions 0..{n - 1}")
            by_col.setdefault(col, {})
            by_col[col][int(i)] = by_col[col].get(int(i), 0.0) + float(coef)
        if len(by_col) > 1:
            raise OutcomesError(f"known[{k}] mixes columns {list(by_col)}; one column per sum")
        for col, terms in by_col.items():
            rows.setdefault(col, []).append(terms)
    cells = np.zeros(n * c, bool)
    sums: dict = {}
    terms = [(cpos[col] + np.array(list(t), dtype=np.int64) * c, list(t.values()))
             for col in cpos for t in rows.get(col, [])]  # fmt: skip
    if terms:
        cells, sums[None] = _fixed_by(a, terms, n * c)
    per_weighted = {}
    for col in weighted:
        w_terms = [(np.array(list(t), dtype=np.int64), list(t.values())) for t in rows.get(col, [])]
        if w_terms:
            a_w = _constraints(n, [col], row_margins, {})[0]
            per_weighted[col], sums[col] = _fixed_by(a_w, w_terms, n)
    return cells, sums, per_weighted


#: up to this many cells the known cells come from one dense SVD (a linked table is small:
#: a few teams or months); beyond, from the exact check's blockwise projector
_DENSE_CELLS = 400


def _fixed_by(
    a: sparse.csr_matrix, terms: list, n_cells: int
) -> tuple[np.ndarray, sparse.csr_matrix | None]:
    """Cells whose unit vector lies in the row space of ``a`` (the table's margins) stacked
    with ``terms`` (each (cells, coefficients), a sum a reader knows): every cell unknown.
    And the terms of two cells or more, as lines (None if there are none)."""
    k = np.zeros((len(terms), n_cells))
    for r, (ix, coef) in enumerate(terms):
        np.add.at(k[r], ix, coef)
    several = k[np.count_nonzero(k, axis=1) > 1]
    lines = sparse.csr_matrix(several) if len(several) else None
    if n_cells > _DENSE_CELLS:
        m = sparse.vstack([a, sparse.csr_matrix(k)]).tocsr()
        return _determined(m, np.ones(n_cells, bool)), lines
    m = np.vstack([a.toarray(), k])
    _, sv, vh = np.linalg.svd(m, full_matrices=False)
    tol = max(m.shape) * np.finfo(float).eps * (sv[0] if len(sv) else 0.0)
    basis = vh[sv > tol]
    return (basis**2).sum(axis=0) > 1 - 1e-9, lines


def _refuse_known_small(bad: np.ndarray, table: pd.DataFrame, counts: list, threshold: int) -> None:
    """A count of 1..threshold that a reader has from elsewhere cannot be protected by this
    table: the tables published before give it away (a sum of shown counts is 0 or above the
    threshold, so a consistent ``known`` never makes one; a wrong sum does)."""
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    i, j = divmod(k, len(counts))
    raise PublishedElsewhereError(
        f"row {table.index[i]!r}, column {counts[j]!r}: a count of 1 to {threshold} that "
        "follows from the cells published elsewhere (known=) and this table's totals; no "
        "suppression in this table can hide it (check the sums stated in known=, or release "
        "the other table with this one in mind)",
        i,
        counts[j],
    )


def _apply_mhsds(
    table: pd.DataFrame, counts, percentages, marker: str, *, log: bool = True
) -> pd.DataFrame:
    """NHS's MHSDS rule: < 5 incl. 0 -> marker, else nearest 5; % from unrounded counts, whole
    numbers, hidden with their numerator (FUN l.1344-1431 of NHS's code; specs/mhsds.md 3.12).
    Count / 5 never ends in .5, so half-even and half-up rounding agree."""
    counts = (
        _as_list(counts)
        if counts is not None
        else [
            c
            for c in table.columns
            if c not in percentages and pd.api.types.is_numeric_dtype(table[c])
        ]
    )
    needed = [
        *counts,
        *(x for v in percentages.values() for x in ([v] if isinstance(v, str) else v)),
    ]
    for c in needed:
        if c not in table.columns:
            raise DataStructureError(unknown("column", c, [str(x) for x in table.columns]))
    out = table.copy()
    log_parts = []
    hidden = {}
    for c in counts:
        v = pd.to_numeric(table[c], errors="coerce").astype("float64").to_numpy()
        hide = np.isfinite(v) & (v < 5)
        hidden[c] = hide
        col = np.where(np.isfinite(v), np.round(v / 5) * 5, np.nan).astype(object)
        col = np.array(
            [int(x) if isinstance(x, float) and np.isfinite(x) else x for x in col], dtype=object
        )
        col[hide] = marker
        out[c] = pd.Series(col, index=table.index, dtype=object)
        changed = np.isfinite(v) & (col != v)
        log_parts.append(
            _log_frame(
                table.index.to_numpy(dtype=object)[changed],
                c,
                _whole_objects(v)[changed],
                col[changed],
                "mhsds rule: < 5 (incl. 0) suppressed, else nearest 5",
            )
        )
    for p, spec in percentages.items():
        num, den = (spec, None) if isinstance(spec, str) else spec
        if den is None:
            raise OutcomesError(f"rule='mhsds': percentage {p!r} needs (numerator, denominator)")
        n = pd.to_numeric(table[num], errors="coerce").astype("float64").to_numpy()
        d = pd.to_numeric(table[den], errors="coerce").astype("float64").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            val = np.where(d > 0, np.round(100 * n / d), np.nan)
        col = np.array([int(x) if np.isfinite(x) else np.nan for x in val], dtype=object)
        hide = hidden.get(num, np.isfinite(n) & (n < 5))
        col[hide] = marker
        out[p] = pd.Series(col, index=table.index, dtype=object)
    parts = [x for x in log_parts if len(x)]
    out.attrs = dict(table.attrs)
    if log:
        out.attrs["disclosure_log"] = attach(
            pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LOG_COLUMNS)
        )
    out.attrs["disclosure"] = {
        "rule": "mhsds: < 5 incl. 0 suppressed; others nearest 5",
        "counts": [str(c) for c in counts],
    }
    return out


def _whole_objects(x: np.ndarray) -> np.ndarray:
    """Whole numbers as Python ints (so that 10 prints as 10, not 10.0), NaN kept."""
    finite = np.isfinite(x)
    out = np.where(finite, x, 0).astype(np.int64).astype(object)
    out[~finite] = np.nan
    return out


def _log_frame(rows, column, original, published, reason) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "row": pd.Series(rows, dtype=object),
            "column": [column] * n,
            "original": pd.Series(original, dtype=object),
            "published": pd.Series(np.broadcast_to(np.asarray(published, dtype=object), n)),
            "reason": pd.Series(np.broadcast_to(np.asarray(reason, dtype=object), n)),
        },
        columns=LOG_COLUMNS,
    )


def _log_changes(log_parts, table, column, new, reason_change, marker, reason_hide) -> None:
    if log_parts is None:  # no log wanted
        return
    old = table[column].to_numpy(dtype=object)
    both_missing = pd.isna(old) & pd.isna(new)
    try:
        with np.errstate(invalid="ignore"):
            equal = np.asarray(old == new, dtype=bool)
    except TypeError:  # pd.NA in an object array has no truth value: compare cell by cell
        equal = np.array(
            [not (pd.isna(x) or pd.isna(y)) and bool(x == y) for x, y in zip(old, new, strict=True)]
        )
    changed = ~(equal | both_missing)
    if not changed.any():
        return
    hidden = np.array([isinstance(v, str) and v == marker for v in new[changed]], bool)
    reasons = np.where(hidden, reason_hide, reason_change).astype(object)
    labels = table.index.to_numpy(dtype=object)
    log_parts.append(_log_frame(labels[changed], column, old[changed], new[changed], reasons))


def _total_row_denominator(table, pct_col, num, num_supp, is_total_row, keys, is_grand):
    """For each row, the published count in the Total row of its group (or the grand total)."""
    n = len(table)
    den = np.full(n, np.nan)
    den_s = np.zeros(n, bool)
    grand = np.flatnonzero(is_grand)
    for key in pd.unique(keys):
        in_g = keys == key
        tot = np.flatnonzero(in_g & is_total_row)
        if len(tot) == 0:
            tot = grand
        if len(tot) == 0:
            raise DataStructureError(
                f"percentage column {pct_col!r} takes its denominator from the Total row, but "
                "the table has no Total row; give (numerator, denominator_column) instead"
            )
        den[in_g] = num[tot[0]]
        den_s[in_g] = num_supp[tot[0]]
    return den, den_s
