"""fleet-incident: many unrelated endpoints failing the same way in the same window.

That is an incident on our side or at a shared provider (a hosting network, a CDN, a certificate
authority), not thirty separate customer problems. Failed attempts are counted per BUCKET_MINUTES
bucket and failure signature, where a signature is either the failure itself (the error kind when
no answer came, e.g. `tls` or `timeout`, else the status class `HTTP 5xx`) or the host suffix the
endpoints share (`*.herokuapp.com`, whatever the failure). Endpoints are counted by distinct
host, so one customer's several endpoints on one host count once ("unrelated"). A bucket is part
of an incident when at least MIN_HOSTS hosts *start* failing with the signature (an endpoint's
failure whose previous attempt succeeded) within its last ONSET_BUCKETS buckets, and that is at
least SPIKE times the signature's usual rate over the whole log: endpoints that fail alone, at
other times, or that have been failing for days, are the baseline, not an incident. Incident
buckets of a signature at most MERGE_GAP_BUCKETS apart form one window, widened by ONSET_BUCKETS
on both sides (quiet endpoints meet the failure only with their next event); its members are the
hosts failing that way in it that were not already failing that way in the QUIET_BUCKETS before.
A host-suffix window that overlaps a failure window is the same incident seen from another side
and is not reported twice.

Runs over the whole log (`LogAnalysis.fleet_table`) even when the analysis is narrowed to one
endpoint, which then hears whether its own failures fall inside an incident.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import HOST, LogAnalysis, failures_sql, fmt_duration, fmt_time, in_list
from diagnostics.error_kinds import ErrorKind
from diagnostics.findings import Finding, Severity, Status

BUCKET_MINUTES = 10
MIN_HOSTS = 10
SPIKE = 5.0
FIRST_FEW = 5
TABLE_ROWS = 200  # endpoints listed per report table of an incident (all of them go to --details)
MERGE_GAP_BUCKETS = 2  # quieter buckets inside one incident (traffic is bursty) do not split it
ONSET_BUCKETS = 3  # onsets are counted over this many buckets (quiet endpoints start failing late)
QUIET_BUCKETS = 6  # a host failing this way in the hour before a window was failing already
SOURCE = "analyzers.fleet_incidents"

_FAILURE = (
    f"CASE WHEN status_code IS NULL THEN coalesce(error, '{ErrorKind.OTHER.value}') "
    "ELSE 'HTTP ' || CAST(CAST(floor(status_code / 100) AS BIGINT) AS VARCHAR) || 'xx' END"
)


def _windows_sql(table: str, failures: str) -> str:
    bucket_s = BUCKET_MINUTES * 60
    # The host and its suffix come from each endpoint's few distinct URLs, not from every failure:
    # the two regular expressions over every failed attempt were half of this query.
    return f"""WITH marked AS (
            SELECT x.endpoint, x.event_id, x.attempted_at, coalesce(x.url, '') AS url_key, x.status_code, x.error,
                   CASE WHEN p.rn IS NULL THEN 1 ELSE 0 END AS onset
            FROM {failures} AS x LEFT JOIN {failures} AS p ON p.endpoint = x.endpoint AND p.rn = x.rn - 1
        ), hosts AS (
            SELECT endpoint, url_key, host, regexp_extract(host, '([^.]+[.][^.]+)$', 1) AS suffix
            FROM (SELECT endpoint, url_key, coalesce(nullif({HOST}, ''), endpoint) AS host
                  FROM (SELECT DISTINCT endpoint, url, coalesce(url, '') AS url_key FROM {failures}) AS u) AS h
        ), f AS (
            SELECT m.endpoint, m.event_id, m.attempted_at, h.host, h.suffix, m.failure, m.bucket, m.onset
            FROM (SELECT endpoint, event_id, attempted_at, url_key, {_FAILURE} AS failure, onset,
                         CAST(floor(epoch(attempted_at) / {bucket_s}) AS BIGINT) AS bucket
                  FROM marked) AS m
            JOIN hosts AS h ON h.endpoint = m.endpoint AND h.url_key = m.url_key
        ), signed AS (
            SELECT endpoint, event_id, attempted_at, host, bucket, onset, 'failure' AS dimension, failure AS signature
            FROM f
            UNION ALL
            SELECT endpoint, event_id, attempted_at, host, bucket, onset, 'host suffix' AS dimension,
                   suffix AS signature
            FROM f WHERE suffix <> ''
        ), span AS (
            SELECT CAST(floor(epoch(min(attempted_at)) / {bucket_s}) AS BIGINT) AS first_bucket,
                   CAST(floor(epoch(max(attempted_at)) / {bucket_s}) AS BIGINT) AS last_bucket
            FROM {table}
        ), per_bucket AS (
            SELECT dimension, signature, bucket, count(DISTINCT host) FILTER (WHERE onset = 1) AS onsets
            FROM signed GROUP BY dimension, signature, bucket
        ), rolling AS (
            SELECT dimension, signature, bucket,
                   sum(onsets) OVER (PARTITION BY dimension, signature ORDER BY bucket
                                     RANGE BETWEEN {ONSET_BUCKETS - 1} PRECEDING AND CURRENT ROW) AS recent
            FROM per_bucket
        ), baseline AS (
            SELECT p.dimension, p.signature,
                   {ONSET_BUCKETS}.0 * sum(p.onsets) / (min(s.last_bucket) - min(s.first_bucket) + 1) AS usual
            FROM per_bucket AS p CROSS JOIN span AS s GROUP BY p.dimension, p.signature
        ), hot0 AS (
            SELECT r.dimension, r.signature, r.bucket, b.usual,
                   CASE WHEN r.bucket - lag(r.bucket) OVER (PARTITION BY r.dimension, r.signature ORDER BY r.bucket)
                             <= {MERGE_GAP_BUCKETS + 1} THEN 0 ELSE 1 END AS starts
            FROM rolling AS r JOIN baseline AS b ON b.dimension = r.dimension AND b.signature = r.signature
            WHERE r.recent >= {MIN_HOSTS} AND r.recent >= {SPIKE} * b.usual
        ), hot AS (
            SELECT dimension, signature, bucket, usual,
                   sum(starts) OVER (PARTITION BY dimension, signature ORDER BY bucket
                                     ROWS UNBOUNDED PRECEDING) AS island
            FROM hot0
        ), windows AS (
            SELECT dimension, signature, island, min(bucket) - {ONSET_BUCKETS - 1} AS first_bucket,
                   max(bucket) + {ONSET_BUCKETS - 1} AS last_bucket, min(usual) AS baseline
            FROM hot GROUP BY dimension, signature, island
        ), inside AS (
            SELECT w.dimension, w.signature, w.first_bucket, w.last_bucket, w.baseline, s.endpoint, s.host,
                   s.event_id, s.attempted_at
            FROM windows AS w JOIN signed AS s ON s.dimension = w.dimension AND s.signature = w.signature
                 AND s.bucket BETWEEN w.first_bucket AND w.last_bucket
        ), already AS (
            SELECT DISTINCT w.dimension, w.signature, w.first_bucket, s.host
            FROM windows AS w JOIN signed AS s ON s.dimension = w.dimension AND s.signature = w.signature
                 AND s.bucket >= w.first_bucket - {QUIET_BUCKETS} AND s.bucket < w.first_bucket
        )
        SELECT i.* FROM inside AS i
        LEFT JOIN already AS a ON a.dimension = i.dimension AND a.signature = i.signature
             AND a.first_bucket = i.first_bucket AND a.host = i.host
        WHERE a.host IS NULL"""


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
    failures = "_failures"
    if a.fleet_table != a.table:  # narrowed to one endpoint: the fleet's failures are needed too
        failures = "_fleet_failures"
        a.engine.materialize(failures, failures_sql(a.fleet_table))
    a.engine.materialize("_incident_attempts", _windows_sql(a.fleet_table, failures))
    found = a.rows(f"{INCIDENTS_SQL} ORDER BY started, dimension, signature")
    by_failure = [w for w in found if w["dimension"] == "failure"]
    kept = list(by_failure)
    for w in found:
        if w["dimension"] == "host suffix" and not any(
            f["started"] <= w["ended"] and w["started"] <= f["ended"] for f in by_failure
        ):
            kept.append(w)
    return sorted(kept, key=lambda w: (w["started"], w["dimension"], w["signature"]))


def _members(a: LogAnalysis, found: list[dict[str, Any]]) -> None:
    """Every endpoint of every reported incident: a problem table (`--details`) and a report table,
    so that support knows whom the incident touched without reading the log."""
    keys = " OR ".join(
        f"(dimension = {in_list([w['dimension']])} AND signature = {in_list([w['signature']])} "
        f"AND first_bucket = {int(w['first_bucket'])})"
        for w in found
    )
    name = a.problems(
        "fleet-incident",
        f"""SELECT 'fleet-incident' AS code, endpoint, 'fail' AS status, 'critical' AS severity,
                   count(DISTINCT event_id) AS events, count(*) AS attempts, min(attempted_at) AS first_at,
                   max(attempted_at) AS last_at, dimension || ': ' || signature AS detail
            FROM _incident_attempts WHERE {keys}
            GROUP BY endpoint, dimension, signature, first_bucket""",
    )
    a.tables["Fleet incident: endpoints affected"] = [
        {"endpoint": r["endpoint"], "shared failure": r["detail"], "failed attempts": int(r["attempts"]),
         "events": int(r["events"]), "first": fmt_time(r["first_at"]), "last": fmt_time(r["last_at"])}
        for r in a.rows(f"SELECT * FROM {name} ORDER BY first_at, endpoint LIMIT {TABLE_ROWS}")
    ]


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
                summary=f"No {BUCKET_MINUTES * ONSET_BUCKETS}-minute window had {MIN_HOSTS} or more unrelated hosts "
                f"starting to fail the same way at {SPIKE:g} times the usual rate"
                + (" during this endpoint's failures." if narrowed else "."),
                subject=a.subject,
                source=SOURCE,
            )
        ]
    _members(a, found)
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
                f"{float(w['baseline']):.1f} hosts starting to fail that way in a usual "
                f"{BUCKET_MINUTES * ONSET_BUCKETS}-minute window: an incident on our "
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
                    (f"usual hosts starting to fail this way per {BUCKET_MINUTES * ONSET_BUCKETS} min",
                     round(float(w["baseline"]), 2)),
                    *((("this endpoint's failed attempts in the window", int(mine["attempts"])),) if mine else ()),
                ),
                source=SOURCE,
            )
        )
    return findings
