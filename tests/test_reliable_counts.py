"""The report's reliable-change counts made without frames equal the summary of the frames."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.change.reliable import (
    _reliable_change_counts,
    reliable_change,
    reliable_change_summary,
)
from outcomes.instruments import list_instruments, load_instrument

# every bundled scale reliable_change classifies from its YAML alone (threshold, or sd and
# reliability), with and without a clinical cut-off
SCALES = [
    (i, sc.id)
    for i in list_instruments()
    for sc in load_instrument(i).scales
    if sc.reliable_change and (sc.reliable_change.threshold or sc.reliable_change.sd)
]


def _old(pre, post, inst, scale):
    return reliable_change_summary(
        reliable_change(pre, post, instrument=inst, scale=scale)
    ).counts()


def test_scales_found():
    assert len(SCALES) > 10
    assert any(load_instrument(i).scale(s).clinical_cutoff for i, s in SCALES)


@settings(max_examples=150, deadline=None)
@given(
    which=st.integers(0, len(SCALES) - 1),
    pairs=st.lists(
        st.tuples(
            st.one_of(st.integers(-3, 60).map(float), st.just(np.nan), st.floats(-5, 60)),
            st.one_of(st.integers(-3, 60).map(float), st.just(np.nan), st.floats(-5, 60)),
        ),
        min_size=0,
        max_size=40,
    ),
)
def test_counts_equal_the_summary_of_the_frame(which, pairs):
    inst_id, scale = SCALES[which]
    inst = load_instrument(inst_id)
    pre = np.array([p for p, _ in pairs], float)
    post = np.array([q for _, q in pairs], float)
    old = _old(pre, post, inst, scale)
    new = _reliable_change_counts(pre, post, instrument=inst, scale=scale)
    assert list(new) == list(old)
    for m in old:
        for a, b in zip(new[m], old[m], strict=True):
            assert a.dtype == b.dtype and a.tolist() == b.tolist(), m


@pytest.mark.parametrize("inst_id, scale", SCALES[:3])
def test_unknown_scale_and_lengths_refused_alike(inst_id, scale):
    inst = load_instrument(inst_id)
    for call in (_old, lambda a, b, i, s: _reliable_change_counts(a, b, instrument=i, scale=s)):
        with pytest.raises(Exception, match="no scale"):
            call(np.ones(3), np.ones(3), inst, "no_such_scale")
        with pytest.raises(Exception, match="same length"):
            call(np.ones(3), np.ones(2), inst, scale)


def test_the_counts_take_every_setting_from_reliable_changes_signature():
    # _DEFAULTS is read from reliable_change's signature: every setting _resolve takes but the
    # scores has its default there, so a new argument cannot be left out of the counts
    from outcomes.change.reliable import _DEFAULTS, _resolve

    takes = set(inspect.signature(_resolve).parameters) - {"pre", "post"}
    assert set(_DEFAULTS) == takes
    assert _DEFAULTS["critical"] == 1.96 and _DEFAULTS["method"] == "jt"
