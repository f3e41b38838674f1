"""pair_waves: explicit pairing rules and an account of every record."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
import outcomes.change.pairing as pairing_mod
from outcomes.change import paired_change_table
from outcomes.change.pairing import PairingWarning, pair_waves
from outcomes.errors import DataStructureError, InvalidParameterError, OutcomesError


def test_doctests():
    assert doctest.testmod(pairing_mod).failed == 0


def _scores(rows):
    return pd.DataFrame(rows, columns=["person_id", "instrument", "rater", "date", "metric"])


BASIC = [
    ("a", "swemwbs", "self", "2024-01-10", 17.43),
    ("a", "swemwbs", "self", "2025-01-08", 21.54),
    ("b", "swemwbs", "self", "2024-02-01", 19.25),
    ("c", "swemwbs", "self", "2024-01-01", 10.0),
    ("c", "swemwbs", "self", "2024-06-01", 12.0),
    ("c", "swemwbs", "self", "2025-01-01", 14.0),
]


def test_first_last_pairs_and_accounting():
    p = pair_waves(_scores(BASIC), scales=["metric"])
    pairs = p.pairs.set_index("person_id")
    assert list(pairs.index) == ["a", "c"]
    assert pairs.loc["a", "pre"] == 17.43 and pairs.loc["a", "post"] == 21.54
    assert pairs.loc["a", "change"] == pytest.approx(21.54 - 17.43)
    # 2024-01-10 -> 2025-01-08: 21 + 29 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 + 8 = 364
    assert pairs.loc["a", "days_between"] == 364
    assert pairs.loc["c", "days_between"] == 366  # 2024 is a leap year
    assert (pairs.loc["c", "row_pre"], pairs.loc["c", "row_post"]) == (3, 5)
    r = p.records
    assert list(r["row"]) == list(range(6))  # every record once, in input order
    assert list(r["status"]) == [
        "baseline",
        "follow_up",
        "unpaired",
        "baseline",
        "unpaired",
        "follow_up",
    ]
    assert r.loc[2, "reason"] == "only one record"
    assert r.loc[4, "reason"].startswith("intermediate")
    assert p.problems.empty
    c = p.counts()
    assert c["n"].sum() == 6
    assert "6 records gave 2 baseline/follow-up pairs" in p.summary()


def test_scales_read_from_the_instrument_yaml():
    responses = pd.DataFrame(
        {
            "person_id": ["a", "a", "b"],
            "rater": "self",
            "date": ["2024-01-01", "2024-12-20", "2024-01-01"],
            **{f"q{i}": [3, 4, 2] for i in range(1, 8)},
        }
    )
    scores = oc.score(responses, "swemwbs").assign(instrument="swemwbs")
    p = pair_waves(scores)
    assert set(p.pairs["scale"]) == {"raw", "metric"}
    raw = p.pairs.set_index("scale").loc["raw"]
    assert (raw["pre"], raw["post"]) == (21, 28)
    # the pairs feed straight into the paired-change table
    with pytest.raises(OutcomesError, match="at least 2"):
        paired_change_table(p.pairs, errors="raise")


def test_nearest_rule_with_no_followup_in_any_window():
    # no record of any series falls in the window: nothing is paired, every record says why
    rows = [
        ("c", "swemwbs", "self", "2024-01-01", 10.0),
        ("c", "swemwbs", "self", "2024-03-01", 11.0),
        ("d", "swemwbs", "self", "2024-01-01", 12.0),
    ]
    p = pair_waves(_scores(rows), scales="metric", rule="nearest", target_days=365, window_days=60)
    assert p.pairs.empty
    assert p.records["status"].eq("unpaired").all()
    assert p.records["reason"].tolist()[1] == "outside the follow-up window"


def test_nearest_rule_with_window_and_ties():
    rows = [
        ("a", "swemwbs", "self", "2024-01-01", 10.0),
        ("a", "swemwbs", "self", "2024-10-01", 11.0),  # day 274: 91 days short, outside +-60
        ("a", "swemwbs", "self", "2024-12-01", 12.0),  # day 335: 30 short
        ("a", "swemwbs", "self", "2025-01-15", 13.0),  # day 380: 15 over -> nearest
        ("a", "swemwbs", "self", "2025-06-01", 14.0),  # day 517: outside
        ("b", "swemwbs", "self", "2024-01-01", 10.0),
        ("b", "swemwbs", "self", "2024-12-21", 11.0),  # day 355: 10 short  (tie)
        ("b", "swemwbs", "self", "2025-01-10", 12.0),  # day 375: 10 over   (tie -> earlier wins)
        ("c", "swemwbs", "self", "2024-01-01", 10.0),
        ("c", "swemwbs", "self", "2024-03-01", 11.0),  # nothing in the window
    ]
    p = pair_waves(_scores(rows), scales="metric", rule="nearest", target_days=365, window_days=60)
    pairs = p.pairs.set_index("person_id")
    assert pairs.loc["a", "post"] == 13.0 and pairs.loc["a", "days_between"] == 380
    assert pairs.loc["b", "post"] == 11.0
    assert "c" not in pairs.index
    reasons = p.records["reason"].tolist()
    assert (
        reasons[1] == "outside the follow-up window"
        and reasons[4] == "outside the follow-up window"
    )
    assert reasons[2].startswith("another record is nearer") and reasons[7].startswith(
        "another record"
    )
    assert reasons[8] == "no follow-up within the window"
    assert reasons[9] == "outside the follow-up window"


def test_waves_rule_and_follow_up_before_baseline():
    s = pd.DataFrame(
        {
            "person_id": ["a", "a", "b", "b", "c", "d", "d", "d"],
            "instrument": "swemwbs",
            "rater": "self",
            "wave": [1, 2, 1, 2, 1, 1, 2, 3],
            "date": [
                "2024-01-01",
                "2025-01-01",
                "2024-06-01",
                "2024-03-01",
                "2024-01-01",
                "2024-01-01",
                "2025-01-01",
                "2026-01-01",
            ],
            "metric": [10.0, 12.0, 20.0, 18.0, 15.0, 9.0, 8.0, 7.0],
        }
    )
    with pytest.warns(PairingWarning, match="before"):
        p = pair_waves(s, scales=["metric"], rule="waves", baseline=1, followup=2)
    assert list(p.pairs["person_id"]) == ["a", "d"]
    assert list(p.pairs["wave_pre"]) == [1, 1] and list(p.pairs["wave_post"]) == [2, 2]
    r = p.records
    assert (r.loc[2:3, "reason"] == "follow-up dated before (or on the day of) baseline").all()
    assert (r.loc[2:3, "status"] == "unpaired").all()
    assert r.loc[4, "reason"] == "no record at the other wave"
    assert r.loc[7, "reason"] == "not the baseline or follow-up wave"
    assert len(p.problems) == 2
    with pytest.raises(DataStructureError, match="before"):
        pair_waves(s, scales=["metric"], rule="waves", baseline=1, followup=2, errors="raise")


def test_first_last_by_wave_without_dates():
    s = pd.DataFrame({"person_id": ["a", "a", "a"], "wave": [3, 1, 2], "score": [5.0, 1.0, 3.0]})
    p = pair_waves(s, scales=["score"])
    assert (p.pairs["pre"].iloc[0], p.pairs["post"].iloc[0]) == (1.0, 5.0)
    assert np.isnan(p.pairs["days_between"].iloc[0])
    with pytest.raises(OutcomesError, match="numeric or an ordered"):
        pair_waves(s.assign(wave=["c", "a", "b"]), scales=["score"])


def test_duplicates_at_one_time_point_are_reported_not_paired():
    rows = [*BASIC, ("a", "swemwbs", "self", "2025-01-08", 22.0)]
    with pytest.warns(PairingWarning, match="duplicate"):
        p = pair_waves(_scores(rows), scales=["metric"])
    assert list(p.pairs["person_id"]) == ["c"]
    r = p.records
    assert list(r.loc[[1, 6], "reason"]) == ["duplicate records at one time point"] * 2
    assert r.loc[0, "reason"].startswith("series not paired")
    assert set(p.problems["row"]) == {1, 6}
    with pytest.raises(DataStructureError, match="duplicate"):
        pair_waves(_scores(rows), scales=["metric"], errors="raise")


def test_mixed_raters_are_reported():
    rows = [
        ("a", "gbo", "self", "2024-01-01", 3.0),
        ("a", "gbo", "parent", "2024-09-01", 7.0),
        ("b", "gbo", "parent", "2024-01-01", 2.0),
        ("b", "gbo", "parent", "2024-09-01", 6.0),
    ]
    s = _scores(rows).rename(columns={"metric": "goal_1"})
    with pytest.warns(PairingWarning, match="mixed raters"):
        p = pair_waves(s, scales=["goal_1"])
    assert list(p.pairs["person_id"]) == ["b"]
    assert (
        list(p.records.loc[[0, 1], "reason"]) == ["mixed raters: no pair from a single rater"] * 2
    )


def test_missing_values_are_accounted_for():
    rows = [
        ("a", "swemwbs", "self", "2024-01-01", np.nan),
        ("a", "swemwbs", "self", "2024-06-01", 12.0),
        ("a", "swemwbs", "self", "2025-01-01", 14.0),
        ("b", "swemwbs", "self", None, 12.0),
        ("b", "swemwbs", None, "2025-01-01", 14.0),
    ]
    with pytest.warns(PairingWarning):
        p = pair_waves(_scores(rows), scales=["metric"])
    assert p.pairs["pre"].tolist() == [12.0] and p.pairs["post"].tolist() == [14.0]
    assert p.records["reason"].tolist()[0] == "score missing"
    assert p.records["reason"].tolist()[3:] == ["date missing", "rater missing"]
    assert set(p.problems["row"]) == {3, 4}  # a missing score is not a data problem


def test_index_labels_are_kept():
    s = _scores(BASIC)
    s.index = [f"r{i}" for i in range(len(s))]
    p = pair_waves(s, scales=["metric"])
    assert p.pairs["row_pre"].tolist() == ["r0", "r3"]
    assert p.records["row"].tolist() == list(s.index)


@settings(max_examples=12, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(rnd):
    rng = np.random.default_rng(rnd.randint(0, 10_000))
    n = 40
    s = pd.DataFrame(
        {
            "person_id": rng.integers(0, 12, n).astype(str),
            "instrument": "swemwbs",
            "rater": rng.choice(["self", "parent"], n),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "metric": rng.normal(20, 4, n).round(2),
        }
    )
    shuffled = s.sample(frac=1, random_state=rnd.randint(0, 1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PairingWarning)
        a = pair_waves(s, scales=["metric"])
        b = pair_waves(shuffled, scales=["metric"])
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    ra = a.records.set_index("row").sort_index()
    rb = b.records.set_index("row").sort_index()
    pd.testing.assert_frame_equal(ra, rb)
    # reconciliation: every record x scale is baseline, follow-up or unpaired with a reason
    assert (ra["status"] == "baseline").sum() == len(a.pairs) == (ra["status"] == "follow_up").sum()
    assert (ra.loc[ra["status"] == "unpaired", "reason"] != "").all()


@pytest.mark.parametrize(
    ("data", "kwargs", "err", "match"),
    [
        (pd.DataFrame(), {"scales": ["metric"]}, DataStructureError, "empty"),
        (
            _scores(BASIC).drop(columns="person_id"),
            {"scales": ["metric"]},
            DataStructureError,
            "id column",
        ),
        (_scores(BASIC), {"scales": ["nope"]}, DataStructureError, "not found in the data"),
        (_scores(BASIC).drop(columns="instrument"), {}, DataStructureError, "scales="),
        (_scores(BASIC).assign(instrument="mystery"), {}, OutcomesError, "unknown instrument"),
        (
            _scores(BASIC).assign(instrument=["swemwbs"] * 5 + [None]),
            {},
            DataStructureError,
            "instrument missing",
        ),
        (
            _scores(BASIC),
            {"scales": ["metric"], "rule": "latest"},
            OutcomesError,
            "parameter 'rule'",
        ),
        (_scores(BASIC), {"scales": ["metric"], "rule": "waves"}, DataStructureError, "wave"),
        (
            _scores(BASIC).assign(wave=1),
            {"scales": ["metric"], "rule": "waves", "baseline": 1},
            OutcomesError,
            "two different",
        ),
        (_scores(BASIC), {"scales": ["metric"], "rule": "nearest"}, OutcomesError, "target_days"),
        (
            _scores(BASIC).drop(columns="date"),
            {"scales": ["metric"]},
            DataStructureError,
            "'date' or 'wave'",
        ),
        (_scores(BASIC).assign(date="soon"), {"scales": ["metric"]}, OutcomesError, "not dates"),
        (
            _scores(BASIC).assign(metric="high"),
            {"scales": ["metric"]},
            OutcomesError,
            "non-numeric",
        ),
        (
            _scores(BASIC),
            {"scales": ["metric"], "errors": "ignore"},
            OutcomesError,
            "parameter 'errors'",
        ),
        (
            _scores(BASIC).assign(instrument="gbo"),
            {"scales": ["metric"]},
            OutcomesError,
            "not a scale of",
        ),
        ("not a frame", {}, InvalidParameterError, "DataFrame"),
    ],
)
def test_bad_input(data, kwargs, err, match):
    with pytest.raises(err, match=match):
        pair_waves(data, **kwargs)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.integers(-50, 50)),
        min_size=1,
        max_size=30,
    ),
    dtype=st.sampled_from(["float64", "float32", "int64", "uint8", "object"]),
    seed=st.integers(0, 1000),
)
def test_property_scale_values_of_numbers_are_the_conversion(values, dtype, seed):
    # Numeric columns are taken as they are: the numbers the conversion (to_numeric and the
    # search for text) gives, for any rows.
    if dtype in ("int64", "uint8"):
        values = [abs(int(v)) % 200 if v is not None else 0 for v in values]
    col = pd.Series(values, dtype=dtype)
    data = pd.DataFrame({"s": col})
    rows = np.random.default_rng(seed).integers(0, len(col), len(col))
    old = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)[rows]
    new = pairing_mod._scale_values(data, "s", rows)
    np.testing.assert_array_equal(new, old)
    assert new.dtype == old.dtype


# ----------------------------------------------------- a referral named with several persons
REF_KEYS = ["instrument", "rater", "referral_id"]


def _episodes(rows):
    """(person, referral, date, metric) rows of one instrument and rater."""
    s = pd.DataFrame(rows, columns=["person_id", "referral_id", "date", "metric"])
    return s.assign(instrument="swemwbs", rater="self")


EPISODES = [
    ("a", "R1", "2024-01-10", 17.0),
    ("a", "R1", "2024-07-10", 19.0),
    ("b", "R1", "2024-03-01", 22.0),  # R1 is a's episode or b's: one of these ids is wrong
    ("b", "R2", "2024-01-01", 15.0),
    ("b", "R2", "2024-09-01", 18.0),
    ("c", None, "2024-01-01", 10.0),  # no referral: its own problem, not a contradiction
    (None, "R3", "2024-01-01", 11.0),  # no person: likewise
    ("d", "R3", "2024-01-01", 12.0),
]


def test_a_referral_of_several_persons_is_refused_with_raise():
    with pytest.raises(DataStructureError) as err:
        pair_waves(_episodes(EPISODES), scales=["metric"], keys=REF_KEYS, errors="raise")
    msg = str(err.value)
    assert "1 referral(s) in column 'referral_id'" in msg and "on 3 row(s)" in msg
    assert "referral_id 'R1': person_id 'a' (2 row(s)), person_id 'b' (1 row(s))" in msg
    assert "R2" not in msg and "R3" not in msg


def test_the_refusal_names_five_referrals_and_counts_the_rest():
    rows = [(p, f"R{i}", f"2024-0{1 + k}-01", 1.0) for i in range(7) for k, p in enumerate("xy")]
    with pytest.raises(DataStructureError) as err:
        pair_waves(_episodes(rows), scales=["metric"], keys=REF_KEYS, errors="raise")
    msg = str(err.value)
    assert "7 referral(s)" in msg and "on 14 row(s)" in msg and "; and 2 more." in msg
    assert [f"'R{i}'" in msg for i in range(7)] == [True] * 5 + [False] * 2


def test_a_referral_of_several_persons_is_left_unpaired_and_counted_with_flag():
    s = _episodes(EPISODES)
    with pytest.warns(PairingWarning, match="named with more than one person_id") as caught:
        p = pair_waves(s, scales=["metric"], keys=REF_KEYS)
    message = str(caught[0].message)
    assert "referral_id 'R1'" in message
    # a report publishes a warning's first line as a data-quality note: it names no id
    first = message.splitlines()[0]
    assert "named with more than one person_id" in first
    assert not any(f"'{v}'" in first for v in ("R1", "a", "b"))
    # every row of R1 (a's series no longer loses b's row silently, nor b's row an "only
    # one record"); R2 pairs as before, the rows missing an id are their own problems
    assert p.pairs[["person_id", "referral_id"]].values.tolist() == [["b", "R2"]]
    reason = p.records.set_index("row")["reason"]
    assert reason[[0, 1, 2]].tolist() == [pairing_mod.SHARED_REFERRAL] * 3
    assert reason[[5, 6]].tolist() == ["referral_id missing", "person_id missing"]
    assert reason[7] == "only one record"
    assert set(p.problems["row"]) == {0, 1, 2, 5, 6}
    notes = p.quality.to_frame().set_index("what")
    assert notes.loc[pairing_mod.SHARED_REFERRAL, "rows"] == 3
    assert "referral_id named with more than one person (3)" in p.summary()
    # a missing score on such a row is still left out for its ids: one reason per row
    s.loc[2, "metric"] = np.nan
    with pytest.warns(PairingWarning):
        again = pair_waves(s, scales=["metric"], keys=REF_KEYS)
    assert again.records.loc[2, "reason"] == pairing_mod.SHARED_REFERRAL


def test_persons_pair_across_referrals_without_the_referral_key():
    # without referral_id among the keys a series is the person's: nothing contradicts
    s = _episodes(EPISODES[:5])
    p = pair_waves(s, scales=["metric"], errors="raise")
    assert p.pairs["person_id"].tolist() == ["a", "b"] and p.problems.empty


def test_the_change_command_says_which_referral_is_shared(tmp_path):
    import typer
    from typer.testing import CliRunner

    from outcomes.cli.change import change_cli

    path = tmp_path / "scores.csv"
    _episodes(EPISODES[:5]).to_csv(path, index=False)
    app = typer.Typer()
    app.command("change")(change_cli)
    app.command("other")(lambda: None)  # a second command keeps "change" as a sub-command
    res = CliRunner().invoke(app, ["change", str(path), "-i", "swemwbs"], terminal_width=400)
    assert res.exit_code == 0, res.output
    assert "5 records gave 1 baseline/follow-up pairs" in res.output
    assert "referral_id 'R1': person_id 'a' (2 row(s)), person_id 'b' (1 row(s))" in res.output


@pytest.mark.parametrize("mode", [[], ["--flag"], ["--raise"]])
def test_the_change_command_flags_by_default_or_stops_with_raise(tmp_path, mode):
    # `outcomes change` always flagged: no way to stop at a contradiction in the ids
    from typer.testing import CliRunner

    from outcomes.cli import app

    path = tmp_path / "scores.csv"
    _episodes(EPISODES[:5]).to_csv(path, index=False)
    res = CliRunner().invoke(app, ["change", str(path), "-i", "swemwbs", *mode], terminal_width=400)
    out = " ".join(res.output.split())
    if mode == ["--raise"]:
        assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
        assert out.startswith("error: pair_waves: 1 referral(s)"), out
        # the message names the command's own option, never the Python argument
        assert "pass --flag to leave every row" in out and "errors=" not in out
        assert "baseline/follow-up pairs" not in out
    else:
        assert res.exit_code == 0, res.output
        assert "5 records gave 1 baseline/follow-up pairs" in out
        assert "every row of these referrals was left unpaired" in out


DAY0 = pd.Timestamp("2024-01-01")
SERIES = st.lists(
    st.tuples(
        st.integers(0, 4),  # person
        st.integers(0, 5),  # referral
        st.integers(0, 30),  # day x 10
        st.one_of(st.none(), st.integers(0, 30)),  # score
    ),
    min_size=1,  # (an empty table is refused)
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(base=SERIES, added=st.lists(st.integers(0, 30), min_size=2, max_size=6), seed=st.integers())
def test_property_a_shared_fresh_referral_changes_no_other_pair(base, added, seed):
    # Rows of a fresh referral named with at least two persons: the other referrals' pairs and
    # reasons are what they were, and exactly the added rows are counted under the new reason.
    def frame(rows):
        return _episodes(
            [
                (f"p{p}", f"R{r}", DAY0 + pd.Timedelta(days=10 * d), np.nan if v is None else v)
                for p, r, d, v in rows
            ]
        )

    rng = np.random.default_rng(seed % 2**32)
    persons = rng.permutation([0, 1, *rng.integers(0, 5, len(added) - 2)])
    extra = [(int(p), "new", d, 1.0) for p, d in zip(persons, added, strict=True)]
    s = frame(base)
    t = pd.concat([s, frame(extra).assign(referral_id="Rnew")], ignore_index=True)
    t = t.sample(frac=1, random_state=seed % 2**32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PairingWarning)
        before = pair_waves(s, scales=["metric"], keys=REF_KEYS)
        after = pair_waves(t, scales=["metric"], keys=REF_KEYS)
    pd.testing.assert_frame_equal(after.pairs, before.pairs)
    new = after.records["referral_id"] == "Rnew"
    assert (after.records.loc[new, "reason"] == pairing_mod.SHARED_REFERRAL).all()
    kept = after.records[~new].set_index("row").loc[s.index, ["status", "reason"]]
    pd.testing.assert_frame_equal(kept, before.records.set_index("row")[["status", "reason"]])

    def counted(p):  # rows under the reason in the quality notes (one scale here)
        notes = p.quality.to_frame()
        return notes.loc[notes["what"] == pairing_mod.SHARED_REFERRAL, "rows"].sum()

    assert counted(after) == counted(before) + len(extra)


def test_ids_that_differ_only_by_surrounding_spaces_are_said_with_a_count():
    # " P1" and "P1" were two persons, each "only one record": a pair lost, unsaid
    s = pd.DataFrame({
        "person_id": ["P1", " P1", "P2", "P2", "P3 ", "P3"], "instrument": "swemwbs",
        "rater": "self", "date": ["2024-01-10", "2025-01-08"] * 3, "metric": [17.0, 21.0] * 3,
    })  # fmt: skip
    with pytest.warns(PairingWarning) as caught:
        p = pair_waves(s, scales=["metric"])
    msg = str(caught[0].message)
    assert msg.startswith("pair_waves: 4 person_id value(s) differ from another only by")
    assert "person_id ' P1' and 'P1'" in msg and "trim the ids" in msg
    assert p.pairs["person_id"].tolist() == ["P2"]  # compared as they are
    assert p.quality.to_frame()["what"].str.contains("surrounding spaces").any()
    with pytest.raises(DataStructureError, match="differ from another only by surrounding"):
        pair_waves(s, scales=["metric"], errors="raise")
    clean = s.assign(person_id=s["person_id"].str.strip())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(pair_waves(clean, scales=["metric"]).pairs) == 3
