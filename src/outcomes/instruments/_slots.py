"""The compiled scoring path: coded items as one-byte slots into packed lookup tables.

scoring.py decides per call whether this path applies (numba importable, every coded item on a
response set of listed integer codes, at most 256 slots per item) and otherwise uses its numpy
path, which is the reference: both give identical results (tests/test_scoring_kernel.py).
The tables are the numpy path's own :class:`~outcomes.instruments.scoring._CodeTable`s, packed
side by side, so validation, reverse keys, recodes and missing codes have one home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from types import ModuleType

import numpy as np

from .._internal import threads
from .model import Instrument, Scale

#: slots per item: a byte
SLOTS = 256


@cache
def kernel() -> ModuleType | None:
    """The compiled kernels, or None when numba cannot be imported (numpy path then)."""
    try:
        from . import _kernel
    # numba is a declared dependency; it can still be broken (e.g. built for another numpy)
    # or find nowhere to cache kernels. The numpy path gives the same numbers, only slower.
    except Exception:  # pragma: no cover
        return None
    return _kernel


@dataclass(frozen=True)
class PackedItem:
    """One item's slot layout: source codes ``offset .. offset+size-1`` in slots 0..size-1,
    ``size`` a blank, ``size + 1`` unreadable or out of range; when an alternative coding is
    in use, the response set's own codes (which labels name) follow from ``size + 2``.
    Packed items are kept per instrument (scoring._slot_coders), so what is derived from the
    tables is worked out once (cached properties; the tables are not changed afterwards)."""

    offset: int
    size: int
    canon_offset: int | None  # offset of the canonical codes' own table (alternative coding)
    canon_base: int  # first slot of the canonical codes (== 0 without an alternative coding)
    canon_size: int
    score: np.ndarray  # float64[SLOTS]
    answered: np.ndarray  # uint8[SLOTS]
    invalid: np.ndarray  # uint8[SLOTS]
    canon: np.ndarray  # float64[SLOTS]
    #: what is derived from the layout once and kept with it (scoring's text dictionary)
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def slots_used(self) -> int:
        """Slots the layout takes (the rest are free)."""
        return self.canon_base + self.canon_size if self.canon_offset is not None else self.size + 2

    @cached_property
    def line(self) -> tuple[int, float, float] | None:
        """(answered slots as a 63-bit mask, a, b) when every answered slot s scores exactly
        a + b * s and lies below 63 (plain and reversed items), else None."""
        ans = np.flatnonzero(self.answered)
        if len(ans) == 0:
            return 0, 0.0, 0.0
        if ans[-1] >= 63:
            return None
        s0 = int(ans[0])
        b = 0.0 if len(ans) == 1 else (self.score[ans[1]] - self.score[s0]) / (ans[1] - s0)
        a = self.score[s0] - b * s0
        # the kernel computes a + b * s in float64 as numpy does here: exact equality holds
        if not np.array_equal(a + b * ans.astype(np.float64), self.score[ans]):
            return None
        return sum(1 << int(s) for s in ans), float(a), float(b)

    @cached_property
    def int_fields(self) -> tuple[int, int, int] | None:
        """(pack, w, base) when every answered slot scores a whole number of at most 2**31
        in size and the slots' fields fit in 63 bits, else None. Slot s's field, bits
        s*(w+1) .. s*(w+1)+w of pack, holds its score less ``base`` (the lowest score, or 0
        when none is negative) in the low w bits and 1 above them when s is answered; an
        unanswered slot's field is 0. The kernel sums such items in integers."""
        ans = np.flatnonzero(self.answered)
        if len(ans) == 0:
            return 0, 0, 0
        sc = self.score[ans]
        if not (np.all(np.abs(sc) <= 2**31) and np.all(sc == np.floor(sc))):
            return None
        base = min(0, int(sc.min()))
        w = (int(sc.max()) - base).bit_length()
        if (int(ans[-1]) + 1) * (w + 1) > 63:  # bit 63 stays clear (kernel._item_scale)
            return None
        pack = sum(
            ((int(v) - base) | (1 << w)) << (int(s) * (w + 1)) for s, v in zip(ans, sc, strict=True)
        )
        return pack, w, base

    @cached_property
    def invalid_bits(self) -> np.uint64 | None:
        """The invalid slots a number can reach (0..size+1) as one 64-bit mask, or None
        when there are more than 64 of them."""
        if self.size + 2 > 64:
            return None
        return np.uint64(sum(1 << int(j) for j in np.flatnonzero(self.invalid[: self.size + 2])))

    def label_slots(self, canonical_index: np.ndarray) -> np.ndarray:
        """Slots of labels, given their index into the canonical code table."""
        if self.canon_offset is None:
            return canonical_index
        blank, bad = self.canon_size, self.canon_size + 1
        return np.where(
            canonical_index == blank,
            self.size,
            np.where(canonical_index == bad, self.size + 1, canonical_index + self.canon_base),
        )


def pack_item(source, canonical, alternative: bool) -> PackedItem | None:
    """Pack an item's numpy code tables (scoring._CodeTable) into slots; None if too many."""
    total = source.size + 2 + (canonical.size if alternative else 0)
    if total > SLOTS:
        return None
    score = np.zeros(SLOTS)
    answered = np.zeros(SLOTS, dtype=np.uint8)
    invalid = np.zeros(SLOTS, dtype=np.uint8)
    canon = np.full(SLOTS, np.nan)
    parts = [(0, source)] + ([(source.size + 2, canonical)] if alternative else [])
    for base, t in parts:
        k = t.size if base else t.size + 2  # the canonical part shares blank/bad slots
        score[base : base + k] = t.score[:k]
        answered[base : base + k] = t.answered[:k]
        invalid[base : base + k] = t.invalid[:k]
        canon[base : base + k] = t.canon[:k]
    return PackedItem(
        source.offset,
        source.size,
        canonical.offset if alternative else None,
        source.size + 2 if alternative else 0,
        canonical.size,
        score,
        answered,
        invalid,
        canon,
    )


def encode_numbers(packed: PackedItem, values: np.ndarray, out: np.ndarray) -> int:
    """Write the slots of a column of numbers into ``out``; returns its invalid-cell count."""
    k = kernel()
    kind = values.dtype.kind
    if kind not in "if":
        # unsigned integers and anything else: through float (exact for any code that matches)
        with np.errstate(invalid="ignore"):
            values = values.astype(np.float64)
        kind = "f"
    bits = packed.invalid_bits
    if bits is not None:
        encode = k.encode_int_bits if kind == "i" else k.encode_float_bits
        return int(encode(values, packed.offset, packed.size, bits, out))
    encode = k.encode_int if kind == "i" else k.encode_float
    return int(encode(values, packed.offset, packed.size, packed.invalid, out))


@dataclass
class SlotEncoded:
    """One item column as slots; answered cells, scores and canonical codes on demand (the
    numpy path's :class:`~outcomes.instruments.scoring._Encoded` interface)."""

    slots: np.ndarray  # uint8, a row of the slot matrix
    packed: PackedItem
    bad_pos: np.ndarray
    bad_why: list[str]

    @property
    def answered(self) -> np.ndarray:
        return self.packed.answered.view(bool)[self.slots]

    @property
    def score(self) -> np.ndarray:
        return self.packed.score[self.slots]

    @property
    def canon(self) -> np.ndarray:
        return self.packed.canon[self.slots]


def item_scales(inst: Instrument) -> list[Scale]:
    """Scales computed from items (sum, mean; a single item is its own score)."""
    return [sc for sc in inst.scales if sc.method in ("sum", "mean")]


@dataclass
class KernelScores:
    """What one :func:`score_item_scales` call computed: per scale id its values and
    items-answered counts; per band column its category codes."""

    values: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]
    bands: dict[str, np.ndarray]
    #: scales whose fixed values the kernel applied
    fixed: frozenset[str] = frozenset()


def _final_in_kernel(sc: Scale) -> bool:
    """Whether the kernel's value of an item scale is its final value (no rounding left to
    numpy; fixed values are then applied in the kernel), so sums of scales and bands may
    read it in the kernel."""
    return len(sc.items) == 1 or sc.rounding.rule in ("none", "half_away_from_zero")


def score_item_scales(
    inst: Instrument,
    items: dict[str, SlotEncoded],
    slots: np.ndarray,
    order: dict[str, int],  # item id -> its row of ``slots`` (rows 0.. in this order)
    prorate: bool | None,
    round_after,
    count_dtype: type[np.integer],
) -> KernelScores:
    """Values and items-answered counts of every item-based scale, of every sum of such
    scales and the bands of both, in one kernel call.
    ``round_after(values, scale)`` rounds what the kernel does not (half-even); counts come
    as ``count_dtype`` (scoring.COUNT_DTYPE)."""
    k = kernel()
    scales = item_scales(inst)
    n = slots.shape[1]
    if not scales:
        return KernelScores({}, {}, {})
    row = {sc.id: r for r, sc in enumerate(scales)}
    final = {sc.id for sc in scales if _final_in_kernel(sc)}
    # sums of scales whose parts are all final kernel values (scales list their parts first)
    for sc in inst.scales:
        if sc.method == "sum_of_scales" and all(s in final for s in sc.scales):
            row[sc.id] = len(scales)
            scales.append(sc)
            final.add(sc.id)
    score = np.stack([items[i].packed.score for i in order])
    answered = np.stack([items[i].packed.answered for i in order])
    lines = [items[i].packed.line for i in order]
    bits = np.array([-1 if ln is None else ln[0] for ln in lines], dtype=np.int64)
    lin_a = np.array([0.0 if ln is None else ln[1] for ln in lines])
    lin_b = np.array([0.0 if ln is None else ln[2] for ln in lines])
    ints = [items[i].packed.int_fields for i in order]
    int_pack = np.array([0 if f is None else f[0] for f in ints], dtype=np.int64)
    int_width = np.array([0 if f is None else f[1] for f in ints], dtype=np.int64)
    int_base = np.array([0 if f is None else f[2] for f in ints], dtype=np.int64)
    ptr, members, kind, need, n_items, rule, factor = [0], [], [], [], [], [], []
    int_ok = []  # scales summed in integers: every item scores whole numbers (int_fields)
    for sc in scales:
        fields = [ints[order[i]] for i in sc.items] if sc.method != "sum_of_scales" else [None]
        int_ok.append(all(fields) and _int32_sum_fits(fields))
        if sc.method == "sum_of_scales":
            members.extend(row[s] for s in sc.scales)
            kind.append(k.COMBINE)
        else:
            members.extend(order[i] for i in sc.items)
            if len(sc.items) == 1:
                kind.append(k.SINGLE)
            elif sc.method == "mean":
                kind.append(k.MEAN)
            elif sc.prorate and prorate is not False:
                kind.append(k.PRORATE)
            else:
                kind.append(k.SUM)
        ptr.append(len(members))
        need.append(sc.required_answered)
        n_items.append(float(len(sc.parts)))
        in_kernel = sc.rounding.rule in ("none", "half_away_from_zero")
        rule.append(k.ROUND_HALF_AWAY if sc.rounding.rule == "half_away_from_zero" else 0)
        factor.append(10.0**sc.rounding.decimals if in_kernel else 1.0)
    band_of, band_ptr, mins, tab, band_cols = [], [0], [], [], []
    for sc in scales:
        if sc.id not in final:
            continue
        for colname, scheme in zip(sc.band_columns(), sc.bands, strict=True):
            levels, scheme_mins = band_ranks(scheme)
            band_of.append(row[sc.id])
            mins.extend(scheme_mins)
            band_ptr.append(len(mins))
            tab.extend(_band_tab(levels))
            band_cols.append(colname)
    # fixed values of final scales, as scoring._apply_fixed_values: the gate item's slots
    # whose canonical code is one of the condition's codes
    fix_ptr, fix_item, fix_val, fix_hit = [0], [], [], []
    for sc in scales:
        for fv in sc.fixed_values if sc.id in final else ():
            gate = items[fv.when.item].packed
            fix_item.append(order[fv.when.item])
            fix_val.append(fv.value)
            fix_hit.append(np.isin(gate.canon, np.array(fv.when.codes, dtype=float)))
        fix_ptr.append(len(fix_item))
    out_val = np.empty((len(scales), n))
    out_n = np.empty((len(scales), n), dtype=count_dtype)
    out_band = np.empty((len(band_of), n), dtype=np.int8)
    args = (
        slots,
        score,
        answered,
        bits,
        lin_a,
        lin_b,
        np.array(int_ok, dtype=np.bool_),
        int_pack,
        int_width,
        int_base,
        np.array(ptr, dtype=np.int64),
        np.array(members, dtype=np.int64),
        np.array(kind, dtype=np.int64),
        np.array(need, dtype=np.int64),
        np.array(n_items),
        np.array(rule, dtype=np.int64),
        np.array(factor),
        np.array(band_of, dtype=np.int64),
        np.array(band_ptr, dtype=np.int64),
        np.array(mins, dtype=float),
        np.array(tab, dtype=np.int8),
        np.array(fix_ptr, dtype=np.int64),
        np.array(fix_item, dtype=np.int64),
        np.array(fix_val, dtype=float),
        np.array(fix_hit, dtype=np.uint8).reshape(len(fix_hit), SLOTS),
        out_val,
        out_n,
        out_band,
    )
    parts = threads.row_ranges(n, threads.count(n))
    threads.map_in_order(lambda r: k.score_item_scales(*args, *r), parts, len(parts))
    values, counts = {}, {}
    for r, sc in enumerate(scales):
        v = out_val[r]
        rounded = sc.method == "sum_of_scales" or sc.id in final
        if not rounded and sc.rounding.rule not in ("none", "half_away_from_zero"):
            v = round_after(v, sc)
        values[sc.id], counts[sc.id] = v, out_n[r]
    bands = dict(zip(band_cols, out_band, strict=True))
    return KernelScores(values, counts, bands, frozenset(final))


def _int32_sum_fits(fields: list[tuple[int, int, int]]) -> bool:
    """Whether any sum of these items' scores (PackedItem.int_fields) fits the kernel's
    32-bit integer sums (narrower lanes: twice as many cells per instruction)."""
    return sum(max(-base, base + (1 << w) - 1) for _, w, base in fields) < 2**31


def band_ranks(scheme) -> tuple[list[int], list[float]]:
    """A band scheme's levels ranked by ascending minimum: (category code of each rank, the
    ranked minimums). Categories keep the YAML's reading order; a value belongs to the band
    with the largest minimum at or below it."""
    order = sorted(range(len(scheme.levels)), key=lambda j: scheme.levels[j].min)
    return order, [scheme.levels[j].min for j in order]


def _band_tab(levels: list[int]) -> list[int]:
    """kernel._band_block's table: the code of a missing score (-1), then the codes by rank."""
    return [-1, *levels]


def band_codes(value: np.ndarray, mins: list[float], levels: list[int]) -> np.ndarray | None:
    """Band category codes through the kernel, or None when it is not available: ``mins``
    ascending, ``levels[r]`` the category code of rank r (see :func:`band_ranks`)."""
    k = kernel()
    if k is None:
        return None
    tab = np.array(_band_tab(levels), dtype=np.int8)
    out = np.empty(len(value), dtype=np.int8)
    return k.band_codes(value, np.array(mins, dtype=float), tab, out)


def text_slots(
    packed: PackedItem,
    source,
    canonical,
    num_u: np.ndarray,
    lab_u: np.ndarray,
) -> np.ndarray:
    """Slots of each distinct value of a text column (numbers through the source coding,
    labels through the response set's own codes)."""
    slot_u = source.index(num_u).astype(np.int64)
    if lab_u.any():
        lab = packed.label_slots(canonical.index(np.where(lab_u, num_u, np.nan)))
        slot_u = np.where(lab_u, lab, slot_u)
    return slot_u.astype(np.uint8)


#: distinct values of a text column the compiled factoriser keeps (a byte code; 255 = null)
TEXT_VALUES = 255


def arrow_text_codes(col, out: np.ndarray) -> list[str] | None:
    """Codes of a column of Arrow-backed strings (pandas' default ``str``), found in one
    compiled pass over its bytes and written to ``out`` (255: a null); returns the distinct
    strings in code order. None when the column is not Arrow strings or has more than
    :data:`TEXT_VALUES` distinct values (the caller then factorises through pandas)."""
    chunked = _arrow_text(col)
    if chunked is None:
        return None
    arr = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
    offsets, data, valid = _chunk_buffers(arr)
    starts = np.empty(TEXT_VALUES, dtype=np.int64)
    lengths = np.empty(TEXT_VALUES, dtype=np.int64)
    k = kernel().factorise_utf8(offsets, data, valid, arr.offset, out, starts, lengths)
    if k < 0:
        return None
    spans = zip(starts[:k].tolist(), lengths[:k].tolist(), strict=True)
    return [bytes(data[a : a + m]).decode("utf-8") for a, m in spans]


def remap(table: np.ndarray, codes: np.ndarray) -> None:
    """Replace one-byte codes by ``table`` entries in place."""
    kernel().remap_u8(table, codes)


def gather(slot_u: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """Cell slots from each distinct value's slot (codes index distinct values; -1 = last)."""
    np.take(slot_u, codes, out=out)  # mode "raise" takes -1 as the last, without a modulo


class TextDictionary:
    """Distinct text values, each at a position 0..254 that is the byte
    ``_kernel.text_codes_*`` writes for it. Seeded once per item with its labels, each at
    its own slot (see scoring._text_seed), so a column of labels is read straight into
    slots; then copied for each column, which adds what else it holds."""

    def __init__(self, wide: bool) -> None:
        self.wide = wide  # some label runs past 16 bytes: compare four words, not two
        self.used = np.zeros(TEXT_VALUES, dtype=bool)
        self.dd = np.zeros(256, dtype=np.uint8)
        self.end = 0  # bytes of dd taken
        self.dstart = np.zeros(TEXT_VALUES, dtype=np.int64)
        self.lens = np.full(TEXT_VALUES, -1, dtype=np.int64)
        self.words = np.zeros((4, TEXT_VALUES), dtype=np.uint64)
        self.by_length = np.full(64, -1, dtype=np.int64)  # kernel._LENGTHS
        self.table = np.full(1 << 10, -1, dtype=np.int64)  # kernel._HASH_BITS

    def copy(self) -> TextDictionary:
        new = TextDictionary(self.wide)
        new.end = self.end
        for name in ("used", "dd", "dstart", "lens", "words", "by_length", "table"):
            setattr(new, name, getattr(self, name).copy())
        return new

    def add(self, value: bytes, at: int) -> None:
        """Hold ``value`` (not yet held) at position ``at`` (free)."""
        raw = np.frombuffer(value, dtype=np.uint8)
        end = self.end + len(raw)
        if end > len(self.dd):
            self.dd = np.concatenate([self.dd, np.zeros(max(end, len(self.dd)), np.uint8)])
        kernel().text_dictionary_add(
            raw,
            at,
            self.end,
            self.dd,
            self.dstart,
            self.lens,
            self.words,
            self.by_length,
            self.table,
        )
        self.used[at] = True
        self.end = end


def _arrow_text(col):
    """The column as an Arrow chunked array when it holds Arrow strings (pandas' default
    ``str``), else None."""
    to_arrow = getattr(col.array, "__arrow_array__", None)
    if to_arrow is None:
        return None
    import pyarrow as pa

    chunked = to_arrow()
    if chunked.type not in (pa.string(), pa.large_string()):
        return None
    return chunked


def _chunk_buffers(arr) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, bytes, validity bitmap or empty when nothing is null) of an Arrow string
    array, as numpy views of its buffers."""
    import pyarrow as pa

    validity, offsets, data = arr.buffers()
    width = np.int32 if arr.type == pa.string() else np.int64
    offsets = np.frombuffer(offsets, dtype=width)
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    valid = (
        np.frombuffer(validity, dtype=np.uint8)
        if validity is not None and arr.null_count
        else np.empty(0, np.uint8)
    )
    return offsets, data, valid


def arrow_text_codes_into(
    col, out: np.ndarray, blank: int, values: TextDictionary, resolve
) -> bool:
    """Write a byte per cell of a column of Arrow strings to ``out``: ``blank`` for a null,
    else its value's position in ``values``. A value not held yet is decoded and passed to
    ``resolve(text)``, which adds it to ``values`` and returns True, or returns False to give
    up. Each chunk is read where it lies (no copy). False when the column is not Arrow
    strings or ``resolve`` gave up (``out`` is then partly written)."""
    chunked = _arrow_text(col)
    if chunked is None:
        return False
    chunks = chunked.chunks
    k = kernel()
    run = k.text_codes_wide if values.wide else k.text_codes_narrow
    pos = 0
    for arr in chunks:
        m = len(arr)
        offsets, data, valid = _chunk_buffers(arr)
        part = out[pos : pos + m]
        first = arr.offset
        i = 0
        while True:
            i = run(
                offsets,
                data,
                valid,
                first,
                i,
                part,
                blank,
                values.dd,
                values.dstart,
                values.lens,
                values.words,
                values.by_length,
                values.table,
            )
            if i == m:
                break
            a, b = int(offsets[first + i]), int(offsets[first + i + 1])
            if not resolve(bytes(data[a:b]).decode("utf-8")):
                return False
        pos += m
    return True
