"""high-failure-rate: endpoints and event types whose attempts fail too often.

The rate is failed attempts over attempts (success = 2xx; no response is a failure), judged only
with at least MIN_ATTEMPTS attempts: WARN_RATE and up warns, FAIL_RATE and up fails. An event
type must also fail at least TYPE_CONTRAST times as often as all other event types together:
otherwise its failures are an endpoint's problem (already reported per endpoint), not the
type's; attempts without an event type are not judged by type. Each finding lists its
failure groups (error kind or status, with first and last seen) like Hookdeck's Issues.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import LogAnalysis, fmt_time, pct
from diagnostics.findings import Finding, Severity, Status

MIN_ATTEMPTS = 20
WARN_RATE = 0.10
FAIL_RATE = 0.50
TYPE_CONTRAST = 2.0
SOURCE = "analyzers.failure_rates"


def failing_groups(a: LogAnalysis, key: str) -> list[dict[str, Any]]:
    """Values of `key` (endpoint or event_type) at or over WARN_RATE, worst first."""
    stats_table = "_endpoint_stats" if key == "endpoint" else "_type_stats"
    contrast = (
        f"AND g.name <> '(none)' AND t.attempts > g.attempts "
        f"AND g.failed / g.attempts >= {TYPE_CONTRAST} * (t.failed - g.failed) / (t.attempts - g.attempts)"
        if key == "event_type"
        else ""
    )
    return a.rows(
        f"""WITH g AS (SELECT name, attempts, attempts - successes AS failed FROM {stats_table}),
                 t AS (SELECT sum(attempts) AS attempts, sum(failed) AS failed FROM g)
            SELECT g.name, g.attempts, g.failed,
                   (SELECT count(DISTINCT event_id) FROM _failures f
                    WHERE coalesce(f.{key}, '(none)') = g.name) AS events_failed
            FROM g, t
            WHERE g.attempts >= {MIN_ATTEMPTS} AND g.failed >= {WARN_RATE} * g.attempts {contrast}
            ORDER BY g.failed / g.attempts DESC, g.name"""
    )


def _groups_of(a: LogAnalysis, key: str, name: str) -> list[dict[str, Any]]:
    return a.rows(
        f"""SELECT outcome AS failure, count(*) AS attempts, min(attempted_at) AS first_seen,
                   max(attempted_at) AS last_seen
            FROM _failures WHERE coalesce({key}, '(none)') = ?
            GROUP BY ALL ORDER BY attempts DESC, failure""",
        [name],
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    findings = []
    for key, what in (("endpoint", "endpoint"), ("event_type", "event type")):
        for row in failing_groups(a, key):
            rate = row["failed"] / row["attempts"]
            groups = _groups_of(a, key, row["name"])
            findings.append(
                Finding(
                    code="high-failure-rate",
                    status=Status.FAIL if rate >= FAIL_RATE else Status.WARN,
                    severity=Severity.HIGH if rate >= FAIL_RATE else Severity.MEDIUM,
                    title=f"{pct(row['failed'], row['attempts'])}% of attempts to {what} {row['name']} fail",
                    summary=f"{row['failed']} of {row['attempts']} attempts failed ({row['events_failed']} events "
                    f"had at least one failure); the main failure is {groups[0]['failure']}.",
                    subject=f"{what}: {row['name']}",
                    evidence=(
                        ("scope", what),
                        ("attempts", int(row["attempts"])),
                        ("failed attempts", int(row["failed"])),
                        ("failure rate %", pct(row["failed"], row["attempts"])),
                        ("events with a failure", int(row["events_failed"])),
                        *(
                            (f"group {g['failure']}",
                             f"{g['attempts']} attempts, {fmt_time(g['first_seen'])} to {fmt_time(g['last_seen'])}")
                            for g in groups[:5]
                        ),
                    ),
                    samples=tuple(
                        {"failure": g["failure"], "attempts": int(g["attempts"]),
                         "first_seen": fmt_time(g["first_seen"]), "last_seen": fmt_time(g["last_seen"])}
                        for g in groups
                    ),
                    sample_total=len(groups),
                    source=SOURCE,
                )
            )
    if not findings:
        findings.append(
            Finding(
                code="high-failure-rate",
                status=Status.PASS,
                severity=Severity.INFO,
                title="Failure rates are low",
                summary=f"No endpoint or event type with {MIN_ATTEMPTS}+ attempts fails {WARN_RATE:.0%} or more.",
                subject=a.subject,
                source=SOURCE,
            )
        )
    return findings
