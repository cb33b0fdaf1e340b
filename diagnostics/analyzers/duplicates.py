"""duplicate-deliveries: an event the receiver got (or probably got) more than once.

Causes, attributed per event and endpoint (first that applies):
- bulk-replay / manual-resend: a replayed or manually resent attempt succeeded after a success;
- repeated-success: the sender itself retried after a success (a sender-side problem);
- timeout-then-success: an attempt was cut off at the timeout and a retry succeeded; the
  receiver very likely processed both, though the log shows one success;
- several-endpoints: the same event succeeded on two endpoints that point at the same host
  (overlapping subscriptions); reported under the first endpoint by name.
The fix is idempotency on the event id and answering 2xx before slow work.
"""

from __future__ import annotations

from diagnostics.analyzers.base import HOST, LogAnalysis, fleet_finding, fmt_time, pct
from diagnostics.findings import MAX_SAMPLES, Finding, Severity, Status

SOURCE = "analyzers.duplicates"


def _later_success(count: str, first: str) -> str:
    """A success of this trigger that is not the event's first success."""
    return f"({count} >= 2 OR ({count} >= 1 AND {first} > first_ok))"


# The host is read from the URLs of the events sent to several endpoints only (no other event
# can reach two endpoints of one host).
DUPLICATES_SQL = f"""WITH fanned_out AS (
        SELECT event_id, endpoint, {HOST} AS host
        FROM _event_details WHERE successes >= 1 AND event_id IN (SELECT event_id FROM _fanout)
    ), same_host AS (
        SELECT event_id, host, min(endpoint) AS endpoint,
               string_agg(endpoint, ', ' ORDER BY endpoint) AS endpoint_list
        FROM fanned_out WHERE host IS NOT NULL AND host <> ''
        GROUP BY event_id, host HAVING count(*) >= 2
    )
    SELECT e.endpoint, e.event_id, e.event_type, e.successes, e.first_ok, e.last_ok,
           CASE WHEN e.successes >= 2 AND {_later_success('e.ok_replays', 'e.first_ok_replay')} THEN 'bulk-replay'
                WHEN e.successes >= 2 AND {_later_success('e.ok_manual', 'e.first_ok_manual')} THEN 'manual-resend'
                WHEN e.successes >= 2 THEN 'repeated-success'
                WHEN e.had_cutoff AND e.first_cutoff < e.first_ok THEN 'timeout-then-success'
                ELSE 'several-endpoints' END AS cause,
           sh.endpoint_list AS endpoints
    FROM _event_details AS e
    LEFT JOIN same_host AS sh ON sh.event_id = e.event_id AND sh.endpoint = e.endpoint
    WHERE e.successes >= 2
       OR (e.successes >= 1 AND e.had_cutoff AND e.first_cutoff < e.first_ok)
       OR sh.event_id IS NOT NULL"""

PROBLEMS_SQL = """WITH causes AS (
        SELECT endpoint, cause, count(*) AS n FROM _duplicates GROUP BY endpoint, cause
    ), per_endpoint AS (
        SELECT endpoint, count(*) AS events, sum(successes) AS attempts, min(first_ok) AS first_at,
               max(last_ok) AS last_at
        FROM _duplicates GROUP BY endpoint
    )
    SELECT 'duplicate-deliveries' AS code, p.endpoint, 'warn' AS status, 'medium' AS severity, p.events,
           p.attempts, p.first_at, p.last_at,
           string_agg(c.cause || ' ' || CAST(c.n AS VARCHAR), ', ' ORDER BY c.n DESC, c.cause) AS detail
    FROM per_endpoint AS p JOIN causes AS c ON c.endpoint = p.endpoint
    GROUP BY p.endpoint, p.events, p.attempts, p.first_at, p.last_at"""


def duplicate_events(a: LogAnalysis) -> list[dict]:
    """Every duplicated (endpoint, event) with its cause, earliest first (tests and small logs)."""
    _materialize(a)
    return a.rows("SELECT * FROM _duplicates ORDER BY first_ok, endpoint, event_id")


def _materialize(a: LogAnalysis) -> str:
    a.engine.materialize("_duplicates", DUPLICATES_SQL)
    return a.problems("duplicate-deliveries", PROBLEMS_SQL)


def _pass(a: LogAnalysis) -> Finding:
    return Finding(
        code="duplicate-deliveries",
        status=Status.PASS,
        severity=Severity.INFO,
        title="No event was delivered more than once",
        summary="No event succeeded twice on an endpoint, none was cut off at the timeout before a "
        "successful retry, and no event reached two endpoints of the same host.",
        subject=a.subject,
        source=SOURCE,
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    problems = _materialize(a)
    if a.fleet:
        return fleet_finding(
            a,
            code="duplicate-deliveries",
            problems=problems,
            title="{endpoints} of {fleet} endpoints received duplicate deliveries ({events} events)",
            summary="{events} events reached their endpoint more than once, on {endpoints} endpoints, between "
            "{first_at} and {last_at}; the table ranks the endpoints by duplicated events and names the causes. "
            "Receivers must treat the event id as an idempotency key.",
            source=SOURCE,
            pass_finding=_pass(a),
        )
    per_endpoint = a.rows(
        f"""SELECT p.endpoint, p.events AS duplicated, p.first_at, p.last_at, e.total
            FROM {problems} AS p
            JOIN (SELECT endpoint, count(*) AS total FROM _events GROUP BY endpoint) AS e ON e.endpoint = p.endpoint
            ORDER BY p.endpoint"""
    )
    if not per_endpoint:
        return [_pass(a)]
    causes: dict[str, list[tuple[str, int]]] = {}
    for r in a.rows("SELECT endpoint, cause, count(*) AS n FROM _duplicates GROUP BY endpoint, cause "
                    "ORDER BY endpoint, n DESC, cause"):
        causes.setdefault(r["endpoint"], []).append((r["cause"], int(r["n"])))
    samples: dict[str, list[dict]] = {}
    for r in a.rows(
        f"""SELECT * FROM (
                SELECT *, row_number() OVER (PARTITION BY endpoint ORDER BY first_ok, event_id) AS pos
                FROM _duplicates) AS d
            WHERE pos <= {MAX_SAMPLES} ORDER BY endpoint, pos"""
    ):
        samples.setdefault(r["endpoint"], []).append(r)
    findings = []
    for row in per_endpoint:
        endpoint, n, total = row["endpoint"], int(row["duplicated"]), int(row["total"])
        top = causes[endpoint][0][0]
        findings.append(
            Finding(
                code="duplicate-deliveries",
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title=f"{n} events were delivered more than once to {endpoint}",
                summary=f"{n} of {total} events ({pct(n, total)}%) reached this endpoint more "
                f"than once; the most common cause is {top}. The receiver must treat the event id as an "
                "idempotency key.",
                subject=endpoint,
                evidence=(
                    ("duplicated events", n),
                    ("events to this endpoint", total),
                    *((f"cause: {cause}", count) for cause, count in causes[endpoint]),
                    ("first duplicate", fmt_time(row["first_at"])),
                    ("last duplicate", fmt_time(row["last_at"])),
                ),
                samples=tuple(
                    {
                        "event_id": r["event_id"],
                        "event_type": r["event_type"],
                        "cause": r["cause"],
                        "successful_attempts": r["successes"],
                        "first_success": fmt_time(r["first_ok"]),
                        "endpoints": r["endpoints"] or endpoint,
                    }
                    for r in samples.get(endpoint, [])
                ),
                sample_total=n,
                source=SOURCE,
            )
        )
    return findings
