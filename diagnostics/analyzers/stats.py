"""Delivery metrics for every output: per endpoint and per event type, attempts, events, success
rate, p50/p95/p99 latency and the error breakdown; plus failure groups per endpoint (like
Hookdeck's Issues: one group per endpoint and error kind or status, with first and last seen).

Bounded whatever the fleet's size: at most MAX_GROUPS endpoints (and event types) are listed,
those with the most failed attempts first in a fleet, every one in a small log; the totals
count them all.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import MAX_ROWS_IN_METRICS, TYPE_KEY, LogAnalysis, Percentiles, fmt_time, pct

MAX_GROUPS = 200  # endpoints or event types listed in metrics (the rest are counted)
TABLE_ROWS = 50  # rows per report table


def type_events_sql(table: str) -> str:
    """Events per event type (an event's type: the least of its attempts' types), without a
    grouping of every event by type. An event outside `_event_details` is one attempt, so its
    type is that attempt's: a type's events are its attempts, less the attempts of the detailed
    events of that type, plus those events once each. Only the rare event whose attempts disagree
    on the type (`mixed_types`) needs its attempts counted type by type."""
    return f"""WITH detailed AS (
            SELECT {TYPE_KEY} AS name, count(*) AS events,
                   sum(CASE WHEN mixed_types THEN 0 ELSE attempts END) AS attempts
            FROM _event_details GROUP BY {TYPE_KEY}
        ), mixed AS (
            SELECT {TYPE_KEY} AS name, count(*) AS attempts
            FROM (SELECT a.event_type FROM {table} AS a
                  JOIN (SELECT endpoint, event_id FROM _event_details WHERE mixed_types) AS m
                       ON m.endpoint = a.endpoint AND m.event_id = a.event_id) AS x
            GROUP BY {TYPE_KEY}
        )
        SELECT s.name, s.attempts - coalesce(d.attempts, 0) - coalesce(m.attempts, 0) + coalesce(d.events, 0)
               AS events
        FROM _type_stats AS s
        LEFT JOIN detailed AS d ON d.name = s.name
        LEFT JOIN mixed AS m ON m.name = s.name"""


def _group_stats(a: LogAnalysis, stats_table: str, key: str, events_sql: str) -> list[dict[str, Any]]:
    """The listed rows of `_endpoint_stats` or `_type_stats` with event counts and the error breakdown."""
    shown = f"_shown{stats_table}"
    a.engine.materialize(
        shown,
        f"""SELECT s.*, coalesce(e.events, 0) AS events FROM {stats_table} AS s
            LEFT JOIN ({events_sql}) AS e ON e.name = s.name
            ORDER BY s.attempts - s.successes DESC, s.attempts DESC, s.name LIMIT {MAX_GROUPS}""",
    )
    breakdown: dict[str, dict[str, int]] = {}
    for row in a.rows(
        f"""SELECT {key} AS k, outcome, count(*) AS n FROM _failures
            WHERE {key} IN (SELECT name FROM {shown}) GROUP BY {key}, outcome ORDER BY k, n DESC, outcome"""
    ):
        breakdown.setdefault(str(row["k"]), {})[row["outcome"]] = int(row["n"])
    order = "s.attempts - s.successes DESC, s.attempts DESC, s.name" if a.fleet else "s.attempts DESC, s.name"
    out = []
    for row in a.rows(f"SELECT * FROM {shown} AS s ORDER BY {order}"):
        name = str(row["name"])
        out.append(
            {
                "name": name,
                "attempts": int(row["attempts"]),
                "events": int(row["events"]),
                "success_rate": pct(row["successes"], row["attempts"]),
                **Percentiles.of(row).as_metrics(),
                "errors": breakdown.get(name, {}),
                "first_at": row["first_at"],
                "last_at": row["last_at"],
            }
        )
    return out


def failure_groups(a: LogAnalysis) -> list[dict[str, Any]]:
    """One group per endpoint and failure kind (error or status), most frequent first."""
    return a.rows(
        f"""SELECT endpoint, outcome AS failure, count(*) AS attempts, count(DISTINCT event_id) AS events,
                   min(attempted_at) AS first_seen, max(attempted_at) AS last_seen
            FROM _failures
            GROUP BY endpoint, outcome ORDER BY attempts DESC, endpoint, failure LIMIT {MAX_ROWS_IN_METRICS}"""
    )


def _table_row(stat: dict[str, Any], label: str) -> dict[str, Any]:
    errors = ", ".join(f"{k} {v}" for k, v in stat["errors"].items()) or "-"
    return {
        label: stat["name"],
        "attempts": stat["attempts"],
        "events": stat["events"],
        "success %": stat["success_rate"],
        "p50 ms": stat["p50_ms"],
        "p95 ms": stat["p95_ms"],
        "p99 ms": stat["p99_ms"],
        "errors": errors,
    }


def compute(a: LogAnalysis) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(metrics, tables): the same numbers as JSON-able metrics and as rows for reports."""
    endpoints = _group_stats(a, "_endpoint_stats", "endpoint",
                             "SELECT endpoint AS name, count(*) AS events FROM _events GROUP BY endpoint")
    event_types = _group_stats(a, "_type_stats", TYPE_KEY, type_events_sql(a.table))
    groups = failure_groups(a)
    totals = a.rows(
        "SELECT sum(attempts) AS attempts, sum(successes) AS ok, min(first_at) AS first_at, max(last_at) AS last_at, "
        "count(*) AS endpoints FROM _endpoint_stats"
    )[0]
    # Distinct event ids: (endpoint, event) pairs less the extra endpoints of fanned-out events.
    events = a.value("SELECT (SELECT count(*) FROM _events) - (SELECT coalesce(sum(endpoints - 1), 0) FROM _fanout)")
    type_total = a.value("SELECT count(*) FROM _type_stats")
    metrics = {
        "attempts": int(totals["attempts"]),
        "events": int(events),
        "success_rate": pct(totals["ok"], totals["attempts"]),
        "window": {"start": totals["first_at"], "end": totals["last_at"]},
        "profile": a.profile.name,
        "view": "fleet" if a.fleet else "endpoints",
        "endpoints_total": int(totals["endpoints"]),
        "event_types_total": int(type_total),
        "endpoints": endpoints,
        "event_types": event_types,
        "failure_groups": groups,
    }
    endpoint_label = "Endpoints (most failed attempts first)" if a.fleet else "Endpoints"
    tables = {
        endpoint_label: [_table_row(s, "endpoint") for s in endpoints[:TABLE_ROWS]],
        "Event types": [_table_row(s, "event type") for s in event_types[:TABLE_ROWS]],
        "Failure groups": [
            {
                "endpoint": g["endpoint"],
                "failure": g["failure"],
                "attempts": g["attempts"],
                "events": g["events"],
                "first seen": fmt_time(g["first_seen"]),
                "last seen": fmt_time(g["last_seen"]),
            }
            for g in groups[:TABLE_ROWS]
        ],
    }
    return metrics, tables
