"""A small copy of the demo programme for report tests that need real tables, not a full build."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo_evaluation.yaml"
DEMO_DATA = ROOT / "synthetic_data" / "demo"


def mini_demo(folder: Path, n_referrals: int = 160, per_wave: int = 120) -> dict:
    """Write a cut of the demo's tables into ``folder``; return a config dict for them.

    Referrals are the first ``n_referrals`` (with their children's SDQ parent responses); each
    survey keeps the first ``per_wave`` rows of every wave.
    """
    ref = pd.read_csv(DEMO_DATA / "referrals.csv").head(n_referrals)
    ref.to_csv(folder / "referrals.csv", index=False)
    pd.read_csv(DEMO_DATA / "schools.csv").to_csv(folder / "schools.csv", index=False)
    for name in ("school_survey", "staff_survey"):
        sv = pd.read_csv(DEMO_DATA / f"{name}.csv")
        sv.groupby("wave", sort=False).head(per_wave).to_csv(folder / f"{name}.csv", index=False)
    sdq = pd.read_csv(DEMO_DATA / "responses_sdq_parent.csv")
    sdq[sdq["referral_id"].isin(ref["referral_id"])].to_csv(folder / "sdq_parent.csv", index=False)
    cfg = copy.deepcopy(yaml.safe_load(DEMO.read_text()))
    cfg["data_dir"] = str(folder)
    cfg["tables"] = {
        "referrals": "referrals.csv",
        "schools": "schools.csv",
        "school_survey": "school_survey.csv",
        "staff_survey": "staff_survey.csv",
        "responses": {"sdq_parent": "sdq_parent.csv"},
    }
    return fitting_targets(cfg)


def fitting_targets(cfg: dict) -> dict:
    """``cfg`` (changed in place) without the demo's success measures its tables cannot give:
    the input checks refuse a target whose table is not in the config."""
    tables = cfg.get("tables") or {}
    responses = tables.get("responses") or {}
    targets = cfg.get("targets") or {}
    outcome = targets.get("outcome_improvement") or {}
    measure = outcome.get("measure") or (cfg.get("outcomes") or {}).get("headline", "")
    gives = {
        "seen_within_standard": bool(tables.get("referrals")),
        "inappropriate_rate": bool(tables.get("referrals")),
        "staff_confidence_change": bool(tables.get("staff_survey")),
        "experience": any(k.startswith("chi_esq") for k in responses),
        "outcome_improvement": measure.partition(".")[0] in responses,
    }
    cfg["targets"] = {k: v for k, v in targets.items() if gives.get(k, True)}
    return cfg


def set_path(cfg: dict, dotted: str, value: object) -> dict:
    """A copy of ``cfg`` with ``a.b.c`` set to ``value``."""
    out = copy.deepcopy(cfg)
    *parents, last = dotted.split(".")
    node = out
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return out


def config_for(data, folder: Path) -> dict:
    """The demo config pointed at a simulated programme written into ``folder`` (empty tables
    left out), naming only what the data hold: the strict config refuses a reason or a wave
    that is not there."""
    from outcomes._internal.waves import order_waves

    folder.mkdir(parents=True, exist_ok=True)
    for name, t in data.tables().items():  # the tables only (no README, truth or package)
        t.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    cfg = yaml.safe_load(DEMO.read_text())
    cfg["data_dir"] = str(folder)
    tables = {n: f"{n}.csv" for n in ("referrals", "schools", "school_survey", "staff_survey")
              if len(getattr(data, n))}  # fmt: skip
    tables["responses"] = {k: f"responses_{k}.csv" for k, v in data.responses.items() if len(v)}
    cfg["tables"] = tables
    if len(data.referrals):
        present = set(data.referrals["not_accepted_reason"].dropna())
        reasons = cfg["service"]["inappropriate_reasons"]
        listed = [r for r in reasons if r in present]
        not_accepted = (data.referrals["accepted"].astype(str) == "False").any()
        cfg["service"]["inappropriate_reasons"] = listed or (
            "all_not_accepted" if not_accepted else None
        )
    for name in ("school_survey", "staff_survey"):
        table = getattr(data, name)
        if len(table):
            cfg[name]["waves"] = order_waves(table["wave"].dropna().unique())
    _headline_present(cfg)
    return fitting_targets(cfg)


def _headline_present(cfg: dict) -> None:
    """A small simulated programme may have no responses to the demo's headline instrument
    (the input checks refuse a headline with no data): lead with a measure of change of an
    instrument it has, else any scale of one."""
    from outcomes.instruments import load_instrument
    from outcomes.report.checks import change_measures

    present = list(cfg["tables"]["responses"])
    headline = cfg.setdefault("outcomes", {}).get("headline", "sdq_parent.total_difficulties")
    if not present or headline.partition(".")[0] in present:
        return
    instruments = {i: load_instrument(i) for i in present}
    measures = change_measures(instruments) or [
        f"{i}.{inst.scales[0].id}" for i, inst in instruments.items()
    ]
    cfg["outcomes"]["headline"] = measures[0]
