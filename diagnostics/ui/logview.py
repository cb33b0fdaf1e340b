"""Queries behind the Delivery log page: filter, search and chart the loaded attempts.

Pure functions over a loaded AttemptTable (DuckDB), so the page holds no logic and a filter
change costs one SQL query over the table instead of a reload. Every value a user types is bound
as a parameter, never spliced into the SQL. Queries take a lock, so Streamlit's script threads
can share one loaded table (and its connection).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from diagnostics.logs import AttemptTable

OUTCOMES = ("success", "redirect", "http error", "no response")
BROWSE_COLUMNS = ("attempted_at", "event_id", "event_type", "endpoint", "attempt", "status_code", "error",
                  "duration_ms", "trigger", "response_body")
OUTCOME_SQL = """CASE
    WHEN status_code IS NULL THEN 'no response'
    WHEN status_code BETWEEN 200 AND 299 THEN 'success'
    WHEN status_code BETWEEN 300 AND 399 THEN 'redirect'
    ELSE 'http error' END"""
MAX_ROWS = 1000
CONNECTION_LOCK = threading.Lock()
BUCKETS = {"minute": "minute", "hour": "hour", "day": "day"}


@dataclass(frozen=True)
class LogFilters:
    """What the agent narrowed the log to; empty means "all". Hashable, so pages can cache on it."""

    search: str = ""
    endpoints: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (("endpoint", self.endpoints), ("event_type", self.event_types),
                               ("error", self.errors)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if self.outcomes:
            clauses.append(f"({OUTCOME_SQL}) IN ({', '.join('?' for _ in self.outcomes)})")
            params.extend(self.outcomes)
        if self.since is not None:
            clauses.append("attempted_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("attempted_at < ?")
            params.append(self.until)
        text = self.search.strip()
        if text:
            clauses.append(
                "(contains(lower(event_id), ?) OR contains(lower(coalesce(url, '')), ?)"
                " OR contains(lower(coalesce(response_body, '')), ?) OR CAST(status_code AS VARCHAR) = ?)"
            )
            params.extend([text.lower()] * 3 + [text])
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _query(attempts: AttemptTable, sql: str, params: list[Any]) -> pd.DataFrame:
    # The table may be a temporary view (Parquet read in place), visible only on its own
    # connection, so queries share that connection, one at a time.
    with CONNECTION_LOCK:
        return attempts.conn.execute(sql, params).df()


def facets(attempts: AttemptTable) -> dict[str, list[str]]:
    """The values each filter can take (endpoints, event types, error kinds), sorted."""
    result: dict[str, list[str]] = {}
    for column in ("endpoint", "event_type", "error"):
        frame = _query(attempts, f"SELECT DISTINCT {column} AS v FROM {attempts.name} "  # noqa: S608 (fixed names)
                                 f"WHERE {column} IS NOT NULL ORDER BY 1", [])
        result[column] = [str(v) for v in frame["v"]]
    return result


def browse(attempts: AttemptTable, filters: LogFilters, limit: int = MAX_ROWS) -> tuple[pd.DataFrame, int]:
    """The newest matching attempts (at most `limit`) and how many match in all."""
    where, params = filters.where()
    total = _query(attempts, f"SELECT count(*) AS n FROM {attempts.name}{where}", params)["n"].iloc[0]  # noqa: S608
    columns = ", ".join(BROWSE_COLUMNS)
    rows = _query(
        attempts,
        f"SELECT {columns} FROM {attempts.name}{where} ORDER BY attempted_at DESC, seq DESC LIMIT {int(limit)}",  # noqa: S608
        params,
    )
    return rows, int(total)


def attempt_series(attempts: AttemptTable, filters: LogFilters, bucket: str = "hour") -> pd.DataFrame:
    """Attempts per time bucket and outcome: columns bucket, outcome, attempts."""
    unit = BUCKETS[bucket]
    where, params = filters.where()
    return _query(
        attempts,
        f"SELECT date_trunc('{unit}', attempted_at) AS bucket, {OUTCOME_SQL} AS outcome, count(*) AS attempts "  # noqa: S608
        f"FROM {attempts.name}{where} GROUP BY ALL ORDER BY bucket",
        params,
    )


def latency_series(attempts: AttemptTable, filters: LogFilters, bucket: str = "hour") -> pd.DataFrame:
    """p50 and p95 response time per time bucket: columns bucket, stat, ms (long form for charts)."""
    unit = BUCKETS[bucket]
    where, params = filters.where()
    extra = " AND " if where else " WHERE "
    frame = _query(
        attempts,
        f"SELECT date_trunc('{unit}', attempted_at) AS bucket, "  # noqa: S608
        f"quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.95) AS p95 "
        f"FROM {attempts.name}{where}{extra}duration_ms IS NOT NULL GROUP BY ALL ORDER BY bucket",
        params,
    )
    return frame.melt(id_vars="bucket", value_vars=["p50", "p95"], var_name="stat", value_name="ms")


def suggested_bucket(attempts: AttemptTable, filters: LogFilters) -> str:
    """Minutes for a few hours of log, hours for a few days, days beyond."""
    where, params = filters.where()
    span = _query(attempts, f"SELECT max(attempted_at) - min(attempted_at) AS span FROM {attempts.name}{where}",  # noqa: S608
                  params)["span"].iloc[0]
    if span is None or pd.isna(span):
        return "hour"
    hours = pd.Timedelta(span).total_seconds() / 3600
    return "minute" if hours <= 6 else "hour" if hours <= 24 * 14 else "day"


def event_for_replay(attempts: AttemptTable, event_id: str) -> tuple[str | None, str | None]:
    """The payload and target URL of a logged event (latest attempt), for the redeliver button."""
    frame = _query(
        attempts,
        f"SELECT payload, url FROM {attempts.name} WHERE event_id = ? ORDER BY attempted_at DESC LIMIT 1",  # noqa: S608
        [event_id],
    )
    if frame.empty:
        return None, None
    payload, url = frame.iloc[0]["payload"], frame.iloc[0]["url"]
    return (None if pd.isna(payload) else str(payload)), (None if pd.isna(url) else str(url))
