"""The MHSDS metric on local Spark gives DuckDB's numbers (issue 19: one method, several
engines). The hand-built extract read by pandas and read inside DuckDB (its tables reach Spark
as Parquet written by DuckDB), and a 100,000-referral synthetic extract (pandas too).

Skipped only when Java is absent *outside* CI; in CI (CI=true) a missing Java fails, because
.ci/run installs it.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

import outcomes as oc
from mhsds_hand import PERIOD, build
from outcomes.mhsds.reference import BREAKDOWNS
from outcomes.synthetic.mhsds import write_extract

pytestmark = pytest.mark.spark


def _need_spark() -> None:
    java = shutil.which("java") or os.environ.get("JAVA_HOME")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        java = None
    if not java:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI must run the Spark tests: Java or pyspark is missing (.ci/run installs them)"
            )
        pytest.skip("Java runtime or pyspark absent (apt-get install -y default-jre-headless)")


def _both(ex, **kw):
    _need_spark()
    a = oc.cyp_outcome_metric(ex, engine="duckdb", **kw)
    b = oc.cyp_outcome_metric(ex, engine="spark", **kw)
    return a, b


def _same(a, b):
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_dtype=False)
    cols = ["UniqServReqID", "nhs_scale", "first_value", "last_value", "change", "class"]
    ma = a.measures[cols].sort_values(cols[:2]).reset_index(drop=True)
    mb = b.measures[cols].sort_values(cols[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ma, mb, check_dtype=False)
    ua = a.unused.groupby("reason").size()
    ub = b.unused.groupby("reason").size()
    pd.testing.assert_series_equal(ua, ub, check_dtype=False)


def test_hand_extract_spark_equals_duckdb():
    ex = oc.mhsds.read(build())
    a, b = _both(
        ex, period_start=PERIOD[0], period_end=PERIOD[1], convention="nhs", by=list(BREAKDOWNS)
    )
    _same(a, b)
    # and the hand-derived England counts (tests/test_mhsds.py) hold on Spark
    e = b.to_frame().query("breakdown == 'england' and rater == 'self'").iloc[0]
    assert (e["n_referrals"], e["n_paired"], e["n_improvement"]) == (13, 7, 6)


def test_duckdb_read_extract_on_spark(tmp_path):
    # read inside DuckDB, the tables reach Spark as Parquet written by DuckDB (never pandas):
    # the same numbers and details as DuckDB on the hand-built extract read by pandas
    _need_spark()
    write_extract(build(), tmp_path, format="csv")
    kw = dict(period_start=PERIOD[0], period_end=PERIOD[1], convention="nhs", by=list(BREAKDOWNS))
    a = oc.cyp_outcome_metric(oc.mhsds.read(build()), engine="duckdb", **kw)
    b = oc.cyp_outcome_metric(oc.mhsds.read(tmp_path, engine="duckdb"), engine="spark", **kw)
    _same(a, b)
    cols = ["UniqServReqID", "in_scope", "reason"]
    pd.testing.assert_frame_equal(a.referrals[cols], b.referrals[cols], check_dtype=False)
    # and the detail files an analyst compares are the same bytes (ids stay integers)
    a.write_details(tmp_path / "duckdb")
    b.write_details(tmp_path / "spark")
    for name in ("referrals", "measures", "unused"):
        da = (tmp_path / "duckdb" / f"{name}.csv").read_bytes()
        assert da == (tmp_path / "spark" / f"{name}.csv").read_bytes(), name


def test_synthetic_100k_spark_equals_duckdb_and_pandas():
    # issue 19's must-show: the three engines agree on a 100,000-referral synthetic extract
    # (the same extract as tests/test_mhsds.py's pandas-DuckDB comparison)
    from outcomes.synthetic.mhsds import simulate_mhsds

    ex = oc.mhsds.read(simulate_mhsds(100_000, seed=3))
    kw = dict(
        period_start="2025-04-01",
        period_end="2026-03-31",
        convention="nhs",
        by=["england", "provider"],
    )
    a, b = _both(ex, **kw)
    _same(a, b)
    _same(a, oc.cyp_outcome_metric(ex, engine="pandas", **kw))
    assert a.to_frame()["n_referrals"].iloc[0] > 30_000  # about 40% of the referrals count


def test_local_spark_heap_is_checked_and_cannot_change_once_running():
    from outcomes.errors import InvalidParameterError
    from outcomes.mhsds import engines

    # refused before any JVM starts: the message names the parameter
    for bad in ("2 GB", "", "0g", "lots", 2, True):
        with pytest.raises(InvalidParameterError, match="driver_memory"):
            engines.local_spark(driver_memory=bad)
    _need_spark()
    spark = engines.local_spark()
    running = engines._SPARK_MEMORY
    assert engines.local_spark(driver_memory=running.upper()) is spark
    assert engines.local_spark() is spark
    other = "3g" if running != "3g" else "4g"
    with pytest.raises(ValueError, match="already runs with driver_memory"):
        engines.local_spark(driver_memory=other)
