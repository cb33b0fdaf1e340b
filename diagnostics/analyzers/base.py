"""What every delivery-log analyzer shares: the success rule in SQL, outcome classes, and the
per-event and per-run tables computed once for all of them.

Analyzers are pure: they read the canonical `attempts` table (through DuckDB, where the heavy
aggregation runs) and return Findings; only small aggregates come back to Python. `prepare`
builds derived tables on the same connection so that each expensive pass happens once:
`_events` (one lean row per endpoint and event), `_event_details` (every aggregate, for the
few events that were retried, failed, repeated or sent to several endpoints), `_runs` (islands
of consecutive failed attempts per endpoint, the gaps-and-islands query), `_failures` (the
failed attempts only, a small table), and `_endpoint_stats` / `_type_stats` (counts and latency
percentiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from diagnostics.logs.schema import AttemptTable
from diagnostics.profiles import SenderProfile

# Success is a 2xx; a null status (no response) is a failure, never "unknown".
OK = "coalesce(status_code BETWEEN 200 AND 299, false)"
# What a failed attempt looked like: the error kind when no response came, else its status.
OUTCOME = (
    f"CASE WHEN {OK} THEN '2xx' WHEN status_code IS NULL THEN coalesce(error, 'other') "
    "ELSE CAST(status_code AS VARCHAR) END"
)
HOST = "lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1))"
MAX_ROWS_IN_METRICS = 1000


@dataclass
class LogAnalysis:
    """A prepared attempt table and the sender profile that judges it."""

    conn: duckdb.DuckDBPyConnection
    profile: SenderProfile
    subject: str
    table: str = "attempts"

    @property
    def timeout_ms(self) -> float:
        return self.profile.timeout_s * 1000.0

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return its (small) result as dicts."""
        cursor = self.conn.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.conn.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None


def prepare(attempts: AttemptTable, profile: SenderProfile) -> LogAnalysis:
    """Build `_events` and `_runs` once; every analyzer reads them or `attempts`."""
    conn = attempts.conn
    timeout_ms = profile.timeout_s * 1000.0
    cutoff = f"NOT {OK} AND (error = 'timeout' OR (status_code IS NULL AND duration_ms >= {timeout_ms * 0.95}))"
    # Every event, lean (most events are one successful attempt and need nothing more).
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _events AS
        SELECT endpoint, event_id, any_value(event_type) AS event_type, count(*) AS attempts,
               count(*) FILTER (WHERE {OK}) AS successes
        FROM {attempts.name} GROUP BY endpoint, event_id"""
    )
    # The events worth a closer look: retried, failed, repeated, or sent to several endpoints.
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _event_details AS
        WITH interesting AS (
            SELECT endpoint, event_id FROM _events WHERE attempts > 1 OR successes <> 1
            UNION
            SELECT endpoint, event_id FROM _events
            WHERE event_id IN (SELECT event_id FROM _events GROUP BY event_id HAVING count(*) > 1)
        )
        SELECT *, {HOST} AS host, first_cutoff IS NOT NULL AS had_cutoff FROM (
            SELECT endpoint, event_id,
                   any_value(event_type) AS event_type,
                   any_value(url) AS url,
                   count(*) AS attempts,
                   count(*) FILTER (WHERE trigger = 'auto') AS auto_attempts,
                   coalesce(max(attempt) FILTER (WHERE trigger = 'auto'), 0) AS max_auto_attempt,
                   count(*) FILTER (WHERE {OK}) AS successes,
                   count(*) FILTER (WHERE {OK} AND trigger = 'replay') AS ok_replays,
                   count(*) FILTER (WHERE {OK} AND trigger = 'manual') AS ok_manual,
                   arg_min(trigger, attempted_at) FILTER (WHERE {OK}) AS first_ok_trigger,
                   min(attempted_at) AS first_at,
                   max(attempted_at) AS last_at,
                   min(attempted_at) FILTER (WHERE {OK}) AS first_ok,
                   max(attempted_at) FILTER (WHERE {OK}) AS last_ok,
                   min(attempted_at) FILTER (WHERE {cutoff}) AS first_cutoff
            FROM {attempts.name} SEMI JOIN interesting USING (endpoint, event_id)
            GROUP BY endpoint, event_id
        )"""
    )
    # Gaps and islands with one full sort: rank every attempt per endpoint (and note the next
    # attempt's time), then number the islands over the failed attempts only, a small set.
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _runs AS
        WITH o AS (
            SELECT endpoint, attempted_at, {OK} AS ok, {OUTCOME} AS outcome,
                   row_number() OVER w AS rn, lead(attempted_at) OVER w AS next_at
            FROM {attempts.name}
            WINDOW w AS (PARTITION BY endpoint ORDER BY attempted_at, seq)
        ),
        f AS (
            SELECT *, rn - row_number() OVER (PARTITION BY endpoint ORDER BY rn) AS island FROM o WHERE NOT ok
        ),
        per_outcome AS (
            SELECT endpoint, island, outcome, count(*) AS n,
                   min(attempted_at) AS started, max(attempted_at) AS ended,
                   min(rn) AS first_rn, max(rn) AS last_rn, arg_max_null(next_at, rn) AS next_at
            FROM f
            GROUP BY endpoint, island, outcome
        )
        SELECT endpoint, island, sum(n) AS attempts, min(started) AS started, max(ended) AS ended,
               min(first_rn) AS first_rn, arg_max_null(next_at, last_rn) AS recovered_at,
               arg_max(outcome, n) AS dominant, max(n) AS dominant_attempts,
               string_agg(outcome || ' ' || n, ', ' ORDER BY n DESC) AS outcomes
        FROM per_outcome
        GROUP BY endpoint, island
        HAVING sum(n) >= 2 OR arg_max_null(next_at, last_rn) IS NULL"""
    )
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _failures AS
        SELECT endpoint, event_id, event_type, url, attempted_at, seq, status_code, error, {OUTCOME} AS outcome
        FROM {attempts.name} WHERE NOT {OK}"""
    )
    for name, key in (("_endpoint_stats", "endpoint"), ("_type_stats", "coalesce(event_type, '(none)')")):
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE {name} AS
            SELECT {key} AS name, count(*) AS attempts, count(*) FILTER (WHERE {OK}) AS successes,
                   count(duration_ms) AS timed, quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS q,
                   count(*) FILTER (WHERE duration_ms >= {timeout_ms * 0.8}) AS near_timeout,
                   regr_slope(duration_ms, epoch(attempted_at)) * 86400 AS slope_per_day,
                   min(attempted_at) AS first_at, max(attempted_at) AS last_at
            FROM {attempts.name} GROUP BY ALL"""
        )
    return LogAnalysis(conn=conn, profile=profile, subject=attempts.subject(), table=attempts.name)


def fmt_time(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_duration(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0
