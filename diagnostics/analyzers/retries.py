"""retry-exhausted: events that never succeeded after the sender's last retry: lost deliveries.

An event counts when no attempt succeeded and its automatic attempts reached the profile's
`max_attempts` (the first attempt plus every retry of `retry_schedule_s`). Events still inside
their retry window are pending, not lost, and are only counted in the evidence.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import MAX_ROWS_IN_METRICS, LogAnalysis, fleet_finding, fmt_time
from diagnostics.findings import MAX_SAMPLES, Finding, Severity, Status

SOURCE = "analyzers.retries"


def _exhausted_where(a: LogAnalysis) -> str:
    return f"successes = 0 AND greatest(auto_attempts, max_auto_attempt) >= {a.profile.max_attempts}"


def exhausted_table(a: LogAnalysis) -> str:
    """Materialize `_exhausted` (every lost event) once per analysis."""
    a.engine.materialize(
        "_exhausted",
        f"""SELECT endpoint, event_id, event_type, attempts, first_at, last_at FROM _event_details
            WHERE {_exhausted_where(a)}""",
    )
    return "_exhausted"


def exhausted_events(a: LogAnalysis) -> list[dict[str, Any]]:
    """Every lost event (tests and small logs)."""
    return a.rows(f"SELECT * FROM {exhausted_table(a)} ORDER BY endpoint, first_at, event_id")


def to_redeliver(a: LogAnalysis) -> dict[str, list[str]]:
    """Per endpoint, the ids of lost events to redeliver: at most MAX_ROWS_IN_METRICS ids in all,
    the endpoints with the most lost events first (the full list is in `--details`)."""
    ids: dict[str, list[str]] = {}
    for row in a.rows(
        f"""WITH ranked AS (
                SELECT endpoint, event_id, first_at, count(*) OVER (PARTITION BY endpoint) AS lost
                FROM {exhausted_table(a)})
            SELECT endpoint, event_id FROM ranked
            ORDER BY lost DESC, endpoint, first_at, event_id LIMIT {MAX_ROWS_IN_METRICS}"""
    ):
        ids.setdefault(row["endpoint"], []).append(row["event_id"])
    return ids


PROBLEMS_SQL = """SELECT 'retry-exhausted' AS code, endpoint, 'fail' AS status, 'high' AS severity,
           count(*) AS events, sum(attempts) AS attempts, min(first_at) AS first_at, max(last_at) AS last_at,
           CAST(count(*) AS VARCHAR) || ' events lost' AS detail
    FROM _exhausted GROUP BY endpoint"""


def _pending(a: LogAnalysis) -> str:
    return (f"SELECT endpoint, count(*) AS n FROM _event_details WHERE successes = 0 "
            f"AND greatest(auto_attempts, max_auto_attempt) < {a.profile.max_attempts} GROUP BY endpoint")


def _pass(a: LogAnalysis, pending: int) -> Finding:
    return Finding(
        code="retry-exhausted",
        status=Status.PASS,
        severity=Severity.INFO,
        title="No event exhausted its retries",
        summary=f"Every event either succeeded or is still inside the {a.profile.label} retry window.",
        subject=a.subject,
        evidence=(("still being retried", pending),),
        source=SOURCE,
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    exhausted_table(a)
    problems = a.problems("retry-exhausted", PROBLEMS_SQL)
    if a.fleet:
        pending_total = int(a.value(f"SELECT coalesce(sum(n), 0) FROM ({_pending(a)}) AS p") or 0)
        return fleet_finding(
            a,
            code="retry-exhausted",
            problems=problems,
            title="{events} events to {endpoints} endpoints were never delivered",
            summary="{events} events failed on every attempt of the " + a.profile.label + " retry schedule "
            "({attempts} attempts, first created {first_at}) and will not be retried; redeliver them once "
            "each endpoint works. The table ranks the endpoints by lost events; --details lists them all."
            + f" {pending_total} more events are still being retried.",
            source=SOURCE,
            pass_finding=_pass(a, pending_total),
        )
    pending = {r["endpoint"]: int(r["n"]) for r in a.rows(_pending(a))}
    per_endpoint = a.rows(f"SELECT endpoint, events, first_at, last_at FROM {problems} ORDER BY endpoint")
    if not per_endpoint:
        return [_pass(a, sum(pending.values()))]
    types: dict[str, list[tuple[str, int]]] = {}
    for r in a.rows("""SELECT endpoint, coalesce(event_type, '(none)') AS t, count(*) AS n FROM _exhausted
                       GROUP BY endpoint, coalesce(event_type, '(none)') ORDER BY endpoint, n DESC, t"""):
        types.setdefault(r["endpoint"], []).append((r["t"], int(r["n"])))
    samples: dict[str, list[dict[str, Any]]] = {}
    for r in a.rows(
        f"""SELECT * FROM (
                SELECT *, row_number() OVER (PARTITION BY endpoint ORDER BY first_at, event_id) AS pos
                FROM _exhausted) AS x
            WHERE pos <= {MAX_SAMPLES} ORDER BY endpoint, pos"""
    ):
        samples.setdefault(r["endpoint"], []).append(r)
    last_created = {
        r["endpoint"]: r["last_created"]
        for r in a.rows("SELECT endpoint, max(first_at) AS last_created FROM _exhausted GROUP BY endpoint")
    }
    findings = []
    for row in per_endpoint:
        endpoint, n = row["endpoint"], int(row["events"])
        findings.append(
            Finding(
                code="retry-exhausted",
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"{n} events to {endpoint} were never delivered",
                summary=f"{n} events failed on all {a.profile.max_attempts} attempts of the "
                f"{a.profile.label} retry schedule and will not be retried; redeliver them once the endpoint "
                "works (the event ids are listed).",
                subject=endpoint,
                evidence=(
                    ("events lost", n),
                    ("attempts per event", a.profile.max_attempts),
                    ("retry schedule", a.profile.retry_note or "no automatic retries"),
                    ("first lost event created", fmt_time(row["first_at"])),
                    ("last lost event created", fmt_time(last_created[endpoint])),
                    ("by event type", ", ".join(f"{k} {v}" for k, v in types[endpoint])),
                    ("still being retried (not lost yet)", pending.get(endpoint, 0)),
                ),
                samples=tuple(
                    {
                        "event_id": e["event_id"],
                        "event_type": e["event_type"],
                        "attempts": int(e["attempts"]),
                        "first_attempt": fmt_time(e["first_at"]),
                        "last_attempt": fmt_time(e["last_at"]),
                    }
                    for e in samples.get(endpoint, [])
                ),
                sample_total=n,
                source=SOURCE,
            )
        )
    return findings
