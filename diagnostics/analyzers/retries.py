"""retry-exhausted: events that never succeeded after the sender's last retry: lost deliveries.

An event counts when no attempt succeeded and its automatic attempts reached the profile's
`max_attempts` (the first attempt plus every retry of `retry_schedule_s`). Events still inside
their retry window are pending, not lost, and are only counted in the evidence.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import MAX_ROWS_IN_METRICS, LogAnalysis, fmt_time
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.retries"


def exhausted_events(a: LogAnalysis) -> list[dict[str, Any]]:
    n = a.profile.max_attempts
    return a.rows(
        f"""SELECT endpoint, event_id, event_type, attempts, first_at, last_at
            FROM _event_details
            WHERE successes = 0 AND greatest(auto_attempts, max_auto_attempt) >= {n}
            ORDER BY endpoint, first_at, event_id"""
    )


def to_redeliver(a: LogAnalysis) -> dict[str, list[str]]:
    """Per endpoint, the ids of lost events to redeliver (capped at MAX_ROWS_IN_METRICS each)."""
    ids: dict[str, list[str]] = {}
    for row in exhausted_events(a):
        if len(ids.setdefault(row["endpoint"], [])) < MAX_ROWS_IN_METRICS:
            ids[row["endpoint"]].append(row["event_id"])
    return ids


def analyze(a: LogAnalysis) -> list[Finding]:
    rows = exhausted_events(a)
    pending = {
        r["endpoint"]: int(r["n"])
        for r in a.rows(
            f"SELECT endpoint, count(*) AS n FROM _event_details WHERE successes = 0 "
            f"AND greatest(auto_attempts, max_auto_attempt) < {a.profile.max_attempts} GROUP BY endpoint"
        )
    }
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_endpoint.setdefault(row["endpoint"], []).append(row)
    findings = []
    for endpoint, events in sorted(by_endpoint.items()):
        types: dict[str, int] = {}
        for e in events:
            types[e["event_type"] or "(none)"] = types.get(e["event_type"] or "(none)", 0) + 1
        findings.append(
            Finding(
                code="retry-exhausted",
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"{len(events)} events to {endpoint} were never delivered",
                summary=f"{len(events)} events failed on all {a.profile.max_attempts} attempts of the "
                f"{a.profile.label} retry schedule and will not be retried; redeliver them once the endpoint "
                "works (the event ids are listed).",
                subject=endpoint,
                evidence=(
                    ("events lost", len(events)),
                    ("attempts per event", a.profile.max_attempts),
                    ("retry schedule", a.profile.retry_note or "no automatic retries"),
                    ("first lost event created", fmt_time(events[0]["first_at"])),
                    ("last lost event created", fmt_time(events[-1]["first_at"])),
                    ("by event type", ", ".join(f"{k} {v}" for k, v in sorted(types.items(), key=lambda kv: -kv[1]))),
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
                    for e in events
                ),
                sample_total=len(events),
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(
            Finding(
                code="retry-exhausted",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No event exhausted its retries",
                summary=f"Every event either succeeded or is still inside the {a.profile.label} retry window.",
                subject=a.subject,
                evidence=(("still being retried", sum(pending.values())),),
                source=SOURCE,
            )
        )
    return findings
