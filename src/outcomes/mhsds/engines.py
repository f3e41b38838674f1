"""Where the SQL of :mod:`outcomes.mhsds.method` runs: DuckDB (embedded, the default) or
Spark (local mode here; a Databricks or other cluster through an existing SparkSession).

An engine takes the checked extract's tables as inputs named ``in_<table>``, materialises
each step as a table (DuckDB) or a cached temporary view (Spark), and hands back pandas
frames of the steps asked for.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import pandas as pd

from .._internal.params import Pattern, validate_params
from .._internal.sql import literal
from .._internal.text import unknown

ENGINES = ("duckdb", "spark", "pandas")


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con=None):
        from .duck import connect

        self.con = con if con is not None else connect()

    def register(self, name: str, df: pd.DataFrame) -> None:
        self.con.register(name, df)

    # steps read by several later steps of the metric are tables; the rest are views that
    # DuckDB folds into their one reader. No step over every score row is a table: the metric
    # reads them once (through ``ranked``), and the ``unused`` detail table recomputes them
    # only if it is asked for, so no 10-million-row intermediate is stored
    MATERIALISED = (
        "ref",
        "teams_ok",
        "scope",
        "contact_dates",
        "referrals",
        "ranked",
        "measures",
        "per_referral",
    )

    def create(self, name: str, sql: str) -> None:
        kind = "TABLE" if name in self.MATERIALISED or name.startswith("t_") else "VIEW"
        self.con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}")

    def fetch(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def close(self) -> None:
        self.con.close()


class SparkEngine:
    """Spark SQL. Inputs go through Parquet (types survive; the same files a cluster reads).

    ``spark``: an existing ``SparkSession`` (on Databricks, the notebook's ``spark``);
    otherwise a local one is started (``local[2]``).
    """

    name = "spark"

    def __init__(self, spark=None):
        if spark is None:
            spark = spark_session()
        self.spark = spark
        self._tmp = tempfile.TemporaryDirectory(prefix="outcomes_spark_")
        self._views: list[str] = []
        self._cached: list = []

    def register(self, name: str, df: pd.DataFrame) -> None:
        path = Path(self._tmp.name) / f"{name}.parquet"
        out = df.copy()
        for c in out.columns:
            # Spark reads nanosecond timestamps poorly; microseconds are exact for dates
            if pd.api.types.is_datetime64_any_dtype(out[c]):
                out[c] = out[c].astype("datetime64[us]")
        out.to_parquet(path, index=False)
        self._read(name, path)

    def register_duckdb(self, name: str, con, sql: str) -> None:
        """``sql``'s result on the DuckDB connection ``con`` as the view ``name``: DuckDB
        writes it to Parquet itself, so a table held in DuckDB never passes through pandas
        (at 10 million score rows that was most of the driver's memory and time)."""
        path = Path(self._tmp.name) / f"{name}.parquet"
        con.execute(f"COPY ({sql}) TO {literal(path)} (FORMAT PARQUET)")
        self._read(name, path)

    def _read(self, name: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)
        self._views.append(name)

    # steps read by several later steps are cached; the rest stay lazy for Spark's optimiser.
    # Not "levels": read once, and caching it cost a second planning of its ten-way union
    # (15-20 s on the hand-built extract on a loaded 2-core machine).
    CACHED = ("referrals", "assess_l", "ranked", "measures", "per_referral")

    def create(self, name: str, sql: str) -> None:
        df = self.spark.sql(sql)
        if name in self.CACHED:
            df = df.cache()
            self._cached.append(df)
        df.createOrReplaceTempView(name)
        self._views.append(name)

    def fetch(self, sql: str) -> pd.DataFrame:
        with warnings.catch_warnings():
            # PySpark warns about pandas 3 on every conversion; the results are compared
            # with DuckDB's in the tests
            warnings.simplefilter("ignore", FutureWarning)
            sdf = self.spark.sql(sql)
            out = sdf.toPandas()
        # toPandas turns an integer column with nulls into floats (an id 11180 became 11180.0
        # in the CSV files); nullable integers keep what DuckDB gives
        for f in sdf.schema.fields:
            if f.dataType.typeName() in ("byte", "short", "integer", "long"):
                if out[f.name].dtype.kind == "f":
                    out[f.name] = out[f.name].astype("Int64")
        return out

    def close(self) -> None:
        # A session outlives a run (tests, notebooks, a cluster's session): cached steps left
        # behind filled the driver's memory run after run, and views over deleted Parquet
        # files would fail if read again.
        for df in self._cached:
            df.unpersist()
        for name in dict.fromkeys(self._views):
            self.spark.catalog.dropTempView(name)
        self._cached, self._views = [], []
        self._tmp.cleanup()


_SPARK = None


def spark_session(master: str | None = None):
    """The active SparkSession (spark-submit, Databricks), else one on ``master``, else a
    local one."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if master is None:
        return local_spark()
    return SparkSession.builder.master(master).appName("outcomes-mhsds").getOrCreate()


# Local mode runs the executor inside the driver's JVM, so the driver's settings are all there is.
LOCAL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # one partition per core, planned once: adaptive execution re-plans after every stage and
    # ran each stage as a job of its own (54 jobs for the final aggregate on the hand-built
    # extract, 14 without); measured 35% faster on the hand-built extract
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "false",
    # A task's result over 1 MB went back through the block manager: stored, then fetched by
    # the driver over the network from itself. On the 100,000-referral extract (results up to
    # ~50 MB per task) that fetch ran out of the default 1 GB heap now and then, and Spark
    # reported the OutOfMemoryError as "TaskResultLost (result lost from block manager)".
    # Handed back directly, a result never leaves the JVM.
    "spark.task.maxDirectResultSize": "1g",
    "spark.rpc.message.maxSize": "1024",
    "spark.driver.maxResultSize": "0",
}


#: the heap the shared local session was started with
_SPARK_MEMORY: str | None = None
DEFAULT_DRIVER_MEMORY = "2g"


@validate_params(
    {
        "driver_memory": [
            Pattern(r"[1-9][0-9]*[kmgt]?", "a JVM memory size such as '2g' or '512m'"),
            None,
        ]
    }
)
def local_spark(driver_memory: str | None = None):
    """A small local SparkSession shared by calls in this process (UTC, 2 cores).

    ``driver_memory`` is the JVM heap (driver and executor in local mode), ``"2g"`` unless
    given. The process's first call starts the session and decides it: a later call asking for
    another size is refused, since the running JVM cannot change its heap.
    """
    global _SPARK, _SPARK_MEMORY
    if _SPARK is not None:
        if driver_memory is not None and driver_memory.lower() != _SPARK_MEMORY:
            raise ValueError(
                f"the local Spark session already runs with driver_memory={_SPARK_MEMORY!r}; "
                f"a JVM cannot change its heap, so {driver_memory!r} cannot apply (ask for it "
                "in the process's first call, or restart Python)"
            )
        return _SPARK
    from pyspark.sql import SparkSession

    memory = (driver_memory or DEFAULT_DRIVER_MEMORY).lower()
    b = SparkSession.builder.master("local[2]").appName("outcomes-mhsds")
    for k, v in {**LOCAL_CONF, "spark.driver.memory": memory}.items():
        b = b.config(k, v)
    _SPARK = b.getOrCreate()
    _SPARK_MEMORY = memory
    _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def make_engine(engine: str, *, spark=None, con=None):
    if engine == "duckdb":
        return DuckDBEngine(con)
    if engine == "spark":
        return SparkEngine(spark)
    raise ValueError(unknown("engine", engine, ENGINES))  # pandas: see pandas_engine.run
