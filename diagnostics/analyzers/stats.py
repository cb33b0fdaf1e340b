"""Delivery metrics for every output: per endpoint and per event type, attempts, events, success
rate, p50/p95/p99 latency and the error breakdown; plus failure groups per endpoint (like
Hookdeck's Issues: one group per endpoint and error kind or status, with first and last seen).
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import MAX_ROWS_IN_METRICS, LogAnalysis, fmt_time, pct


def _breakdown(a: LogAnalysis, key: str) -> dict[str, dict[str, int]]:
    """key value -> {outcome: failed attempts}, from the failures table."""
    result: dict[str, dict[str, int]] = {}
    for row in a.rows(
        f"SELECT {key} AS k, outcome, count(*) AS n FROM _failures GROUP BY ALL ORDER BY k, n DESC, outcome"
    ):
        result.setdefault(str(row["k"]), {})[row["outcome"]] = int(row["n"])
    return result


def _group_stats(a: LogAnalysis, stats_table: str, key: str) -> list[dict[str, Any]]:
    """Rows of `_endpoint_stats` or `_type_stats` with event counts and the error breakdown."""
    events = {
        str(r["k"]): int(r["n"]) for r in a.rows(f"SELECT {key} AS k, count(*) AS n FROM _events GROUP BY ALL")
    }
    breakdown = _breakdown(a, key)
    out = []
    for row in a.rows(f"SELECT * FROM {stats_table} ORDER BY attempts DESC, name"):
        q = row["q"] or [None, None, None]
        name = str(row["name"])
        out.append(
            {
                "name": name,
                "attempts": int(row["attempts"]),
                "events": events.get(name, 0),
                "success_rate": pct(row["successes"], row["attempts"]),
                "p50_ms": None if q[0] is None else round(q[0], 1),
                "p95_ms": None if q[1] is None else round(q[1], 1),
                "p99_ms": None if q[2] is None else round(q[2], 1),
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
    endpoints = _group_stats(a, "_endpoint_stats", "endpoint")
    event_types = _group_stats(a, "_type_stats", "coalesce(event_type, '(none)')")
    groups = failure_groups(a)
    totals = a.rows(
        "SELECT sum(attempts) AS attempts, sum(successes) AS ok, min(first_at) AS first_at, max(last_at) AS last_at "
        "FROM _endpoint_stats"
    )[0]
    totals["events"] = a.value("SELECT count(DISTINCT event_id) FROM _events")
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
