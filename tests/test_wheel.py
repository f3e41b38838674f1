"""The wheel carries the instrument YAML files: build it, install it into a fresh virtual
environment outside the repository, and load every instrument from there."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_instruments(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("outcomes-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # The fresh venv gets only our wheel; numpy, pandas and friends come from the test
    # environment's site-packages via PYTHONPATH (which does not process the editable .pth,
    # so `outcomes` can only be the installed wheel).
    site = sysconfig.get_paths()["purelib"]
    code = (
        "import outcomes as oc, pathlib; "
        "assert 'site-packages' in oc.__file__ and 'src' not in pathlib.Path(oc.__file__).parts, oc.__file__; "
        "ids = oc.list_instruments(); "
        "[oc.load_instrument(i) for i in ids]; "
        "print(len(ids), oc.load_instrument('sdq_parent').path)"
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    res = subprocess.run(
        [str(py), "-c", code],
        cwd=work,
        env={**os.environ, "PYTHONPATH": site},
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    n, path = res.stdout.split()
    assert int(n) >= 12
    assert "instrument_files" in path and str(ROOT) not in path
