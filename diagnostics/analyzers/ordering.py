"""out-of-order-delivery: for the same resource, a later event was delivered before an earlier one.

Needs payloads: the resource is `data.id` (or `data.object.id`), the event time `created_at`
(or `timestamp`, `created`, else the event's first attempt). The payload is read from each
event's first attempt (attempt 1), so only one JSON document per event is parsed; events whose
first attempt lies outside the loaded window are not checked. For each endpoint and resource the
events are put in creation order; a pair where the later event's first successful delivery came
before the earlier one's is out of order. Without payloads the check cannot run (error).
"""

from __future__ import annotations

from diagnostics.analyzers.base import OK, LogAnalysis, fleet_finding, fmt_time
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.ordering"
# Only valid documents are read (an invalid payload gives NULLs, never an error).
def _path(path: str) -> str:
    return f"CASE WHEN json_valid(payload) THEN json_extract_string(payload, '{path}') END"


NEXT = "OVER (PARTITION BY m.endpoint, m.resource ORDER BY m.created, m.event_id)"
RESOURCE = f"coalesce({_path('$.data.id')}, {_path('$.data.object.id')})"
CREATED = (
    f"coalesce(TRY_CAST({_path('$.created_at')} AS TIMESTAMPTZ), TRY_CAST({_path('$.timestamp')} AS TIMESTAMPTZ), "
    f"to_timestamp(TRY_CAST({_path('$.created')} AS DOUBLE)), first_at)"
)


def inversions(a: LogAnalysis) -> list[dict]:
    """Every out-of-order pair (tests and small logs)."""
    _materialize(a)
    return a.rows("SELECT * FROM _inversions ORDER BY endpoint, first_ok")


PROBLEMS_SQL = """SELECT 'out-of-order-delivery' AS code, endpoint, 'warn' AS status, 'low' AS severity,
           count(*) AS events, count(*) AS attempts, min(later_delivered) AS first_at, max(first_ok) AS last_at,
           CAST(count(DISTINCT resource) AS VARCHAR) || ' resource(s) out of order' AS detail
    FROM _inversions GROUP BY endpoint"""


def _materialize(a: LogAnalysis) -> str:
    a.engine.materialize(
        "_inversions",
        f"""WITH first_payload AS (
                SELECT endpoint, event_id, event_type, attempted_at AS first_at, payload FROM {a.table}
                WHERE attempt = 1 AND payload IS NOT NULL
            ), ev AS (
                SELECT endpoint, event_id, event_type, {RESOURCE} AS resource, {CREATED} AS created
                FROM first_payload
            ), shared AS (
                SELECT endpoint, resource FROM ev WHERE resource IS NOT NULL
                GROUP BY endpoint, resource HAVING count(*) > 1
            ), multi AS (
                SELECT ev.* FROM ev JOIN shared ON shared.endpoint = ev.endpoint AND shared.resource = ev.resource
            ), delivered AS (
                SELECT t.endpoint, t.event_id, min(t.attempted_at) FILTER (WHERE {OK}) AS first_ok
                FROM {a.table} AS t JOIN multi AS m ON m.endpoint = t.endpoint AND m.event_id = t.event_id
                GROUP BY t.endpoint, t.event_id
            ), paired AS (
                -- each event and the next one of its resource, in creation order
                SELECT m.*, d.first_ok, lead(m.event_id) {NEXT} AS later_event,
                       lead(m.event_type) {NEXT} AS later_type,
                       lead(d.first_ok) {NEXT} AS later_delivered,
                       lead(m.created) {NEXT} AS later_created
                FROM multi AS m JOIN delivered AS d ON d.endpoint = m.endpoint AND d.event_id = m.event_id
                WHERE d.first_ok IS NOT NULL
            )
            SELECT endpoint, resource, event_id, event_type, created, first_ok, later_event, later_type,
                   later_created, later_delivered
            FROM paired WHERE later_delivered < first_ok""",
    )
    return a.problems("out-of-order-delivery", PROBLEMS_SQL)


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
    problems = _materialize(a)
    if a.fleet:
        return fleet_finding(
            a,
            code="out-of-order-delivery",
            problems=problems,
            title="{endpoints} of {fleet} endpoints received events of a resource out of order",
            summary="On {endpoints} endpoints, {events} events were delivered before an earlier event of the "
            "same resource. Receivers must order by the event's own timestamp, not by arrival.",
            source=SOURCE,
            pass_finding=_in_order(a),
        )
    rows = a.rows(
        """SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY endpoint ORDER BY first_ok) AS pos
                          FROM _inversions) AS i
           WHERE pos <= 20 ORDER BY endpoint, pos"""
    )
    totals = {r["endpoint"]: r for r in a.rows(
        """WITH names AS (  -- string_agg over a SELECT DISTINCT: Spark cannot plan it beside count(DISTINCT)
               SELECT endpoint, string_agg(resource, ', ' ORDER BY resource) AS names
               FROM (SELECT DISTINCT endpoint, resource FROM _inversions) AS r GROUP BY endpoint)
           SELECT i.endpoint, count(*) AS pairs, count(DISTINCT i.resource) AS resources, min(n.names) AS names
           FROM _inversions AS i JOIN names AS n ON n.endpoint = i.endpoint GROUP BY i.endpoint""")}
    by_endpoint: dict[str, list[dict]] = {}
    for r in rows:
        by_endpoint.setdefault(r["endpoint"], []).append(r)
    findings = []
    for endpoint, pairs in sorted(by_endpoint.items()):
        total, resource_count = int(totals[endpoint]["pairs"]), int(totals[endpoint]["resources"])
        resources = sorted(str(totals[endpoint]["names"]).split(", "))
        first = pairs[0]
        findings.append(
            Finding(
                code="out-of-order-delivery",
                status=Status.WARN,
                severity=Severity.LOW,
                title=f"{total} events reached {endpoint} before an earlier event of the same resource",
                summary=f"For {resource_count} resource(s) a later event was delivered first, e.g. "
                f"{first['later_type']} ({first['later_event']}) arrived at {fmt_time(first['later_delivered'])}, "
                f"before {first['event_type']} ({first['event_id']}) at {fmt_time(first['first_ok'])}. Receivers "
                "must order by the event's own timestamp, not by arrival.",
                subject=endpoint,
                evidence=(
                    ("out-of-order pairs", total),
                    ("resources affected", resource_count),
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
                sample_total=total,
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(_in_order(a))
    return findings


def _in_order(a: LogAnalysis) -> Finding:
    return Finding(
        code="out-of-order-delivery",
        status=Status.PASS,
        severity=Severity.INFO,
        title="Events arrived in order",
        summary="For every resource, events were first delivered in the order they were created.",
        subject=a.subject,
        source=SOURCE,
    )
