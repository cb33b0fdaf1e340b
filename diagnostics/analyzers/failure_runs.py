"""outage-window and status-change: runs of consecutive failed attempts on an endpoint.

A run (an island in the gaps-and-islands query of `base.prepare`) counts when it has at least
MIN_RUN_ATTEMPTS failed attempts spanning at least MIN_RUN_MINUTES. What the run was made of
decides how it is reported:
- 3xx answers belong to redirect-responses and 429 answers to rate-limited, not here;
- one HTTP status in at least DOMINANT_SHARE of the run, after earlier successes, is a
  status-change: the endpoint's answers flipped (401/403: a rotated secret or new auth; 404/410:
  the route was removed; 400/422: the receiver's validation changed); a single 5xx counts as a
  flip only while it lasts to the end of the log (a broken deploy), otherwise it is an outage;
- everything else (no response, mixed 5xx, ...) is an outage-window.

The classification is SQL (`KIND`), so that a fleet of thousands of endpoints is judged in a
fixed number of queries: `_classified_runs` holds every qualifying run, with the events it
affected and the endpoint's last success before it, both computed by joins, not per run.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import LogAnalysis, fleet_finding, fmt_duration, fmt_time
from diagnostics.findings import Finding, Severity, Status

MIN_RUN_ATTEMPTS = 5
MIN_RUN_MINUTES = 10.0
DOMINANT_SHARE = 0.9
SOURCE = "analyzers.failure_runs"

FLIP_MEANING = {
    "401": "the signing secret or credentials changed (a rotated secret or new authentication)",
    "403": "the receiver now refuses us (new authentication, an IP allowlist or a WAF rule)",
    "404": "the route was removed or renamed",
    "410": "the route was removed on purpose",
    "400": "the receiver's validation changed",
    "422": "the receiver's validation changed",
}


# What a run was made of decides how it is reported (see the module docstring).
_STEADY = f"(dominant_status IS NOT NULL AND dominant_attempts >= {DOMINANT_SHARE} * attempts AND first_rn > 1)"
KIND = f"""CASE WHEN dominant_status BETWEEN 300 AND 399 THEN 'redirect'
                WHEN dominant_status = 429 THEN 'rate-limit'
                WHEN {_STEADY} AND (dominant_status BETWEEN 400 AND 499 OR recovered_at IS NULL) THEN 'status-change'
                ELSE 'outage' END"""

CLASSIFIED_SQL = f"""WITH q AS (
        SELECT endpoint, island, attempts, started, ended, first_rn, recovered_at, dominant, dominant_status,
               dominant_attempts,
               outcomes, epoch(ended) - epoch(started) AS seconds
        FROM _runs
        WHERE attempts >= {MIN_RUN_ATTEMPTS} AND epoch(ended) - epoch(started) >= {MIN_RUN_MINUTES * 60}
    ), k AS (SELECT *, {KIND} AS kind FROM q),
    events AS (
        SELECT k.endpoint, k.island, count(DISTINCT t.event_id) AS events
        FROM k JOIN {{table}} AS t ON t.endpoint = k.endpoint AND t.attempted_at BETWEEN k.started AND k.ended
        WHERE k.kind = 'outage' GROUP BY k.endpoint, k.island
    ), last_ok AS (
        SELECT k.endpoint, k.island, max(t.attempted_at) AS last_ok
        FROM k JOIN {{table}} AS t ON t.endpoint = k.endpoint AND t.attempted_at < k.started
        WHERE k.kind = 'status-change' AND coalesce(t.status_code BETWEEN 200 AND 299, false)
        GROUP BY k.endpoint, k.island
    )
    SELECT k.*, coalesce(e.events, 0) AS events, l.last_ok,
           row_number() OVER (PARTITION BY k.endpoint, k.kind ORDER BY k.seconds DESC, k.started) AS longest_rank,
           count(*) OVER (PARTITION BY k.endpoint, k.kind) AS runs_of_kind
    FROM k LEFT JOIN events AS e ON e.endpoint = k.endpoint AND e.island = k.island
    LEFT JOIN last_ok AS l ON l.endpoint = k.endpoint AND l.island = k.island"""

OUTAGE_PROBLEMS = """SELECT 'outage-window' AS code, endpoint,
           CASE WHEN count(*) FILTER (WHERE recovered_at IS NULL) > 0 THEN 'fail' ELSE 'warn' END AS status,
           'high' AS severity, sum(events) AS events, sum(attempts) AS attempts,
           min(started) AS first_at, max(ended) AS last_at,
           CAST(count(*) AS VARCHAR) || ' window(s), longest ' || CAST(CAST(max(seconds) / 60 AS BIGINT) AS VARCHAR)
             || ' min' || CASE WHEN count(*) FILTER (WHERE recovered_at IS NULL) > 0 THEN ', still failing' ELSE ''
             END AS detail
    FROM _classified_runs WHERE kind = 'outage' GROUP BY endpoint"""

STATUS_PROBLEMS = """SELECT 'status-change' AS code, endpoint, 'fail' AS status, 'high' AS severity,
           0 AS events, sum(attempts) AS attempts, min(started) AS first_at, max(ended) AS last_at,
           string_agg('now answers ' || dominant, ', ' ORDER BY started) AS detail
    FROM _classified_runs WHERE kind = 'status-change' GROUP BY endpoint"""


def classify_runs(a: LogAnalysis) -> str:
    """Materialize `_classified_runs` (every qualifying run with its kind) once per analysis."""
    a.engine.materialize("_classified_runs", CLASSIFIED_SQL.format(table=a.table))
    return "_classified_runs"


def failure_runs(a: LogAnalysis) -> list[dict[str, Any]]:
    """Qualifying runs with their classification, oldest first (tests and small logs)."""
    classify_runs(a)
    return a.rows("SELECT * FROM _classified_runs ORDER BY endpoint, started")


def _passes(a: LogAnalysis) -> tuple[Finding, Finding]:
    return (
        Finding(
            code="outage-window",
            status=Status.PASS,
            severity=Severity.INFO,
            title="No outage window",
            summary=f"No endpoint failed {MIN_RUN_ATTEMPTS} or more attempts in a row over "
            f"{MIN_RUN_MINUTES:g} minutes or longer (other than redirects, rate limiting or a status flip).",
            subject=a.subject,
            source=SOURCE,
        ),
        Finding(
            code="status-change",
            status=Status.PASS,
            severity=Severity.INFO,
            title="No endpoint changed its answers",
            summary="No endpoint flipped from 2xx to a steady error status.",
            subject=a.subject,
            source=SOURCE,
        ),
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    classify_runs(a)
    outage_table = a.problems("outage-window", OUTAGE_PROBLEMS)
    status_table = a.problems("status-change", STATUS_PROBLEMS)
    outage_pass, status_pass = _passes(a)
    if a.fleet:
        return [
            *fleet_finding(
                a,
                code="outage-window",
                problems=outage_table,
                title="{endpoints} of {fleet} endpoints had an outage window ({failing} still failing)",
                summary="{endpoints} endpoints failed every attempt for {min_minutes} minutes or longer between "
                "{first_at} and {last_at}; {failing} are still failing at the end of the log. {events} events "
                "were affected. The table ranks the endpoints by events affected.".replace(
                    "{min_minutes}", f"{MIN_RUN_MINUTES:g}"),
                source=SOURCE,
                pass_finding=outage_pass,
            ),
            *fleet_finding(
                a,
                code="status-change",
                problems=status_table,
                title="{endpoints} of {fleet} endpoints flipped from 2xx to a steady error status",
                summary="{endpoints} endpoints started answering one error status to nearly every attempt "
                "({attempts} failed attempts between {first_at} and {last_at}): typically a rotated secret "
                "(401/403), a removed route (404/410) or a broken deploy (5xx).",
                source=SOURCE,
                pass_finding=status_pass,
                columns=("attempts",),
            ),
        ]
    runs = a.rows("SELECT * FROM _classified_runs WHERE kind IN ('outage', 'status-change') ORDER BY endpoint, started")
    findings: list[Finding] = []
    outages: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if run["kind"] == "outage":
            outages.setdefault(run["endpoint"], []).append(run)
        else:
            findings.append(_status_change(a, run))
    for endpoint, endpoint_runs in sorted(outages.items()):
        findings.append(_outage(endpoint, endpoint_runs))
    if not outages:
        findings.append(outage_pass)
    if not any(f.code == "status-change" for f in findings):
        findings.append(status_pass)
    return findings


def _outage(endpoint: str, runs: list[dict[str, Any]]) -> Finding:
    longest = next(r for r in runs if r["longest_rank"] == 1)
    ongoing = [r for r in runs if r["recovered_at"] is None]
    events = int(longest["events"])
    recovery = fmt_time(longest["recovered_at"]) if longest["recovered_at"] else "not yet (still failing at the end)"
    return Finding(
        code="outage-window",
        status=Status.FAIL if ongoing else Status.WARN,
        severity=Severity.HIGH,
        title=f"{endpoint} failed every attempt for {fmt_duration(longest['seconds'])}"
        + (" and is still failing" if ongoing else ""),
        summary=f"From {fmt_time(longest['started'])} to {fmt_time(longest['ended'])} all "
        f"{longest['attempts']} attempts ({events} events) failed, mostly {longest['dominant']}; "
        + (f"deliveries recovered at {fmt_time(longest['recovered_at'])}." if longest["recovered_at"]
           else "no attempt has succeeded since.")
        + (f" {len(runs)} outage windows in all." if len(runs) > 1 else ""),
        subject=endpoint,
        evidence=(
            ("outage windows", len(runs)),
            ("longest: start", fmt_time(longest["started"])),
            ("longest: end", fmt_time(longest["ended"])),
            ("longest: duration", fmt_duration(longest["seconds"])),
            ("longest: failed attempts", int(longest["attempts"])),
            ("longest: events affected", events),
            ("dominant failure", longest["dominant"]),
            ("failures", longest["outcomes"]),
            ("recovered at", recovery),
        ),
        samples=tuple(
            {
                "start": fmt_time(r["started"]),
                "end": fmt_time(r["ended"]),
                "duration": fmt_duration(r["seconds"]),
                "failed_attempts": int(r["attempts"]),
                "dominant": r["dominant"],
                "recovered_at": fmt_time(r["recovered_at"]) if r["recovered_at"] else "still failing",
            }
            for r in runs
        ),
        sample_total=len(runs),
        source=SOURCE,
    )


def _status_change(a: LogAnalysis, run: dict[str, Any]) -> Finding:
    status = str(run["dominant"])
    fallback = "a deploy broke the handler" if status.startswith("5") else "the receiver changed"
    meaning = FLIP_MEANING.get(status, fallback)
    last_ok = run["last_ok"]
    ongoing = run["recovered_at"] is None
    return Finding(
        code="status-change",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=f"{run['endpoint']} started answering {status} at {fmt_time(run['started'])}",
        summary=f"The endpoint answered 2xx until {fmt_time(last_ok)}, then {status} to "
        f"{run['dominant_attempts']} of {run['attempts']} attempts"
        + (" and still does." if ongoing else f" until {fmt_time(run['recovered_at'])}.")
        + f" This usually means {meaning}.",
        subject=run["endpoint"],
        evidence=(
            ("flipped at", fmt_time(run["started"])),
            ("last success before", fmt_time(last_ok)),
            ("new answer", status),
            ("attempts with the new answer", int(run["dominant_attempts"])),
            ("failed attempts since", int(run["attempts"])),
            ("still answering it", "yes" if ongoing else f"no, recovered {fmt_time(run['recovered_at'])}"),
            ("likely meaning", meaning),
        ),
        source=SOURCE,
    )
