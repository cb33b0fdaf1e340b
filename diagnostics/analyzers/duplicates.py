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

from collections import Counter

from diagnostics.analyzers.base import LogAnalysis, fmt_time, pct
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.duplicates"


def duplicate_events(a: LogAnalysis) -> list[dict]:
    """Every duplicated (endpoint, event) with its cause, earliest first."""
    return a.rows(
        """WITH same_host AS (
                SELECT event_id, host, min(endpoint) AS endpoint,
                       string_agg(endpoint, ', ' ORDER BY endpoint) AS endpoint_list
                FROM _event_details WHERE successes >= 1 AND host IS NOT NULL AND host <> ''
                  AND event_id IN (SELECT event_id FROM _events GROUP BY event_id HAVING count(*) > 1)
                GROUP BY event_id, host HAVING count(*) >= 2
            )
            SELECT e.endpoint, e.event_id, e.event_type, e.successes, e.first_ok, e.last_ok,
                   CASE WHEN e.successes >= 2 AND e.ok_replays - CAST(e.first_ok_trigger = 'replay' AS INTEGER) > 0
                            THEN 'bulk-replay'
                        WHEN e.successes >= 2 AND e.ok_manual - CAST(e.first_ok_trigger = 'manual' AS INTEGER) > 0
                            THEN 'manual-resend'
                        WHEN e.successes >= 2 THEN 'repeated-success'
                        WHEN e.had_cutoff AND e.first_cutoff < e.first_ok THEN 'timeout-then-success'
                        ELSE 'several-endpoints' END AS cause,
                   sh.endpoint_list AS endpoints
            FROM _event_details e
            LEFT JOIN same_host sh ON sh.event_id = e.event_id AND sh.endpoint = e.endpoint
            WHERE e.successes >= 2
               OR (e.successes >= 1 AND e.had_cutoff AND e.first_cutoff < e.first_ok)
               OR sh.event_id IS NOT NULL
            ORDER BY e.first_ok, e.endpoint, e.event_id"""
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    duplicates = duplicate_events(a)
    if not duplicates:
        return [
            Finding(
                code="duplicate-deliveries",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No event was delivered more than once",
                summary="No event succeeded twice on an endpoint, none was cut off at the timeout before a "
                "successful retry, and no event reached two endpoints of the same host.",
                subject=a.subject,
                source=SOURCE,
            )
        ]
    events_per_endpoint = {
        r["endpoint"]: int(r["n"]) for r in a.rows("SELECT endpoint, count(*) AS n FROM _events GROUP BY endpoint")
    }
    by_endpoint: dict[str, list[dict]] = {}
    for row in duplicates:
        by_endpoint.setdefault(row["endpoint"], []).append(row)
    findings = []
    for endpoint, rows in sorted(by_endpoint.items()):
        causes = Counter(r["cause"] for r in rows)
        total = events_per_endpoint.get(endpoint, len(rows))
        top = causes.most_common(1)[0][0]
        findings.append(
            Finding(
                code="duplicate-deliveries",
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title=f"{len(rows)} events were delivered more than once to {endpoint}",
                summary=f"{len(rows)} of {total} events ({pct(len(rows), total)}%) reached this endpoint more "
                f"than once; the most common cause is {top}. The receiver must treat the event id as an "
                "idempotency key.",
                subject=endpoint,
                evidence=(
                    ("duplicated events", len(rows)),
                    ("events to this endpoint", total),
                    *((f"cause: {cause}", n) for cause, n in causes.most_common()),
                    ("first duplicate", fmt_time(rows[0]["first_ok"])),
                    ("last duplicate", fmt_time(rows[-1]["last_ok"])),
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
                    for r in rows
                ),
                sample_total=len(rows),
                source=SOURCE,
            )
        )
    return findings
