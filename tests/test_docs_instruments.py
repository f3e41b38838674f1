"""The example in docs/instruments.md is a valid instrument and scores as the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import outcomes as oc

DOC = Path(__file__).resolve().parents[1] / "docs" / "instruments.md"


def _example_yaml() -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    return blocks[0]


def test_docs_example_loads_and_scores(tmp_path):
    p = tmp_path / "staff_wellbeing.yaml"
    p.write_text(_example_yaml())
    inst = oc.load_instrument(p)
    df = pd.DataFrame({"w1": ["Agree", 5, 9], "w2": [4, "neutral", 2], "w3": [2, 1, 1]})
    out = oc.score(df, inst)
    # w3 is reversed (1..5 -> 5..1): row 0 = (4 + 4 + 4) / 3 = 4; row 1 = (5 + 3 + 5) / 3
    # row 2: w1 "prefer not to say" -> (2 + 5) / 2 = 3.5
    assert out["wellbeing"].tolist() == pytest.approx([4.0, 13 / 3, 3.5])
    assert out["wellbeing_band"].astype(str).tolist() == ["high", "high", "moderate"]


def test_docs_error_example_is_what_users_see(tmp_path):
    p = tmp_path / "staff_wellbeing.yaml"
    p.write_text(_example_yaml().replace("    min_answered: 2\n", "    min_anwsered: 2\n"))
    with pytest.raises(oc.InstrumentDefinitionError) as err:
        oc.load_instrument(p)
    assert "scales.0.min_anwsered: Extra inputs are not permitted" in str(err.value)
