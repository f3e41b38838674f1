"""Every function of the public API contract has a runnable example in its docstring.

The contract is the list in DESIGN.md ("Public API contract") plus the names the notebooks and
docs rely on. The examples themselves run as doctests (``--doctest-modules`` in
pyproject.toml); here we check that each contract function *has* one that pytest will collect
and run: a ``>>>`` example, not skipped, that calls the function, in a docstring the doctest
finder reaches from the function's own module under ``src/outcomes``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
import sys
import tomllib
from pathlib import Path

import pytest

import outcomes

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "outcomes"

# DESIGN.md, "Public API contract" (kept in step by test_contract_list_matches_design).
DESIGN_CONTRACT = [
    "oc.list_instruments",
    "oc.load_instrument",
    "oc.score",
    "oc.validate",
    "oc.paired_change",
    "oc.reliable_change",
    "oc.cyp_outcome_metric",
    "oc.survey.prevalence",
    "oc.likert.reliability",
    "oc.longitudinal.fit_mixed",
    "oc.disclosure.apply",
    "oc.pseudonymise",
    "oc.forms.export",
    "oc.forms.read_export",
    "oc.synthetic.simulate_programme",
    "oc.build_report",
    "oc.store.open",
]
# Further public names the tutorials, docs and report use.
EXTRA = [
    "oc.item_codes",
    "oc.pair_waves",
    "oc.paired_change_table",
    "oc.reliable_change_summary",
    "oc.caseness_change",
    "oc.esq.item_summary",
    "oc.service.waiting_times",
    "oc.spc.xmr",
    "oc.spc.p_chart",
    "oc.spc.funnel",
    "oc.survey.compare_prevalence",
    "oc.survey.trend",
    "oc.survey.rake",
    "oc.survey.poststratify",
    "oc.likert.compare_waves",
    "oc.economics.cost_benefit",
    "oc.economics.cost_per_outcome",
    "oc.economics.one_way",
    "oc.economics.probabilistic",
    "oc.mhsds.read",
]
CONTRACT = DESIGN_CONTRACT + EXTRA

# Known gaps, reported to the lead. strict=True: once fixed, the XPASS fails and the entry
# must be removed, so the list cannot go stale.
KNOWN_GAPS: dict[str, str] = {}


def resolve(name: str):
    """``oc.a.b`` -> the object, importing ``outcomes.a`` when it is not re-exported."""
    parts = name.split(".")[1:]
    obj = outcomes
    for part in parts:
        if not hasattr(obj, part) and inspect.ismodule(obj):
            try:
                importlib.import_module(f"{obj.__name__}.{part}")
            except ModuleNotFoundError:
                raise AttributeError(f"{obj.__name__} has no attribute {part!r}") from None
        obj = getattr(obj, part)
    return obj


def _params() -> list:
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True)]
            if name in KNOWN_GAPS
            else [],
        )
        for name in CONTRACT
    ]


@pytest.mark.parametrize("name", _params())
def test_contract_function_has_a_runnable_example(name):
    obj = resolve(name)
    assert callable(obj), f"{name} is not callable"
    func = inspect.unwrap(obj)
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"

    examples = doctest.DocTestParser().get_examples(doc)
    assert examples, f"{name}: the docstring has no >>> example"
    runnable = [ex for ex in examples if not ex.options.get(doctest.SKIP)]
    assert runnable, f"{name}: every example is marked +SKIP, so none runs"
    short = func.__name__
    assert any(re.search(rf"\b{re.escape(short)}\b", ex.source) for ex in runnable), (
        f"{name}: no runnable example calls {short}()"
    )

    # The doctest finder of the defining module reaches it, and that module is under
    # src/outcomes, which pytest collects with --doctest-modules.
    module = sys.modules[func.__module__]
    source = Path(inspect.getsourcefile(module)).resolve()
    assert SRC in source.parents, f"{name} is defined outside src/outcomes ({source})"
    found = {t.name for t in doctest.DocTestFinder().find(module) if t.examples}
    assert f"{func.__module__}.{func.__qualname__}" in found, (
        f"{name}: pytest's doctest collection would not find its example"
    )


def test_doctests_are_collected_from_the_package():
    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in opts["addopts"].split()
    assert "src/outcomes" in opts["testpaths"]


def test_resolve_reaches_modules_not_re_exported():
    assert resolve("oc.synthetic.simulate_programme").__name__ == "simulate_programme"
    assert resolve("oc.longitudinal.fit_mixed").__name__ == "fit_mixed"
    with pytest.raises(AttributeError):
        resolve("oc.no_such_function")


def _design_md() -> Path | None:
    for p in (ROOT / "DESIGN.md", ROOT / "docs" / "DESIGN.md", Path("/work/shared/DESIGN.md")):
        if p.is_file():
            return p
    return None


# Names DESIGN.md adds for open issues; each moves into CONTRACT when its issue lands.
PLANNED: dict[str, str] = {}


def test_planned_names_are_not_yet_public():
    # A planned name that already resolves must join CONTRACT (and so need an example).
    for name in PLANNED:
        try:
            resolve(name)
        except AttributeError:
            continue
        raise AssertionError(f"{name} exists now: move it from PLANNED into CONTRACT")


def test_contract_list_matches_design():
    path = _design_md()
    if path is None:
        pytest.skip("DESIGN.md is not in this checkout; the contract list above is its copy")
    text = path.read_text()
    block = text.split("## Public API contract", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"\b(oc\.[\w.]+)\(", block))
    assert named, "no oc.* names found in DESIGN.md's contract block"
    missing = sorted(named - set(CONTRACT) - set(PLANNED))
    assert not missing, f"DESIGN.md names {missing}, which this test does not check"
