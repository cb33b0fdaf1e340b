"""Each construct of the portable subset gives DuckDB's answer on PostgreSQL and on Spark."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.logs.schema import connect
from tests.engines.loading import copy_to_postgres

ROWS = pa.table({
    "k": ["a", "b", "c", "d"],
    "n": pa.array([200, 503, 301, 7], pa.int64()),
    "x": [10.0, 20.0, 30.5, 41.0],
    "ts": pa.array([datetime(2026, 3, 2, 0, 0, s, 500_000, tzinfo=UTC) for s in (0, 10, 20, 40)],
                   pa.timestamp("us", tz="UTC")),
    "payload": ['{"data": {"id": "r1"}}', "not json", None, '{"data": {"id": 7}}'],
    "url": ["https://a.example.com/x", "http://B.test:8080/", "no-scheme", None],
    "t": ["1.5", "x", "2026-03-02T00:00:00Z", None],
})
CONSTRUCTS = {
    "division is fractional": "SELECT sum(n) / count(*) AS v FROM t",
    "divisor guarded by NULLIF": "SELECT max(n) / NULLIF(min(n) - min(n), 0) AS v FROM t",
    "floor as bigint": "SELECT CAST(floor(max(n) / 100) AS BIGINT) AS v FROM t",
    "json text of valid documents": "SELECT string_agg(coalesce(CASE WHEN json_valid(payload) THEN "
                                    "json_extract_string(payload, '$.data.id') END, '-'), ',' ORDER BY k) AS v FROM t",
    "regexp_extract, '' without a match": "SELECT string_agg(coalesce(lower(regexp_extract(url, "
                                          "'^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), 'NULL'), ',' ORDER BY k) "
                                          "AS v FROM t",
    "count distinct with filter": "SELECT count(DISTINCT k) FILTER (WHERE n >= 300) AS v FROM t",
    "quantile_cont": "SELECT quantile_cont(x, 0.5) AS v FROM t",
    "text and numbers": "SELECT string_agg(k || CAST(n AS VARCHAR), ' ' ORDER BY n DESC, k) AS v FROM t",
    "range window": "SELECT string_agg(CAST(r AS VARCHAR), ',' ORDER BY k) AS v FROM (SELECT k, sum(n) OVER "
                    "(ORDER BY n RANGE BETWEEN 300 PRECEDING AND CURRENT ROW) AS r FROM t) AS w",
    "epoch keeps fractions": "SELECT epoch(max(ts)) - epoch(min(ts)) AS v FROM t",
    "to_timestamp": "SELECT to_timestamp(1772409600.5) AS v",
    "success as a boolean": "SELECT count(*) FILTER (WHERE coalesce(n BETWEEN 200 AND 299, false)) AS v FROM t",
    "decimal literal division": "SELECT 3.0 * sum(n) / 7 AS v FROM t",
    "round to places": "SELECT round(100.0 * 2 / 3, 1) AS v",
    "try_cast": "SELECT count(TRY_CAST(t AS DOUBLE)) AS v FROM t",
    "contains": "SELECT count(*) FILTER (WHERE contains(lower(url), 'example')) AS v FROM t",
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return b is not None and abs(float(a) - float(b)) < 1e-6
    return a == b


@pytest.fixture(scope="module")
def duckdb_engine() -> DuckDBEngine:
    conn = connect()
    conn.register("t_arrow", ROWS)
    conn.execute("CREATE TABLE t AS SELECT * FROM t_arrow")
    return DuckDBEngine(conn, "t")


@pytest.mark.postgres
@pytest.mark.parametrize("construct", sorted(CONSTRUCTS))
def test_postgres(construct: str, duckdb_engine: DuckDBEngine, postgres_url: str) -> None:
    import sqlalchemy as sa

    from diagnostics.engines.postgres import PostgresEngine

    copy_to_postgres(postgres_url, "t", ROWS)
    engine = PostgresEngine(sa.create_engine(postgres_url), "test")
    try:
        sql = CONSTRUCTS[construct]
        assert _same(duckdb_engine.value(sql), engine.value(sql)), engine.compile(sql)
    finally:
        engine.close()


@pytest.mark.spark
def test_spark(duckdb_engine: DuckDBEngine, spark: Any) -> None:
    from diagnostics.engines.spark import SparkEngine

    spark.createDataFrame(ROWS.to_pandas()).createOrReplaceTempView("t")
    engine = SparkEngine(spark, "test")
    wrong = {c: (duckdb_engine.value(sql), engine.value(sql), engine.compile(sql)) for c, sql in CONSTRUCTS.items()
             if not _same(duckdb_engine.value(sql), engine.value(sql))}
    assert not wrong
