"""Benchmark: fleet-sized delivery logs, whole `analyze` processes against hand-written DuckDB SQL.

The cost of the analysis must grow with the rows, not with the number of endpoints (issue 9). For
each cell of a matrix of attempts x endpoints, the fleet generator (diagnostics.logs.
generate_fleet) writes a Parquet log once; then, interleaved, --repeat times each:

- ours:     `python -m diagnostics analyze FILE --format json --output OUT`, a whole process as a
            user runs it (start-up, import, validation, the canonical table, every analyzer, the
            fleet view, JSON encoding);
- duckdb:   a process running hand-written DuckDB SQL on the same file for the core aggregates
            (per-endpoint counts and latency percentiles, failure groups, duplicates, exhausted
            events, failure runs), printing row counts.

Reported per cell: median wall time of each, the ratio ours/duckdb (same run, same machine),
peak resident memory of our process, and the size of the JSON report; then flatness, the time at
the most endpoints over the time at the fewest, per attempt count. Targets: every ratio within
1.5x, flatness within 1.3x, peak memory under 4 GB at 5M attempts. `--big N` analyzes one N-row
file once (e.g. 50M: DuckDB spills past its memory limit) and reports its time and memory.

    .venv/bin/python bench/bench_fleet.py                       # 1M,5M x 20,400,10000, repeat 3
    .venv/bin/python bench/bench_fleet.py --attempts 1000000 --endpoints 20,10000 --repeat 1
    .venv/bin/python bench/bench_fleet.py --attempts 0 --big 50000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import compile_package

ROOT = Path(__file__).resolve().parent.parent
MAX_ATTEMPTS = 8  # our default schedule: a first attempt and 7 retries
TIMEOUT_MS = 15000.0
OK = "coalesce(status_code BETWEEN 200 AND 299, false)"
OUTCOME = f"CASE WHEN {OK} THEN '2xx' WHEN status_code IS NULL THEN coalesce(error, 'other') " \
          "ELSE CAST(status_code AS VARCHAR) END"


def baseline(path: str) -> None:
    """The core aggregates in hand-written DuckDB SQL (what a data engineer would write)."""
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    src = f"read_parquet('{path}', file_row_number = true)"
    counts = {}
    counts["endpoints"] = conn.execute(
        f"""SELECT endpoint, count(*), count(*) FILTER (WHERE {OK}), count(DISTINCT event_id),
                   quantile_cont(duration_ms, [0.5, 0.95, 0.99]),
                   count(*) FILTER (WHERE duration_ms >= {TIMEOUT_MS * 0.8})
            FROM {src} GROUP BY ALL"""
    ).fetchall()
    counts["failure_groups"] = conn.execute(
        f"""SELECT endpoint, {OUTCOME}, count(*), count(DISTINCT event_id), min(attempted_at), max(attempted_at)
            FROM {src} WHERE NOT {OK} GROUP BY ALL"""
    ).fetchall()
    conn.execute(
        f"""CREATE TEMP TABLE ev AS SELECT endpoint, event_id, count(*) AS attempts,
                   count(*) FILTER (WHERE {OK}) AS ok, max(attempt) AS max_attempt
            FROM {src} GROUP BY ALL"""
    )
    counts["duplicates"] = conn.execute("SELECT endpoint, event_id, ok FROM ev WHERE ok > 1").fetchall()
    counts["exhausted"] = conn.execute(
        f"SELECT endpoint, event_id FROM ev WHERE ok = 0 AND greatest(max_attempt, attempts) >= {MAX_ATTEMPTS}"
    ).fetchall()
    counts["runs"] = conn.execute(
        f"""WITH o AS (SELECT endpoint, attempted_at, {OK} AS ok, {OUTCOME} AS outcome,
                              row_number() OVER (PARTITION BY endpoint ORDER BY attempted_at, file_row_number) AS rn,
                              row_number() OVER (PARTITION BY endpoint, {OK}
                                                 ORDER BY attempted_at, file_row_number) AS rk
                       FROM {src})
            SELECT endpoint, rn - rk AS island, count(*), min(attempted_at), max(attempted_at), mode(outcome)
            FROM o WHERE NOT ok GROUP BY ALL HAVING count(*) >= 5"""
    ).fetchall()
    print({k: len(v) for k, v in counts.items()})


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: the log has failed findings, as a fleet log does
        raise SystemExit(f"{argv[1:4]} exited {code}: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return seconds, usage.ru_maxrss * 1024


def generate(folder: Path, attempts: int, endpoints: int) -> Path:
    path = folder / f"fleet_{attempts}_{endpoints}.parquet"
    if not path.exists():
        code = ("import sys; from pathlib import Path; "
                "from diagnostics.logs.generate_fleet import write_fleet_parquet; "
                f"write_fleet_parquet(Path(sys.argv[1]), attempts={attempts}, endpoints={endpoints})")
        subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, check=True)
    return path


def cell(path: Path, repeat: int, folder: Path) -> dict[str, float]:
    report = folder / f"{path.stem}.json"
    ours_argv = [sys.executable, "-m", "diagnostics", "analyze", str(path), "--format", "json", "--output", str(report)]
    duck_argv = [sys.executable, str(Path(__file__).resolve()), "--baseline", str(path)]
    ours, duck, peak = [], [], 0
    for _ in range(repeat):
        seconds, _ = run(duck_argv)
        duck.append(seconds)
        seconds, rss = run(ours_argv)
        ours.append(seconds)
        peak = max(peak, rss)
    return {"ours": statistics.median(ours), "duckdb": statistics.median(duck), "peak": peak,
            "json": report.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", default="1000000,5000000", help="comma-separated attempt counts (0: none)")
    parser.add_argument("--endpoints", default="20,400,10000", help="comma-separated endpoint counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", type=int, default=0, help="also analyze one file of this many attempts, once")
    parser.add_argument("--folder", help="where generated logs are kept (default: a temporary folder)")
    parser.add_argument("--baseline", metavar="FILE", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.baseline:
        baseline(args.baseline)
        return
    compile_package()  # as installed: bytecode written once (installed.py says why)
    with tempfile.TemporaryDirectory(prefix="bench_fleet_") as tmp:
        folder = Path(args.folder or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sizes = [int(x) for x in args.attempts.split(",") if int(x)]
        endpoint_counts = [int(x) for x in args.endpoints.split(",")]
        print("| attempts | endpoints | analyze | hand-written DuckDB | ratio | peak memory | JSON report |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        results: dict[tuple[int, int], dict[str, float]] = {}
        for attempts in sizes:
            for endpoints in endpoint_counts:
                r = results[attempts, endpoints] = cell(generate(folder, attempts, endpoints), args.repeat, folder)
                print(f"| {attempts:,} | {endpoints:,} | {r['ours']:.2f} s | {r['duckdb']:.2f} s | "
                      f"{r['ours'] / r['duckdb']:.2f}x | {r['peak'] / 2**30:.2f} GB | {r['json'] / 2**20:.2f} MB |",
                      flush=True)
        for attempts in sizes:
            few, many = results[attempts, min(endpoint_counts)], results[attempts, max(endpoint_counts)]
            print(f"flatness at {attempts:,} attempts: {max(endpoint_counts):,} endpoints take "
                  f"{many['ours'] / few['ours']:.2f}x the time of {min(endpoint_counts):,}")
        if args.big:
            path = generate(folder, args.big, 10_000)
            report = folder / "big.json"
            seconds, rss = run([sys.executable, "-m", "diagnostics", "analyze", str(path), "--format", "json",
                                "--output", str(report)])
            print(f"{args.big:,} attempts x 10,000 endpoints from Parquet: {seconds:.1f} s, "
                  f"peak memory {rss / 2**30:.2f} GB, JSON report {report.stat().st_size / 2**20:.2f} MB")


if __name__ == "__main__":
    main()
