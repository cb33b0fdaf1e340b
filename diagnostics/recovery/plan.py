"""The replay plan of one endpoint: every event of the window with no 2xx, and how safe a resend is.

One SQL pass on the engine: per-event aggregates over the endpoint's attempts, the latest attempt
of the undelivered events only (a window over their attempts, not over the whole log), the retry
budget joined from the schedule table, and the category (`categories.category_sql`). The result
is materialized as PLAN_TABLE (every undelivered event of the endpoint, `in_window` marking the
plan's own), so the countdown reads it without another pass over the attempts; only the plan's
events come back to Python.

"Events of the window" are the events whose first attempt to the endpoint falls in
[since, until): each is judged on all of its attempts in the log, so a retry that succeeded after
`until` still counts as delivered and retries before `since` still use up the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from diagnostics.analyzers.base import OK
from diagnostics.engines.base import Engine
from diagnostics.errors import InputError
from diagnostics.logs.schema import sql_literal
from diagnostics.profiles import SenderProfile
from diagnostics.recovery.categories import CATEGORIES, PENDING, category_sql
from diagnostics.recovery.schedule import SCHEDULE_TABLE, schedule_select

PLAN_TABLE = "_plan_events"
MAX_BODY_IN_EVIDENCE = 120


@dataclass
class Plan:
    """What to resend to one endpoint, by category, with the retry-budget countdown.

    `events` are JSON-ready as they come from SQL (times in ISO 8601, `iso_sql`; the evidence
    line written by `evidence_sql`), the shape a plan file read back by `redeliver` has too:
    a plan of 100,000 events spent 1.1 s turning datetimes into dicts and back into text in
    Python. Readers that need a time parse it with `at`."""

    endpoint: str
    profile: str
    since: datetime | None
    until: datetime | None
    as_of: datetime | None  # the endpoint's last attempt in the log: "now" for the countdown
    events: list[dict[str, Any]]
    totals: dict[str, int]
    delivered: int = 0  # events of the window with a 2xx (counted, not listed)
    countdown: dict[str, Any] = field(default_factory=dict)
    pace: dict[str, Any] = field(default_factory=dict)  # the endpoint's own record: what a resend may ask of it
    sources: list[str] = field(default_factory=list)  # where the payloads of a resend are read
    spans: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)  # per category: first sent, last try

    @property
    def disable_at(self) -> datetime | None:
        return self.countdown.get("disable_at")

    def restrict(self, event_ids: set[str]) -> None:
        """Keep only the events in `event_ids` (a plan built from a reconciliation)."""
        self.events = [e for e in self.events if e["event_id"] in event_ids]
        self.totals = {c: sum(1 for e in self.events if e["category"] == c) for c in CATEGORIES}
        self.spans = {}  # read again from the events that are left

    def span(self, category: str) -> tuple[datetime, datetime]:
        """When the category's events were first sent and last tried (from SQL when the plan was
        built, else from the events: 100,000 times parsed back cost 0.1 s)."""
        if category not in self.spans:
            events = [e for e in self.events if e["category"] == category]
            self.spans[category] = (min(at(e["first_at"]) for e in events),  # type: ignore[type-var]
                                    max(at(e["last_at"]) for e in events))  # type: ignore[type-var]
        return self.spans[category]

    def selected(self, categories: tuple[str, ...]) -> list[dict[str, Any]]:
        return [e for e in self.events if e["category"] in categories]

    def to_json(self) -> dict[str, Any]:
        """`metrics.plan`: the keys of the issue, times in ISO 8601 UTC."""
        data: dict[str, Any] = {
            "endpoint": self.endpoint,
            "profile": self.profile,
            "since": iso(self.since),
            "until": iso(self.until),
            "as_of": iso(self.as_of),
            "totals": dict(self.totals),
            "delivered": self.delivered,
            "events": list(self.events),
            "countdown": {k: iso(v) if isinstance(v, datetime) else v for k, v in self.countdown.items()},
            "pace": dict(self.pace),
            "sources": list(self.sources),
        }
        if self.disable_at is not None:
            data["disable_at"] = iso(self.disable_at)
        return data


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def at(value: str | datetime | None) -> datetime | None:
    """A time of an event (ISO 8601 text, as plans hold them) as an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def iso_sql(column: str) -> str:
    """SQL writing a TIMESTAMPTZ the way `iso` does (UTC, `Z`, microseconds only when not zero)."""
    return (f"CASE WHEN microsecond({column}) % 1000000 = 0 THEN strftime({column}, '%Y-%m-%dT%H:%M:%SZ') "
            f"ELSE strftime({column}, '%Y-%m-%dT%H:%M:%S.%fZ') END")


# Python's str.strip() set, so the body in the evidence is trimmed as a reader expects.
_WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())  # U+3000 is the last


def evidence_sql(max_attempts: int) -> str:
    """The latest attempt in words (what decided the category), over PLAN_TABLE's columns:
    "latest attempt (auto, #3) at 2026-03-01 10:00:00 UTC: HTTP 500 after 120 ms: <body>;
    3 of 8 automatic attempts used". Numbers are written as Python's `:.0f` writes them."""
    body = f"replace(trim(coalesce(response_body, ''), {sql_literal(_WHITESPACE)}), chr(10), ' ')"
    return f"""'latest attempt (' || coalesce(nullif(last_trigger, ''), 'auto') || ', #'
        || coalesce(CAST(last_attempt AS VARCHAR), 'None') || ') at '
        || strftime(last_at, '%Y-%m-%d %H:%M:%S UTC') || ': '
        || CASE WHEN status_code IS NOT NULL THEN 'HTTP ' || CAST(status_code AS VARCHAR)
                ELSE coalesce(nullif(error, ''), 'no response') END
        || CASE WHEN duration_ms IS NOT NULL THEN ' after ' || format('{{:.0f}}', CAST(duration_ms AS DOUBLE)) || ' ms'
                ELSE '' END
        || CASE WHEN status_code IS NOT NULL AND {body} <> '' THEN ': ' || left({body}, {MAX_BODY_IN_EVIDENCE})
                ELSE '' END
        || '; ' || CAST(auto_used AS VARCHAR) || ' of {max_attempts} automatic attempts used'"""


def window_sql(column: str, since: datetime | None, until: datetime | None) -> str:
    """`column` in [since, until) as a SQL condition (TRUE without bounds)."""
    bounds = []
    if since is not None:
        bounds.append(f"{column} >= CAST({sql_literal(iso(since))} AS TIMESTAMPTZ)")
    if until is not None:
        bounds.append(f"{column} < CAST({sql_literal(iso(until))} AS TIMESTAMPTZ)")
    return " AND ".join(bounds) or "TRUE"


def plan_sql(table: str, endpoint: str, profile: SenderProfile, since: datetime | None,
             until: datetime | None) -> str:
    """Every undelivered event of `endpoint` with its category and retry budget (one SELECT)."""
    ep = sql_literal(endpoint)
    window = window_sql("first_at", since, until)
    used = "greatest(e.auto_attempts, e.max_auto_attempt)"
    category = category_sql(used, profile.max_attempts, "l.status_code", "l.error")
    return f"""WITH ev AS (
            SELECT event_id, min(event_type) AS event_type, count(*) AS attempts,
                   count(*) FILTER (WHERE {OK}) AS successes,
                   count(*) FILTER (WHERE trigger = 'auto') AS auto_attempts,
                   coalesce(max(attempt) FILTER (WHERE trigger = 'auto'), 0) AS max_auto_attempt,
                   max(attempted_at) FILTER (WHERE trigger = 'auto') AS last_auto_at,
                   min(attempted_at) AS first_at, max(attempted_at) AS last_at
            FROM {table} WHERE endpoint = {ep} GROUP BY event_id
        ), undelivered AS (
            SELECT *, {window} AS in_window FROM ev WHERE successes = 0
        ), latest AS (
            SELECT a.event_id, a.status_code, a.error, a.duration_ms, a.trigger, a.attempt,
                   a.attempted_at, a.response_body,
                   row_number() OVER (PARTITION BY a.event_id ORDER BY a.attempted_at DESC, a.seq DESC) AS pos
            FROM {table} AS a JOIN undelivered AS u ON a.event_id = u.event_id
            WHERE a.endpoint = {ep}
        ), judged AS (
            SELECT e.event_id, e.event_type, e.attempts, e.first_at, e.last_at, e.in_window,
                   e.last_auto_at, {used} AS auto_used,
                   l.status_code, l.error, l.duration_ms, l.trigger AS last_trigger, l.attempt AS last_attempt,
                   l.response_body, {category} AS category
            FROM undelivered AS e JOIN latest AS l ON l.event_id = e.event_id AND l.pos = 1
        )
        SELECT j.*,
               CASE WHEN j.category = '{PENDING}' THEN to_timestamp(epoch(j.last_auto_at) + s.delay_s) END
                   AS next_retry_at,
               CASE WHEN j.category = '{PENDING}' THEN to_timestamp(epoch(j.last_auto_at) + s.remaining_s) END
                   AS retries_exhausted_at
        FROM judged AS j LEFT JOIN {SCHEDULE_TABLE} AS s ON s.n = j.auto_used"""


def judge_plan(engine: Engine, profile: SenderProfile, endpoint: str, *, table: str = "attempts",
               since: datetime | None = None, until: datetime | None = None) -> datetime | None:
    """Materialize PLAN_TABLE (every undelivered event of `endpoint`, judged) without listing it,
    which is all a reconciliation needs; return the endpoint's last attempt. Raises InputError
    when the endpoint has no attempt in the log."""
    ep = sql_literal(endpoint)
    seen = engine.rows(f"SELECT count(*) AS n, max(attempted_at) AS last FROM {table} WHERE endpoint = {ep}")[0]
    if not seen["n"]:
        raise InputError(f"no delivery attempts for endpoint {endpoint!r} in the log", field="--endpoint")
    engine.materialize(SCHEDULE_TABLE, schedule_select(profile))
    engine.materialize(PLAN_TABLE, plan_sql(table, endpoint, profile, since, until))
    return seen["last"]


def build_plan(engine: Engine, profile: SenderProfile, endpoint: str, *, table: str = "attempts",
               since: datetime | None = None, until: datetime | None = None) -> Plan:
    """The replay plan of `endpoint` in `table` under `profile` (raises InputError when the
    endpoint has no attempt in the log)."""
    ep = sql_literal(endpoint)
    as_of = judge_plan(engine, profile, endpoint, table=table, since=since, until=until)
    order = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CATEGORIES))
    names, rows = engine.fetch(engine.compile(
        f"""SELECT event_id, category, attempts, {iso_sql('first_at')} AS first_at, {iso_sql('last_at')} AS last_at,
                   event_type, status_code, error, {iso_sql('next_retry_at')} AS next_retry_at,
                   {iso_sql('retries_exhausted_at')} AS retries_exhausted_at, {evidence_sql(profile.max_attempts)}
                   AS evidence
            FROM {PLAN_TABLE} AS p WHERE in_window
            ORDER BY CASE p.category {order} END, p.first_at, p.event_id"""  # the time, not its text
    ))
    window = window_sql("first_at", since, until)
    in_window = int(engine.value(
        f"""SELECT count(*) FROM (SELECT event_id, min(attempted_at) AS first_at FROM {table}
            WHERE endpoint = {ep} GROUP BY event_id) AS e WHERE {window}"""
    ) or 0)
    pace = engine.rows(
        f"""WITH ok AS (SELECT attempted_at, duration_ms FROM {table} WHERE endpoint = {ep} AND {OK}),
                 per_minute AS (SELECT date_trunc('minute', attempted_at) AS m, count(*) AS n FROM ok GROUP BY m)
            SELECT (SELECT max(n) FROM per_minute) AS peak_per_minute,
                   (SELECT quantile_cont(duration_ms, 0.5) FROM ok) AS median_ms,
                   (SELECT count(*) FROM ok) AS successes"""
    )[0]
    events = _events(names, rows)
    spans = {r["category"]: (r["first_at"], r["last_at"]) for r in engine.rows(
        f"""SELECT category, min(first_at) AS first_at, max(last_at) AS last_at FROM {PLAN_TABLE}
            WHERE in_window GROUP BY category""")}
    totals = {c: 0 for c in CATEGORIES}
    for e in events:
        totals[e["category"]] += 1
    return Plan(endpoint=endpoint, profile=profile.name, since=since, until=until, as_of=as_of,
                events=events, totals=totals, delivered=in_window - len(events), spans=spans,
                pace={"peak_per_minute": int(pace["peak_per_minute"] or 0), "successes": int(pace["successes"] or 0),
                      "median_ms": None if pace["median_ms"] is None else round(float(pace["median_ms"]), 1)})


PENDING_ONLY = ("next_retry_at", "retries_exhausted_at")


def _events(names: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The plan's events as JSON-ready dicts; the retry times only on pending events."""
    every = [n for n in names if n not in PENDING_ONLY]
    keep = [names.index(n) for n in every]
    category = names.index("category")
    return [dict(zip(names, row, strict=True)) if row[category] == PENDING
            else dict(zip(every, (row[i] for i in keep), strict=True)) for row in rows]
