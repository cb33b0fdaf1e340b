"""Per-event-type aggregates over the canonical attempt table, computed in SQL where the data is.

Coverage questions are fleet-wide ("which types fired this month across all customers"), so the
counting runs as a handful of GROUP BY queries inside the engine that holds the attempts (DuckDB
for files; the same statements are plain SQL) and only aggregates and a bounded, evenly spread
sample of payloads per (type, version) come back to Python.

A *delivery* is one event to one endpoint (all its attempts); it succeeded when any attempt got a
2xx answer. Latency is over attempts with a duration; payload size is over deliveries' payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

PAYLOAD_SAMPLE_LIMIT = 200
UNTYPED = "(no event type)"


class AttemptSource(Protocol):
    """What we need from `diagnostics.logs.AttemptTable`: a DuckDB connection and a table name."""

    conn: Any
    name: str


@dataclass(frozen=True)
class TypeStats:
    """How one event type fared in the window."""

    event_type: str
    deliveries: int
    events: int
    attempts: int
    endpoints: int
    succeeded: int
    p95_ms: float | None
    median_payload_bytes: float | None
    first_seen: datetime | None
    last_seen: datetime | None

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.deliveries if self.deliveries else None


@dataclass(frozen=True)
class VersionUse:
    """Deliveries of one event type in one payload version to one endpoint."""

    event_type: str
    version: str
    endpoint: str
    deliveries: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class LoggedPayload:
    """One event's payload as logged (the text as stored, not yet parsed)."""

    event_type: str
    version: str | None
    event_id: str
    endpoint: str
    attempted_at: datetime | None
    payload: str


@dataclass
class LogStats:
    """Everything the coverage analyzers read from a delivery log."""

    types: dict[str, TypeStats] = field(default_factory=dict)
    pairs: dict[tuple[str, str], int] = field(default_factory=dict)  # (endpoint, event_type) -> deliveries
    versions: list[VersionUse] = field(default_factory=list)
    payloads: list[LoggedPayload] = field(default_factory=list)
    payload_groups: dict[tuple[str, str | None], int] = field(default_factory=dict)  # deliveries with a payload
    window: tuple[datetime | None, datetime | None] = (None, None)
    total_attempts: int = 0


def _type_expr() -> str:
    # The canonical table already trims text and turns empty cells into NULL.
    return f"coalesce(event_type, '{UNTYPED}')"


TYPE_STATS_SQL = """
WITH deliveries AS (
    SELECT {etype} AS event_type, event_id, endpoint,
           count(*) AS attempts,
           max(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END) AS ok,
           max(strlen(payload)) AS payload_bytes,
           min(attempted_at) AS first_at,
           max(attempted_at) AS last_at
    FROM {table}
    GROUP BY 1, 2, 3
), latency AS (
    SELECT {etype} AS event_type,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms
    FROM {table}
    WHERE duration_ms IS NOT NULL
    GROUP BY 1
)
SELECT d.event_type,
       count(*) AS deliveries,
       count(DISTINCT d.event_id) AS events,
       sum(d.attempts) AS attempts,
       count(DISTINCT d.endpoint) AS endpoints,
       sum(d.ok) AS succeeded,
       max(l.p95_ms) AS p95_ms,
       median(d.payload_bytes) AS median_payload_bytes,
       min(d.first_at) AS first_seen,
       max(d.last_at) AS last_seen
FROM deliveries d LEFT JOIN latency l ON l.event_type = d.event_type
GROUP BY d.event_type
ORDER BY d.event_type
"""

PAIRS_SQL = """
SELECT endpoint, {etype} AS event_type, count(DISTINCT event_id) AS deliveries
FROM {table}
GROUP BY 1, 2
"""

VERSIONS_SQL = """
SELECT {etype} AS event_type, payload_version, endpoint,
       count(DISTINCT event_id) AS deliveries, min(attempted_at), max(attempted_at)
FROM {table}
WHERE payload_version IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

# An even spread of up to N events per (type, version): events are ranked by a hash of their id
# (so the sample spans the window, not just its start) using ids only; then the payload of each
# picked event (its first logged attempt in that version) is fetched. The same event sent to
# several endpoints in one version is one payload.
PAYLOAD_SAMPLE_SQL = """
WITH events AS (
    SELECT {etype} AS event_type, payload_version, event_id
    FROM {table}
    WHERE payload IS NOT NULL AND payload <> ''
    GROUP BY 1, 2, 3
), ranked AS (
    SELECT event_type, payload_version, event_id,
           row_number() OVER (PARTITION BY event_type, payload_version ORDER BY {hash}) AS pick,
           count(*) OVER (PARTITION BY event_type, payload_version) AS group_size
    FROM events
), picked AS (
    SELECT * FROM ranked WHERE pick <= ?
), fetched AS (
    SELECT {etype} AS event_type, payload_version, event_id,
           arg_min(endpoint, attempted_at) AS endpoint, min(attempted_at) AS first_at,
           arg_min(payload, attempted_at) AS payload
    FROM {table}
    WHERE event_id IN (SELECT event_id FROM picked) AND payload IS NOT NULL AND payload <> ''
    GROUP BY 1, 2, 3
)
SELECT f.event_type, f.payload_version, f.event_id, f.endpoint, f.first_at, f.payload, p.group_size
FROM fetched f JOIN picked p
  ON p.event_id = f.event_id AND p.event_type = f.event_type
 AND coalesce(p.payload_version, '') = coalesce(f.payload_version, '')
ORDER BY 1, 2, 5, 3
"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def collect_log_stats(attempts: AttemptSource, *, payload_limit: int = PAYLOAD_SAMPLE_LIMIT) -> LogStats:
    """Run the aggregate queries against a loaded attempt table."""
    conn, table = attempts.conn, attempts.name
    fmt = {"etype": _type_expr(), "table": table, "hash": "hash(event_id)"}
    stats = LogStats()
    for row in conn.execute(TYPE_STATS_SQL.format(**fmt)).fetchall():
        ts = TypeStats(
            event_type=row[0], deliveries=int(row[1]), events=int(row[2]), attempts=int(row[3]),
            endpoints=int(row[4]), succeeded=int(row[5] or 0), p95_ms=_float(row[6]),
            median_payload_bytes=_float(row[7]), first_seen=row[8], last_seen=row[9],
        )
        stats.types[ts.event_type] = ts
    for endpoint, event_type, deliveries in conn.execute(PAIRS_SQL.format(**fmt)).fetchall():
        stats.pairs[(endpoint, event_type)] = int(deliveries)
    for row in conn.execute(VERSIONS_SQL.format(**fmt)).fetchall():
        stats.versions.append(VersionUse(row[0], str(row[1]), row[2], int(row[3]), row[4], row[5]))
    for row in conn.execute(PAYLOAD_SAMPLE_SQL.format(**fmt), [payload_limit]).fetchall():
        version = row[1] if row[1] not in (None, "") else None
        stats.payloads.append(LoggedPayload(row[0], version, row[2], row[3], row[4], row[5]))
        stats.payload_groups[(row[0], version)] = int(row[6])
    window = conn.execute(f"SELECT min(attempted_at), max(attempted_at), count(*) FROM {table}").fetchall()[0]
    stats.window = (window[0], window[1])
    stats.total_attempts = int(window[2])
    return stats
