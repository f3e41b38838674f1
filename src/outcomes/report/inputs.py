"""Loading the report's input tables: every problem is found before any analysis runs, ids are
pseudonymised on the way in, and questionnaire responses are scored."""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._internal.cells import combine
from .._internal.dates import is_date_column, read_dates
from .._internal.waves import check_lookalikes, resolve_wave
from ..errors import InvalidResponsesError, OutcomesError
from ..instruments import Instrument, load_instrument
from ..instruments.scoring import score
from ..io import read_table
from ..privacy import new_key, pseudonymise
from ..service import prepare_referrals
from .config import ConfigError, EvaluationConfig

#: identifier columns replaced by keyed pseudonyms before anything is analysed
ID_COLUMNS = ("person_id", "pupil_id", "respondent_id", "referral_id")
REQUIRED = {
    "referrals": ("referral_id", "person_id", "referral_date"),
    "schools": ("school_id",),
    "school_survey": ("pupil_id", "school_id", "wave"),
    "staff_survey": ("school_id", "wave"),
    "responses": ("person_id", "date"),
}
AGE_BANDS = ((0, 11, "under 11"), (11, 16, "11-15"), (16, 200, "16 and over"))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Inputs:
    """The programme's tables, checked, pseudonymised and scored."""

    config: EvaluationConfig
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    responses: dict[str, pd.DataFrame] = field(default_factory=dict)
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    #: one row per input table: rows read, rows used, invalid cells, excluded rows
    accounting: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: problems recorded under invalid_cells="flag" (never with identifiers)
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.tables and len(self.tables[name]) > 0


def _read_all(cfg: EvaluationConfig, problems: list[str]) -> dict[str, pd.DataFrame]:
    raw: dict[str, pd.DataFrame] = {}
    for label, path in cfg.input_files().items():
        if not path.is_file():
            problems.append(f"{label}: file not found: {path}")
            continue
        try:
            df = read_table(path)
        except OutcomesError as e:
            problems.append(f"{label}: {e}")
            continue
        kind = "responses" if label.startswith("responses:") else label
        missing = [c for c in REQUIRED[kind] if c not in df.columns]
        if missing:
            problems.append(f"{label} ({path.name}): required column(s) missing: {missing}")
            continue
        if df.empty:
            problems.append(f"{label} ({path.name}): the file has no rows")
            continue
        raw[label] = df
    return raw


def _wave_problems(cfg: EvaluationConfig, raw: dict[str, pd.DataFrame]) -> list[str]:
    """The configured survey waves must be in the data, with no lookalike labels beside them:
    the sections select rows by these labels, so a miss would be an empty table, not an error."""
    out = []
    for label, part in (("school_survey", cfg.school_survey), ("staff_survey", cfg.staff_survey)):
        df = raw.get(label)
        if df is None or "wave" not in df.columns:
            continue
        present = pd.Series(df["wave"].dropna().unique()).tolist()
        try:
            chosen = [
                resolve_wave(w, present, what=f"{label}.{name}")
                for name, w in (
                    ("baseline_wave", part.baseline_wave),
                    ("followup_wave", part.followup_wave),
                )
            ]
            check_lookalikes(chosen, present)
        except OutcomesError as e:
            out.append(f"{label}: {e}")
    return out


def _date_problems(label: str, bad: pd.DataFrame) -> list[str]:
    first = "; ".join(
        f"row {r.row} column {r.column}: {r.reason}" for r in bad.head(5).itertuples()
    )
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return [f"{label}: {len(bad)} cell(s) that are not dates: {first}{more}"]


def _read_date_columns(label: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table with its date columns read once, by the one date reader (so every section sees
    the same days), and the bad date cells. Referrals are left to :func:`prepare_referrals`,
    which reads and checks them by the same rules."""
    if label == "referrals":
        return df, combine([])
    parts = []
    for c in [c for c in df.columns if is_date_column(c)]:
        got = read_dates(df[c], column=c)
        df = df.assign(**{c: got.values})
        parts.append(got.issues)
    return df, combine(parts)


def _pseudonymise(df: pd.DataFrame, key: str) -> pd.DataFrame:
    cols = [c for c in ID_COLUMNS if c in df.columns]
    if not cols:
        return df
    return pseudonymise(df, cols, key=key)


def _age_band(age: pd.Series) -> pd.Series:
    a = pd.to_numeric(age, errors="coerce")
    out = pd.Series(pd.NA, index=age.index, dtype="object")
    for lo, hi, label in AGE_BANDS:
        out[(a >= lo) & (a < hi)] = label
    return out


def load_inputs(cfg: EvaluationConfig) -> Inputs:
    """Read, check, pseudonymise and score every table named in the config.

    All problems in all tables are collected first; with ``invalid_cells: stop`` (default) any
    problem raises :class:`ConfigError` listing them, before any analysis runs.
    """
    problems: list[str] = []
    raw = _read_all(cfg, problems)
    inputs = Inputs(cfg)
    for label, path in cfg.input_files().items():
        if path.is_file():
            inputs.hashes[label] = sha256(path)

    for inst_id in cfg.tables.responses:
        try:
            inputs.instruments[inst_id] = load_instrument(inst_id)
        except OutcomesError as e:
            problems.append(f"responses:{inst_id}: {e}")
    for inst_id in (cfg.school_survey.sdq_instrument, cfg.staff_survey.instrument, "swemwbs"):
        try:
            load_instrument(inst_id)
        except OutcomesError as e:
            problems.append(f"config: {e}")

    problems.extend(_wave_problems(cfg, raw))
    issue_parts: list[pd.DataFrame] = []
    rows: list[dict] = []
    date_issues: dict[str, pd.DataFrame] = {}
    for label in list(raw):
        raw[label], bad = _read_date_columns(label, raw[label])
        date_issues[label] = bad
        # responses' bad dates join their scoring problems below
        if len(bad) and cfg.invalid_cells == "stop" and not label.startswith("responses:"):
            problems.extend(_date_problems(label, bad))
    key = os.environ.get(cfg.pseudonymisation.key_env) or new_key()

    def prepared(label: str, df: pd.DataFrame) -> pd.DataFrame:
        df = _pseudonymise(df, key)
        if "age" in df.columns and "age_band" not in df.columns:
            df = df.assign(age_band=_age_band(df["age"]))
        if label.startswith("responses:") and "instrument" not in df.columns:
            df = df.assign(instrument=label.split(":", 1)[1])
        return df

    # Cell-level checks of questionnaire responses: scoring with errors="flag" runs exactly
    # the checks of oc.validate and records them, so each table is read once.
    for label, df in raw.items():
        if not label.startswith("responses:"):
            continue
        inst_id = label.split(":", 1)[1]
        if inst_id not in inputs.instruments:
            continue
        df = prepared(label, df)
        try:
            scored = score(df, inputs.instruments[inst_id], errors="flag")
        except InvalidResponsesError as e:
            problems.append(f"{label}: {e}")
            continue
        inputs.responses[inst_id], inputs.scores[inst_id] = df, scored
        issues = scored.attrs["issues"]
        errs = combine([issues[issues["severity"] == "error"], date_issues[label]])
        rows.append(
            {"table": label, "rows": len(df), "invalid_cells": len(errs), "rows_excluded": 0}
        )
        if len(errs):
            issue_parts.append(errs.assign(table=label))
            if cfg.invalid_cells == "stop":
                first = errs.head(5)
                listed = "; ".join(
                    f"row {r.row} column {r.column} value {r.value!r}: {r.reason}"
                    for r in first.itertuples()
                )
                more = f" (and {len(errs) - 5} more)" if len(errs) > 5 else ""
                problems.append(f"{label}: {len(errs)} invalid cell(s): {listed}{more}")
    if "referrals" in raw:
        ref = raw["referrals"]
        errors = "raise" if cfg.invalid_cells == "stop" else "flag"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                checked = prepare_referrals(ref, as_of=cfg.extract_date, errors=errors)
            excluded = int(checked.attrs.get("n_excluded", 0))
            ref_issues = checked.attrs.get("issues")
            if ref_issues is not None and len(ref_issues):
                issue_parts.append(pd.DataFrame(ref_issues).assign(table="referrals"))
            rows.append(
                {
                    "table": "referrals",
                    "rows": len(ref),
                    "invalid_cells": 0,
                    "rows_excluded": excluded,
                }
            )
        except InvalidResponsesError as e:
            problems.append(f"referrals: {str(e).splitlines()[0]}")
            for r in e.issues.head(10).itertuples():
                problems.append(f"referrals: row {r.row} column {r.column}: {r.reason}")
        except OutcomesError as e:
            problems.append(f"referrals: {e}")
    if problems:
        raise ConfigError(problems, str(cfg.source or "config"))

    for label, df in raw.items():
        if not label.startswith("responses:"):
            inputs.tables[label] = prepared(label, df)
    for label, df in inputs.tables.items():
        if not any(r["table"] == label for r in rows):
            bad = date_issues.get(label, combine([]))
            if len(bad):
                issue_parts.append(bad.assign(table=label))
            rows.append(
                {"table": label, "rows": len(df), "invalid_cells": len(bad), "rows_excluded": 0}
            )
    inputs.accounting = pd.DataFrame(
        rows, columns=["table", "rows", "invalid_cells", "rows_excluded"]
    )
    if issue_parts:
        # Row labels and reasons only: values could identify someone, so they stay behind.
        iss = pd.concat(issue_parts, ignore_index=True)
        inputs.issues = iss[[c for c in ("table", "row", "column", "reason") if c in iss.columns]]
    _attach_demographics(inputs)
    return inputs


def _attach_demographics(inputs: Inputs) -> None:
    """Give each score row the child's demographics from the referrals table (for equity)."""
    if "referrals" not in inputs.tables:
        return
    ref = inputs.tables["referrals"]
    demo_cols = [
        c for c in (*inputs.config.subgroups, "school_id") if c in ref.columns and c != "person_id"
    ]
    if not demo_cols:
        return
    # the referral date as a date (text sorts "05/01/2025" after "01/02/2025"); bad cells last
    when = read_dates(ref["referral_date"], column="referral_date").values
    per_person = (
        ref.iloc[np.argsort(when.to_numpy(), kind="stable")]
        .groupby("person_id", sort=False)[demo_cols]
        .last()
    )
    for inst_id, sc in inputs.scores.items():
        add = [c for c in demo_cols if c not in sc.columns]
        if add:
            merged = sc.join(per_person[add], on="person_id")
            merged.attrs = sc.attrs
            inputs.scores[inst_id] = merged


def subgroup_columns(df: pd.DataFrame, wanted: list[str]) -> list[str]:
    """The configured subgroup columns that exist and have at least two values."""
    return [c for c in wanted if c in df.columns and df[c].nunique(dropna=True) >= 2]


def is_empty(x: object) -> bool:
    return (
        x is None
        or (isinstance(x, pd.DataFrame) and x.empty)
        or (isinstance(x, np.ndarray) and x.size == 0)
    )
