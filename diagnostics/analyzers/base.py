"""What every delivery-log analyzer shares: the success rule in SQL, outcome classes, the derived
tables computed once for all of them, and the fleet view.

Analyzers are pure judgments written as set-based SQL over the canonical `attempts` relation:
a fixed number of queries whatever the number of endpoints, event types or outages (per-group
work is a GROUP BY or a window, never a Python loop issuing a query per group), and only bounded
result sets (top N plus totals) come back to Python. The SQL is written once in DuckDB's dialect,
within the portable subset of ARCHITECTURE.md, and runs on any `diagnostics.engines.Engine`.

`prepare` builds on the engine: `_events` (one lean row per endpoint and event), `_event_details`
(every aggregate, for the few events that were retried, failed, repeated or sent to several
endpoints), `_failures` (the failed attempts, each with its rank among the endpoint's attempts
and the time of the endpoint's next attempt), `_runs` (islands of consecutive failed attempts per
endpoint, gaps and islands over `_failures`) and `_endpoint_stats` / `_type_stats` (counts and
latency percentiles).

Two views of the same judgments:
- endpoints: a log of a few endpoints (or one, `--endpoint`) gets one detailed finding per
  endpoint and problem, as a support agent reads them;
- fleet: a log of more than FLEET_MIN_ENDPOINTS endpoints gets one finding per code across the
  fleet, the endpoints ranked by impact in its samples and in a report table (`fleet_finding`);
  every analyzer projects its per-endpoint problems onto PROBLEM_COLUMNS, so the full detail can
  be written to a file (`--details`) without passing through Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from diagnostics.engines.base import Engine
from diagnostics.error_kinds import ErrorKind
from diagnostics.findings import Finding, Severity, Status
from diagnostics.profiles import SenderProfile

# Success is a 2xx; a null status (no response) is a failure, never "unknown".
OK = "coalesce(status_code BETWEEN 200 AND 299, false)"
# What a failed attempt looked like: the error kind when no response came, else its status.
OUTCOME = (
    f"CASE WHEN {OK} THEN '2xx' WHEN status_code IS NULL THEN coalesce(error, '{ErrorKind.OTHER.value}') "
    "ELSE CAST(status_code AS VARCHAR) END"
)
HOST = "lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1))"
MAX_ROWS_IN_METRICS = 1000
# Above this many endpoints a log is reviewed as a fleet: one finding per code, endpoints ranked.
FLEET_MIN_ENDPOINTS = 25
FLEET_TOP = 50  # endpoints per code in a fleet finding's report table
NEAR_TIMEOUT_SHARE = 0.8
"""Share of the timeout from which an attempt counts as "near the timeout": `prepare` counts those
attempts per endpoint (`near_timeout`) and `latency` warns when the p95 is above it. One constant,
so the count in the evidence and the judgment always speak of the same line."""
TIMEOUT_CUTOFF_SHARE = 0.95
"""A failed attempt without a response that lasted at least this share of the timeout was cut off
by the timeout, whatever error the log gives it (a logged duration can fall just short of the
timeout): `_event_details.first_cutoff`, read by `duplicates` (timeout-then-success)."""
MIN_ATTEMPTS = 20
"""An endpoint (or event type) is judged on a rate or a percentile only with at least this many
attempts (`failure_rates`, `latency`): fewer say too little to warn about."""
TYPE_KEY = "coalesce(event_type, '(none)')"
"""An attempt's event type as `_type_stats` and the events per type group it (no type: "(none)")."""
PERCENTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
"""The latency percentiles of `_endpoint_stats` / `_type_stats` (column name, quantile)."""
# The per-endpoint problem rows every analyzer can project (the `--details` file, fleet ranking).
PROBLEM_COLUMNS = (
    "code", "endpoint", "status", "severity", "events", "attempts", "first_at", "last_at", "detail",
)
SEVERITY_ORDER = {s.value: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class Percentiles:
    """The latency percentiles (ms) of one `_endpoint_stats` / `_type_stats` row, read by name:
    three numbers of the same type are easy to unpack in the wrong order without anyone noticing."""

    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Percentiles:
        return cls(**{column: row[column] for column, _ in PERCENTILES})

    def as_metrics(self) -> dict[str, float | None]:
        """`p50_ms`, `p95_ms`, `p99_ms` rounded to 0.1 ms (the metrics and report tables)."""
        return {f"{column}_ms": _round1(getattr(self, column)) for column, _ in PERCENTILES}


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class LogAnalysis:
    """A prepared attempt relation on an engine, the sender profile that judges it, and the view."""

    engine: Engine
    profile: SenderProfile
    subject: str
    table: str = "attempts"
    fleet_table: str = "attempts"  # the whole log, when `table` is narrowed to one endpoint
    endpoint_count: int = 0
    fleet: bool = False
    problem_tables: list[str] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    import_facts: dict[str, Any] = field(default_factory=dict)  # what the import knew beyond the rows

    @property
    def timeout_ms(self) -> float:
        return self.profile.timeout_s * 1000.0

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """Run a query and return its (bounded) result as dicts."""
        return self.engine.rows(sql)

    def value(self, sql: str) -> Any:
        return self.engine.value(sql)

    def problems(self, code: str, select: str) -> str:
        """Materialize an analyzer's per-endpoint problems (PROBLEM_COLUMNS) for ranking and details."""
        name = "_problems_" + code.replace("-", "_")
        self.engine.materialize(name, select)
        if name not in self.problem_tables:
            self.problem_tables.append(name)
        return name

    def details_select(self) -> str | None:
        """One SELECT over every analyzer's problems, worst first: the `--details` file."""
        if not self.problem_tables:
            return None
        cols = ", ".join(PROBLEM_COLUMNS)
        union = " UNION ALL ".join(f"SELECT {cols} FROM {t}" for t in self.problem_tables)
        return f"SELECT {cols} FROM ({union}) AS p ORDER BY code, events DESC, attempts DESC, endpoint"


def prepare(
    engine: Engine,
    profile: SenderProfile,
    subject: str,
    *,
    table: str = "attempts",
    fleet_table: str | None = None,
    view: str = "auto",
) -> LogAnalysis:
    """Build the shared derived tables once; every analyzer reads them or `table`.

    `view` is "auto" (fleet above FLEET_MIN_ENDPOINTS endpoints), "fleet" or "endpoints".
    """
    timeout_ms = profile.timeout_s * 1000.0
    cutoff = (
        f"NOT {OK} AND (error = '{ErrorKind.TIMEOUT.value}' "
        f"OR (status_code IS NULL AND duration_ms >= {timeout_ms * TIMEOUT_CUTOFF_SHARE}))"
    )
    # Every event, lean (most events are one successful attempt and need nothing more): no text
    # column beyond the key, since carrying `event_type` through this grouping cost 0.3 s of 0.75 s
    # at 5M attempts (`type_events_sql` counts events per type from `_event_details` instead).
    engine.materialize(
        "_events",
        f"""SELECT endpoint, event_id, count(*) AS attempts, count(*) FILTER (WHERE {OK}) AS successes
        FROM {table} GROUP BY endpoint, event_id""",
    )
    # Event ids sent to several endpoints: one grouping by event id, shared by every reader (the
    # event count, the duplicates, the details below), since it is as costly as `_events` itself.
    engine.materialize(
        "_fanout",
        "SELECT event_id, count(*) AS endpoints FROM _events GROUP BY event_id HAVING count(*) > 1",
    )
    # The events worth a closer look: retried, failed, repeated, or sent to several endpoints.
    engine.materialize(
        "_event_details",
        f"""WITH interesting AS (
            SELECT endpoint, event_id FROM _events WHERE attempts > 1 OR successes <> 1
            UNION
            SELECT endpoint, event_id FROM _events WHERE event_id IN (SELECT event_id FROM _fanout)
        ), agg AS (
            SELECT a.endpoint, a.event_id,
                   min(a.event_type) AS event_type,
                   count(a.event_type) > 0 AND (count(a.event_type) < count(*)
                                                OR min(a.event_type) <> max(a.event_type)) AS mixed_types,
                   min(a.url) AS url,
                   count(*) AS attempts,
                   count(*) FILTER (WHERE a.trigger = 'auto') AS auto_attempts,
                   coalesce(max(a.attempt) FILTER (WHERE a.trigger = 'auto'), 0) AS max_auto_attempt,
                   count(*) FILTER (WHERE {OK}) AS successes,
                   count(*) FILTER (WHERE {OK} AND a.trigger = 'replay') AS ok_replays,
                   count(*) FILTER (WHERE {OK} AND a.trigger = 'manual') AS ok_manual,
                   min(a.attempted_at) FILTER (WHERE {OK} AND a.trigger = 'replay') AS first_ok_replay,
                   min(a.attempted_at) FILTER (WHERE {OK} AND a.trigger = 'manual') AS first_ok_manual,
                   min(a.attempted_at) AS first_at,
                   max(a.attempted_at) AS last_at,
                   min(a.attempted_at) FILTER (WHERE {OK}) AS first_ok,
                   max(a.attempted_at) FILTER (WHERE {OK}) AS last_ok,
                   min(a.attempted_at) FILTER (WHERE {cutoff}) AS first_cutoff
            FROM {table} AS a JOIN interesting AS i ON a.endpoint = i.endpoint AND a.event_id = i.event_id
            GROUP BY a.endpoint, a.event_id
        )
        SELECT agg.*, first_cutoff IS NOT NULL AS had_cutoff FROM agg""",
    )
    # The failed attempts, each with its rank among all of its endpoint's attempts and the time of
    # the endpoint's next attempt: one full sort, after which gaps and islands need failures only.
    engine.materialize("_failures", failures_sql(table))
    engine.materialize(
        "_run_outcomes",
        """WITH f AS (
            SELECT endpoint, attempted_at, outcome, status_code, rn, next_at,
                   rn - row_number() OVER (PARTITION BY endpoint ORDER BY rn) AS island
            FROM _failures
        )
        SELECT endpoint, island, outcome, min(status_code) AS status_code, count(*) AS n,
               min(attempted_at) AS started, max(attempted_at) AS ended, min(rn) AS first_rn, max(rn) AS last_rn
        FROM f GROUP BY endpoint, island, outcome""",
    )
    engine.materialize(
        "_runs",
        """WITH islands AS (
            SELECT endpoint, island, sum(n) AS attempts, min(started) AS started, max(ended) AS ended,
                   min(first_rn) AS first_rn, max(last_rn) AS last_rn,
                   string_agg(outcome || ' ' || CAST(n AS VARCHAR), ', ' ORDER BY n DESC, outcome) AS outcomes
            FROM _run_outcomes GROUP BY endpoint, island
        ), dominant AS (
            SELECT endpoint, island, outcome, status_code, n,
                   row_number() OVER (PARTITION BY endpoint, island ORDER BY n DESC, outcome) AS pos
            FROM _run_outcomes
        )
        SELECT i.endpoint, i.island, i.attempts, i.started, i.ended, i.first_rn, f.next_at AS recovered_at,
               d.outcome AS dominant, d.status_code AS dominant_status, d.n AS dominant_attempts,
               i.outcomes
        FROM islands AS i
        JOIN _failures AS f ON f.endpoint = i.endpoint AND f.rn = i.last_rn
        JOIN dominant AS d ON d.endpoint = i.endpoint AND d.island = i.island AND d.pos = 1
        WHERE i.attempts >= 2 OR f.next_at IS NULL""",
    )
    # The percentiles as one list per group: one sort of the group's durations instead of three.
    quantiles = ", ".join(str(q) for _, q in PERCENTILES)
    percentiles = ", ".join(f"_q[{i}] AS {column}" for i, (column, _) in enumerate(PERCENTILES, start=1))
    for name, key in (("_endpoint_stats", "endpoint"), ("_type_stats", TYPE_KEY)):
        engine.materialize(
            name,
            f"""SELECT name, attempts, successes, timed, {percentiles}, near_timeout, slope_per_day, first_at, last_at
            FROM (
                SELECT {key} AS name, count(*) AS attempts, count(*) FILTER (WHERE {OK}) AS successes,
                       count(duration_ms) AS timed, quantile_cont(duration_ms, [{quantiles}]) AS _q,
                       count(*) FILTER (WHERE duration_ms >= {timeout_ms * NEAR_TIMEOUT_SHARE}) AS near_timeout,
                       regr_slope(duration_ms, epoch(attempted_at)) * 86400 AS slope_per_day,
                       min(attempted_at) AS first_at, max(attempted_at) AS last_at
                FROM {table} GROUP BY {key}
            ) AS g""",
        )
    endpoint_count = int(engine.value("SELECT count(*) FROM _endpoint_stats") or 0)
    fleet = view == "fleet" or (view == "auto" and endpoint_count > FLEET_MIN_ENDPOINTS)
    return LogAnalysis(
        engine=engine, profile=profile, subject=subject, table=table, fleet_table=fleet_table or table,
        endpoint_count=endpoint_count, fleet=fleet,
    )


def failures_sql(table: str) -> str:
    """The failed attempts of `table`, each with its rank among all of its endpoint's attempts and
    the time of the endpoint's next attempt: one full sort, after which gaps and islands (and
    "what came before this failure") need the failures only.

    The sort carries nothing but its keys: a column carried along costs as much as a sort key
    (5M attempts: 0.49 s bare, 0.69 s with the success flag as payload), so `status_code` rides
    as a last key, after the unique `seq`, where it cannot change the order (0.60 s). The
    failures then get their other columns back by `seq`, a join of failures with failures."""
    order = "PARTITION BY endpoint ORDER BY attempted_at, seq, status_code"
    return f"""WITH ranked AS (
            SELECT seq, rn, next_at FROM (
                SELECT seq, status_code, row_number() OVER ({order}) AS rn,
                       lead(attempted_at) OVER ({order}) AS next_at
                FROM {table}
            ) AS w WHERE NOT {OK}
        )
        SELECT endpoint, event_id, event_type, url, attempted_at, seq, status_code, error, duration_ms,
               {OUTCOME} AS outcome, rn, next_at
        FROM (
            SELECT a.endpoint, a.event_id, a.event_type, a.url, a.attempted_at, a.seq, a.status_code, a.error,
                   a.duration_ms, r.rn, r.next_at
            FROM (SELECT * FROM {table} WHERE NOT {OK}) AS a JOIN ranked AS r ON r.seq = a.seq
        ) AS f"""


def fleet_finding(
    a: LogAnalysis,
    *,
    code: str,
    problems: str,
    title: str,
    summary: str,
    source: str,
    pass_finding: Finding,
    columns: tuple[str, ...] = ("events", "attempts"),
) -> list[Finding]:
    """One finding for a code across the fleet, from its materialized problem table.

    Two queries whatever the fleet's size: the totals, and the FLEET_TOP worst endpoints (most
    events affected, then most attempts). `title` and `summary` are formatted with the totals
    (`endpoints`, `failing`, `events`, `attempts`, `first_at`, `last_at`, `fleet`).
    """
    totals = a.rows(
        f"""SELECT count(*) AS endpoints, count(*) FILTER (WHERE status = 'fail') AS failing,
                   coalesce(sum(events), 0) AS events, coalesce(sum(attempts), 0) AS attempts,
                   min(first_at) AS first_at, max(last_at) AS last_at
            FROM {problems}"""
    )[0]
    if not totals["endpoints"]:
        return [pass_finding]
    worst = a.rows(
        f"""SELECT endpoint, status, severity, events, attempts, first_at, last_at, detail FROM {problems}
            ORDER BY events DESC, attempts DESC, endpoint LIMIT {FLEET_TOP}"""
    )
    severities = a.rows(f"SELECT DISTINCT severity FROM {problems}")
    severity = min((Severity(r["severity"]) for r in severities), key=lambda s: SEVERITY_ORDER[s.value])
    values = {k: (int(v) if isinstance(v, int | float) and k not in ("first_at", "last_at") else v)
              for k, v in totals.items()}
    values.update(first_at=fmt_time(totals["first_at"]), last_at=fmt_time(totals["last_at"]), fleet=a.endpoint_count)
    shown = {k: f"{v:,}" if isinstance(v, int) else v for k, v in values.items()}  # "10,000", not "10000"
    rows = [
        {
            "endpoint": r["endpoint"],
            "status": r["status"],
            **{c: int(r[c] or 0) for c in columns},
            "first": fmt_time(r["first_at"]),
            "last": fmt_time(r["last_at"]),
            "detail": r["detail"],
        }
        for r in worst
    ]
    a.tables[f"Fleet: {code}"] = rows
    return [
        Finding(
            code=code,
            status=Status.FAIL if totals["failing"] else Status.WARN,
            severity=severity,
            title=title.format(**shown),
            summary=summary.format(**shown),
            subject=f"fleet of {a.endpoint_count:,} endpoints",
            evidence=(
                ("endpoints affected", values["endpoints"]),
                ("endpoints failing", values["failing"]),
                ("endpoints in the log", a.endpoint_count),
                ("events affected", values["events"]),
                ("attempts involved", values["attempts"]),
                ("first seen", values["first_at"]),
                ("last seen", values["last_at"]),
                ("worst endpoint", rows[0]["endpoint"]),
            ),
            samples=tuple(rows),
            sample_total=values["endpoints"],
            source=source,
        )
    ]


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


def in_list(values: list[str]) -> str:
    """A SQL list of string literals for `IN (...)` (never empty)."""
    from diagnostics.logs.schema import sql_literal

    return ", ".join(sql_literal(str(v)) for v in values) or "NULL"
