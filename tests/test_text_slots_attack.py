"""Attacks on the Arrow text-to-slots pass (scoring._arrow_slots): the numpy path is the
reference, and both paths must give the same scores and issues."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

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
