"""Delivery metrics for every output: per endpoint and per event type, attempts, events, success
rate, p50/p95/p99 latency and the error breakdown; plus failure groups per endpoint (like
Hookdeck's Issues: one group per endpoint and error kind or status, with first and last seen).
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import MAX_ROWS_IN_METRICS, OK, OUTCOME, LogAnalysis, fmt_time, pct


def _breakdown(a: LogAnalysis, key: str) -> dict[str, dict[str, int]]:
    """key value -> {outcome: failed attempts}, failures only."""
    result: dict[str, dict[str, int]] = {}
    for row in a.rows(
        f"SELECT {key} AS k, {OUTCOME} AS outcome, count(*) AS n FROM {a.table} "
        f"WHERE NOT {OK} GROUP BY ALL ORDER BY k, n DESC, outcome"
    ):
        result.setdefault(str(row["k"]), {})[row["outcome"]] = int(row["n"])
    return result


def _group_stats(a: LogAnalysis, key: str) -> list[dict[str, Any]]:
    rows = a.rows(
        f"""SELECT coalesce({key}, '(none)') AS k, count(*) AS attempts, count(DISTINCT event_id) AS events,
                   count(*) FILTER (WHERE {OK}) AS successes,
                   quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS q,
                   min(attempted_at) AS first_at, max(attempted_at) AS last_at
            FROM {a.table} GROUP BY ALL ORDER BY attempts DESC, k"""
    )
    breakdown = _breakdown(a, f"coalesce({key}, '(none)')")
    out = []
    for row in rows:
        q = row["q"] or [None, None, None]
        errors = breakdown.get(str(row["k"]), {})
        out.append(
            {
                "name": row["k"],
                "attempts": int(row["attempts"]),
                "events": int(row["events"]),
                "success_rate": pct(row["successes"], row["attempts"]),
                "p50_ms": None if q[0] is None else round(q[0], 1),
                "p95_ms": None if q[1] is None else round(q[1], 1),
                "p99_ms": None if q[2] is None else round(q[2], 1),
                "errors": errors,
                "first_at": row["first_at"],
                "last_at": row["last_at"],
            }
        )
    return out


def failure_groups(a: LogAnalysis) -> list[dict[str, Any]]:
    """One group per endpoint and failure kind (error or status), most frequent first."""
    return a.rows(
        f"""SELECT endpoint, {OUTCOME} AS failure, count(*) AS attempts, count(DISTINCT event_id) AS events,
                   min(attempted_at) AS first_seen, max(attempted_at) AS last_seen
            FROM {a.table} WHERE NOT {OK}
            GROUP BY ALL ORDER BY attempts DESC, endpoint, failure LIMIT {MAX_ROWS_IN_METRICS}"""
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
    endpoints = _group_stats(a, "endpoint")
    event_types = _group_stats(a, "event_type")
    groups = failure_groups(a)
    totals = a.rows(
        f"SELECT count(*) AS attempts, count(DISTINCT event_id) AS events, count(*) FILTER (WHERE {OK}) AS ok, "
        f"min(attempted_at) AS first_at, max(attempted_at) AS last_at FROM {a.table}"
    )[0]
    metrics = {
        "attempts": int(totals["attempts"]),
        "events": int(totals["events"]),
        "success_rate": pct(totals["ok"], totals["attempts"]),
        "window": {"start": totals["first_at"], "end": totals["last_at"]},
        "profile": a.profile.name,
        "endpoints": endpoints,
        "event_types": event_types,
        "failure_groups": groups,
    }
    tables = {
        "Endpoints": [_table_row(s, "endpoint") for s in endpoints],
        "Event types": [_table_row(s, "event type") for s in event_types],
        "Failure groups": [
            {
                "endpoint": g["endpoint"],
                "failure": g["failure"],
                "attempts": g["attempts"],
                "events": g["events"],
                "first seen": fmt_time(g["first_seen"]),
                "last seen": fmt_time(g["last_seen"]),
            }
            for g in groups[:50]
        ],
    }
    return metrics, tables
