"""high-failure-rate: endpoints and event types whose attempts fail too often.

The rate is failed attempts over attempts (success = 2xx; no response is a failure), judged only
with at least MIN_ATTEMPTS (base.py) attempts: WARN_RATE and up warns, FAIL_RATE and up fails. An event
type must also fail at least TYPE_CONTRAST times as often as all other event types together:
otherwise its failures are an endpoint's problem (already reported per endpoint), not the
type's; attempts without an event type are not judged by type. Each finding lists its
failure groups (error kind or status, with first and last seen) like Hookdeck's Issues.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import MIN_ATTEMPTS, LogAnalysis, fleet_finding, fmt_time, pct
from diagnostics.findings import Finding, Severity, Status

WARN_RATE = 0.10
FAIL_RATE = 0.50
TYPE_CONTRAST = 2.0
SOURCE = "analyzers.failure_rates"


GROUPS_SHOWN = 5


def failing_groups(a: LogAnalysis, key: str) -> list[dict[str, Any]]:
    """Values of `key` (endpoint or event_type) at or over WARN_RATE, worst first."""
    return a.rows(f"SELECT * FROM {_failing_table(a, key)} ORDER BY failed / attempts DESC, name")


def _failing_table(a: LogAnalysis, key: str) -> str:
    """Materialize the failing endpoints or event types with their failed-event counts."""
    stats_table = "_endpoint_stats" if key == "endpoint" else "_type_stats"
    contrast = (
        f"AND g.name <> '(none)' AND t.attempts > g.attempts "
        f"AND g.failed / g.attempts >= {TYPE_CONTRAST} * (t.failed - g.failed) / NULLIF(t.attempts - g.attempts, 0)"
        if key == "event_type"
        else ""
    )
    name = f"_failing_{key}"
    a.engine.materialize(
        name,
        f"""WITH g AS (SELECT name, attempts, CAST(attempts - successes AS DOUBLE) AS failed FROM {stats_table}),
                 t AS (SELECT sum(attempts) AS attempts, sum(failed) AS failed FROM g),
                 ev AS (SELECT coalesce({key}, '(none)') AS name, count(DISTINCT event_id) AS events_failed
                        FROM _failures GROUP BY coalesce({key}, '(none)'))
            SELECT g.name, g.attempts, CAST(g.failed AS BIGINT) AS failed,
                   coalesce(ev.events_failed, 0) AS events_failed
            FROM g CROSS JOIN t LEFT JOIN ev ON ev.name = g.name
            WHERE g.attempts >= {MIN_ATTEMPTS} AND g.failed >= {WARN_RATE} * g.attempts {contrast}""",
    )
    return name


def _groups(a: LogAnalysis, key: str, table: str) -> dict[str, list[dict[str, Any]]]:
    """The main failure groups (error kind or status) of every failing name, in one query."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for g in a.rows(
        f"""WITH grouped AS (
                SELECT coalesce(f.{key}, '(none)') AS name, f.outcome AS failure, count(*) AS attempts,
                       min(f.attempted_at) AS first_seen, max(f.attempted_at) AS last_seen
                FROM _failures AS f
                WHERE coalesce(f.{key}, '(none)') IN (SELECT name FROM {table})
                GROUP BY coalesce(f.{key}, '(none)'), f.outcome
            ), ranked AS (
                SELECT *, row_number() OVER (PARTITION BY name ORDER BY attempts DESC, failure) AS pos,
                       count(*) OVER (PARTITION BY name) AS kinds
                FROM grouped)
            SELECT * FROM ranked WHERE pos <= 20 ORDER BY name, pos"""
    ):
        groups.setdefault(str(g["name"]), []).append(g)
    return groups


PROBLEMS_SQL = f"""SELECT 'high-failure-rate' AS code, name AS endpoint,
           CASE WHEN failed >= {FAIL_RATE} * attempts THEN 'fail' ELSE 'warn' END AS status,
           CASE WHEN failed >= {FAIL_RATE} * attempts THEN 'high' ELSE 'medium' END AS severity,
           events_failed AS events, failed AS attempts, CAST(NULL AS TIMESTAMPTZ) AS first_at,
           CAST(NULL AS TIMESTAMPTZ) AS last_at,
           CAST(round(100.0 * failed / attempts, 1) AS VARCHAR) || '% of ' || CAST(attempts AS VARCHAR)
             || ' attempts fail' AS detail
    FROM _failing_endpoint"""


def _pass(a: LogAnalysis) -> Finding:
    return Finding(
        code="high-failure-rate",
        status=Status.PASS,
        severity=Severity.INFO,
        title="Failure rates are low",
        summary=f"No endpoint or event type with {MIN_ATTEMPTS}+ attempts fails {WARN_RATE:.0%} or more.",
        subject=a.subject,
        source=SOURCE,
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    findings = []
    endpoint_table = _failing_table(a, "endpoint")
    problems = a.problems("high-failure-rate", PROBLEMS_SQL)
    scopes: list[tuple[str, str]] = [("event_type", "event type")]
    if a.fleet:
        findings.extend(
            f for f in fleet_finding(
                a,
                code="high-failure-rate",
                problems=problems,
                title="{endpoints} of {fleet} endpoints fail " + f"{WARN_RATE:.0%} or more of their attempts",
                summary="{endpoints} endpoints with " + f"{MIN_ATTEMPTS}+ attempts fail {WARN_RATE:.0%} or more "
                "({failing} of them half or more): {attempts} failed attempts, {events} events with at least one "
                "failure. The table ranks them by events with a failure.",
                source=SOURCE,
                pass_finding=_pass(a),
            ) if f.status is not Status.PASS
        )
    else:
        scopes.insert(0, ("endpoint", "endpoint"))
    for key, what in scopes:
        table = endpoint_table if key == "endpoint" else _failing_table(a, key)
        groups_by_name = _groups(a, key, table)
        for row in a.rows(f"SELECT * FROM {table} ORDER BY failed / attempts DESC, name"):
            rate = row["failed"] / row["attempts"]
            groups = groups_by_name.get(str(row["name"]), [])
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
                            for g in groups[:GROUPS_SHOWN]
                        ),
                    ),
                    samples=tuple(
                        {"failure": g["failure"], "attempts": int(g["attempts"]),
                         "first_seen": fmt_time(g["first_seen"]), "last_seen": fmt_time(g["last_seen"])}
                        for g in groups
                    ),
                    sample_total=int(groups[0]["kinds"]) if groups else 0,
                    source=SOURCE,
                )
            )
    if not findings:
        findings.append(_pass(a))
    return findings
