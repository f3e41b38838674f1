"""The evaluation store: idempotent imports, provenance, de-duplication, pseudonymisation."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from typer.testing import CliRunner

import outcomes as oc
from outcomes.errors import OutcomesError
from outcomes.privacy import PseudonymKeyError, pseudonymise
from outcomes.store import StoreError

KEY = "a-test-key-of-more-than-16-bytes"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("OUTCOMES_PSEUDONYM_KEY", KEY)
    return KEY


def survey(ids, school="S1", extra=None):
    df = pd.DataFrame({"pupil_id": ids, "school_id": school, "date": "2025-10-01",
                       "year_group": 8, "swemwbs_q1": 3})  # fmt: skip
    return df.assign(**(extra or {}))


def test_import_is_idempotent_and_keeps_provenance(tmp_path, key):
    f = tmp_path / "baseline.csv"
    survey(["p1", "p2", "p3"]).to_csv(f, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        first = st.import_file(f, table="school_survey", wave="baseline")
        again = st.import_file(f, table="school_survey", wave="baseline")
        assert (first.rows_read, first.rows_added, first.already_imported) == (3, 3, False)
        assert again.already_imported and again.rows_added == 0
        assert "already imported" in again.message and "nothing added" in again.message
        held = st.table("school_survey")
        assert len(held) == 3
        prov = st.imports()
        assert len(prov) == 1
        row = prov.iloc[0]
        assert row["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
        assert row["file_name"] == "baseline.csv" and row["wave"] == "baseline"
        assert (row["rows_read"], row["rows_added"]) == (3, 3)
        assert row["package_version"] == oc.__version__


def test_ids_are_pseudonymised_with_the_key_and_link_across_years(tmp_path, key):
    a, b = tmp_path / "y1.csv", tmp_path / "y2.csv"
    survey(["p1", "p2"]).to_csv(a, index=False)
    survey(["p1", "p9"]).to_csv(b, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        st.import_file(a, table="school_survey", wave="baseline")
        st.import_file(b, table="school_survey", wave="12m")
        held = st.table("school_survey")
    assert not set(held["pupil_id"]) & {"p1", "p2", "p9"}
    expected = pseudonymise(pd.DataFrame({"pupil_id": ["p1"]}), "pupil_id", key=KEY)
    p1 = expected["pupil_id"].iloc[0]
    assert sorted(held.loc[held["pupil_id"] == p1, "wave"]) == ["12m", "baseline"]
    assert "p1" not in (tmp_path / "s.duckdb").read_bytes().decode("latin-1")


def test_a_store_refuses_to_run_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("OUTCOMES_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("OUTCOMES_PSEUDONYM_KEY_FILE", raising=False)
    f = tmp_path / "b.csv"
    survey(["p1"]).to_csv(f, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st, pytest.raises(PseudonymKeyError):
        st.import_file(f, table="school_survey", wave="baseline")


@pytest.mark.parametrize("rule, held_year_group, added, dup, replaced", [
    ("keep_first", {8}, 1, 1, 0),
    ("replace", {9}, 2, 0, 1),
])  # fmt: skip
def test_a_record_arriving_twice_through_two_files(tmp_path, key, rule, held_year_group,
                                                   added, dup, replaced):  # fmt: skip
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    survey(["p1", "p2"]).to_csv(a, index=False)
    # p2 again (corrected year group) and a new pupil p3
    survey(["p2", "p3"], extra={"year_group": 9}).to_csv(b, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        st.import_file(a, table="school_survey", wave="baseline")
        s = st.import_file(b, table="school_survey", wave="baseline", on_duplicate=rule)
        assert (s.rows_added, s.rows_duplicate, s.rows_replaced) == (added, dup, replaced)
        held = st.table("school_survey")
    assert len(held) == 3  # p1, p2 once, p3
    p2 = pseudonymise(pd.DataFrame({"pupil_id": ["p2"]}), "pupil_id", key=KEY)["pupil_id"][0]
    assert set(held.loc[held["pupil_id"] == p2, "year_group"]) == held_year_group


def test_duplicate_rule_error_and_duplicates_within_a_file(tmp_path, key):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    survey(["p1"]).to_csv(a, index=False)
    survey(["p1"], extra={"year_group": 9}).to_csv(b, index=False)
    survey(["p5", "p5"]).to_csv(c, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        st.import_file(a, table="school_survey", wave="baseline")
        with pytest.raises(StoreError, match="already in the store"):
            st.import_file(b, table="school_survey", wave="baseline", on_duplicate="error")
        with pytest.raises(StoreError, match="within the file"):
            st.import_file(c, table="school_survey", wave="baseline")
        with pytest.raises(
            oc.OutcomesError, match="parameter 'on_duplicate'.*did you mean 'replace'"
        ):
            st.import_file(b, table="school_survey", wave="baseline", on_duplicate="replce")
        # nothing of the failed imports was kept
        assert len(st.table("school_survey")) == 1 and len(st.imports()) == 1


def test_waves_checked(tmp_path, key):
    f = tmp_path / "w.csv"
    survey(["p1"], extra={"wave": "12m"}).to_csv(f, index=False)
    nowave = tmp_path / "n.csv"
    survey(["p1"]).to_csv(nowave, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        with pytest.raises(StoreError, match="wave column holds"):
            st.import_file(f, table="school_survey", wave="baseline")
        with pytest.raises(StoreError, match="--wave"):
            st.import_file(nowave, table="school_survey")
        st.import_file(f, table="school_survey")  # the file's own wave
        with pytest.raises(StoreError, match="did you mean '12m'"):
            st.table("school_survey", waves=["12 m"])
        assert len(st.table("school_survey", waves="12m")) == 1
        base = tmp_path / "base.csv"
        survey(["p7"]).to_csv(base, index=False)
        st.import_file(base, table="school_survey", wave="baseline")
        # time order, not alphabetical ("12m" < "baseline" as text)
        assert st.status()["wave"].tolist() == ["baseline", "12m"]


def test_unknown_names_suggest(tmp_path, key):
    f = tmp_path / "x.csv"
    survey(["p1"]).to_csv(f, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        with pytest.raises(OutcomesError, match="did you mean 'school_survey'"):
            st.import_file(f, table="school_surveys", wave="b")
        with pytest.raises(OutcomesError, match="referral_id"):
            st.import_file(f, table="referrals")
        with pytest.raises(StoreError, match="nothing imported"):
            st.table("referrals")


def test_responses_per_instrument_with_version_and_status(tmp_path, key):
    f = tmp_path / "swemwbs.csv"
    items = {f"q{i}": [3, 4] for i in range(1, 8)}
    pd.DataFrame({"person_id": ["c1", "c2"], "rater": "self",
                  "date": ["2025-10-01", "2026-06-01"], **items}).to_csv(f, index=False)  # fmt: skip
    with oc.store.open(tmp_path / "s.duckdb") as st:
        st.import_file(f, table="responses", instrument="swemwbs")
        held = st.table("responses", instrument="swemwbs")
        assert set(held["instrument"]) == {"swemwbs"}
        assert st.imports()["instrument_version"].iloc[0] == str(
            oc.load_instrument("swemwbs").version
        )
        status = st.status()
        assert status[["table", "year", "rows"]].values.tolist() == [
            ["responses__swemwbs", 2025, 1],
            ["responses__swemwbs", 2026, 1],
        ]
        with pytest.raises(StoreError, match="instrument"):
            st.import_file(f, table="responses")


def test_a_failed_import_leaves_the_store_as_it_was(tmp_path, key):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    survey(["p1"]).to_csv(a, index=False)
    survey(["p2"], extra={"year_group": "Year Eight"}).to_csv(b, index=False)
    with oc.store.open(tmp_path / "s.duckdb") as st:
        st.import_file(a, table="school_survey", wave="baseline")
        with pytest.raises(StoreError, match="do not fit"):
            st.import_file(b, table="school_survey", wave="12m")
        assert len(st.table("school_survey")) == 1 and len(st.imports()) == 1


def test_command_line(tmp_path, key):
    from outcomes.cli import app

    f = tmp_path / "b.csv"
    survey(["p1", "p2"]).to_csv(f, index=False)
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    r = runner.invoke(app, ["store", "import", str(f), "--table", "school_survey",
                            "--wave", "baseline", "--store", db])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "2 added" in r.output
    r = runner.invoke(app, ["store", "import", str(f), "--table", "school_survey",
                            "--wave", "baseline", "--store", db])  # fmt: skip
    assert r.exit_code == 0 and "nothing added" in r.output
    r = runner.invoke(app, ["store", "status", "--store", db])
    assert r.exit_code == 0 and "school_survey" in r.output and "baseline" in r.output
    r = runner.invoke(app, ["store", "import", str(f), "--table", "school", "--store", db])
    assert r.exit_code == 1 and "did you mean" in r.output


def test_status_lists_waves_in_the_one_wave_order(tmp_path, key):
    # imported out of order; alphabetical order would put 12m, 24m, 36m before baseline
    with oc.store.open(tmp_path / "s.duckdb") as st:
        for i, w in enumerate(["36m", "baseline", "24m", "12m"]):
            f = tmp_path / f"{w}.csv"
            survey([f"p{i}"]).to_csv(f, index=False)
            st.import_file(f, table="school_survey", wave=w)
        assert st.status()["wave"].tolist() == ["baseline", "12m", "24m", "36m"]
