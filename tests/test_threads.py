"""outcomes._internal.threads: work split over threads gives what one thread gives."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes._internal import threads


@given(rows=st.integers(0, 10**7), parts=st.integers(1, 16))
def test_row_ranges_cover_every_row_once_in_order(rows, parts):
    got = threads.row_ranges(rows, parts)
    assert len(got) <= parts
    flat = [i for a, b in got for i in (a, b)]
    assert flat == sorted(flat)
    assert sum(b - a for a, b in got) == rows
    assert all(b > a for a, b in got)
    if got:
        assert got[0][0] == 0 and got[-1][1] == rows
        sizes = [b - a for a, b in got]
        assert max(sizes) - min(sizes) <= 1


def test_count_needs_enough_rows_and_respects_a_fixed_setting(monkeypatch):
    monkeypatch.setattr(threads, "threads", None)
    monkeypatch.setattr(threads, "available", lambda: 4)
    assert threads.count(0) == 1
    assert threads.count(threads.MIN_ROWS_PER_THREAD - 1) == 1
    assert threads.count(2 * threads.MIN_ROWS_PER_THREAD) == 2
    assert threads.count(100 * threads.MIN_ROWS_PER_THREAD) == 4
    monkeypatch.setattr(threads, "available", lambda: 64)
    assert threads.count(10**9) == threads.MAX_THREADS
    monkeypatch.setattr(threads, "threads", 1)
    assert threads.count(10**9) == 1


def test_map_in_order_keeps_order_and_uses_threads():
    seen = set()

    def work(x):
        seen.add(threading.get_ident())
        return x * x

    assert threads.map_in_order(work, range(50), 3) == [x * x for x in range(50)]
    assert threads.map_in_order(work, range(5), 1) == [0, 1, 4, 9, 16]
    assert threads.map_in_order(work, [], 4) == []


def test_map_in_order_raises_the_first_error():
    def work(x):
        if x == 3:
            raise ValueError("bad item 3")
        return x

    with pytest.raises(ValueError, match="bad item 3"):
        threads.map_in_order(work, range(8), 2)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)
def test_a_forked_child_gets_its_own_pool():
    # the parent's pool threads do not exist in a forked child; reusing its pool would hang
    assert threads.map_in_order(abs, [-1, -2, -3], 2) == [1, 2, 3]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(threads.map_in_order, (abs, [-4, -5, -6], 2)).get(timeout=60)
    assert got == [4, 5, 6]


def test_the_environment_can_fix_the_thread_count(monkeypatch):
    monkeypatch.setattr(threads, "threads", None)
    monkeypatch.setattr(threads, "available", lambda: 8)
    rows = 100 * threads.MIN_ROWS_PER_THREAD
    monkeypatch.setenv("OUTCOMES_THREADS", "1")
    assert threads.count(rows) == 1
    monkeypatch.setenv("OUTCOMES_THREADS", " 3 ")
    assert threads.count(rows) == 3
    monkeypatch.setenv("OUTCOMES_THREADS", "")
    assert threads.count(rows) == 8
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("OUTCOMES_THREADS", bad)
        with pytest.raises(ValueError, match="OUTCOMES_THREADS"):
            threads.count(rows)
