"""Benchmark: coverage over a large delivery log, catalog loading and payload validation.

Three measurements, each with a baseline run in the same process:

1. Per-type aggregates (`analyzers.event_stats.collect_log_stats`, SQL in DuckDB) over a generated
   log of `--rows` attempts, against the same aggregates computed with pandas group-bys on the
   same rows already in memory (the "pull the rows into Python" way).
2. Validating every GitHub example payload with the catalog's cached validators, against building
   a fresh validator for each payload.
3. The shape of every catalogued GitHub schema with one shared `SchemaShaper` (sub-schema cache)
   against a fresh shaper per type.
4. With --postgres-rows N (a throwaway PostgreSQL server from the Debian binaries): `run_coverage`
   aggregating inside PostgreSQL against importing the rows into DuckDB first (`pushdown=False`).

    .venv/bin/python bench/bench_coverage.py [--rows N] [--postgres-rows N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from jsonschema import validators

from diagnostics.analyzers.event_stats import collect_log_stats
from diagnostics.analyzers.event_stats_source import collect_source_stats
from diagnostics.catalog import load_catalog
from diagnostics.logs import load_attempts
from diagnostics.logs.generate import generate_log
from diagnostics.payloads import load_payload_samples
from diagnostics.pipeline.coverage import run_coverage
from diagnostics.schema_diff import SchemaShaper

GITHUB = Path(__file__).resolve().parents[2] / "shared" / "data" / "github-webhooks"  # ../shared beside the checkout
DEMO_CATALOG = Path(__file__).resolve().parent.parent / "diagnostics" / "demo_data" / "catalog.yaml"


REPEAT = 3  # the machine is shared: each figure is the best of REPEAT runs


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def pandas_aggregates(frame: Any) -> Any:
    """The baseline: the per-type numbers of event_stats, computed in pandas."""
    frame = frame.assign(ok=frame["status_code"].between(200, 299).astype(int),
                         size=frame["payload"].str.len())
    deliveries = frame.groupby(["event_type", "event_id", "endpoint"], sort=False).agg(
        attempts=("ok", "size"), ok=("ok", "max"), size=("size", "max"))
    per_type = deliveries.groupby("event_type").agg(deliveries=("ok", "size"), succeeded=("ok", "sum"),
                                                    median_size=("size", "median"))
    p95 = frame.groupby("event_type")["duration_ms"].quantile(0.95)
    pairs = frame.groupby(["endpoint", "event_type"])["event_id"].nunique()
    versions = frame.groupby(["event_type", "payload_version", "endpoint"])["event_id"].nunique()
    return per_type.join(p95), pairs, versions


def bench_log(rows: int) -> None:
    t_gen, generated = timed(lambda: generate_log(seed=3, attempts=rows))
    with tempfile.TemporaryDirectory() as tmp:
        path = generated.write(Path(tmp) / "log.parquet")
        t_load, attempts = timed(lambda: load_attempts([str(path)]))
        t_sql, stats = timed(lambda: collect_log_stats(attempts), REPEAT)
        t_pull, frame = timed(lambda: attempts.to_pandas(), REPEAT)
        t_pandas, (per_type, _pairs, _versions) = timed(lambda: pandas_aggregates(frame), REPEAT)
        attempts.conn.close()
        assert {t: s.deliveries for t, s in stats.types.items()} == per_type["deliveries"].to_dict()
        t_run, outcome = timed(lambda: run_coverage(catalog=DEMO_CATALOG, logs=[str(path)]))
    print(f"log: {rows:,} attempts requested, {stats.total_attempts:,} generated in {t_gen:.2f} s")
    print(f"  load_attempts (parquet -> DuckDB):      {t_load:8.3f} s")
    print(f"  collect_log_stats (SQL in DuckDB):      {t_sql:8.3f} s")
    print(f"  baseline: rows to pandas + group-bys:   {t_pull + t_pandas:8.3f} s "
          f"({t_pull:.3f} s transfer + {t_pandas:.3f} s group-bys)")
    print(f"  ratio baseline / SQL:                   {(t_pull + t_pandas) / t_sql:8.1f} x")
    print(f"  run_coverage end to end (demo catalog): {t_run:8.3f} s, {len(outcome.findings)} findings")


def bench_validation() -> None:
    t_catalog, catalog = timed(lambda: load_catalog(GITHUB / "payload-schemas" / "api.github.com"))
    samples = [s for s in load_payload_samples(GITHUB / "payload-examples" / "api.github.com")
               if s.event_type in catalog]

    def cached() -> int:
        return sum(1 for s in samples for _ in catalog.validator(s.event_type).iter_errors(s.payload))

    def fresh() -> int:
        errors = 0
        for s in samples:
            schema = catalog.event_types[s.event_type].latest.schema
            validator = validators.validator_for(schema)(schema, registry=catalog.registry)
            errors += sum(1 for _ in validator.iter_errors(s.payload))
        return errors

    cached()  # compile once; the timing below is the steady state a run sees after its first payload
    t_cached, n1 = timed(cached, REPEAT)
    t_fresh, n2 = timed(fresh, REPEAT)
    assert n1 == n2
    print(f"GitHub catalog: {len(catalog)} event types loaded and checked in {t_catalog:.3f} s")
    print(f"  validate {len(samples)} payloads, cached validators: {t_cached:.3f} s")
    print(f"  baseline: a fresh validator per payload:  {t_fresh:.3f} s")
    print(f"  ratio baseline / cached:                  {t_fresh / t_cached:.1f} x")

    def shared() -> int:
        shaper = SchemaShaper()
        return sum(len(shaper.shape(et.latest.schema, catalog.resolver())) for et in catalog)

    def per_type() -> int:
        return sum(len(SchemaShaper().shape(et.latest.schema, catalog.resolver())) for et in catalog)

    shared()  # warm the registry's own lookup caches before timing either way
    t_shared, paths = timed(shared, REPEAT)
    t_per_type, _ = timed(per_type, REPEAT)
    print(f"  shapes of all {len(catalog)} schemas ({paths:,} field paths), shared cache: {t_shared:.3f} s")
    print(f"  baseline: a fresh shaper per type:        {t_per_type:.3f} s "
          f"(ratio {t_per_type / t_shared:.1f} x)")


def bench_postgres(rows: int) -> None:
    from tests.support.postgres import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("PostgreSQL binaries not found: skipping the pushdown measurement")
        return
    generated = generate_log(seed=5, attempts=rows)
    server = PostgresServer(bindir)
    server.start()
    try:
        engine = sa.create_engine(server.url)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "CREATE TABLE delivery_attempts (event_id text, event_type text, endpoint text, url text, "
                "attempt int, attempted_at timestamptz, status_code int, error text, duration_ms double precision, "
                "trigger text, response_body text, payload text, payload_version text)"))
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy("COPY delivery_attempts FROM STDIN") as copy:
                for row in generated.table.to_pylist():
                    copy.write_row(list(row.values()))
            conn.execute(sa.text("ANALYZE delivery_attempts"))
        engine.dispose()
        kwargs = {"catalog": DEMO_CATALOG, "logs": [server.url], "log_options": {"table": "delivery_attempts"}}
        t_push, pushed = timed(lambda: run_coverage(**kwargs), REPEAT)
        t_import, imported = timed(lambda: run_coverage(**kwargs, pushdown=False), REPEAT)
        assert pushed.metrics["deliveries"] == imported.metrics["deliveries"]
        print(f"PostgreSQL source, {rows:,} attempts:")
        print(f"  run_coverage aggregating inside PostgreSQL:   {t_push:8.3f} s")
        print(f"  baseline: import rows into DuckDB, then SQL:  {t_import:8.3f} s")
        print(f"  ratio baseline / pushdown:                    {t_import / t_push:8.1f} x")
        stats = collect_source_stats(server.url, table="delivery_attempts")
        shipped = len(stats.types) + len(stats.pairs) + len(stats.versions) + len(stats.payloads) + 1
        print(f"  rows crossing the wire: pushdown {shipped:,} (aggregates + {len(stats.payloads):,} sampled "
              f"payloads), import {imported.metrics['attempts']:,}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-rows", type=int, default=0, help="also measure pushdown into PostgreSQL")
    args = parser.parse_args()
    bench_log(args.rows)
    if GITHUB.is_dir():
        bench_validation()
    if args.postgres_rows:
        bench_postgres(args.postgres_rows)


if __name__ == "__main__":
    main()
