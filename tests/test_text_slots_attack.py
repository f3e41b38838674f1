"""Attacks on the Arrow text-to-slots pass (scoring._arrow_slots): the numpy path is the
reference, and both paths must give the same scores and issues."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes.instruments import _slots, scoring

pytestmark = pytest.mark.skipif(_slots.kernel() is None, reason="numba is not installed")


def _score_both(df, inst, **kw):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "_engine", "numpy")
        want = oc.score(df, inst, errors="flag", **kw)
        mp.setattr(scoring, "_engine", "kernel")
        got = oc.score(df, inst, errors="flag", **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_frame_equal(
        got.attrs["issues"].reset_index(drop=True), want.attrs["issues"].reset_index(drop=True)
    )
    return got


def test_a_label_on_the_last_slot_of_an_alternative_coding(tmp_path):
    # 127 codes and an alternative coding of 127 more: 127 + 2 + 127 = 256 slots, so the
    # last label sits on slot 255, one past the text dictionary's 255 positions (this raised
    # IndexError in the seed)
    n = 127
    doc = {
        "id": "many_codes",
        "name": "Many codes with an alternative coding",
        "version": "1",
        "respondent": "self",
        "age_range": [0, 120],
        "licence": {"text": "test", "embed_wording": False},
        "citation": "test",
        "sources": {"t": "test"},
        "response_sets": {
            "r": {
                "options": [{"code": c, "label": f"L{c}"} for c in range(n)],
                "alternative_codings": {
                    "alt": {
                        "description": "shifted by one",
                        "map": {c + 1: c for c in range(n)},
                        "source": "t",
                    }
                },
            }
        },
        "items": [{"id": "q1", "label": "item 1", "response_set": "r"}],
        "scales": [
            {
                "id": "total",
                "label": "Total",
                "method": "sum",
                "items": ["q1"],
                "source": "t",
                "higher_is_better": True,
            }
        ],
    }
    path = tmp_path / "many_codes.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    inst = oc.load_instrument(path)
    df = pd.DataFrame({"q1": pd.Series([f"L{n - 1}", "L0", "5", None, "x"], dtype="str")})
    got = _score_both(df, inst, coding="alt")
    # by hand: label L126 -> code 126; L0 -> 0; "5" in the alt coding -> 4; blank; unreadable
    assert got["total"].tolist()[:3] == [126.0, 0.0, 4.0]
    assert got["total"].isna().tolist()[3:] == [True, True]


@st.composite
def _texts(draw):
    """Values the text kernels find hard to tell apart: equal length and first and last
    eight bytes with one byte changed in the middle (lengths 16..106, past the four compared
    words and the 64 lengths with a first guess), NULs, multibyte characters, long runs."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        mid = ["m"] * draw(st.integers(0, 90))
        if mid:
            mid[draw(st.integers(0, len(mid) - 1))] = draw(st.sampled_from("X\x00é😀 "))
        return "12345678" + "".join(mid) + "87654321"
    if kind == 1:
        return draw(st.sampled_from(["", " ", "\x00", "\x00\x00", "a", "a\x00", "\x00a", "😀"]))
    if kind == 2:
        return "x" * draw(st.integers(0, 140))
    return draw(st.text(max_size=draw(st.sampled_from([8, 20, 40, 80]))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_text_dictionary_finds_exactly_what_a_python_dict_finds(data):
    # the reference: a dict from each value to its position; the kernel must write that
    # position for every cell, and ask for a value exactly when the dict does not hold it
    held = data.draw(st.lists(_texts(), unique=True, max_size=30))
    order = data.draw(st.permutations(range(_slots.TEXT_VALUES)))
    values = _slots.TextDictionary(wide=data.draw(st.booleans()))
    pos = {}
    for v in held:
        pos[v] = order[len(pos)]
        values.add(v.encode(), pos[v])
    cells = data.draw(
        st.lists(st.one_of(st.sampled_from(held or [""]), _texts(), st.none()), max_size=60)
    )
    typ = data.draw(st.sampled_from([pa.string(), pa.large_string()]))
    before = data.draw(st.lists(_texts(), max_size=3))
    arr = pa.array(before + cells + ["after"], type=typ).slice(len(before), len(cells))
    cuts = sorted({0, len(cells), *data.draw(st.lists(st.integers(0, len(cells)), max_size=3))})
    chunks = [arr.slice(a, b - a) for a, b in pairwise(cuts)] + [pa.array([], type=typ)]
    col = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks, type=typ)))

    def resolve(text: str) -> bool:
        assert text not in pos
        pos[text] = order[len(pos)]
        values.add(text.encode(), pos[text])
        return True

    out = np.full(len(cells), 7, dtype=np.uint8)
    assert _slots.arrow_text_codes_into(col, out, 254, values, resolve)
    assert out.tolist() == [254 if c is None else pos[c] for c in cells]
