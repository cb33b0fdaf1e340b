"""Benchmark: full delivery-log analysis against hand-written DuckDB SQL and idiomatic pandas.

The seeded generator (diagnostics.logs.generate) writes a Parquet log of N attempts (scenarios
planted, healthy background; payloads only up to --payloads-max rows) in a child process, so the
measuring process starts clean. Then, in one process, each variant runs --repeat times
(interleaved) and the median time and the peak resident memory while it ran are reported:

- ours:      diagnostics.pipeline.logs.analyze_logs([parquet]): validation, normalization, the
             canonical table, every analyzer, metrics and tables (the real product path);
- duckdb:    hand-written DuckDB SQL on the same file computing the same aggregates (per-endpoint
             and per-type stats with p50/p95/p99, failure groups, duplicates with causes,
             exhausted events, outage runs, 429 episodes, redirects, latency trend, ordering);
- pandas:    the same aggregates in idiomatic pandas (up to --pandas-max rows).

Targets (issue 4): ours within 1.5x of duckdb at 10M attempts with peak memory under 4 GB; a
1M-row CSV imported and analyzed in under 5 s (--csv).

    .venv/bin/python bench/bench_logs.py --sizes 1000000,3000000 --repeat 3 --csv
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb
import numpy as np
import pandas as pd

from diagnostics.config import load_config
from diagnostics.pipeline.logs import analyze_logs

TIMEOUT_MS = 15000.0
MAX_ATTEMPTS = 8


class PeakRSS:
    """Samples this process's resident memory every 20 ms while a variant runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def generate(size: int, folder: Path, payloads: bool, csv: bool) -> Path:
    """Write the log in a child process (generation memory never counts against a variant)."""
    path = folder / f"log_{size}.parquet"
    command = [sys.executable, __file__, "--generate", str(size), str(path)]
    command += ["--with-payloads"] if payloads else []
    command += ["--also-csv", str(folder / f"log_{size}.csv")] if csv else []
    subprocess.run(command, check=True)
    return path


def _generate_child(size: int, path: str, payloads: bool, csv: str | None) -> None:
    from diagnostics.logs.generate import generate_log

    log = generate_log(seed=7, attempts=size, payloads=payloads)
    log.write(path)
    if csv:
        log.write(csv)
        # The same attempts as a lean export (no payload columns), as attempt lists usually are.
        lean = replace(log, table=log.table.drop_columns(["payload", "payload_version"]))
        lean.write(csv.replace(".csv", "_lean.csv"), fmt="csv")


# ---------------------------------------------------------------------------------------------
# Hand-written DuckDB SQL: the same aggregates, straight on the Parquet file.

OK = "coalesce(status_code BETWEEN 200 AND 299, false)"
OUTCOME = (f"CASE WHEN {OK} THEN '2xx' WHEN status_code IS NULL THEN coalesce(error, 'other') "
           "ELSE CAST(status_code AS VARCHAR) END")


def duckdb_baseline(path: Path) -> dict[str, Any]:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    src = f"read_parquet('{path}', file_row_number = true)"
    out: dict[str, Any] = {}
    for key in ("endpoint", "event_type"):
        out[f"stats_{key}"] = conn.execute(
            f"""SELECT {key}, count(*), count(*) FILTER (WHERE {OK}), quantile_cont(duration_ms, [0.5, 0.95, 0.99]),
                       count(*) FILTER (WHERE duration_ms >= {TIMEOUT_MS * 0.8}),
                       regr_slope(duration_ms, epoch(attempted_at)), count(DISTINCT event_id)
                FROM {src} GROUP BY ALL"""
        ).fetchall()
    out["failure_groups"] = conn.execute(
        f"""SELECT endpoint, {OUTCOME} AS o, count(*), count(DISTINCT event_id), min(attempted_at), max(attempted_at)
            FROM {src} WHERE NOT {OK} GROUP BY ALL"""
    ).fetchall()
    conn.execute(
        f"""CREATE TEMP TABLE ev AS
            SELECT endpoint, event_id, any_value(url) AS url, count(*) FILTER (WHERE {OK}) AS ok,
                   count(*) FILTER (WHERE {OK} AND trigger = 'replay') AS ok_replay,
                   count(*) FILTER (WHERE {OK} AND trigger = 'manual') AS ok_manual,
                   arg_min(trigger, attempted_at) FILTER (WHERE {OK}) AS first_trigger,
                   min(attempted_at) FILTER (WHERE {OK}) AS first_ok,
                   min(attempted_at) FILTER (WHERE NOT {OK} AND (error = 'timeout'
                       OR (status_code IS NULL AND duration_ms >= {TIMEOUT_MS * 0.95}))) AS cutoff,
                   max(attempt) FILTER (WHERE trigger = 'auto') AS max_auto, count(*) AS attempts
            FROM {src} GROUP BY ALL"""
    )
    out["duplicates"] = conn.execute(
        """WITH h AS (SELECT event_id, regexp_extract(url, '://([^/:]+)', 1) AS host, min(endpoint) AS endpoint
                      FROM ev WHERE ok > 0 AND event_id IN (SELECT event_id FROM ev GROUP BY 1 HAVING count(*) > 1)
                      GROUP BY 1, 2 HAVING count(*) > 1)
           SELECT ev.endpoint, ev.event_id,
                  CASE WHEN ok > 1 AND ok_replay - (first_trigger = 'replay')::INT > 0 THEN 'bulk-replay'
                       WHEN ok > 1 AND ok_manual - (first_trigger = 'manual')::INT > 0 THEN 'manual-resend'
                       WHEN ok > 1 THEN 'repeated-success' WHEN cutoff < first_ok THEN 'timeout-then-success'
                       ELSE 'several-endpoints' END
           FROM ev LEFT JOIN h ON h.event_id = ev.event_id AND h.endpoint = ev.endpoint
           WHERE ok > 1 OR (ok > 0 AND cutoff < first_ok) OR h.event_id IS NOT NULL"""
    ).fetchall()
    out["exhausted"] = conn.execute(
        f"SELECT endpoint, event_id FROM ev WHERE ok = 0 AND greatest(max_auto, attempts) >= {MAX_ATTEMPTS}"
    ).fetchall()
    out["runs"] = conn.execute(
        f"""WITH o AS (SELECT endpoint, attempted_at, {OK} AS ok, {OUTCOME} AS outcome,
                              row_number() OVER w AS rn,
                              row_number() OVER (PARTITION BY endpoint, {OK}
                                                 ORDER BY attempted_at, file_row_number) AS rk,
                              lead(attempted_at) OVER w AS next_at
                       FROM {src} WINDOW w AS (PARTITION BY endpoint ORDER BY attempted_at, file_row_number)),
                 g AS (SELECT endpoint, rn - rk AS island, outcome, count(*) AS n, min(attempted_at) AS s,
                              max(attempted_at) AS e, max(rn) AS last_rn, arg_max_null(next_at, rn) AS next_at
                       FROM o WHERE NOT ok GROUP BY ALL)
            SELECT endpoint, island, sum(n), min(s), max(e), arg_max(outcome, n), arg_max_null(next_at, last_rn)
            FROM g GROUP BY ALL HAVING sum(n) >= 5"""
    ).fetchall()
    out["episodes"] = conn.execute(
        f"""WITH r AS (SELECT endpoint, attempted_at, CASE WHEN epoch(attempted_at) - epoch(lag(attempted_at)
                           OVER (PARTITION BY endpoint ORDER BY attempted_at)) < 600 THEN 0 ELSE 1 END AS starts
                       FROM {src} WHERE status_code = 429)
            SELECT endpoint, sum(starts), count(*) FROM r GROUP BY 1"""
    ).fetchall()
    out["redirects"] = conn.execute(
        f"SELECT endpoint, count(*), min(attempted_at), max(attempted_at) FROM {src} "
        "WHERE status_code BETWEEN 300 AND 399 GROUP BY 1"
    ).fetchall()
    out["ordering"] = conn.execute(
        f"""WITH p AS MATERIALIZED (
                SELECT ev.endpoint, ev.event_id, ev.first_ok, json_extract_string(payload, '$.data.id') AS r,
                       TRY_CAST(json_extract_string(payload, '$.created_at') AS TIMESTAMPTZ) AS c
                FROM {src} s JOIN ev USING (endpoint, event_id)
                WHERE s.attempt = 1 AND payload IS NOT NULL AND ev.first_ok IS NOT NULL),
                 m AS (SELECT * FROM p
                       WHERE (endpoint, r) IN (SELECT endpoint, r FROM p GROUP BY ALL HAVING count(*) > 1))
            SELECT * FROM (SELECT *, lead(first_ok) OVER (PARTITION BY endpoint, r ORDER BY c, event_id) AS nxt FROM m)
            WHERE nxt < first_ok"""
    ).fetchall()
    conn.close()
    return out


# ---------------------------------------------------------------------------------------------
# Idiomatic pandas: the same aggregates.

def pandas_baseline(path: Path) -> dict[str, Any]:
    df = pd.read_parquet(path)
    df["ok"] = df["status_code"].between(200, 299).fillna(False).astype(bool)
    df["outcome"] = np.where(df["ok"], "2xx", np.where(df["status_code"].isna(), df["error"].fillna("other"),
                                                       df["status_code"].astype("Int64").astype(str)))
    out: dict[str, Any] = {}
    for key in ("endpoint", "event_type"):
        g = df.groupby(key)
        out[f"stats_{key}"] = pd.concat([g.size(), g["ok"].sum(), g["event_id"].nunique(),
                                         g["duration_ms"].quantile([0.5, 0.95, 0.99]).unstack()], axis=1)
    failed = df[~df["ok"]]
    out["failure_groups"] = failed.groupby(["endpoint", "outcome"]).agg(
        n=("event_id", "size"), events=("event_id", "nunique"), first=("attempted_at", "min"),
        last=("attempted_at", "max"))
    df["ok_replay"] = df["ok"] & (df["trigger"] == "replay")
    df["ok_manual"] = df["ok"] & (df["trigger"] == "manual")
    df["cut"] = ~df["ok"] & ((df["error"] == "timeout") | (df["status_code"].isna()
                                                         & (df["duration_ms"] >= TIMEOUT_MS * 0.95)))
    ev = df.groupby(["endpoint", "event_id"]).agg(ok=("ok", "sum"), ok_replay=("ok_replay", "sum"),
                                                   ok_manual=("ok_manual", "sum"), attempts=("ok", "size"),
                                                   max_attempt=("attempt", "max"), url=("url", "first"))
    first_ok = df[df["ok"]].groupby(["endpoint", "event_id"])["attempted_at"].min()
    cutoff = df[df["cut"]].groupby(["endpoint", "event_id"])["attempted_at"].min()
    ev = ev.join(first_ok.rename("first_ok")).join(cutoff.rename("cutoff"))
    out["duplicates"] = ev[(ev["ok"] > 1) | ((ev["ok"] > 0) & (ev["cutoff"] < ev["first_ok"]))]
    host = ev[ev["ok"] > 0].reset_index()
    host["host"] = host["url"].str.extract(r"://([^/:]+)", expand=False)
    out["same_host"] = host[host.duplicated(["event_id", "host"], keep=False)]
    out["exhausted"] = ev[(ev["ok"] == 0) & (ev[["attempts", "max_attempt"]].max(axis=1) >= MAX_ATTEMPTS)]
    df = df.sort_values(["endpoint", "attempted_at"], kind="stable")
    df["island"] = (df["ok"] != df.groupby("endpoint")["ok"].shift()).groupby(df["endpoint"]).cumsum()
    runs = df[~df["ok"]].groupby(["endpoint", "island"]).agg(n=("ok", "size"), start=("attempted_at", "min"),
                                                           end=("attempted_at", "max"),
                                                           dominant=("outcome", lambda s: s.value_counts().index[0]))
    out["runs"] = runs[runs["n"] >= 5]
    limited = df[df["status_code"] == 429]
    gaps = limited.groupby("endpoint")["attempted_at"].diff().dt.total_seconds()
    out["episodes"] = (gaps.isna() | (gaps >= 600)).groupby(limited["endpoint"]).sum()
    out["redirects"] = df[df["status_code"].between(300, 399)].groupby("endpoint")["attempted_at"].agg(["size", "min",
                                                                                                         "max"])
    firsts = df[(df["attempt"] == 1) & df["payload"].notna()]
    if len(firsts):
        parsed = firsts["payload"].map(json.loads)
        firsts = firsts.assign(r=parsed.map(lambda p: (p.get("data") or {}).get("id")),
                               c=pd.to_datetime(parsed.map(lambda p: p.get("created_at")), utc=True))
        firsts = firsts.join(first_ok.rename("delivered"), on=["endpoint", "event_id"]).sort_values(["c", "event_id"])
        nxt = firsts.groupby(["endpoint", "r"])["delivered"].shift(-1)
        out["ordering"] = firsts[nxt < firsts["delivered"]]
    return out


# ---------------------------------------------------------------------------------------------

def ours(path: Path) -> Any:
    return analyze_logs([str(path)], config=load_config(env={}))


def release_memory() -> None:
    """Give freed heap back to the OS so one variant's leftovers do not count against the next."""
    gc.collect()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(name: str, fn: Callable[[Path], Any], path: Path) -> tuple[float, int]:
    release_memory()
    with PeakRSS() as mem:
        start = time.perf_counter()
        fn(path)
        elapsed = time.perf_counter() - start
    return elapsed, mem.peak


def run_size(size: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    payloads = size <= args.payloads_max
    csv = args.csv and size == 1_000_000
    t = time.perf_counter()
    path = generate(size, folder, payloads, csv)
    print(f"\n{size:,} attempts (payloads {'on' if payloads else 'off'}): generated in "
          f"{time.perf_counter() - t:.1f} s, parquet {path.stat().st_size / 1e6:.0f} MB", flush=True)
    variants: dict[str, Callable[[Path], Any]] = {"ours": ours, "duckdb": duckdb_baseline}
    if size <= args.pandas_max:
        variants["pandas"] = pandas_baseline
    times: dict[str, list[float]] = {k: [] for k in variants}
    peaks: dict[str, int] = dict.fromkeys(variants, 0)
    # ours and duckdb alternate; pandas (which leaves the most memory behind) runs last.
    fast = [v for v in variants if v != "pandas"]
    schedule = [fast if r % 2 == 0 else list(reversed(fast)) for r in range(args.repeat)]
    schedule += [["pandas"]] * args.repeat if "pandas" in variants else []
    for round_no, order in enumerate(schedule):
        for name in order:
            elapsed, peak = measure(name, variants[name], path)
            times[name].append(elapsed)
            peaks[name] = max(peaks[name], peak)
            print(f"  round {round_no + 1} {name:<7} {elapsed:7.2f} s  peak RSS {peak / 1e9:.2f} GB", flush=True)
    result: dict[str, Any] = {"size": size, "payloads": payloads}
    base = statistics.median(times["duckdb"])
    for name in variants:
        med = statistics.median(times[name])
        result[name] = {"median_s": round(med, 2), "ratio_to_duckdb": round(med / base, 2),
                        "peak_rss_gb": round(peaks[name] / 1e9, 2)}
    if csv:
        for label, csv_path in (("csv_1m_s", folder / f"log_{size}.csv"),
                                ("csv_1m_lean_s", folder / f"log_{size}_lean.csv")):
            release_memory()
            csv_times = [measure("csv", ours, csv_path)[0] for _ in range(args.repeat)]
            result[label] = round(statistics.median(csv_times), 2)
            print(f"  1M-row CSV {csv_path.name} ({csv_path.stat().st_size / 1e6:.0f} MB) imported and analyzed: "
                  f"{', '.join(f'{t:.2f}' for t in csv_times)} s (target < 5 s)", flush=True)
    for path_ in folder.glob(f"log_{size}[._]*"):
        path_.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000", help="comma-separated attempt counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pandas-max", type=int, default=3_000_000, help="largest size pandas runs at")
    parser.add_argument("--payloads-max", type=int, default=1_000_000, help="largest size generated with payloads")
    parser.add_argument("--csv", action="store_true", help="also time a 1M-row CSV import and analysis")
    parser.add_argument("--workdir", help="where the generated files go (default: a temp folder)")
    parser.add_argument("--generate", nargs=2, metavar=("N", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--with-payloads", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--also-csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        _generate_child(int(args.generate[0]), args.generate[1], args.with_payloads, args.also_csv)
        return
    folder = Path(args.workdir or tempfile.mkdtemp(prefix="bench-logs-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = [run_size(int(s), args, folder) for s in args.sizes.split(",")]
    print("\nsize        variant  median s  ratio  peak RSS GB")
    for r in results:
        for name in ("ours", "duckdb", "pandas"):
            if name in r:
                v = r[name]
                print(f"{r['size']:<11,} {name:<7} {v['median_s']:9.2f} {v['ratio_to_duckdb']:6.2f} "
                      f"{v['peak_rss_gb']:12.2f}")
        for label, what in (("csv_1m_s", "with payloads"), ("csv_1m_lean_s", "lean, no payloads")):
            if label in r:
                print(f"{r['size']:<11,} csv      {r[label]:9.2f}   (1M-row CSV {what}, import + analysis; "
                      "target < 5 s)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
