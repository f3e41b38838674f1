"""Compiled scoring kernels (numba), imported only when scoring, never by ``import outcomes``.

Coded items are scored through *slots*: each cell becomes one byte, its position in the item's
packed lookup tables (a code's offset from the lowest code; then one slot for a blank cell and
one for anything unreadable or out of range). ``encode_*`` writes one item column's slots and
counts its invalid cells in one pass; ``score_item_scales`` then reads the small slot matrix a
block of rows at a time and writes every item-based scale (sum, mean, prorated sum, single
item) with its items-answered count, the sums of those scales and their bands. Results are identical to the numpy path in scoring.py,
which stays the reference (and is used when numba is missing or for continuous answers): the
same additions in the same order, the same rounding arithmetic.

Text stored as Arrow strings (pandas' default ``str``) reaches the slots through
``text_codes_*``: one pass over the column's bytes matches each cell against a small
dictionary that already holds the item's labels, each at its own slot, so labels as written
are slots at once; a value not held stops the pass, is resolved in Python and added, and the
pass resumes. Other spellings and bad values sit at spare positions that one ``remap_u8``
pass turns into slots. ``factorise_utf8`` (codes in order of first appearance, then
``remap_u8``) remains for a column with more such values than spare positions.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

#: scale kinds understood by :func:`score_item_scales` (COMBINE: a sum of other scales)
SUM, MEAN, PRORATE, SINGLE, COMBINE = 0, 1, 2, 3, 4
#: rounding rules applied in the kernel (others are applied afterwards in numpy)
ROUND_NONE, ROUND_HALF_AWAY = 0, 1
#: the rounding epsilon of scoring._round (0.5 + 1e-9 evaluated once, as there)
_HALF = 0.5 + 1e-9
#: rows per block: a block's accumulators stay in the second-level cache. Longer blocks than
#: the 512 rows of old measured faster (1M rows, outputs already touched, 2026-12: SDQ parent
#: 1024 rows 18.3 ms, 2048 16.5 ms, 8192 15.4-16.3 ms; HoNOSCA 15.1, 13.4, 12.4-13.7 ms;
#: 16384 rows and more no better): each of the many output rows is written in longer runs
_BLOCK = 8192


@njit(cache=True, nogil=True)
def encode_int(values, lo, size, invalid, out):  # pragma: no cover - compiled
    """Slots of an integer column; returns how many cells are invalid."""
    bad = 0
    for i in range(values.shape[0]):
        d = values[i] - lo
        s = d if 0 <= d < size else size + 1
        out[i] = s
        bad += invalid[s]
    return bad


@njit(cache=True, nogil=True)
def encode_float(values, lo, size, invalid, out):  # pragma: no cover - compiled
    """Slots of a float column (NaN is a blank; a fraction or infinity is out of range)."""
    bad = 0
    hi = lo + size - 1
    for i in range(values.shape[0]):
        v = values[i]
        if v >= lo and v <= hi:
            iv = np.int64(v)
            s = iv - lo if iv == v else size + 1
        elif v != v:
            s = size
        else:
            s = size + 1
        out[i] = s
        bad += invalid[s]
    return bad


@njit(cache=True, nogil=True)
def encode_int_bits(values, lo, size, invalid_bits, out):  # pragma: no cover - compiled
    """:func:`encode_int` for items of at most 64 slots: which slots are invalid is one
    64-bit mask, so the loop has no branch and no table lookup (the compiler vectorises
    it; about three times faster)."""
    bad = np.uint64(0)
    for i in range(values.shape[0]):
        d = values[i] - lo
        s = d if (d >= 0) & (d < size) else size + 1
        out[i] = s
        bad += (invalid_bits >> np.uint64(s)) & np.uint64(1)
    return bad


@njit(cache=True, nogil=True)
def encode_float_bits(values, lo, size, invalid_bits, out):  # pragma: no cover - compiled
    """:func:`encode_float` for items of at most 64 slots (see :func:`encode_int_bits`)."""
    bad = np.uint64(0)
    flo = np.float64(lo)
    fhi = np.float64(lo + size - 1)
    for i in range(values.shape[0]):
        v = values[i]
        # the test is on the value itself: v - lo may round a fraction to a whole number
        inside = (v >= flo) & (v <= fhi)  # False for NaN
        whole = v if inside else flo
        iv = np.int64(whole)
        s = iv - lo if inside and iv == whole else (size if v != v else size + 1)
        out[i] = s
        bad += (invalid_bits >> np.uint64(s)) & np.uint64(1)
    return bad


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _item_scale(
    k,
    slots,
    score,
    answered,
    bits,
    lin_a,
    lin_b,
    int_ok,
    int_pack,
    int_width,
    int_base,
    ptr,
    members,
    kind,
    need,
    n_items,
    rule,
    factor,
    acc,
    cnt,
    isum,
    ov,
    on,
    start,
    stop,
):  # pragma: no cover - compiled
    """Scale k (a sum, mean or prorated sum of items) for rows start..stop-1 (one block)."""
    m = stop - start
    if int_ok[k]:
        # Every item scores whole numbers (see _slots.PackedItem.int_fields): the sum is
        # kept in 32-bit integers (the caller checks that any sum fits) and converted once.
        # The float sum it replaces adds whole numbers below 2**53, each step exact, so it
        # is the same number whatever the order; integer lanes spare a conversion and a
        # multiply per cell, and 32-bit ones hold twice as many cells.
        for b in range(m):
            isum[b] = 0
            cnt[b] = 0
        for p in range(ptr[k], ptr[k + 1]):
            j = members[p]
            sl = slots[j, start:stop]
            pk, w, base = int_pack[j], int_width[j], int_base[j]
            # slot s's field: bits s*(w+1) .. s*(w+1)+w of pk, its score less base in the low
            # w bits and its answered flag above; a shift clamped to 63 (bit 63 is never set;
            # a shift by 64 or more is undefined) reads an empty field for higher slots
            wide = w + 1
            low = (np.int64(1) << w) - 1
            if base == 0:
                for b in range(m):
                    f = pk >> min(np.int64(sl[b]) * wide, 63)
                    isum[b] += f & low
                    cnt[b] += (f >> w) & 1
            else:
                for b in range(m):
                    f = pk >> min(np.int64(sl[b]) * wide, 63)
                    a = (f >> w) & 1
                    isum[b] += ((f & low) + base) * a
                    cnt[b] += a
        # converted in the loop that divides (one pass, not two)
        nd, f, ni = need[k], factor[k], n_items[k]
        if kind[k] == MEAN:
            for b in range(m):
                acc[b] = np.float64(isum[b]) / cnt[b]
        elif kind[k] == PRORATE:
            for b in range(m):
                acc[b] = np.float64(isum[b]) * ni / cnt[b]
        else:
            for b in range(m):
                acc[b] = np.float64(isum[b])
    else:
        for b in range(m):
            acc[b] = 0.0
            cnt[b] = 0
        for p in range(ptr[k], ptr[k + 1]):
            j = members[p]
            sl = slots[j, start:stop]
            mask = bits[j]
            if mask >= 0:
                la, lb = lin_a[j], lin_b[j]
                for b in range(m):
                    s = np.int64(sl[b])
                    # clamped: bit 63 is never set, and a shift by 64 or more is undefined
                    # (the vector and scalar instructions then disagree)
                    a = (mask >> min(s, 63)) & 1
                    acc[b] += (la + lb * s) * a  # an unanswered cell adds 0, as in the table
                    cnt[b] += a
                continue
            sc = score[j]
            an = answered[j]
            for b in range(m):
                s = sl[b]
                acc[b] += sc[s]
                cnt[b] += an[s]
        # the scale's kind and rounding are fixed for the block: one straight loop each
        # (with error_model="numpy" a division by no items is NaN, then not kept)
        nd, f, ni = need[k], factor[k], n_items[k]
        if kind[k] == MEAN:
            for b in range(m):
                acc[b] = acc[b] / cnt[b]
        elif kind[k] == PRORATE:
            for b in range(m):
                acc[b] = acc[b] * ni / cnt[b]
    # rounding, the minimum answered and the stores in one pass
    if rule[k] == ROUND_HALF_AWAY:
        if f == 1.0:
            # x * 1.0 and x / 1.0 are x exactly: two divisions per cell spared
            for b in range(m):
                x = acc[b]
                x = -np.floor(-x + _HALF) if x < 0 else np.floor(x + _HALF)
                c = cnt[b]
                ov[b] = x if c >= nd else np.nan
                on[b] = c
        else:
            for b in range(m):
                x = acc[b]
                x = -np.floor(-x * f + _HALF) / f if x < 0 else np.floor(x * f + _HALF) / f
                c = cnt[b]
                ov[b] = x if c >= nd else np.nan
                on[b] = c
    else:
        for b in range(m):
            c = cnt[b]
            ov[b] = acc[b] if c >= nd else np.nan
            on[b] = c


@njit(cache=True, nogil=True)
def _hit_bits(hit):  # pragma: no cover - compiled
    """Each row of the 0/1 table ``hit`` (slots a fixed value's gate item hits) as a mask of
    slots 0..62, or -1 when it hits a slot above 62. A cell's slot s, clamped to 63 (a bit
    never set, and a shift by 64 or more is undefined), then hits when bit s is set: a
    select the compiler vectorises, where a table lookup per cell was a branch."""
    out = np.empty(hit.shape[0], dtype=np.int64)
    for e in range(hit.shape[0]):
        bits = np.int64(0)
        for s in range(hit.shape[1]):
            if hit[e, s]:
                if s >= 63:
                    bits = -1
                    break
                bits |= np.int64(1) << s
        out[e] = bits
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def score_item_scales(
    slots,
    score,
    answered,
    bits,
    lin_a,
    lin_b,
    int_ok,
    int_pack,
    int_width,
    int_base,
    ptr,
    members,
    kind,
    need,
    n_items,
    rule,
    factor,
    band_of,
    band_ptr,
    mins,
    tab,
    fix_ptr,
    fix_item,
    fix_val,
    fix_hit,
    out_val,
    out_n,
    out_band,
    row_lo,
    row_hi,
):  # pragma: no cover - compiled
    """Every item-based scale, the sums of those scales and their bands, a block of rows at
    a time (a block's values are still in cache when sums of scales and bands read them).

    slots (items, rows) uint8; score/answered (items, 256) tables. An item whose answered
    slots are all below 63 and score on a line (score = lin_a + lin_b * slot, as plain and
    reversed items do) has them as the mask bits[item] (else -1) and is scored without
    table lookups, which lets the compiler vectorise. Where int_ok[k], every item of scale
    k scores whole numbers, packed as int_pack/int_width/int_base (see
    _slots.PackedItem.int_fields), and the scale is summed in integers. Scale k's parts are
    members[ptr[k]:ptr[k+1]] in the scale's own order (so sums add in the same order as
    numpy): item rows of ``slots``, or for COMBINE earlier scales' rows of ``out_val``.
    Band scheme t bands scale band_of[t] by mins[band_ptr[t]:band_ptr[t+1]] (ascending);
    its codes are tab[band_ptr[t] + t : band_ptr[t+1] + t + 1] (see :func:`_band_block`).
    Fixed values of scale k are entries fix_ptr[k]:fix_ptr[k+1]: the value fix_val[e] where
    item row fix_item[e]'s slot s has fix_hit[e, s] set, applied in order.
    Only rows row_lo..row_hi-1 are computed (threads take a range each).
    """
    acc = np.empty(_BLOCK)
    cnt = np.empty(_BLOCK, dtype=np.int32)
    tot = np.empty(_BLOCK, dtype=np.int32)
    isum = np.empty(_BLOCK, dtype=np.int32)
    rank = np.empty(_BLOCK, dtype=np.int64)
    fix_bits = _hit_bits(fix_hit)
    for start in range(row_lo, row_hi, _BLOCK):
        stop = min(start + _BLOCK, row_hi)
        m = stop - start
        for k in range(kind.shape[0]):
            first = members[ptr[k]]
            ov = out_val[k, start:stop]
            on = out_n[k, start:stop]
            if kind[k] == SINGLE:
                sl = slots[first, start:stop]
                mask = bits[first]
                if mask >= 0:
                    la, lb = lin_a[first], lin_b[first]
                    for b in range(m):
                        s = np.int64(sl[b])
                        a = (mask >> min(s, 63)) & 1  # clamped: see _item_scale
                        ov[b] = la + lb * s if a else np.nan
                        on[b] = a
                else:
                    sc = score[first]
                    an = answered[first]
                    for b in range(m):
                        s = sl[b]
                        a = an[s]
                        ov[b] = sc[s] if a else np.nan
                        on[b] = a
            elif kind[k] == COMBINE:
                for b in range(m):
                    acc[b] = 0.0
                    cnt[b] = 0
                    tot[b] = 0
                for p in range(ptr[k], ptr[k + 1]):
                    xv = out_val[members[p], start:stop]
                    xn = out_n[members[p], start:stop]
                    for b in range(m):
                        x = xv[b]
                        known = x == x
                        acc[b] += x if known else 0.0
                        cnt[b] += known
                        tot[b] += xn[b]
                nd = need[k]
                for b in range(m):
                    ov[b] = acc[b] if cnt[b] >= nd else np.nan
                    on[b] = tot[b]
            else:
                _item_scale(
                    k,
                    slots,
                    score,
                    answered,
                    bits,
                    lin_a,
                    lin_b,
                    int_ok,
                    int_pack,
                    int_width,
                    int_base,
                    ptr,
                    members,
                    kind,
                    need,
                    n_items,
                    rule,
                    factor,
                    acc,
                    cnt,
                    isum,
                    ov,
                    on,
                    start,
                    stop,
                )
            # fixed values (e.g. a score set to 0 by a gate item's answer), before sums of
            # scales and bands read this scale
            for e in range(fix_ptr[k], fix_ptr[k + 1]):
                gate = slots[fix_item[e], start:stop]
                v = fix_val[e]
                hb = fix_bits[e]
                if hb >= 0:
                    # a select, not a branch: vectorised (see fix_bits above)
                    for b in range(m):
                        s = min(np.int64(gate[b]), 63)
                        ov[b] = v if (hb >> s) & 1 else ov[b]
                    continue
                hit = fix_hit[e]
                for b in range(m):
                    if hit[gate[b]]:
                        ov[b] = v
        for t in range(band_of.shape[0]):
            lo, hi = band_ptr[t], band_ptr[t + 1]
            _band_block(
                out_val[band_of[t], start:stop],
                mins[lo:hi],
                tab[lo + t : hi + t + 1],
                rank,
                out_band[t, start:stop],
            )
    return out_val


@njit(cache=True, nogil=True, inline="always")
def _band_block(x, mins, tab, rank, out):  # pragma: no cover - compiled
    """Band category codes of the values ``x`` (a block of rows): out = tab[how many of the
    ascending ``mins`` each value reaches], so tab[0] is the code of a missing score (NaN
    reaches none) and tab[r] that of rank r - 1.

    As the minimums ascend, the ones a value reaches are the first r, so tab[r] is tab[0]
    plus the steps tab[q + 1] - tab[q] of each minimum q it reaches: straight loops with no
    table lookup per cell, which the compiler vectorises (a lookup per cell was most of the
    bands' cost). Codes are small, so the sum in int64 is exact. Minimums are taken four
    per pass over the block (a missing fourth is NaN, which no value reaches, with step 0),
    so a scheme of up to four bands is one pass that keeps its sum in registers."""
    m = x.shape[0]
    nq = mins.shape[0]
    nan = np.nan
    if nq <= 4:  # the usual case: one pass, straight to the codes
        t0 = np.int64(tab[0])
        m0, d0 = mins[0], np.int64(tab[1]) - t0
        m1, d1 = (mins[1], np.int64(tab[2]) - np.int64(tab[1])) if nq > 1 else (nan, 0)
        m2, d2 = (mins[2], np.int64(tab[3]) - np.int64(tab[2])) if nq > 2 else (nan, 0)
        m3, d3 = (mins[3], np.int64(tab[4]) - np.int64(tab[3])) if nq > 3 else (nan, 0)
        for b in range(m):
            v = x[b]
            r = t0
            r += d0 if v >= m0 else 0
            r += d1 if v >= m1 else 0
            r += d2 if v >= m2 else 0
            r += d3 if v >= m3 else 0
            out[b] = r
        return
    for b in range(m):
        rank[b] = tab[0]
    for q in range(0, nq, 4):
        m0 = mins[q]
        d0 = np.int64(tab[q + 1]) - np.int64(tab[q])
        m1, d1 = (
            (mins[q + 1], np.int64(tab[q + 2]) - np.int64(tab[q + 1])) if q + 1 < nq else (nan, 0)
        )
        m2, d2 = (
            (mins[q + 2], np.int64(tab[q + 3]) - np.int64(tab[q + 2])) if q + 2 < nq else (nan, 0)
        )
        m3, d3 = (
            (mins[q + 3], np.int64(tab[q + 4]) - np.int64(tab[q + 3])) if q + 3 < nq else (nan, 0)
        )
        for b in range(m):
            v = x[b]
            r = rank[b]
            r += d0 if v >= m0 else 0
            r += d1 if v >= m1 else 0
            r += d2 if v >= m2 else 0
            r += d3 if v >= m3 else 0
            rank[b] = r
    for b in range(m):
        out[b] = rank[b]


@njit(cache=True, nogil=True)
def band_codes(value, mins, tab, out):  # pragma: no cover - compiled
    """Band category codes of every value (see :func:`_band_block`), a block at a time."""
    n = value.shape[0]
    rank = np.empty(_BLOCK, dtype=np.int64)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        _band_block(value[start:stop], mins, tab, rank, out[start:stop])
    return out


@njit(cache=True, nogil=True)
def add_scale(total, present, value):  # pragma: no cover - compiled
    """One component of a sum of scales: add where known, count where known."""
    for i in range(value.shape[0]):
        x = value[i]
        if x == x:
            total[i] += x
            present[i] += 1


#: open-addressing table of :func:`factorise_utf8`: a power of two, four times the 255 values
#: it holds, so a lookup almost always ends at its first probe
_HASH_BITS = 10


@njit(cache=True, nogil=True, inline="always")
def _word(data, a, m):  # pragma: no cover - compiled
    """Bytes data[a:a+m] (m <= 8) as one little-endian integer."""
    w = np.uint64(0)
    for q in range(m):
        w |= np.uint64(data[a + q]) << np.uint64(8 * q)
    return w


@intrinsic
def _word8(typingctx, data, a):  # pragma: no cover - compiled
    """Bytes data[a:a+8] of a uint8 array as one little-endian integer: a single unaligned
    load (a byte at a time, the factoriser spent most of its time assembling words).
    The caller keeps a + 8 within the array."""
    sig = types.uint64(data, types.intp)

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        at = builder.gep(arr.data, [args[1]])
        return builder.load(builder.bitcast(at, ir.IntType(64).as_pointer()), align=1)

    return sig, codegen


#: lengths of text values with a first-guess slot in :func:`factorise_utf8`
_LENGTHS = 64


@njit(cache=True, nogil=True, inline="always")
def _same(data, s, a, size):  # pragma: no cover - compiled
    """Whether two values of ``size`` bytes at ``s`` and ``a``, whose first and last eight
    bytes are known to agree, agree in between too."""
    for q in range(8, size - 8, 8):  # the last word overlaps the tail: fine
        if _word8(data, s + q) != _word8(data, a + q):
            return False
    return True


@njit(cache=True, nogil=True)
def factorise_utf8(offsets, data, valid, first, out, starts, lengths):  # pragma: no cover
    """Distinct values of an Arrow string array (``offsets``/``data``/validity bitmap
    ``valid``, empty when nothing is null; ``first``: the array's offset into them) as codes
    0.. in order of first appearance, written to ``out``; a null is 255. ``starts``/``lengths``
    receive each distinct value's bytes. Returns how many distinct values, or -1 when there
    are more than ``starts`` can hold (the caller then factorises another way).

    A value is keyed by its length and its first and last eight bytes, which tell apart any
    two values of up to 16 bytes; longer ones are compared in full when their keys agree.
    """
    cap = starts.shape[0]
    size_t = 1 << _HASH_BITS
    mask = size_t - 1
    table = np.full(size_t, -1, dtype=np.int64)
    heads = np.empty(cap, dtype=np.uint64)
    tails = np.empty(cap, dtype=np.uint64)
    by_length = np.full(_LENGTHS, -1, dtype=np.int64)  # first value seen of each length
    k = 0
    has_valid = valid.shape[0] > 0
    for i in range(out.shape[0]):
        j = i + first
        if has_valid and not (valid[j >> 3] >> (j & 7)) & 1:
            out[i] = 255
            continue
        a = np.int64(offsets[j])
        size = np.int64(offsets[j + 1]) - a
        if size >= 8:
            head = _word8(data, a)
            tail = _word8(data, a + size - 8)
        else:
            head = _word(data, a, size)
            tail = head
        # labels of one response set mostly differ in length: try that value first
        c = by_length[size] if size < _LENGTHS else -1
        if c >= 0 and heads[c] == head and tails[c] == tail and _same(data, starts[c], a, size):
            out[i] = c
            continue
        h = _hash_key(head, tail, size)
        while True:
            c = table[h]
            if c < 0:
                if k == cap:
                    return -1
                table[h] = k
                starts[k], lengths[k], heads[k], tails[k] = a, size, head, tail
                if size < _LENGTHS and by_length[size] < 0:
                    by_length[size] = k
                c = k
                k += 1
                break
            if lengths[c] == size and heads[c] == head and tails[c] == tail:
                if _same(data, starts[c], a, size):
                    break
            h = (h + 1) & mask
        out[i] = c
    return k


@njit(cache=True, nogil=True)
def remap_u8(table, codes):  # pragma: no cover - compiled
    """codes[i] = table[codes[i]], in place (one-byte codes, a 256-entry table)."""
    for i in range(codes.shape[0]):
        codes[i] = table[codes[i]]


# Text straight to slots. A column's distinct values are kept in a small dictionary: each
# value's bytes (``dd``, value c at dstart[c] .. dstart[c + 1]), its length, four words that
# hold every byte of a value of up to 32 bytes (see _words4), and the byte written for it.
# The instrument's own labels are in the dictionary before the column is read, so a column of
# labels is read in one pass that writes slots; a value not yet in it stops the pass, the
# caller decides what it means and adds it, and the pass resumes at that row.


@njit(cache=True, nogil=True, inline="always")
def _words4(data, a, size):  # pragma: no cover - compiled
    """Four words covering bytes a..a+size-1 for 8 <= size <= 32, overlapping when the value
    is shorter (at positions that depend only on size, so a value and its dictionary copy
    give the same four words); below 8 bytes, the bytes as one word, four times."""
    if size >= 8:
        return (
            _word8(data, a),
            _word8(data, a + min(8, size - 8)),
            _word8(data, a + max(size - 16, 0)),
            _word8(data, a + size - 8),
        )
    w = _word(data, a, size)
    return w, w, w, w


@njit(cache=True, nogil=True, inline="always")
def _hash_key(head, tail, size):  # pragma: no cover - compiled
    x = head * np.uint64(0x9E3779B97F4A7C15)
    x ^= tail * np.uint64(0xC2B2AE3D27D4EB4F)
    x ^= np.uint64(size)
    x ^= x >> np.uint64(29)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    return np.int64(x >> np.uint64(64 - _HASH_BITS))


@njit(cache=True, nogil=True, inline="always")
def _equal_bytes(data, a, dd, s, size):  # pragma: no cover - compiled
    """Whether data[a:a+size] == dd[s:s+size]."""
    if size < 8:
        return _word(data, a, size) == _word(dd, s, size)
    for q in range(0, size - 8, 8):
        if _word8(data, a + q) != _word8(dd, s + q):
            return False
    return _word8(data, a + size - 8) == _word8(dd, s + size - 8)


@njit(cache=True, nogil=True)
def text_dictionary_add(
    value, c, s, dd, dstart, lens, words, by_length, table
):  # pragma: no cover - compiled
    """Add ``value`` (uint8 bytes) as value c of a text dictionary, its bytes copied to
    dd[s:] (which has room for them)."""
    size = value.shape[0]
    dd[s : s + size] = value
    dstart[c] = s
    lens[c] = size
    w = _words4(dd, s, size)
    words[0, c], words[1, c], words[2, c], words[3, c] = w
    h = _hash_key(w[0], w[3], size)
    mask = table.shape[0] - 1
    while table[h] >= 0:
        h = (h + 1) & mask
    table[h] = c
    if size < _LENGTHS and by_length[size] < 0:
        by_length[size] = c


@njit(cache=True, nogil=True, inline="always")
def _text_codes(
    offsets, data, valid, first, lo, out, blank, dd, dstart, lens, words, by_length, table, wide
):  # pragma: no cover - compiled
    n = out.shape[0]
    mask = table.shape[0] - 1
    has_valid = valid.shape[0] > 0
    w0, w1, w2, w3 = words[0], words[1], words[2], words[3]
    # wide: labels run past 16 bytes; all four words are compared whatever the length, as
    # a branch on the length would be mispredicted on a third of the cells or more
    fast = 32 if wide else 16
    one, three, seven = np.uint64(1), np.uint64(3), np.uint64(7)
    for i in range(lo, n):
        # unsigned indices: numba then adds no test for a negative one at each access
        ui = np.uint64(i)
        j = np.uint64(i + first)
        if has_valid and not (valid[j >> three] >> (j & seven)) & one:
            out[ui] = blank
            continue
        a = np.int64(offsets[j])
        size = np.int64(offsets[j + one]) - a
        if size >= 8:
            head = _word8(data, a)
            tail = _word8(data, a + size - 8)
            m1 = head
            m2 = tail
            if wide:
                m1 = _word8(data, a + min(8, size - 8))
                m2 = _word8(data, a + max(size - 16, 0))
        else:
            head = _word(data, a, size)
            tail = head
            m1 = head
            m2 = head
        # labels of one response set mostly differ in length: try that value first
        c = by_length[np.uint64(size)] if size < _LENGTHS else -1
        uc = np.uint64(c)
        if c >= 0 and w0[uc] == head and w3[uc] == tail:
            if wide:
                if (
                    w1[uc] == m1
                    and w2[uc] == m2
                    and (size <= fast or _equal_bytes(data, a, dd, dstart[c], size))
                ):
                    out[ui] = c
                    continue
            elif size <= fast or _equal_bytes(data, a, dd, dstart[c], size):
                out[ui] = c
                continue
        h = _hash_key(head, tail, size)
        while True:
            c = table[h]
            if c < 0:
                return i  # not in the dictionary: the caller adds it
            if (
                lens[c] == size
                and w0[c] == head
                and w3[c] == tail
                and _equal_bytes(data, a, dd, dstart[c], size)
            ):
                break
            h = (h + 1) & mask
        out[i] = c
    return n


@njit(cache=True, nogil=True)
def text_codes_narrow(
    offsets, data, valid, first, lo, out, blank, dd, dstart, lens, words, by_length, table
):  # pragma: no cover - compiled
    """Writes c for each cell of an Arrow string array (``offsets``/``data``/validity bitmap
    ``valid``, empty when nothing is null; ``first``: the array's offset into them) whose
    value is value c of a text dictionary (see :func:`text_dictionary_add`), and ``blank``
    for a null, from row ``lo``; returns the first row whose value is not in the
    dictionary, or the row count when none. For labels of up to 16 bytes (the first and
    last eight bytes compared)."""
    return _text_codes(
        offsets,
        data,
        valid,
        first,
        lo,
        out,
        blank,
        dd,
        dstart,
        lens,
        words,
        by_length,
        table,
        False,
    )


@njit(cache=True, nogil=True)
def text_codes_wide(
    offsets, data, valid, first, lo, out, blank, dd, dstart, lens, words, by_length, table
):  # pragma: no cover - compiled
    """:func:`text_codes_narrow` for labels of up to 32 bytes (four words compared)."""
    return _text_codes(
        offsets,
        data,
        valid,
        first,
        lo,
        out,
        blank,
        dd,
        dstart,
        lens,
        words,
        by_length,
        table,
        True,
    )
