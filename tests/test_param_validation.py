"""Every public callable validates its parameters (issue 13, item 2).

The API is discovered by introspection: every public function of ``outcomes`` and of its public
submodules, and every public method of their public classes. Scikit-learn's common check
``check_param_validation`` is the model: each parameter has a declared constraint, and a value
outside it (a bool for a number, text for a bool, inf, NaN, -1, 1.5 for a probability, an
unknown option) is refused before the function runs, with ``InvalidParameterError`` naming the
parameter. Rule-based checks below pin the meaning of the recurring parameters (confidence,
errors, higher_is_better, dates), so a too-loose constraint fails here too, and the glossary
check refuses old argument names in the public API (docs/contributing.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import math
import re
import types
import warnings
from collections.abc import Callable, Iterator
from numbers import Real

import numpy as np
import pandas as pd
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes._internal.params import (
    Boolean,
    Date,
    Interval,
    Options,
    constraints_of,
    deprecated_values,
    renamed_params,
    validate_params,
)
from outcomes.errors import InvalidParameterError

# ----------------------------------------------------------------------------- discovery


def _public_modules() -> list[tuple[str, types.ModuleType]]:
    """``outcomes`` and its public submodules, named by their public path (``oc.attrition``)."""
    subs = [n for n in oc.__all__ if isinstance(getattr(oc, n), types.ModuleType)]
    return [("outcomes", oc), *((f"outcomes.{n}", getattr(oc, n)) for n in subs)]


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return list(names)


def _ours(obj: object) -> bool:
    return getattr(obj, "__module__", "").startswith("outcomes")


def _is_record(cls: type) -> bool:
    """Dataclasses and pydantic models: records the library builds (results) or validates
    itself (``Instrument`` through pydantic, ``SimulationSettings`` in ``__post_init__``)."""
    return dataclasses.is_dataclass(cls) or issubclass(cls, pydantic.BaseModel)


def public_callables() -> Iterator[tuple[str, Callable, bool]]:
    """(qualified name, function, is_method) for the whole public API, each once."""
    seen: set[int] = set()
    for path, module in _public_modules():
        for name in _public_names(module):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or not callable(obj) or not _ours(obj):
                continue
            if inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                if not _is_record(obj) and id(obj) not in seen:
                    seen.add(id(obj))
                    yield f"{path}.{name}", obj.__init__, True
                for klass in obj.__mro__:
                    if not _ours(klass):
                        continue
                    for meth_name, raw in vars(klass).items():
                        if meth_name.startswith("_"):
                            continue
                        func = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
                        if not inspect.isfunction(func) or id(func) in seen:
                            continue
                        seen.add(id(func))
                        is_method = not isinstance(raw, staticmethod)
                        yield f"{path}.{name}.{meth_name}", func, is_method
            elif id(obj) not in seen:
                seen.add(id(obj))
                yield f"{path}.{name}", obj, False


API = sorted(public_callables(), key=lambda t: t[0])


def _parameters(func: Callable, is_method: bool) -> list[inspect.Parameter]:
    params = list(inspect.signature(func).parameters.values())
    if is_method:
        params = params[1:]  # self / cls
    return [p for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL]


def test_the_walk_finds_the_whole_api():
    names = {n for n, _, _ in API}
    # a sample from every public module, so that a broken discovery cannot pass quietly
    for expected in (
        "outcomes.paired_change",
        "outcomes.ChangeResult.plot",
        "outcomes.survey.prevalence",
        "outcomes.likert.compare_waves",
        "outcomes.esq.item_summary",
        "outcomes.service.waiting_times",
        "outcomes.disclosure.apply",
        "outcomes.longitudinal.fit_mixed",
        "outcomes.attrition.attrition",
        "outcomes.imputation.impute_change",
        "outcomes.forms.read_export",
        "outcomes.synthetic.simulate_programme",
        "outcomes.synthetic.Truth.survey_change",
    ):
        assert expected in names
    assert len(API) > 80


# ----------------------------------------------------------------------------- (a) declared


def test_every_parameter_has_a_declared_constraint():
    missing = []
    for name, func, is_method in API:
        params = _parameters(func, is_method)
        if not params:
            continue
        declared = constraints_of(func) or {}
        missing += [f"{name}({p.name})" for p in params if p.name not in declared]
    assert not missing, "parameters without a constraint:\n  " + "\n  ".join(missing)


def test_every_default_satisfies_its_constraint():
    bad = []
    for name, func, is_method in API:
        declared = constraints_of(func) or {}
        for p in _parameters(func, is_method):
            if p.default is inspect.Parameter.empty or p.name not in declared:
                continue
            if not any(c.is_satisfied_by(p.default) for c in declared[p.name]):
                bad.append(f"{name}({p.name}={p.default!r})")
    assert not bad, "defaults outside their own constraint: " + ", ".join(bad)


# ----------------------------------------------------------------------------- (b) refused

# Values that are valid for some parameter somewhere; used to fill the other arguments.
_VALID_POOL: list[object] = [
    pd.DataFrame({"a": [1.0, 2.0]}),
    pd.Series([1.0, 2.0]),
    [1.0, 2.0],
    "a",
    1,
    0.5,
    True,
    None,
    "2025-01-01",
    {"a": "b"},
    np.zeros((2, 2)),
    np.random.default_rng(0),
    ("first",),
    2025,
    len,
]

# Out-of-domain values of the wrong type and range, as in scikit-learn's common checks.
_BAD_POOL: list[object] = [
    True,
    False,
    "zzz_not_an_option",
    "",
    "yesterday",
    math.inf,
    -math.inf,
    math.nan,
    -1,
    0,
    1.5,
    10**9,
    object(),
    [],
    pd.DataFrame(),
    lambda: None,
]


def _valid_value(constraints) -> object:
    for c in constraints:
        if isinstance(c, Options):
            return sorted(c.options, key=str)[0]
    for value in _VALID_POOL:
        if any(c.is_satisfied_by(value) for c in constraints):
            return value
    raise AssertionError(f"no value in the pool satisfies {[str(c) for c in constraints]}")


def _required_arguments(func: Callable, is_method: bool) -> dict[str, object]:
    declared = constraints_of(func) or {}
    args: dict[str, object] = {}
    for p in _parameters(func, is_method):
        if p.default is inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_KEYWORD:
            args[p.name] = _valid_value(declared[p.name])
    return args


def _call(func: Callable, is_method: bool, kwargs: dict[str, object]):
    if is_method:
        first = next(iter(inspect.signature(func).parameters))
        return func(**{first: object()}, **kwargs)
    return func(**kwargs)


_CASES = [
    (name, func, is_method, p.name)
    for name, func, is_method in API
    for p in _parameters(func, is_method)
    if p.kind is not inspect.Parameter.VAR_KEYWORD
]


def _refused(func, is_method, param, value) -> None:
    kwargs = _required_arguments(func, is_method)
    kwargs[param] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(InvalidParameterError) as err:
            _call(func, is_method, kwargs)
    # one message style: function, parameter, what is allowed, what was given
    message = str(err.value)
    assert message.startswith(f"{func.__qualname__}: parameter {param!r} must be "), message
    assert "; got " in message
    assert err.value.parameter == param
    assert isinstance(err.value, ValueError | TypeError)


@pytest.mark.parametrize(
    ("name", "func", "is_method", "param"), _CASES, ids=[f"{c[0]}-{c[3]}" for c in _CASES]
)
def test_out_of_domain_values_are_refused_naming_the_parameter(name, func, is_method, param):
    constraints = (constraints_of(func) or {})[param]
    tried = 0
    for value in _BAD_POOL:
        if any(c.is_satisfied_by(value) for c in constraints):
            continue
        _refused(func, is_method, param, value)
        tried += 1
    # "no_validation" is declared, and says why, only where the body checks the value itself
    assert tried or any(str(c).startswith("anything") for c in constraints), name


@settings(max_examples=400, deadline=None)
@given(
    case=st.sampled_from(_CASES),
    value=st.one_of(
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.none(),
        st.lists(st.integers(), max_size=3),
    ),
)
def test_any_value_outside_the_constraint_is_refused(case, value):
    name, func, is_method, param = case
    constraints = constraints_of(func)[param]
    if any(c.is_satisfied_by(value) for c in constraints):
        return
    _refused(func, is_method, param, value)


# ----------------------------------------------------------------------------- rules by name


def _all_params():
    for name, func, is_method in API:
        declared = constraints_of(func) or {}
        for p in _parameters(func, is_method):
            if p.name in declared:
                yield name, p.name, declared[p.name]


def _accepts(constraints, value) -> bool:
    return any(c.is_satisfied_by(value) for c in constraints)


def test_probabilities_are_strictly_between_0_and_1():
    # confidence=1.5 used to give NaN intervals in 5 of 10 functions
    found = 0
    for name, param, cons in _all_params():
        if param in ("confidence", "alpha"):
            found += 1
            assert _accepts(cons, 0.95) and _accepts(cons, 0.05), name
            for bad in (0, 1, 1.5, 95, -0.1, math.nan, True, "0.95"):
                assert not _accepts(cons, bad), f"{name}({param}={bad!r})"
    assert found > 20


def test_a_number_is_never_a_bool_nor_nan():
    for name, param, cons in _all_params():
        if any(str(c).startswith("anything") for c in cons):
            continue
        if _accepts(cons, 1) or _accepts(cons, 0.5):
            assert not _accepts(cons, True), f"{name}({param}=True)"
            assert not _accepts(cons, math.nan), f"{name}({param}=nan)"


def test_higher_is_better_is_true_false_or_none():
    found = 0
    for name, param, cons in _all_params():
        if param == "higher_is_better":
            found += 1
            assert _accepts(cons, True) and _accepts(cons, False) and _accepts(cons, np.bool_(True))
            for bad in ("no", "False", 0, 1, "yes"):
                assert not _accepts(cons, bad), f"{name}({param}={bad!r})"
    assert found >= 5


def test_errors_means_raise_or_flag_everywhere():
    found = 0
    for name, param, cons in _all_params():
        if param == "errors":
            found += 1
            accepted = {
                v
                for v in ("raise", "flag", "note", "report", "ignore", "coerce")
                if _accepts(cons, v)
            }
            assert accepted == {"raise", "flag"}, name
    assert found >= 10


def test_date_parameters_take_dates_only():
    found = 0
    for name, param, cons in _all_params():
        if param in ("as_of", "change_date", "period_start", "period_end"):
            found += 1
            assert _accepts(cons, "2025-01-31") and _accepts(cons, dt.date(2025, 1, 31)), name
            assert _accepts(cons, pd.Timestamp("2025-01-31")), name
            # UK text is a date too: the one date reader reads it with the call's dayfirst
            assert _accepts(cons, "31/01/2025"), name
            for bad in ("yesterday", "31/02/2025", "2025-02-31", 20250131, True):
                assert not _accepts(cons, bad), f"{name}({param}={bad!r})"
    assert found >= 10


OLD_NAMES = {
    "id_col",
    "child",
    "pupil",
    "respondent",
    "school",
    "wave_col",
    "date_col",
    "baseline_wave",
    "followup_wave",
    "on_problem",
}


def test_public_parameters_follow_the_glossary():
    old = [f"{name}({p})" for name, p, _ in _all_params() if p in OLD_NAMES]
    assert not old, "old argument names (see docs/contributing.md): " + ", ".join(old)


def test_the_glossary_lists_every_old_name():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "contributing.md").read_text()
    section = text.split("## Argument names", 1)[1]
    for name in OLD_NAMES:
        assert re.search(rf"`{name}[`=]", section), name


# ----------------------------------------------------------------------------- the bugs


SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _message(call) -> str:
    with pytest.raises(InvalidParameterError) as err:
        call()
    return str(err.value)


def test_confidence_above_one_is_refused_in_every_verb_that_used_to_accept_it():
    assert "parameter 'confidence'" in _message(
        lambda: oc.paired_change(SLEEP_1, SLEEP_2, confidence=1.5)
    )
    table = pd.DataFrame({"y": [0, 1, 1, 0], "g": ["a", "a", "b", "b"]})
    assert "(0, 1)" in _message(
        lambda: oc.survey.prevalence(table, "y", at_least=1, confidence=1.5)
    )
    assert "got 1.5" in _message(lambda: oc.survey.means(table, "y", confidence=1.5))


def test_higher_is_better_text_is_refused():
    # "no" used to be read as True, so a worsening was labelled "improved"
    msg = _message(
        lambda: oc.reliable_change([10, 20], [20, 10], sd=5, reliability=0.8, higher_is_better="no")
    )
    assert (
        "reliable_change: parameter 'higher_is_better' must be True or False or None; got 'no' (str)"
        in msg
    )


def test_a_direction_mapping_holds_true_or_false():
    pairs = pd.DataFrame({"scale": ["a"] * 3, "pre": [5, 6, 7], "post": [3, 5, 4]})
    msg = _message(lambda: oc.paired_change_table(pairs, higher_is_better={"a": "no"}))
    assert "parameter 'higher_is_better' must be True or False, a mapping to True or False" in msg


def test_higher_is_better_none_means_not_stated_in_paired_change():
    # None means "take it from the instrument" everywhere; paired_change has no instrument,
    # so the words stay neutral. SLEEP_2 - SLEEP_1: mean change +1.58 (Student's sleep data).
    res = oc.paired_change(SLEEP_1, SLEEP_2, higher_is_better=None)
    assert res.direction() == "increase"
    assert "rose" in res.summary() and "improvement" not in res.summary()
    assert oc.paired_change(SLEEP_1, SLEEP_2, higher_is_better=True).direction() == "improvement"
    # the contract default is False: lower is better
    assert oc.paired_change(SLEEP_1, SLEEP_2).direction() == "deterioration"
    table = oc.paired_change(SLEEP_1, SLEEP_2, by=["a"] * 5 + ["b"] * 5, higher_is_better=None)
    assert "improvement" not in table.summary() and "deterioration" not in table.summary()


def test_threshold_true_is_not_one():
    msg = _message(
        lambda: oc.disclosure.apply(pd.DataFrame({"n": [3, 12]}), counts="n", threshold=True)
    )
    assert "parameter 'threshold'" in msg and "True (bool)" in msg
    msg = _message(
        lambda: oc.reliable_change(
            [1, 2], [3, 4], threshold=True, higher_is_better=True, method="threshold"
        )
    )
    assert "parameter 'threshold'" in msg


def test_durations_are_not_scores():
    # a timedelta Series used to give a mean change in nanoseconds
    pre = pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="D"))
    post = pd.Series(pd.to_timedelta([2, 3, 5, 4], unit="D"))
    assert "parameter 'pre'" in _message(lambda: oc.paired_change(pre, post))
    dates = pd.Series(pd.to_datetime(["2025-01-01", "2025-02-01"]))
    assert "not dates or durations" in _message(
        lambda: oc.reliable_change(dates, dates, sd=1, reliability=0.8)
    )


def _gbo(values: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"goal1": values})


def test_codes_as_text_are_plain_numbers_only():
    # float() reads "1_0" and "1e1" as 10; a form never writes either
    out = oc.score(_gbo(["10", " 7 ", "1_0", "1e1", "inf", "4.0"]), "gbo", errors="flag")
    assert out["goal_1"].tolist()[:2] == [10.0, 7.0]
    assert out["goal_1"].iloc[5] == 4.0
    issues = out.attrs["issues"]
    assert issues["value"].tolist() == ["1_0", "1e1", "inf"]
    assert issues["reason"].str.startswith("unknown label").all()


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["a", "a", "b", "b"],
            "instrument": "swemwbs",
            "rater": "self",
            "date": ["2024-01-10", "2024-07-08", "2024-02-01", "2024-08-01"],
            "wave": ["baseline", "6m", "baseline", "6m"],
            "metric": [17.4, 21.5, 19.3, 20.0],
        }
    )


def test_nearest_rule_with_a_nan_window_is_refused():
    msg = _message(
        lambda: oc.pair_waves(
            _scores(), scales=["metric"], rule="nearest", target_days=180, window_days=math.nan
        )
    )
    assert (
        "pair_waves: parameter 'window_days' must be a finite number in the range [0, inf) or None"
        in msg
    )


def test_period_start_must_be_a_date():
    msg = _message(
        lambda: oc.cyp_outcome_metric(pd.DataFrame(), pd.DataFrame(), period_start="yesterday")
    )
    assert "parameter 'period_start' must be a date" in msg and "'yesterday'" in msg


def test_an_unknown_option_suggests_the_nearest():
    msg = _message(lambda: oc.pair_waves(_scores(), scales=["metric"], errors="flg"))
    assert msg.endswith("did you mean 'flag'?")


# ----------------------------------------------------------------------------- old names


def test_old_argument_names_still_work_with_a_deprecation_warning():
    new = oc.pair_waves(
        _scores(),
        scales=["metric"],
        rule="waves",
        baseline="baseline",
        followup="6m",
        person_id="person_id",
        errors="flag",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = oc.pair_waves(
            _scores(),
            scales=["metric"],
            rule="waves",
            baseline_wave="baseline",
            followup_wave="6m",
            id_col="person_id",
            on_problem="report",
        )
    said = " ".join(str(w.message) for w in caught if w.category is DeprecationWarning)
    for old_name, new_name in [
        ("baseline_wave", "baseline"),
        ("followup_wave", "followup"),
        ("id_col", "person_id"),
        ("on_problem", "errors"),
    ]:
        assert f"parameter {old_name!r} is now called {new_name!r}" in said
    assert "errors='report' is now errors='flag'" in said
    pd.testing.assert_frame_equal(old.pairs, new.pairs)


def test_the_design_contract_names_of_fit_mixed_still_work():
    # DESIGN.md: fit_mixed(data, outcome, wave, *, child, school=None, covariates=())
    rng = np.random.default_rng(4)
    ids = np.repeat(np.arange(12), 2)
    data = pd.DataFrame(
        {
            "pid": ids,
            "sch": ids % 3,
            "wave": np.tile([0, 12], 12),
            "y": rng.normal(10, 2, 12).repeat(2) + np.tile([0.0, -1.0], 12) + rng.normal(0, 1, 24),
        }
    )
    new = oc.longitudinal.fit_mixed(data, "y", "wave", person_id="pid").to_frame()
    with pytest.warns(DeprecationWarning, match="'child' is now called 'person_id'"):
        old = oc.longitudinal.fit_mixed(data, "y", "wave", child="pid").to_frame()
    pd.testing.assert_frame_equal(old, new)


def test_old_option_values_still_work_with_a_deprecation_warning():
    by = ["a"] * 5 + ["b"] * 5
    new = oc.paired_change(SLEEP_1, SLEEP_2, by=by, errors="flag").to_frame()
    with pytest.warns(DeprecationWarning, match="errors='note' is now errors='flag'"):
        old = oc.paired_change(SLEEP_1, SLEEP_2, by=by, errors="note").to_frame()
    pd.testing.assert_frame_equal(old, new)


def test_old_and_new_name_together_is_an_error():
    with pytest.raises(
        InvalidParameterError, match="give 'person_id' only; 'id_col' is its old name"
    ):
        oc.pair_waves(_scores(), id_col="person_id", person_id="person_id")


def test_the_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        oc.pair_waves(_scores(), scales=["metric"], on_problem="report")
    deprecations = [w for w in caught if w.category is DeprecationWarning]
    assert deprecations and deprecations[0].filename == __file__


# ----------------------------------------------------------------------------- the machinery


def test_decorator_refuses_constraints_for_parameters_it_does_not_have():
    with pytest.raises(TypeError, match="unknown parameters"):

        @validate_params({"confidance": [Interval(Real, 0, 1)]})
        def f(confidence=0.95):
            return confidence

    with pytest.raises(TypeError, match="goes above @validate_params"):

        @renamed_params(old="new")
        def g(new=1):
            return new

    with pytest.raises(TypeError, match="goes above @validate_params"):

        @deprecated_values(errors={"note": "flag"})
        def h(errors="raise"):
            return errors


@given(
    st.one_of(
        st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text()
    )
)
def test_interval_is_a_real_number_strictly_inside(value):
    inside = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and not math.isnan(value)
        and 0 < value < 1
    )
    assert Interval(Real, 0, 1, closed="neither").is_satisfied_by(value) == inside


@given(st.one_of(st.booleans(), st.integers(), st.text(), st.none()))
def test_boolean_is_true_or_false_only(value):
    assert Boolean().is_satisfied_by(value) == isinstance(value, bool)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_text_of_any_date_is_a_date(day):
    # ISO and UK day-first text both name a date; the text of no date does not.
    assert Date().is_satisfied_by(day.isoformat())
    assert Date().is_satisfied_by(day.strftime("%d/%m/%Y"))
    assert not Date().is_satisfied_by(day.strftime("%Y-%m-%d") + "x")


def test_options_message_lists_what_is_allowed():
    msg = _message(
        lambda: oc.survey.cluster_icc(
            pd.DataFrame({"y": [1], "s": ["a"]}), "y", "s", method="anvoa"
        )
    )
    assert re.search(
        r"must be one of 'anova', 'mixed'; got 'anvoa' \(str\); did you mean 'anova'\?", msg
    )
    assert str(Options(str, {"b", "a"})) == "one of 'a', 'b'"
