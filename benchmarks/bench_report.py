"""Report build time: the demo programme (target under 60 s) and a programme five times larger
(target under 3 minutes), each built end to end (checks, notebook, HTML)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

import outcomes as oc
from outcomes.synthetic import DEMO_SETTINGS, simulate_programme

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"


def _time_build(config: Path, out: Path) -> float:
    t0 = time.perf_counter()
    oc.build_report(config, out, progress=False)
    return time.perf_counter() - t0


def _larger_config(tmp: Path, factor: int) -> Path:
    kwargs = dict(DEMO_SETTINGS)
    kwargs["n_schools"] = 22 * factor  # five times the schools, pupils, referrals and staff
    prog = simulate_programme(seed=2026, **kwargs)
    data = tmp / "data"
    prog.write(data)
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(data)
    p = tmp / "large.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        demo = _time_build(DEMO, tmp / "demo")
        large_cfg = _larger_config(tmp, 5)
        large = _time_build(large_cfg, tmp / "large")
    return {
        "demo_seconds": demo,
        "demo_target_seconds": 60,
        "five_times_larger_seconds": large,
        "five_times_larger_target_seconds": 180,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
