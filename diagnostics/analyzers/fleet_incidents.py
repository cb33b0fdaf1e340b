"""fleet-incident: many unrelated endpoints failing the same way in the same window.

That is an incident on our side or at a shared provider (a hosting network, a CDN, a certificate
authority), not thirty separate customer problems. Failed attempts are counted per BUCKET_MINUTES
bucket and failure signature, where a signature is either the failure itself (the error kind when
no answer came, e.g. `tls` or `timeout`, else the status class `HTTP 5xx`) or the host suffix the
endpoints share (`*.herokuapp.com`, whatever the failure). Endpoints are counted by distinct
host, so one customer's several endpoints on one host count once ("unrelated"). A bucket is part
of an incident when at least MIN_HOSTS hosts fail with the signature and that is at least SPIKE
times the signature's average per bucket over the whole log (so the endpoints that fail alone,
at other times, are the baseline, not an incident). Consecutive incident buckets of a signature
form one window. A host-suffix window that overlaps a failure window is the same incident seen
from another side and is not reported twice.

Runs over the whole log (`LogAnalysis.fleet_table`) even when the analysis is narrowed to one
endpoint, which then hears whether its own failures fall inside an incident.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import OK, LogAnalysis, fmt_duration, fmt_time
from diagnostics.findings import Finding, Severity, Status

BUCKET_MINUTES = 10
MIN_HOSTS = 10
SPIKE = 5.0
FIRST_FEW = 5
SOURCE = "analyzers.fleet_incidents"

_HOST = "lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1))"
_FAILURE = (
    "CASE WHEN status_code IS NULL THEN coalesce(error, 'other') "
    "ELSE 'HTTP ' || CAST(CAST(floor(status_code / 100) AS BIGINT) AS VARCHAR) || 'xx' END"
)


def _windows_sql(table: str) -> str:
    bucket_s = BUCKET_MINUTES * 60
    return f"""WITH f AS (
            SELECT endpoint, event_id, attempted_at, coalesce(nullif({_HOST}, ''), endpoint) AS host,
                   {_FAILURE} AS failure,
                   CAST(floor(epoch(attempted_at) / {bucket_s}) AS BIGINT) AS bucket
            FROM {table} WHERE NOT {OK}
        ), signed AS (
            SELECT endpoint, event_id, attempted_at, host, bucket, 'failure' AS dimension, failure AS signature FROM f
            UNION ALL
            SELECT endpoint, event_id, attempted_at, host, bucket, 'host suffix' AS dimension,
                   regexp_extract(host, '([^.]+[.][^.]+)$', 1) AS signature
            FROM f WHERE regexp_extract(host, '([^.]+[.][^.]+)$', 1) <> ''
        ), span AS (
            SELECT CAST(floor(epoch(min(attempted_at)) / {bucket_s}) AS BIGINT) AS first_bucket,
                   CAST(floor(epoch(max(attempted_at)) / {bucket_s}) AS BIGINT) AS last_bucket
            FROM {table}
        ), per_bucket AS (
            SELECT dimension, signature, bucket, count(DISTINCT host) AS hosts FROM signed
            GROUP BY dimension, signature, bucket
        ), baseline AS (
            SELECT p.dimension, p.signature,
                   CAST(sum(p.hosts) AS DOUBLE) / (min(s.last_bucket) - min(s.first_bucket) + 1) AS per_bucket
            FROM per_bucket AS p CROSS JOIN span AS s GROUP BY p.dimension, p.signature
        ), hot AS (
            SELECT p.dimension, p.signature, p.bucket, b.per_bucket,
                   p.bucket - row_number() OVER (PARTITION BY p.dimension, p.signature ORDER BY p.bucket) AS island
            FROM per_bucket AS p JOIN baseline AS b ON b.dimension = p.dimension AND b.signature = p.signature
            WHERE p.hosts >= {MIN_HOSTS} AND p.hosts >= {SPIKE} * b.per_bucket
        ), windows AS (
            SELECT dimension, signature, island, min(bucket) AS first_bucket, max(bucket) AS last_bucket,
                   min(per_bucket) AS baseline
            FROM hot GROUP BY dimension, signature, island
        )
        SELECT w.dimension, w.signature, w.first_bucket, w.last_bucket, w.baseline, s.endpoint, s.host,
               s.event_id, s.attempted_at
        FROM windows AS w JOIN signed AS s ON s.dimension = w.dimension AND s.signature = w.signature
             AND s.bucket BETWEEN w.first_bucket AND w.last_bucket"""


INCIDENTS_SQL = f"""WITH per_endpoint AS (
        SELECT dimension, signature, first_bucket, endpoint, min(attempted_at) AS first_failure
        FROM _incident_attempts GROUP BY dimension, signature, first_bucket, endpoint
    ), first_few AS (
        SELECT dimension, signature, first_bucket,
               string_agg(endpoint, ', ' ORDER BY first_failure, endpoint) AS endpoints
        FROM (SELECT *, row_number() OVER (PARTITION BY dimension, signature, first_bucket
                                           ORDER BY first_failure, endpoint) AS pos FROM per_endpoint) AS r
        WHERE pos <= {FIRST_FEW} GROUP BY dimension, signature, first_bucket
    )
    SELECT i.dimension, i.signature, i.first_bucket, min(i.attempted_at) AS started, max(i.attempted_at) AS ended,
           count(DISTINCT i.endpoint) AS endpoints, count(DISTINCT i.host) AS hosts, count(*) AS attempts,
           count(DISTINCT i.event_id) AS events, min(i.baseline) AS baseline, min(ff.endpoints) AS first_endpoints
    FROM _incident_attempts AS i
    JOIN first_few AS ff ON ff.dimension = i.dimension AND ff.signature = i.signature
         AND ff.first_bucket = i.first_bucket
    GROUP BY i.dimension, i.signature, i.first_bucket"""


def incidents(a: LogAnalysis) -> list[dict[str, Any]]:
    """Every incident window, failure signatures first, then host suffixes not already covered."""
    a.engine.materialize("_incident_attempts", _windows_sql(a.fleet_table))
    found = a.rows(f"{INCIDENTS_SQL} ORDER BY started, dimension, signature")
    by_failure = [w for w in found if w["dimension"] == "failure"]
    kept = list(by_failure)
    for w in found:
        if w["dimension"] == "host suffix" and not any(
            f["started"] <= w["ended"] and w["started"] <= f["ended"] for f in by_failure
        ):
            kept.append(w)
    return sorted(kept, key=lambda w: (w["started"], w["dimension"], w["signature"]))


def _signature(w: dict[str, Any]) -> str:
    if w["dimension"] == "failure":
        return f"failing with {w['signature']}"
    return f"on hosts under *.{w['signature']}"


def analyze(a: LogAnalysis) -> list[Finding]:
    found = incidents(a)
    narrowed = a.table != a.fleet_table
    own: dict[tuple[str, str, int], dict[str, Any]] = {}
    if narrowed and found:
        for r in a.rows(
            f"""SELECT i.dimension, i.signature, i.first_bucket, count(*) AS attempts,
                       min(i.attempted_at) AS started, max(i.attempted_at) AS ended
                FROM _incident_attempts AS i WHERE i.endpoint IN (SELECT DISTINCT endpoint FROM {a.table})
                GROUP BY i.dimension, i.signature, i.first_bucket"""
        ):
            own[(r["dimension"], r["signature"], int(r["first_bucket"]))] = r
        found = [w for w in found if (w["dimension"], w["signature"], int(w["first_bucket"])) in own]
    if not found:
        return [
            Finding(
                code="fleet-incident",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No cross-customer incident",
                summary=f"No {BUCKET_MINUTES}-minute window had {MIN_HOSTS} or more unrelated hosts failing the same "
                f"way at {SPIKE:g} times their usual rate"
                + (" during this endpoint's failures." if narrowed else "."),
                subject=a.subject,
                source=SOURCE,
            )
        ]
    findings = []
    for w in found:
        mine = own.get((w["dimension"], w["signature"], int(w["first_bucket"])))
        seconds = (w["ended"] - w["started"]).total_seconds()
        lead = (
            f"This endpoint's {mine['attempts']} failed attempts from {fmt_time(mine['started'])} to "
            f"{fmt_time(mine['ended'])} are part of it: the cause is shared, not the customer's alone. "
            if mine else ""
        )
        findings.append(
            Finding(
                code="fleet-incident",
                status=Status.FAIL,
                severity=Severity.CRITICAL,
                title=f"{w['endpoints']} endpoints ({w['hosts']} hosts) {_signature(w)} at the same time",
                summary=f"{lead}From {fmt_time(w['started'])} to {fmt_time(w['ended'])} "
                f"({fmt_duration(seconds)}) {w['hosts']} unrelated hosts were {_signature(w)} "
                f"({w['attempts']} failed attempts, {w['events']} events), against about "
                f"{float(w['baseline']):.1f} hosts in a usual {BUCKET_MINUTES}-minute window: an incident on our "
                "side or at a shared provider. Open one incident instead of answering each ticket alone.",
                subject=a.subject if not mine else f"{a.subject} (part of a fleet incident)",
                evidence=(
                    ("window start", fmt_time(w["started"])),
                    ("window end", fmt_time(w["ended"])),
                    ("shared failure", f"{w['dimension']}: {w['signature']}"),
                    ("endpoints affected", int(w["endpoints"])),
                    ("distinct hosts", int(w["hosts"])),
                    ("first endpoints", w["first_endpoints"]),
                    ("failed attempts", int(w["attempts"])),
                    ("events affected", int(w["events"])),
                    (f"usual hosts failing this way per {BUCKET_MINUTES} min", round(float(w["baseline"]), 2)),
                    *((("this endpoint's failed attempts in the window", int(mine["attempts"])),) if mine else ()),
                ),
                source=SOURCE,
            )
        )
    return findings
