"""CHI-ESQ item summaries and free text: counts derived by hand, Wilson CIs from the formula,
every version, codings and bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import esq
from outcomes.errors import DataStructureError, InvalidResponsesError, OutcomesError

ITEMS = [f"q{i}" for i in range(1, 13)]


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def _frame(version: str, answers: list, n_text: int = 0) -> pd.DataFrame:
    df = pd.DataFrame({q: answers for q in ITEMS})
    df.insert(0, "instrument", version)
    df.insert(0, "person_id", [f"{version}-{i}" for i in range(len(answers))])
    return df


def test_counts_and_wilson_by_hand():
    # 10 answers: 8 Certainly true (as label, code 2 or lower-case label), 1 Partly true,
    # 1 Not true; plus one Don't know (label), one 9 (the Don't know code) and one blank.
    answers = ["Certainly true"] * 5 + [
        2,
        2,
        "certainly TRUE",
        "Partly true",
        0,
        "Don't know",
        9,
        None,
    ]
    t = esq.item_summary(_frame("chi_esq_parent", answers)).to_frame()
    assert len(t) == 12 and (t["version"] == "chi_esq_parent").all()
    row = t.iloc[0]
    assert (row["item"], row["label"]) == ("q1", "listened to")
    assert (row["n"], row["certainly_true"], row["dont_know"], row["not_answered"]) == (10, 8, 2, 1)
    assert row["prop_certainly_true"] == pytest.approx(0.8)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(_wilson(8, 10), abs=1e-12)


def test_every_version_from_the_version_column():
    df = pd.concat(
        [
            _frame("chi_esq_12_18", [2, 1, 1, 0]),
            _frame("chi_esq_parent", [2, 2, 2]),
            _frame("chi_esq_9_11", ["Certainly true", "Not true"]),
        ],
        ignore_index=True,
    )
    res = esq.item_summary(df)
    t = res.to_frame()
    # reporting order: parent, 9-11, 12-18
    assert list(dict.fromkeys(t["version"])) == ["chi_esq_parent", "chi_esq_9_11", "chi_esq_12_18"]
    q1 = t[t["item"] == "q1"].set_index("version")
    assert q1["n"].to_dict() == {"chi_esq_parent": 3, "chi_esq_9_11": 2, "chi_esq_12_18": 4}
    assert q1["prop_certainly_true"].to_dict() == {
        "chi_esq_parent": 1.0,
        "chi_esq_9_11": 0.5,
        "chi_esq_12_18": 0.25,
    }
    text = res.summary()
    assert "Among parents and carers" in text and "young people aged 12-18" in text
    assert "children aged 9-11" in text


def test_mhsds_coding_is_explicit():
    # MHSDS stores 1 = Certainly true, 2 = Partly true, 3 = Not true.
    df = _frame("chi_esq_parent", [1, 1, 2, 3])
    t = esq.item_summary(df, coding="mhsds").to_frame()
    assert t.loc[0, "certainly_true"] == 2 and t.loc[0, "n"] == 4
    # Read without the coding, 3 is not an ESQ code: refused, never guessed.
    with pytest.raises(InvalidResponsesError, match="column 'q1': 3"):
        esq.item_summary(df)


def test_invalid_cells_raise_or_are_flagged():
    df = _frame("chi_esq_parent", [2, 2, "Maybe", 1])
    with pytest.raises(InvalidResponsesError, match=r"row 2, column 'q1': 'Maybe'"):
        esq.item_summary(df)
    res = esq.item_summary(df, errors="flag")
    row = res.to_frame().iloc[0]
    assert (row["n"], row["certainly_true"], row["not_answered"], row["dont_know"]) == (3, 2, 1, 0)
    assert len(res.table.attrs["issues"]) == 12


def test_version_problems_are_named():
    df = _frame("chi_esq_parent", [2, 1])
    with pytest.raises(DataStructureError, match="which ESQ version"):
        esq.item_summary(df.drop(columns="instrument"), version="instrument")
    df.loc[1, "instrument"] = "chi_esq_adult"
    with pytest.raises(OutcomesError, match="'chi_esq_adult' is not a known instrument"):
        esq.item_summary(df)
    df.loc[1, "instrument"] = None
    with pytest.raises(DataStructureError, match=r"empty in row\(s\) \[1\]"):
        esq.item_summary(df)
    with pytest.raises(OutcomesError, match="no answer labelled"):
        esq.item_summary(_frame("chi_esq_parent", [2]), top_label="Very true")


def test_item_nobody_answered_is_explained():
    df = _frame("chi_esq_parent", [2, 1, 2])
    df["q8"] = "Don't know"
    df["q9"] = pd.Series([None, "  ", ""], dtype=object)
    t = esq.item_summary(df).to_frame().set_index("item")
    assert t.loc["q8", "n"] == 0 and np.isnan(t.loc["q8", "prop_certainly_true"])
    assert np.isnan(t.loc["q8", "ci_low"]) and t.loc["q8", "note"] == "no answers"
    assert t.loc["q8", "dont_know"] == 3
    assert t.loc["q9", "not_answered"] == 3


def test_by_group():
    df = _frame("chi_esq_parent", [2, 2, 1, 0])
    df["team"] = ["north", "north", "south", "south"]
    t = esq.item_summary(df, by="team").to_frame()
    q1 = t[t["item"] == "q1"].set_index("team")
    assert q1["certainly_true"].to_dict() == {"north": 2, "south": 0}
    assert t.columns[0] == "team"


def test_plot():
    import matplotlib.pyplot as plt

    df = pd.concat(
        [_frame("chi_esq_parent", [2, 1]), _frame("chi_esq_12_18", [2, 2])], ignore_index=True
    )
    ax = esq.item_summary(df).plot()
    assert len(ax.patches) == 24
    plt.close("all")


# ----------------------------------------------------------------------------- free text
def _comments() -> pd.DataFrame:
    df = _frame("chi_esq_parent", [2] * 6)
    df["date"] = "2025-05-01"
    df["good"] = [
        "Kind staff",
        "",
        None,
        "They listened",
        "   ",
        "Ring 07700 900123 or email jo.bloggs@example.org",
    ]
    df["improve"] = ["Shorter waits", None, "See www.example.org/page", None, None, None]
    return df


def test_free_text_carries_no_identifiers():
    df = _comments()
    out = esq.free_text(df, seed=3)
    assert list(out.columns) == ["version", "field", "field_label", "text"]
    flat = " ".join(out.astype(str).to_numpy().ravel())
    for pid in df["person_id"]:
        assert pid not in flat
    assert "2025-05-01" not in flat
    assert isinstance(out.index, pd.RangeIndex)
    # blanks dropped: 3 'good' answers and 2 'improve' answers remain
    assert out["field"].value_counts().to_dict() == {"good": 3, "improve": 2}
    assert out["field"].tolist() == ["good"] * 3 + ["improve"] * 2
    assert set(out["field_label"]) == {"what was really good", "what needs improving"}


def test_free_text_redacts_contact_details():
    out = esq.free_text(_comments(), shuffle=False)
    texts = out["text"].tolist()
    assert "Ring [phone number removed] or email [email removed]" in texts
    assert "See [link removed]" in texts
    raw = esq.free_text(_comments(), shuffle=False, redact=False)["text"].tolist()
    assert any("jo.bloggs@example.org" in t for t in raw)


def test_free_text_shuffle_is_reproducible():
    df = _frame("chi_esq_parent", [2] * 40)
    df["good"] = [f"comment {i}" for i in range(40)]
    a = esq.free_text(df, seed=1)["text"].tolist()
    b = esq.free_text(df, seed=1)["text"].tolist()
    assert a == b and a != [f"comment {i}" for i in range(40)]
    assert sorted(a) == sorted(f"comment {i}" for i in range(40))


def test_free_text_fields_and_absence():
    df = _comments()
    only = esq.free_text(df, fields=["improve"], shuffle=False)
    assert set(only["field"]) == {"improve"}
    with pytest.raises(OutcomesError, match="no free-text field"):
        esq.free_text(df, fields=["person_id"])
    none = esq.free_text(_frame("chi_esq_parent", [2]))
    assert none.empty and list(none.columns) == ["version", "field", "field_label", "text"]


_CONTACT_BITS = st.sampled_from(
    ["a.b@nhs.net", "x@y", "@", "http://x.org/p", "WWW.site.uk", "www.", "https:/", "://",
     "07700 900123", "+44 7700900123", "0770090012", "٠٧٧٠٠٩٠٠١٢٣", "12", " ", "-", "é", "w",
     "[email removed]", "Kind staff", "\n"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_CONTACT_BITS | st.text(max_size=4), max_size=8), max_size=6))
def test_redaction_matches_each_pattern_applied_in_turn(pieces):
    """The prefiltered redaction gives what the three substitutions give applied in turn."""
    text = pd.Series(["".join(p) for p in pieces], dtype="string")
    want = text
    for pattern, marker in esq._REDACTIONS:
        want = want.str.replace(pattern, marker, regex=True)
    pd.testing.assert_series_equal(esq._redact(text), want)
