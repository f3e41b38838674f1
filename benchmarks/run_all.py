"""Run every benchmarks/bench_*.py and write its JSON result to benchmarks/results/."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from _harness import save  # noqa: E402


def main(names: list[str]) -> int:
    files = sorted(HERE.glob("bench_*.py"))
    if names:
        files = [f for f in files if f.stem in names or f.stem.removeprefix("bench_") in names]
    for f in files:
        spec = importlib.util.spec_from_file_location(f.stem, f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        result = mod.run()
        path = save(f.stem, result)
        print(f"== {f.stem} -> {path}")
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
