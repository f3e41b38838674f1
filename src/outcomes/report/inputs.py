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
from .._internal.quality import QualityRecord
from .._internal.text import unknown
from ..errors import InvalidResponsesError, OutcomesError
from ..instruments import Instrument, list_instruments, load_instrument
from ..instruments.scoring import _resolve_columns, score
from ..io import read_table
from ..privacy import Pseudonymiser, new_key
from ..service import ISSUE_COLUMNS, empty_date_columns, prepare_referrals
from .checks import (
    OTHER_PERSON,
    UNKNOWN_REFERRAL,
    check_names,
    id_text,
    referral_links,
    resolve_waves,
)
from .config import ConfigError, EvaluationConfig

#: identifier columns replaced by keyed pseudonyms before anything is analysed
ID_COLUMNS = ("person_id", "pupil_id", "respondent_id", "referral_id")
REQUIRED = {
    "referrals": ("referral_id", "person_id", "referral_date"),
    "schools": ("school_id",),
    "school_survey": ("pupil_id", "school_id", "wave"),
    "primary_survey": ("pupil_id", "school_id", "wave"),
    "staff_survey": ("school_id", "wave"),
    "responses": ("person_id", "date"),
}
#: the referrals' date columns an empty one of which is read as not recorded (an empty
#: discharge_date is read as it is, every referral open, with a counted warning)
CONTACT_DATES = ("first_contact_date", "second_contact_date")
AGE_BANDS = ((0, 11, "under 11"), (11, 16, "11-15"), (16, 200, "16 and over"))
ACCOUNTING = ("table", "rows_read", "rows_used", "rows_excluded", "reason")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Inputs:
    """The programme's tables, checked, pseudonymised and scored once (by :func:`load_inputs`).

    Attributes beyond the tables: ``accounting`` (``table, rows_read, rows_used,
    rows_excluded, reason``: one row per table, or per reason rows of it were excluded, as a
    flow where each row starts from the rows the one before kept; on every row ``rows_read ==
    rows_used + rows_excluded``), ``quality`` (every excluded or flagged
    row and every warning met while reading, checking and scoring), ``waves`` (the ordered survey
    waves to report, per survey) and ``issues`` (the invalid cells: table, row, column, reason).
    ``costs`` holds the config's cost lines costed in its price year
    (:func:`outcomes.economics.cost_table`; None without ``costs``), costed once here so that
    a line that cannot be costed stops the build with the other problems.
    ``survey_scores`` holds the scores each survey's check computed (survey -> instrument ->
    score columns, indexed like the table) and ``survey_issues`` what that scoring flagged that
    the table still has (survey -> its first instrument -> issues; cells set to missing are
    gone), so the sections score no survey a second time (:func:`scored_survey`).
    """

    config: EvaluationConfig
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    responses: dict[str, pd.DataFrame] = field(default_factory=dict)
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    accounting: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ACCOUNTING))
    quality: QualityRecord = field(default_factory=QualityRecord)
    waves: dict[str, list[str]] = field(default_factory=dict)
    #: invalid cells found (table, row, column, reason; never the values: they could identify)
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    survey_scores: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    survey_issues: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    costs: pd.DataFrame | None = None
    #: per table, the columns it has with no value in any row, set aside as not recorded
    #: (the referrals' contact dates: :data:`CONTACT_DATES`)
    empty_columns: dict[str, list[str]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.tables and len(self.tables[name]) > 0


def _read_store(cfg: EvaluationConfig, problems: list[str], hashes: dict[str, str]) -> dict:
    """The tables named in the config, read from the evaluation store; each table's hash is
    the SHA-256 of the SHA-256s of the files imported into it (its provenance, in order)."""
    from ..store import open as open_store

    out: dict[str, pd.DataFrame] = {}
    path = cfg.store_path
    if not path.is_file():
        problems.append(f"store: file not found: {path}")
        return out
    with open_store(path) as st:
        imports = st.imports()
        for label, where in cfg.input_files().items():
            table, _, inst = label.partition(":")
            name = where.name
            try:
                if table == "responses":
                    df = st.table("responses", instrument=name)
                    stored = f"responses__{name}"
                else:
                    df = st.table(name)
                    stored = name
            except OutcomesError as e:
                problems.append(f"{label}: {e}")
                continue
            if table != "responses" and name != table:
                problems.append(f"{label}: names store table {name!r}; it must be {table!r}")
                continue
            held = imports[imports["stored_as"] == stored]
            digest = hashlib.sha256("".join(held.get("sha256", pd.Series(dtype=str))).encode())
            hashes[label] = digest.hexdigest()
            out[label] = df.drop(columns=[c for c in df.columns if c.startswith("_")])
    return out


def _read_all(
    cfg: EvaluationConfig, problems: list[str], hashes: dict[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    raw: dict[str, pd.DataFrame] = {}
    tables = _read_store(cfg, problems, hashes if hashes is not None else {}) if cfg.store else {}
    for label, path in cfg.input_files().items():
        if cfg.store:
            if label not in tables:
                continue
            df = tables[label]
        elif not path.is_file():
            problems.append(f"{label}: file not found: {path}")
            continue
        else:
            try:
                df = read_table(path)
            except OutcomesError as e:
                problems.append(f"{label}: {e}")
                continue
        kind = "responses" if label.startswith("responses:") else label
        required = REQUIRED[kind]
        if kind == "referrals" and cfg.site_kind != "school":
            required = (*required, cfg.site_column)  # a programme without schools names sites
        missing = [c for c in required if c not in df.columns]
        if missing:
            problems += [
                f"{label} ({path.name}): required {unknown('column', c, list(df.columns))}"
                for c in missing
            ]
            continue
        if df.empty:
            problems.append(f"{label} ({path.name}): the file has no rows")
            continue
        raw[label] = df.reset_index(drop=True)
    return raw


def _instrument(inst_id: str, where: str, problems: list[str]) -> Instrument | None:
    """The named instrument, or a problem with a did-you-mean among the bundled ones."""
    try:
        return load_instrument(inst_id)
    except OutcomesError as e:
        if Path(inst_id).suffix.lower() in (".yaml", ".yml"):
            problems.append(f"{where}: {e}")
        else:
            problems.append(
                f"{where}: {unknown('instrument', inst_id, list_instruments())} "
                "(bundled instruments; for your own, give the path of its YAML file)"
            )
        return None


def _read_date_columns(label: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table with its date columns read once, by the one date reader (so every section sees
    the same days), and the bad date cells. Referrals are left to :func:`prepare_referrals`,
    which reads and checks them by the same rules."""
    if label == "referrals":
        return df, combine([])
    read = {c: read_dates(df[c], column=c) for c in df.columns if is_date_column(c)}
    if not read:
        return df, combine([])
    out = df.assign(**{c: got.values for c, got in read.items()})  # one new frame, not one a column
    return out, combine([got.issues for got in read.values()])


def _pseudonymise(df: pd.DataFrame, pseudonymiser: Pseudonymiser) -> pd.DataFrame:
    cols = [c for c in ID_COLUMNS if c in df.columns]
    if not cols:
        return df
    out = pseudonymiser(df, cols)
    # Without the record of what was pseudonymised (every id column of every table, by one
    # keyed pseudonymiser, by construction): pandas deep-copies a frame's attrs into every
    # column and frame taken from it, thousands of times in a report build.
    out.attrs = df.attrs
    return out


def _age_band(age: pd.Series) -> pd.Series:
    # on an array: a masked set on an object Series cost more than the comparisons
    a = pd.to_numeric(age, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = np.full(len(a), pd.NA, dtype=object)
    with np.errstate(invalid="ignore"):
        for lo, hi, label in AGE_BANDS:
            out[(a >= lo) & (a < hi)] = label
    return pd.Series(out, index=age.index, dtype="object")


_NO_ISSUES = pd.DataFrame(columns=ISSUE_COLUMNS)


class _Pass:
    """The one checked pass over every table: problems (stop), flags, accounting, quality."""

    def __init__(self, cfg: EvaluationConfig):
        self.cfg = cfg
        self.stop = cfg.invalid_cells == "stop"
        self.problems: list[str] = []
        self.accounting: list[dict] = []
        self.quality = QualityRecord()
        self.cells: list[pd.DataFrame] = []

    def invalid_cells(
        self, label: str, issues: pd.DataFrame, kind: str = "invalid cell(s)"
    ) -> pd.DataFrame:
        """Record a table's cell issues; return the errors (cells to treat as missing)."""
        if issues is None or not len(issues):
            return _NO_ISSUES.copy()  # a copy of one empty table: building one took longer
        sev = issues["severity"] if "severity" in issues else pd.Series("error", issues.index)
        for reason, grp in issues[sev == "warning"].groupby("reason", sort=False):
            self.quality.add(
                "inputs", str(reason), where=label, rows=grp["row"].nunique(), action="kept",
                warn=False,
            )  # fmt: skip
        errs = issues[sev == "error"]
        if not len(errs):
            return errs
        self.cells.append(errs.assign(table=label))
        if self.stop:
            first = errs.head(5)
            listed = "; ".join(
                f"row {r.row} column {r.column} value {r.value!r}: {r.reason}"
                for r in first.itertuples()
            )
            more = f" (and {len(errs) - 5} more)" if len(errs) > 5 else ""
            self.problems.append(f"{label}: {len(errs)} {kind}: {listed}{more}")
        else:
            for reason, grp in errs.groupby("reason", sort=False):
                self.quality.add(
                    "inputs",
                    f"{len(grp)} {kind}: {reason}",
                    where=label,
                    rows=grp["row"].nunique(),
                    action="rows kept; the cells were treated as missing (invalid_cells: flag)",
                    warn=False,
                )
        return errs

    def account(self, label: str, rows_read: int, excluded: dict[str, int] | None = None) -> None:
        """Accounting rows of one table, as a flow: one row per reason rows were excluded, each
        starting from the rows the previous one kept (one row when none was excluded), so every
        row satisfies ``rows_read == rows_used + rows_excluded``."""
        excluded = {r: n for r, n in (excluded or {}).items() if n}
        if not excluded:
            excluded = {"": 0}
        left = rows_read
        for reason, n in excluded.items():
            self.accounting.append(
                {"table": label, "rows_read": left, "rows_used": left - n,
                 "rows_excluded": n, "reason": reason}
            )  # fmt: skip
            left -= n
            if n:
                self.quality.add(
                    "inputs", reason, where=label, rows=n, action="excluded", warn=False
                )


def _blank(df: pd.DataFrame, errs: pd.DataFrame) -> pd.DataFrame:
    """The table with its invalid cells set to missing (what scoring did with them)."""
    if not len(errs):
        return df
    out = df.copy()
    for column, grp in errs.groupby("column", sort=False):
        if column in out.columns:
            if out[column].dtype.kind in "biu":
                out[column] = out[column].astype("float")
            out.loc[out.index.isin(grp["row"]), column] = np.nan
    return out


def _excluded_by_reason(issues: pd.DataFrame, dropped: pd.Index) -> dict[str, int]:
    """Excluded rows counted once each, under the first error found on the row."""
    errs = issues[(issues["severity"] == "error") & issues["row"].isin(dropped)]
    first = errs.drop_duplicates("row", keep="first")
    return first["reason"].value_counts(sort=False).to_dict()


def _cost_lines(cfg: EvaluationConfig) -> pd.DataFrame:
    """The config's cost lines and those of its cost table, as one table."""
    frames = [pd.DataFrame(cfg.costs.lines)] if cfg.costs.lines else []
    if cfg.costs.table:
        frames.append(read_table(cfg.path(cfg.costs.table)))
    return pd.concat(frames, ignore_index=True)


def _costed(cfg: EvaluationConfig, problems: list[str]) -> pd.DataFrame | None:
    """The config's cost lines costed in its price year, or None (no costs in the config, or
    a line that cannot be costed: then a problem says why)."""
    from ..economics import cost_table

    c = cfg.costs
    if c is None:
        return None
    try:
        return cost_table(
            _cost_lines(cfg), price_year=c.price_year, price_index=c.price_index or None
        )
    except OutcomesError as e:
        problems.append(f"costs: {e}")
        return None


def load_inputs(cfg: EvaluationConfig) -> Inputs:
    """Read, check, pseudonymise and score every table named in the config, once.

    Every name in the config is matched against the data (:mod:`outcomes.report.checks`), and
    every cell and row is checked. All problems in all tables are collected first; any problem
    in the config's names, and (with ``invalid_cells: stop``, the default) any invalid cell or
    referral row, raises :class:`ConfigError` listing them all, before any analysis runs. With
    ``invalid_cells: flag`` invalid cells are treated as missing and bad referral rows excluded,
    each counted in ``accounting`` and noted in ``quality``.

    Example:
        >>> from outcomes.report import load_config
        >>> inputs = load_inputs(load_config("examples/demo_evaluation.yaml"))  # doctest: +SKIP
        >>> inputs.waves["staff_survey"]  # doctest: +SKIP
        ['baseline', '12m']
    """
    run = _Pass(cfg)
    problems = run.problems
    inputs = Inputs(cfg)
    raw = _read_all(cfg, problems, inputs.hashes)
    files = cfg.input_files()
    if not cfg.store:
        for label, path in files.items():
            if path.is_file():
                inputs.hashes[label] = sha256(path)

    for inst_id in cfg.tables.responses:
        inst = _instrument(inst_id, f"responses:{inst_id}", problems)
        if inst is not None:
            inputs.instruments[inst_id] = inst
    needed = {
        "school_survey": (cfg.school_survey.sdq_instrument, "swemwbs"),
        "primary_survey": (cfg.school_survey.primary_instrument,),
        "staff_survey": (cfg.staff_survey.instrument,),
    }
    for table, ids in needed.items():
        if files.get(table) is not None:
            for inst_id in ids:
                _instrument(inst_id, table, problems)
    problems += check_names(cfg, raw)
    inputs.costs = _costed(cfg, problems)
    other_person: dict[str, pd.Series] = {}  # table -> its rows naming another's referral
    for label, links in referral_links(raw).items():
        for what, (rows, named) in links.items():
            if run.stop:
                problems += [f"{label}: {p}" for p in named]
            elif what == UNKNOWN_REFERRAL:
                # the ids stay behind: the quality notes are published
                run.quality.add(
                    "inputs", what, where=label, rows=int(rows.sum()), warn=False,
                    action="rows kept; they pair with no referral (invalid_cells: flag)",
                )  # fmt: skip
            else:
                # Kept, such a row would be paired with the referral of another child and
                # given that child's demographics; excluded, it is counted in the accounting.
                other_person[label] = rows

    # One pseudonymiser for every table: the same children are in many tables, and each
    # distinct id is hashed once for the whole build.
    pseudonymiser = Pseudonymiser(key=os.environ.get(cfg.pseudonymisation.key_env) or new_key())

    def prepared(label: str, df: pd.DataFrame) -> pd.DataFrame:
        df = _pseudonymise(df, pseudonymiser)
        if "school_id" in df.columns:
            # as the input check compared them (trimmed text; 3.0 is 3): a school the check
            # found listed is then found in the schools table by every section, whether the
            # tables came from CSV (text) or Parquet (numbers, floats after a blank)
            df = df.assign(school_id=id_text(df["school_id"]))
        if "age" in df.columns and "age_band" not in df.columns:
            df = df.assign(age_band=_age_band(df["age"]))
        if label.startswith("responses:") and "instrument" not in df.columns:
            df = df.assign(instrument=label.split(":", 1)[1])
        if label != "referrals":  # prepare_referrals reads the referral dates
            df, bad_dates = _read_date_columns(label, df)
            run.invalid_cells(label, bad_dates, kind="cell(s) that are not dates")
        return df

    checked: dict[str, pd.DataFrame] = {}
    excluded: dict[str, dict[str, int]] = {}  # table -> reason -> rows

    def checked_table(label: str, df: pd.DataFrame) -> pd.DataFrame | None:
        df = prepared(label, df)
        if label.startswith("responses:"):
            inst_id = label.split(":", 1)[1]
            if inst_id not in inputs.instruments:
                return None
            if label in other_person:
                excluded[label] = {OTHER_PERSON: int(other_person[label].sum())}
                df = df.loc[~other_person[label].to_numpy()]
                if df.empty:  # every row counted as excluded: nothing to score (an empty
                    # table is refused by the scorer, a stop under invalid_cells: flag)
                    return df
            # score with errors="flag" runs exactly the checks of oc.validate and records them
            try:
                scored = score(df, inputs.instruments[inst_id], errors="flag")
            except InvalidResponsesError as e:
                problems.append(f"{label}: {e}")
                return None
            errs = run.invalid_cells(label, scored.attrs["issues"])
            # The scores treat invalid cells as missing; so does the table the sections read.
            df = df if run.stop else _blank(df, errs)
            inputs.responses[inst_id], inputs.scores[inst_id] = df, scored
        elif label in ("school_survey", "primary_survey", "staff_survey"):
            df = _checked_survey(cfg, label, df, run, inputs)
            if df is None:
                return None
            if pd.api.types.is_integer_dtype(df["wave"]):
                # waves named 1, 2 are labels, as in the config: a numeric wave column was
                # refused where a table of them is published ("neither counts nor declared")
                df = df.assign(wave=df["wave"].astype(str))
            wave = df["wave"].astype(str).str.strip()
            section = "school_survey" if label == "primary_survey" else label  # its waves
            dropped = wave.isin(getattr(cfg, section).exclude_waves)
            if dropped.any():
                counts = wave[dropped].value_counts(sort=False)
                excluded[label] = {
                    f"wave {w!r} left out (exclude_waves)": int(n) for w, n in counts.items()
                }
                df = df.loc[~dropped]
        return df

    for label, df in raw.items():
        if label == "referrals":
            continue
        # Warnings met while checking and scoring are kept in the quality record, not lost.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = checked_table(label, df)
        run.quality.capture("inputs", caught, where=label)
        if out is not None:
            checked[label] = out

    if "referrals" in raw:
        ref = prepared("referrals", raw["referrals"])
        # A contact date column with no date in it cannot tell "not recorded" from "none
        # yet": read as it is, every child would be published as still waiting. It is set
        # aside, and the report treats it as not recorded, saying it was present but empty.
        inputs.empty_columns["referrals"] = empty = empty_date_columns(ref, CONTACT_DATES)
        ref = ref.drop(columns=empty)
        errors = "raise" if run.stop else "flag"
        try:
            # Validated here once; the checked table is marked so that the service functions
            # the sections call do not check it again (outcomes.service.prepare_referrals).
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = prepare_referrals(ref, as_of=cfg.extract_date, errors=errors)
            run.quality.capture("inputs", caught, where="referrals")
            issues = out.attrs.get("issues")
            if issues is not None and len(issues):
                warn_rows = issues[issues["severity"] == "warning"]
                run.invalid_cells("referrals", warn_rows)
                errs = issues[issues["severity"] == "error"]
                if len(errs):
                    run.cells.append(errs.assign(table="referrals"))
            dropped = ref.index.difference(out.index)
            excluded["referrals"] = _excluded_by_reason(
                issues if issues is not None else pd.DataFrame(columns=ISSUE_COLUMNS), dropped
            )
            checked["referrals"] = out
        except InvalidResponsesError as e:
            problems.append(f"referrals: {str(e).splitlines()[0]}")
            for r in e.issues[e.issues["severity"] == "error"].head(10).itertuples():
                problems.append(f"referrals: row {r.row} column {r.column}: {r.reason}")
        except OutcomesError as e:
            problems.append(f"referrals: {e}")
    if problems:
        raise ConfigError(problems, str(cfg.source or "config"))

    for label, df in raw.items():
        if label in checked:
            run.account(label, len(df), excluded.get(label))
            if not label.startswith("responses:"):
                inputs.tables[label] = checked[label]
    inputs.accounting = pd.DataFrame(run.accounting, columns=list(ACCOUNTING))
    inputs.quality = run.quality
    inputs.waves = resolve_waves(cfg, raw)
    if run.cells:
        # Row labels and reasons only: values could identify someone, so they stay behind.
        iss = pd.concat(run.cells, ignore_index=True)
        inputs.issues = iss[[c for c in ("table", "row", "column", "reason") if c in iss.columns]]
    _attach_demographics(inputs)
    return inputs


def _checked_survey(
    cfg: EvaluationConfig, label: str, df: pd.DataFrame, run: _Pass, inputs: Inputs
) -> pd.DataFrame | None:
    """A survey table with every questionnaire cell checked by scoring it (errors="flag").

    Invalid cells stop the build, or (``invalid_cells: flag``) are counted and set to missing
    in the table itself, so every later reader of the table meets the same cells. The school
    and primary surveys' scores are kept in ``inputs`` for the sections (scored once).
    """
    if label == "school_survey":
        sc = cfg.school_survey
        jobs = [(sc.sdq_instrument, None)]
        swemwbs = {f"{sc.swemwbs_prefix}q{i}": f"q{i}" for i in range(1, 8)}
        if all(c in df.columns for c in swemwbs):
            jobs.append(("swemwbs", swemwbs))
    elif label == "primary_survey":
        jobs = [(cfg.school_survey.primary_instrument, None)]
    else:
        jobs = [(cfg.staff_survey.instrument, None)]
    all_errs, scores, issues = [], {}, []
    for inst_id, columns in jobs:
        try:
            scored = score(df, inst_id, columns=columns, errors="flag", keep=[])
        except OutcomesError as e:
            run.problems.append(f"{label}: {e}")
            return None
        issues.append(scored.attrs["issues"])
        all_errs.append(run.invalid_cells(label, scored.attrs["issues"]))
        scored.attrs = {}
        scores[inst_id] = scored
    errs = pd.concat(all_errs, ignore_index=True) if all_errs else None
    blank = errs is not None and not run.stop
    if label != "staff_survey":  # the staff survey's sections read its items, not scores
        inputs.survey_scores[label] = scores
        # the first instrument's issues as scoring the table the sections read would find
        # them: cells set to missing here are no longer invalid there
        first = issues[0]
        if blank and len(first) and len(errs):
            gone = pd.MultiIndex.from_frame(errs[["row", "column"]])
            left = ~pd.MultiIndex.from_frame(first[["row", "column"]]).isin(gone)
            left |= ~first["column"].isin(df.columns).to_numpy()
            first = first[left | (first["severity"] != "error").to_numpy()]
        inputs.survey_issues[label] = {jobs[0][0]: first}
    return _blank(df, errs) if blank else df


def scored_survey(
    inputs: Inputs,
    label: str,
    table: pd.DataFrame,
    instrument: str,
    columns: dict[str, str] | None = None,
    keep: list[str] | None = None,
) -> pd.DataFrame:
    """``score(table, instrument, columns=columns, errors="flag", keep=keep)`` for a survey
    table of ``inputs``, from the scores its input check computed when it kept them.

    Scoring a cell the check set to missing gives what scoring the invalid cell as missing
    gave, so the result is the same; ``attrs["issues"]`` is what the check flagged that the
    table still has. ``table`` may be the survey with rows left out (waves). The scores are
    handed over once: kept beside the frame returned they would double its memory (115 MB of
    SDQ scores on a million pupils), and a second caller scores the table itself.
    """
    scores = inputs.survey_scores.get(label, {}).pop(instrument, None)
    issues = inputs.survey_issues.get(label, {}).pop(instrument, None)
    if scores is None:
        return score(table, instrument, columns=columns, errors="flag", keep=keep)
    if keep is None:  # score()'s default: every column that is not an item's source
        sources = set(_resolve_columns(table, load_instrument(instrument), columns).values())
        keep = [c for c in table.columns if c not in sources]
    if set(keep) & set(scores.columns):  # score() refuses the clash; let it say so
        return score(table, instrument, columns=columns, errors="flag", keep=keep)
    if not scores.index.equals(table.index):
        scores = scores.loc[table.index]
    out = pd.concat([table[keep], scores], axis=1) if keep else scores.copy(deep=False)
    out.attrs["instrument"] = instrument
    if issues is not None:
        out.attrs["issues"] = issues[issues["row"].isin(table.index)]
    return out


def _attach_demographics(inputs: Inputs) -> None:
    """Give each score row the child's demographics from the referrals table (for equity)."""
    if "referrals" not in inputs.tables:
        return
    ref = inputs.tables["referrals"]
    demo_cols = [
        c
        for c in (*inputs.config.subgroups, inputs.config.site_column)
        if c in ref.columns and c != "person_id"
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
            inputs.scores[inst_id] = _with_person_columns(sc, per_person[add])


def _with_person_columns(sc: pd.DataFrame, per_person: pd.DataFrame) -> pd.DataFrame:
    """``sc.join(per_person, on="person_id")`` (a person not in ``per_person`` gets missing
    values), keeping ``sc.attrs``. ``per_person``'s index is unique, so each row is looked
    up in it: join's merge took about twice as long on the demo's ten score tables."""
    got = per_person.reindex(sc["person_id"].to_numpy())
    got.index = sc.index
    out = pd.concat([sc, got], axis=1)
    out.attrs = sc.attrs
    return out


def subgroup_columns(df: pd.DataFrame, wanted: list[str]) -> list[str]:
    """The configured subgroup columns that exist and have at least two values."""
    return [c for c in wanted if c in df.columns and df[c].nunique(dropna=True) >= 2]


def is_empty(x: object) -> bool:
    return (
        x is None
        or (isinstance(x, pd.DataFrame) and x.empty)
        or (isinstance(x, np.ndarray) and x.size == 0)
    )
