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
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import LogAnalysis, fmt_duration, fmt_time
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


def failure_runs(a: LogAnalysis) -> list[dict[str, Any]]:
    """Qualifying runs with their classification, oldest first."""
    runs = a.rows(
        f"""SELECT endpoint, attempts, started, ended, first_rn, recovered_at, dominant, dominant_attempts,
                   outcomes, epoch(ended) - epoch(started) AS seconds
            FROM _runs
            WHERE attempts >= {MIN_RUN_ATTEMPTS} AND epoch(ended) - epoch(started) >= {MIN_RUN_MINUTES * 60}
            ORDER BY endpoint, started"""
    )
    for run in runs:
        run["kind"] = classify(run)
    return runs


def classify(run: dict[str, Any]) -> str:
    dominant = str(run["dominant"])
    share = run["dominant_attempts"] / run["attempts"]
    if dominant.startswith("3") and dominant.isdigit():
        return "redirect"
    if dominant == "429":
        return "rate-limit"
    steady = dominant.isdigit() and share >= DOMINANT_SHARE and run["first_rn"] > 1
    if steady and (dominant.startswith("4") or run["recovered_at"] is None):
        return "status-change"
    return "outage"


def _events_in(a: LogAnalysis, endpoint: str, start: Any, end: Any) -> int:
    return int(
        a.value(
            f"SELECT count(DISTINCT event_id) FROM {a.table} WHERE endpoint = ? AND attempted_at BETWEEN ? AND ?",
            [endpoint, start, end],
        )
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    runs = failure_runs(a)
    findings: list[Finding] = []
    outages: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if run["kind"] == "outage":
            outages.setdefault(run["endpoint"], []).append(run)
        elif run["kind"] == "status-change":
            findings.append(_status_change(a, run))
    for endpoint, endpoint_runs in sorted(outages.items()):
        findings.append(_outage(a, endpoint, endpoint_runs))
    if not any(f.code == "outage-window" for f in findings):
        findings.append(
            Finding(
                code="outage-window",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No outage window",
                summary=f"No endpoint failed {MIN_RUN_ATTEMPTS} or more attempts in a row over "
                f"{MIN_RUN_MINUTES:g} minutes or longer (other than redirects, rate limiting or a status flip).",
                subject=a.subject,
                source=SOURCE,
            )
        )
    if not any(f.code == "status-change" for f in findings):
        findings.append(
            Finding(
                code="status-change",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No endpoint changed its answers",
                summary="No endpoint flipped from 2xx to a steady error status.",
                subject=a.subject,
                source=SOURCE,
            )
        )
    return findings


def _outage(a: LogAnalysis, endpoint: str, runs: list[dict[str, Any]]) -> Finding:
    longest = max(runs, key=lambda r: r["seconds"])
    ongoing = [r for r in runs if r["recovered_at"] is None]
    events = _events_in(a, endpoint, longest["started"], longest["ended"])
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
    last_ok = a.value(
        f"SELECT max(attempted_at) FROM {a.table} WHERE endpoint = ? AND attempted_at < ? "
        "AND coalesce(status_code BETWEEN 200 AND 299, false)",
        [run["endpoint"], run["started"]],
    )
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
