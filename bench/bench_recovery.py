"""Benchmark: the replay plan and the reconciliation against hand-written DuckDB queries.

The recovery generator (diagnostics.recovery.generate) writes a Parquet log of about N attempts
for one endpoint (every category planted; the healthy stream sized by N) and customer records
with every reconciliation category planted. Then, in one process, each variant runs --repeat
times (interleaved) and the median is reported with the ratio ours/duckdb:

- plan ours:        diagnostics.recovery.run.replay_plan (load, plan, countdown, findings);
- plan duckdb:      one hand-written DuckDB query over the same file computing the categories;
- plan duckdb listing: the same query listing every planned event into Python (reported beside);
- reconcile ours:   diagnostics.recovery.run.reconcile_received (reading the ids file included);
- reconcile duckdb: a hand-written join of the same file with the ids read by DuckDB.
Both sides must agree on the category counts, or the benchmark stops.

Target (issue 10): ours within 2x of duckdb at 1M attempts with 100k customer ids.

    .venv/bin/python bench/bench_recovery.py --attempts 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb

from diagnostics.config import load_config
from diagnostics.profiles import BUILTIN_PROFILES
from diagnostics.recovery.generate import TARGET, generate_recovery_log, plant_received
from diagnostics.recovery.run import reconcile_received, replay_plan

PROFILE = BUILTIN_PROFILES["svix"]  # the schedule the generator uses (8 attempts)
NOT_REACHED = "('dns', 'connection_refused', 'tls', 'blocked')"


CATEGORY = f"""CASE WHEN used >= 1 AND used < {PROFILE.max_attempts} THEN 'pending'
                     WHEN latest.s IS NOT NULL THEN 'rejected'
                     WHEN latest.e IN {NOT_REACHED} THEN 'never_reached' ELSE 'ambiguous' END"""


def events_sql(path: Path, extra: str = "") -> str:
    """The per-event aggregates both plan baselines judge (`extra`: more columns for the listing)."""
    return f"""WITH ev AS (
                SELECT event_id, count(*) FILTER (WHERE status_code BETWEEN 200 AND 299) AS ok,
                       greatest(count(*) FILTER (WHERE trigger = 'auto'),
                                coalesce(max(attempt) FILTER (WHERE trigger = 'auto'), 0)) AS used,
                       {extra}arg_max({{'s': status_code, 'e': error}}, attempted_at) AS latest
                FROM read_parquet('{path}') WHERE endpoint = '{TARGET}' GROUP BY event_id)"""


def duckdb_plan(path: Path) -> dict[str, int]:
    conn = duckdb.connect()
    rows = conn.execute(
        f"{events_sql(path)} SELECT {CATEGORY} AS c, count(*) FROM ev WHERE ok = 0 GROUP BY c"
    ).fetchall()
    conn.close()
    return dict(rows)


def duckdb_plan_listing(path: Path) -> dict[str, int]:
    """The same categories with every undelivered event listed (id, category, attempts, first and
    last attempt, latest status and error) and fetched into Python, as a plan has to: what
    producing the list costs by itself, beside the count-only query of the target."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    listed = events_sql(path, "count(*) AS attempts, min(attempted_at) AS first_at, max(attempted_at) AS last_at, ")
    rows = conn.execute(
        f"""{listed}
            SELECT event_id, {CATEGORY} AS c, attempts, strftime(first_at, '%Y-%m-%dT%H:%M:%S.%fZ'),
                   strftime(last_at, '%Y-%m-%dT%H:%M:%S.%fZ'), latest.s, latest.e
            FROM ev WHERE ok = 0 ORDER BY c, first_at, event_id"""
    ).fetchall()
    conn.close()
    return dict(Counter(row[1] for row in rows))


def duckdb_reconcile(path: Path, ids: Path) -> dict[str, int]:
    conn = duckdb.connect()
    rows = conn.execute(
        f"""WITH ev AS (
                SELECT event_id, count(*) FILTER (WHERE status_code BETWEEN 200 AND 299) AS ok
                FROM read_parquet('{path}') WHERE endpoint = '{TARGET}' GROUP BY event_id),
            r AS (SELECT column0 AS event_id, count(*) AS n
                  FROM read_csv('{ids}', header = false, columns = {{'column0': 'VARCHAR'}}) GROUP BY column0)
            SELECT CASE WHEN ev.event_id IS NULL THEN 'unknown_to_us' WHEN coalesce(r.n, 0) > 1 THEN 'duplicated'
                        WHEN ev.ok = 0 AND r.n IS NULL THEN 'missed' WHEN ev.ok = 0 THEN 'processed_but_failed_here'
                        WHEN r.n IS NULL THEN 'delivered_not_recorded' ELSE 'recorded_once' END AS c, count(*)
            FROM ev FULL OUTER JOIN r ON r.event_id = ev.event_id GROUP BY c"""
    ).fetchall()
    conn.close()
    return dict(rows)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = load_config()
    # the generator writes about 466,600 / every_seconds attempts (measured: 0.3 s gives 1.56M)
    every = max(0.01, 466_600 / max(args.attempts, 1000))
    with tempfile.TemporaryDirectory() as folder:
        log = generate_recovery_log(every_seconds=every)
        path = log.write(Path(folder) / "log.parquet")
        received = plant_received(log, not_recorded=max(12, len(log.truth.delivered) // 10))
        ids = Path(folder) / "received.txt"
        ids.write_text("\n".join(received.receipts) + "\n")
        print(f"{log.table.num_rows:,} attempts, {len(received.receipts):,} customer ids", flush=True)
        runs: dict[str, list[float]] = {k: [] for k in ("plan ours", "plan duckdb", "plan duckdb listing",
                                                         "reconcile ours", "reconcile duckdb")}
        for _ in range(args.repeat):
            t, outcome = timed(lambda: replay_plan([str(path)], endpoint=TARGET, config=config, profile=PROFILE))
            runs["plan ours"].append(t)
            t, expected = timed(lambda: duckdb_plan(path))
            runs["plan duckdb"].append(t)
            totals = {k: v for k, v in outcome.metrics["plan"]["totals"].items() if v}  # type: ignore[attr-defined]
            assert totals == expected, (totals, expected)
            t, listed = timed(lambda: duckdb_plan_listing(path))
            runs["plan duckdb listing"].append(t)
            assert listed == expected, (listed, expected)
            t, rec = timed(lambda: reconcile_received([str(path)], endpoint=TARGET, received=str(ids),
                                                      config=config, profile=PROFILE))
            runs["reconcile ours"].append(t)
            t, expected = timed(lambda: duckdb_reconcile(path, ids))
            runs["reconcile duckdb"].append(t)
            got = {k: v for k, v in rec.metrics["reconciliation"]["totals"].items() if v}  # type: ignore[attr-defined]
            assert got == expected, (got, expected)
        medians = {k: statistics.median(v) for k, v in runs.items()}
        for name, value in medians.items():
            print(f"{name:18s} {value:8.3f} s")
        for what in ("plan", "reconcile"):
            print(f"{what}: ours / duckdb = {medians[what + ' ours'] / medians[what + ' duckdb']:.2f} (target <= 2)")
        print(f"plan: ours / duckdb listing every event = {medians['plan ours'] / medians['plan duckdb listing']:.2f}")


if __name__ == "__main__":
    main()
