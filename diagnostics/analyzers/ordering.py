"""out-of-order-delivery: for the same resource, a later event was delivered before an earlier one.

Needs payloads: the resource is `data.id` (or `data.object.id`), the event time `created_at`
(or `timestamp`, `created`, else the event's first attempt). The payload is read from each
event's first attempt (attempt 1), so only one JSON document per event is parsed; events whose
first attempt lies outside the loaded window are not checked. For each endpoint and resource the
events are put in creation order; a pair where the later event's first successful delivery came
before the earlier one's is out of order. Without payloads the check cannot run (error).
"""

from __future__ import annotations

from diagnostics.analyzers.base import OK, LogAnalysis, fmt_time
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.ordering"
# Each payload is parsed once, for all paths at the same time; an invalid document gives NULLs.
PATHS = (
    "try(json_extract_string(payload, ['$.data.id', '$.data.object.id', '$.created_at', '$.timestamp', '$.created']))"
)
RESOURCE = "coalesce(f[1], f[2])"
CREATED = (
    "coalesce(TRY_CAST(f[3] AS TIMESTAMPTZ), TRY_CAST(f[4] AS TIMESTAMPTZ), "
    "to_timestamp(TRY_CAST(f[5] AS DOUBLE)), first_at)"
)


def inversions(a: LogAnalysis) -> list[dict]:
    return a.rows(
        f"""WITH first_payload AS (
                SELECT endpoint, event_id, event_type, attempted_at AS first_at, {PATHS} AS f FROM {a.table}
                WHERE attempt = 1 AND payload IS NOT NULL
            ), ev AS MATERIALIZED (
                SELECT endpoint, event_id, event_type, {RESOURCE} AS resource, {CREATED} AS created
                FROM first_payload
            ), multi AS (
                SELECT * FROM ev WHERE resource IS NOT NULL
                  AND (endpoint, resource) IN (SELECT endpoint, resource FROM ev WHERE resource IS NOT NULL
                                               GROUP BY ALL HAVING count(*) > 1)
            ), delivered AS (
                SELECT endpoint, event_id, min(attempted_at) FILTER (WHERE {OK}) AS first_ok
                FROM {a.table} SEMI JOIN multi USING (endpoint, event_id)
                GROUP BY ALL
            ), paired AS (
                SELECT m.*, d.first_ok, lead(m.event_id) OVER w AS later_event, lead(m.event_type) OVER w AS later_type,
                       lead(d.first_ok) OVER w AS later_delivered, lead(m.created) OVER w AS later_created
                FROM multi m JOIN delivered d USING (endpoint, event_id)
                WHERE d.first_ok IS NOT NULL
                WINDOW w AS (PARTITION BY m.endpoint, m.resource ORDER BY m.created, m.event_id)
            )
            SELECT endpoint, resource, event_id, event_type, created, first_ok, later_event, later_type,
                   later_created, later_delivered
            FROM paired WHERE later_delivered < first_ok
            ORDER BY endpoint, first_ok"""
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    with_payload = a.value(f"SELECT count(payload) FROM {a.table}")
    if not with_payload:
        return [
            Finding(
                code="out-of-order-delivery",
                status=Status.ERROR,
                severity=Severity.INFO,
                title="Delivery order could not be checked",
                summary="The log has no payloads, so events cannot be tied to the resource they describe.",
                subject=a.subject,
                source=SOURCE,
            )
        ]
    rows = inversions(a)
    by_endpoint: dict[str, list[dict]] = {}
    for r in rows:
        by_endpoint.setdefault(r["endpoint"], []).append(r)
    findings = []
    for endpoint, pairs in sorted(by_endpoint.items()):
        resources = sorted({p["resource"] for p in pairs})
        first = pairs[0]
        findings.append(
            Finding(
                code="out-of-order-delivery",
                status=Status.WARN,
                severity=Severity.LOW,
                title=f"{len(pairs)} events reached {endpoint} before an earlier event of the same resource",
                summary=f"For {len(resources)} resource(s) a later event was delivered first, e.g. "
                f"{first['later_type']} ({first['later_event']}) arrived at {fmt_time(first['later_delivered'])}, "
                f"before {first['event_type']} ({first['event_id']}) at {fmt_time(first['first_ok'])}. Receivers "
                "must order by the event's own timestamp, not by arrival.",
                subject=endpoint,
                evidence=(
                    ("out-of-order pairs", len(pairs)),
                    ("resources affected", len(resources)),
                    ("resources", ", ".join(resources[:10])),
                ),
                samples=tuple(
                    {
                        "resource": p["resource"],
                        "earlier_event": p["event_id"],
                        "earlier_type": p["event_type"],
                        "earlier_delivered": fmt_time(p["first_ok"]),
                        "later_event": p["later_event"],
                        "later_type": p["later_type"],
                        "later_delivered": fmt_time(p["later_delivered"]),
                    }
                    for p in pairs
                ),
                sample_total=len(pairs),
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(
            Finding(
                code="out-of-order-delivery",
                status=Status.PASS,
                severity=Severity.INFO,
                title="Events arrived in order",
                summary="For every resource, events were first delivered in the order they were created.",
                subject=a.subject,
                source=SOURCE,
            )
        )
    return findings
