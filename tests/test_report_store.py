"""A report config that reads its tables from the evaluation store gives the same published
numbers as the same config reading the files the store imported."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

import outcomes as oc
from _report_data import fitting_targets
from outcomes.report import ConfigError, Evaluation

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "synthetic_data" / "demo"
FILES = {
    "referrals": ("referrals.csv", None, None),
    "schools": ("schools.csv", None, None),
    "school_survey": ("school_survey.csv", None, None),
    "primary_survey": ("primary_survey.csv", None, None),
    "staff_survey": ("staff_survey.csv", None, None),
    "responses": ("responses_sdq_parent.csv", "sdq_parent", None),
}


def _config(tmp: Path, **extra) -> dict:
    cfg = yaml.safe_load((ROOT / "examples" / "demo_evaluation.yaml").read_text())
    cfg["data_dir"] = str(DEMO)
    cfg["tables"]["responses"] = {"sdq_parent": "responses_sdq_parent.csv"}
    cfg["outcomes"]["headline"] = "sdq_parent.emotional"
    cfg.update(extra)
    return fitting_targets(cfg)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("OUTCOMES_PSEUDONYM_KEY", "a-test-key-for-the-store-0123456789")
    path = tmp_path_factory.mktemp("store") / "eval.duckdb"
    with oc.store.open(path) as st:
        for table, (name, inst, _) in FILES.items():
            surveys = ("school_survey", "primary_survey", "staff_survey")
            waves = ["baseline", "12m"] if table in surveys else [None]
            for w in waves:
                src = pd.read_csv(DEMO / name)
                part = DEMO / name
                if w is not None:  # one file per wave, as the exports arrive
                    part = path.parent / f"{table}_{w}.csv"
                    src[src["wave"] == w].to_csv(part, index=False)
                st.import_file(part, table=table, wave=w, instrument=inst)
    yield path
    mp.undo()


def test_store_backed_config_publishes_the_same_numbers(store, tmp_path):
    from_files = Evaluation.from_config(_config(tmp_path), tmp_path / "a").release
    cfg = _config(tmp_path, store=str(store))
    cfg["tables"] = {"referrals": "referrals", "schools": "schools",
                     "school_survey": "school_survey", "primary_survey": "primary_survey",
                     "staff_survey": "staff_survey",
                     "responses": {"sdq_parent": "sdq_parent"}}  # fmt: skip
    ev = Evaluation.from_config(cfg, tmp_path / "b")
    from_store = ev.release
    for name in ("reach_overall", "survey_prevalence", "staff_items", "change_by_measure",
                 "survey_primary_wellbeing", "survey_reach_by_school"):  # fmt: skip
        a, b = from_files.get(name).frame, from_store.get(name).frame
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # provenance: a table's hash is the SHA-256 of the SHA-256s of its imported files, in order
    files = [store.parent / "school_survey_baseline.csv", store.parent / "school_survey_12m.csv"]
    expected = hashlib.sha256(
        "".join(hashlib.sha256(f.read_bytes()).hexdigest() for f in files).encode()
    ).hexdigest()
    assert ev.inputs.hashes["school_survey"] == expected
    assert set(ev.inputs.hashes) == {"referrals", "schools", "school_survey", "primary_survey",
                                     "staff_survey", "responses:sdq_parent"}  # fmt: skip


def test_store_backed_config_names_unknown_tables(store, tmp_path):
    cfg = _config(tmp_path, store=str(store))
    cfg["tables"] = {"referrals": "referrals", "responses": {"honosca": "honosca"}}
    with pytest.raises(ConfigError, match="responses:honosca"):
        Evaluation.from_config(cfg, tmp_path / "c")
    cfg["store"] = str(tmp_path / "missing.duckdb")
    with pytest.raises(ConfigError, match="store: file not found"):
        Evaluation.from_config(cfg, tmp_path / "d")
