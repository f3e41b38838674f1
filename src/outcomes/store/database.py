"""The evaluation store: one DuckDB file holding every year's imports, with their provenance.

Each year a programme receives new exports (school survey waves, referrals, questionnaire
responses). Importing them into the store keeps one checked, pseudonymised copy of every
record and a provenance row for every import: the file's name and SHA-256, when, from which
platform, how many rows were read, added and recognised as duplicates, the instrument version
and the package version. Importing the same file twice adds nothing and says so. A record that
arrives again through a different file (same key, see :mod:`outcomes.store.tables`) is kept
once according to a declared rule: ``keep_first`` (default), ``replace`` or ``error``.

Everything an import writes happens in one transaction: an import that fails leaves the
store as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._internal.params import OPTIONAL_TEXT, TEXT, WAVE_LABEL, ArrayLike, Options, validate_params
from .._internal.sql import ident
from .._internal.text import unknown
from .._internal.waves import order_waves
from .._version import __version__
from ..errors import DataStructureError, OutcomesError
from .tables import DEDUP_RULES, KINDS, kind, stored_name

__all__ = ["ImportSummary", "Store", "StoreError", "open"]

STORE_ENV = "OUTCOMES_STORE"
_IMPORTS = "_imports"
_IMPORT_COLUMNS = (
    "import_id", "table_name", "stored_as", "wave", "file_name", "sha256", "imported_at",
    "platform", "instrument", "instrument_version", "rows_read", "rows_added",
    "rows_duplicate", "rows_replaced", "dedup_rule", "package_version",
)  # fmt: skip


class StoreError(OutcomesError):
    """The store cannot take an import or answer a question; the message says why."""


@dataclass(frozen=True)
class ImportSummary:
    """What one import did."""

    import_id: int | None
    table: str
    wave: str | None
    rows_read: int
    rows_added: int
    rows_duplicate: int
    rows_replaced: int
    already_imported: bool
    message: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Store:
    """An evaluation store backed by a DuckDB file (see :func:`open`)."""

    @validate_params(
        {
            "path": "path",
        }
    )
    def __init__(self, path: str | Path):
        import duckdb  # only the store needs the database engine

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as e:
            raise StoreError(f"{self.path}: cannot be opened as an evaluation store: {e}") from None
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {_IMPORTS} (import_id INTEGER, table_name VARCHAR, "
            "stored_as VARCHAR, wave VARCHAR, file_name VARCHAR, sha256 VARCHAR, "
            "imported_at TIMESTAMP, platform VARCHAR, instrument VARCHAR, "
            "instrument_version VARCHAR, rows_read INTEGER, rows_added INTEGER, "
            "rows_duplicate INTEGER, rows_replaced INTEGER, dedup_rule VARCHAR, "
            "package_version VARCHAR)"
        )

    # ------------------------------------------------------------------ housekeeping
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        return sorted(r[0] for r in rows if r[0] != _IMPORTS)

    def _columns(self, table: str) -> dict[str, str]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return dict(rows)

    # ------------------------------------------------------------------ import
    @validate_params(
        {
            "path": "path",
            "table": Options(str, set(KINDS)),
            "wave": WAVE_LABEL,
            "instrument": OPTIONAL_TEXT,
            "platform": OPTIONAL_TEXT,
            "on_duplicate": Options(str, set(DEDUP_RULES)),
            "key": [str, bytes, None],
            "key_file": ["path", None],
        }
    )
    def import_file(
        self,
        path: str | Path,
        *,
        table: str,
        wave: str | None = None,
        instrument: str | None = None,
        platform: str | None = None,
        on_duplicate: str = "keep_first",
        key: str | bytes | None = None,
        key_file: str | os.PathLike | None = None,
    ) -> ImportSummary:
        """Import one file into ``table`` (``school_survey``, ``primary_survey``,
        ``staff_survey``, ``referrals``, ``schools`` or ``responses``).

        ``platform`` (``redcap``, ``qualtrics``, ``odk``, ``spss``, ``msforms``, ``csv`` or
        ``auto``) reads a survey platform's export of ``instrument`` through
        :func:`outcomes.forms.read_export`; otherwise the file is a plain table (CSV, Excel,
        Parquet). Identifier columns are pseudonymised with the key (argument, key file or
        ``OUTCOMES_PSEUDONYM_KEY``): a store keeps links across years, so a key is required.
        """
        from ..privacy import pseudonymise

        spec = kind(table)
        if on_duplicate not in DEDUP_RULES:
            raise StoreError(f"on_duplicate: {unknown('rule', on_duplicate, DEDUP_RULES)}")
        if table == "responses" and not instrument:
            raise StoreError("responses: say which instrument the file holds (instrument=...)")
        p = Path(path)
        if not p.is_file():
            raise StoreError(f"{p}: no such file")
        digest = _sha256(p)
        stored = stored_name(table, instrument)
        wave_key = "" if wave is None else str(wave)
        seen = self.con.execute(
            f"SELECT import_id, imported_at FROM {_IMPORTS} WHERE sha256 = ? AND stored_as = ? "
            "AND coalesce(wave, '') = ?",
            [digest, stored, wave_key],
        ).fetchone()
        if seen:
            msg = (
                f"{p.name} was already imported into {stored} as import {seen[0]} on "
                f"{seen[1]:%Y-%m-%d %H:%M}; nothing added"
            )
            return ImportSummary(seen[0], table, wave, 0, 0, 0, 0, True, msg)

        data, version = self._read(p, table, instrument, platform)
        rows_read = len(data)
        missing = [c for c in spec.required if c not in data.columns]
        if missing:
            raise DataStructureError(
                f"{p.name}: a {table} table needs column(s) {missing}; "
                + unknown("column", missing[0], data.columns).split("; ", 1)[1]
            )
        data = self._with_wave(data, wave, spec.needs_wave, p.name)
        if table == "responses":
            data["instrument"] = instrument
        ids = [c for c in spec.ids if c in data.columns]
        if ids:
            data = pseudonymise(data, ids, key=key, key_file=key_file)
        keycols = [c for c in spec.key if c in data.columns]
        if table == "staff_survey" and "respondent_id" not in data.columns:
            keycols = []  # anonymous staff surveys: every row is a separate respondent
        if keycols:
            dup = data.duplicated(keycols, keep=False)
            if dup.any():
                first = data.loc[dup, keycols].head(5).to_dict("records")
                raise StoreError(
                    f"{p.name}: {int(dup.sum())} rows share a key {keycols} within the file "
                    f"(e.g. {first}); the file itself holds duplicates, fix it first"
                )
        self.con.execute("BEGIN TRANSACTION")
        try:
            import_id = self._next_id()
            data = data.assign(_import_id=import_id)
            n_dup, n_rep, data = self._dedup(stored, data, keycols, on_duplicate, p.name)
            self._insert(stored, data)
            self.con.execute(
                f"INSERT INTO {_IMPORTS} VALUES ({', '.join('?' * len(_IMPORT_COLUMNS))})",
                [import_id, table, stored, wave, p.name, digest, dt.datetime.now(), platform,
                 instrument, version, rows_read, len(data), n_dup, n_rep, on_duplicate,
                 __version__],
            )  # fmt: skip
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        msg = f"import {import_id}: {rows_read} rows read from {p.name} into {stored}"
        msg += f"{f' (wave {wave})' if wave else ''}: {len(data)} added"
        if n_dup:
            msg += f", {n_dup} already held ({on_duplicate})"
        if n_rep:
            msg += f", {n_rep} replaced"
        return ImportSummary(import_id, table, wave, rows_read, len(data), n_dup, n_rep, False, msg)

    def _read(self, p: Path, table: str, instrument: str | None, platform: str | None):
        from .. import io as oc_io

        version = None
        if instrument:
            from ..instruments import load_instrument

            inst = load_instrument(instrument)
            version = str(inst.version)
        if platform:
            from ..forms import read_export

            if not instrument:
                raise StoreError(f"{p.name}: a platform export is read for one instrument")
            data = read_export(p, instrument, platform=platform)
            data.attrs = {}
        else:
            data = oc_io.read_table(p)
        if data.columns.duplicated().any():
            raise DataStructureError(f"{p.name}: column names repeat: {list(data.columns)}")
        return data.copy(), version

    @staticmethod
    def _with_wave(data: pd.DataFrame, wave: str | None, needed: bool, name: str):
        if wave is not None:
            if "wave" in data.columns:
                held = set(data["wave"].dropna().astype(str))
                if held - {str(wave)}:
                    raise StoreError(
                        f"{name}: its wave column holds {sorted(held)}, but the import says "
                        f"wave {wave!r}; import it without a wave, or fix the column"
                    )
            return data.assign(wave=str(wave))
        if needed:
            if "wave" not in data.columns:
                raise StoreError(f"{name}: say which survey wave this is (--wave)")
            if data["wave"].isna().any():
                raise StoreError(f"{name}: {int(data['wave'].isna().sum())} rows have no wave")
            data = data.assign(wave=data["wave"].astype(str))
        return data

    def _next_id(self) -> int:
        (last,) = self.con.execute(f"SELECT coalesce(max(import_id), 0) FROM {_IMPORTS}").fetchone()
        return int(last) + 1

    def _dedup(self, stored, data, keycols, rule, name):
        if not keycols or stored not in self._tables():
            return 0, 0, data
        held_cols = self._columns(stored)
        keycols = [c for c in keycols if c in held_cols]
        if not keycols:
            return 0, 0, data
        cols = ", ".join(ident(c) for c in keycols)
        held = self.con.execute(f"SELECT DISTINCT {cols} FROM {ident(stored)}").df()
        probe = data[keycols].astype(str)
        held = held.astype(str)
        mask = pd.MultiIndex.from_frame(probe).isin(pd.MultiIndex.from_frame(held))
        n = int(mask.sum())
        if not n:
            return 0, 0, data
        if rule == "error":
            example = probe[mask].head(5).to_dict("records")
            raise StoreError(
                f"{name}: {n} record(s) are already in the store under the same key "
                f"{keycols} (e.g. {example}); choose on_duplicate='keep_first' or 'replace'"
            )
        if rule == "keep_first":
            return n, 0, data.loc[~mask]
        # replace: delete the held records that the new file supersedes
        self.con.register("_incoming_keys", probe[mask].drop_duplicates())
        cond = " AND ".join(f"CAST(t.{ident(c)} AS VARCHAR) = k.{ident(c)}" for c in keycols)
        self.con.execute(
            f"DELETE FROM {ident(stored)} t WHERE EXISTS (SELECT 1 FROM _incoming_keys k "
            f"WHERE {cond})"
        )
        self.con.unregister("_incoming_keys")
        return 0, n, data

    def _insert(self, stored: str, data: pd.DataFrame) -> None:
        frame = data.reset_index(drop=True)
        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.CategoricalDtype):
                frame[c] = frame[c].astype(object)
        # A failed statement aborts the transaction (the caller rolls back); the view is then
        # replaced by the next import's register, so it is only dropped on success.
        self.con.register("_incoming", frame)
        if stored not in self._tables():
            self.con.execute(f"CREATE TABLE {ident(stored)} AS SELECT * FROM _incoming")
            self.con.unregister("_incoming")
            return
        held = self._columns(stored)
        types = {
            row[0]: row[1]
            for row in self.con.execute("DESCRIBE SELECT * FROM _incoming").fetchall()
        }
        for col in frame.columns:
            if col not in held:
                self.con.execute(
                    f"ALTER TABLE {ident(stored)} ADD COLUMN {ident(col)} {types[col]}"
                )
        import duckdb

        try:
            self.con.execute(f"INSERT INTO {ident(stored)} BY NAME SELECT * FROM _incoming")
        except duckdb.Error as e:  # a column's type differs from what the store holds
            raise StoreError(
                f"{stored}: the new rows do not fit the columns held ({e}); "
                "check that each column holds the same kind of value as before"
            ) from None
        self.con.unregister("_incoming")

    # ------------------------------------------------------------------ reading
    @validate_params(
        {
            "table": TEXT,
            "instrument": OPTIONAL_TEXT,
            "waves": [ArrayLike(), str, None],
        }
    )
    def table(self, table: str, *, instrument: str | None = None, waves=None) -> pd.DataFrame:
        """The records held in ``table`` (responses: of ``instrument``), optionally only some
        waves. Provenance stays in the store: the ``_import_id`` column links each record to
        :meth:`imports`."""
        kind(table)
        stored = stored_name(table, instrument)
        tables = self._tables()
        if stored not in tables:
            held = (
                [t for t in tables if t.startswith("responses__")]
                if table == "responses"
                else tables
            )
            raise StoreError(f"nothing imported into {stored} yet; " + unknown(
                "table", stored, held).split("; ", 1)[1])  # fmt: skip
        out = self.con.execute(f"SELECT * FROM {ident(stored)}").df()
        if waves is not None:
            wanted = [str(w) for w in ([waves] if isinstance(waves, str) else waves)]
            present = sorted(set(out.get("wave", pd.Series(dtype=str)).dropna().astype(str)))
            for w in wanted:
                if w not in present:
                    raise StoreError(f"{stored}: " + unknown("wave", w, present))
            out = out[out["wave"].astype(str).isin(wanted)].reset_index(drop=True)
        return out

    def imports(self) -> pd.DataFrame:
        """One row per import: the provenance record."""
        return self.con.execute(f"SELECT * FROM {_IMPORTS} ORDER BY import_id").df()

    def status(self) -> pd.DataFrame:
        """What is held, by table, wave and year: ``table, wave, year, rows, imports``."""
        frames = []
        for stored in self._tables():
            cols = self._columns(stored)
            base = stored.split("__")[0]
            date = kind(base).date
            year = (
                f"CAST(year(TRY_CAST({ident(date)} AS DATE)) AS INTEGER)"
                if date and date in cols
                else "CAST(NULL AS INTEGER)"
            )
            wave = "CAST(wave AS VARCHAR)" if "wave" in cols else "CAST(NULL AS VARCHAR)"
            frames.append(
                self.con.execute(
                    f"SELECT '{stored}' AS \"table\", {wave} AS wave, {year} AS year, "
                    f"count(*) AS rows, count(DISTINCT _import_id) AS imports "
                    f"FROM {ident(stored)} GROUP BY ALL ORDER BY ALL"
                ).df()
            )
        if not frames:
            return pd.DataFrame(columns=["table", "wave", "year", "rows", "imports"])
        out = pd.concat(frames, ignore_index=True)
        # Waves in time order (baseline, 12m, 24m ...), not alphabetical.
        rank = {w: i for i, w in enumerate(order_waves(out["wave"].dropna().unique()))}
        out["_rank"] = out["wave"].map(rank)
        out = out.sort_values(["table", "_rank", "year"], kind="stable", na_position="first")
        return out.drop(columns="_rank").reset_index(drop=True)


@validate_params(
    {
        "path": ["path", None],
    }
)
def open(path: str | Path | None = None) -> Store:
    """Open (or create) an evaluation store: a DuckDB file.

    ``path`` defaults to ``$OUTCOMES_STORE`` or ``outcomes_store.duckdb`` in the working folder.

    Example:
        >>> import tempfile, pathlib, pandas as pd
        >>> import outcomes as oc
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> pd.DataFrame({"school_id": ["S1", "S2"], "phase": ["primary", "secondary"]}
        ...              ).to_csv(d / "schools.csv", index=False)
        >>> with oc.store.open(d / "eval.duckdb") as st:
        ...     print(st.import_file(d / "schools.csv", table="schools").message)
        ...     print(st.import_file(d / "schools.csv", table="schools").already_imported)
        import 1: 2 rows read from schools.csv into schools: 2 added
        True
    """
    if path is None:
        path = os.environ.get(STORE_ENV) or "outcomes_store.duckdb"
    return Store(path)
