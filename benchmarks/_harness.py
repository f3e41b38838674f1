"""Shared timing helpers for the benchmarks. Each benchmarks/bench_*.py defines ``run() -> dict``;
``make bench`` (benchmarks/run_all.py) runs them all and writes JSON to benchmarks/results/."""

from __future__ import annotations

import gc
import json
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def measure(fn: Callable[[], object], *, repeat: int = 3) -> dict:
    """Best wall-clock seconds of ``repeat`` runs, and the peak traced memory of one more run."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": min(times), "seconds_all": times, "peak_mb": peak / 2**20}


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2))
    return path
