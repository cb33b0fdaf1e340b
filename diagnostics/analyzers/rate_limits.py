"""rate-limited: the endpoint answered 429 Too Many Requests, in episodes.

429s on one endpoint belong to the same episode while less than EPISODE_GAP_MINUTES pass between
them. The log has no response headers, so whether Retry-After was honoured is judged from what
is visible: how long the sender waited before the event's next attempt after a 429.
"""

from __future__ import annotations

from diagnostics.analyzers.base import LogAnalysis, fleet_finding, fmt_duration, fmt_time
from diagnostics.findings import Finding, Severity, Status

EPISODE_GAP_MINUTES = 10.0
SOURCE = "analyzers.rate_limits"


EPISODES_SQL = f"""WITH r AS (
        SELECT endpoint, attempted_at, seq,
               CASE WHEN epoch(attempted_at) - epoch(lag(attempted_at) OVER (PARTITION BY endpoint
                         ORDER BY attempted_at, seq)) < {EPISODE_GAP_MINUTES * 60}
                    THEN 0 ELSE 1 END AS starts
        FROM _failures WHERE status_code = 429
    ), e AS (
        SELECT endpoint, attempted_at, sum(starts) OVER (PARTITION BY endpoint ORDER BY attempted_at, seq
            ROWS UNBOUNDED PRECEDING) AS episode FROM r
    )
    SELECT endpoint, episode, count(*) AS answers, min(attempted_at) AS started, max(attempted_at) AS ended
    FROM e GROUP BY endpoint, episode"""

PROBLEMS_SQL = """SELECT 'rate-limited' AS code, endpoint, 'warn' AS status, 'medium' AS severity,
           0 AS events, sum(answers) AS attempts, min(started) AS first_at, max(ended) AS last_at,
           CAST(count(*) AS VARCHAR) || ' episode(s) of 429' AS detail
    FROM _rate_episodes GROUP BY endpoint"""


def episodes(a: LogAnalysis) -> list[dict]:
    a.engine.materialize("_rate_episodes", EPISODES_SQL)
    return a.rows("SELECT * FROM _rate_episodes ORDER BY endpoint, started")


def _pass(a: LogAnalysis) -> Finding:
    return Finding(
        code="rate-limited",
        status=Status.PASS,
        severity=Severity.INFO,
        title="No rate limiting",
        summary="No attempt was answered 429.",
        subject=a.subject,
        source=SOURCE,
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    a.engine.materialize("_rate_episodes", EPISODES_SQL)
    problems = a.problems("rate-limited", PROBLEMS_SQL)
    if a.fleet:
        return fleet_finding(
            a,
            code="rate-limited",
            problems=problems,
            title="{endpoints} of {fleet} endpoints rate-limited deliveries (429)",
            summary="{attempts} attempts to {endpoints} endpoints were answered 429 between {first_at} and "
            "{last_at}. The table ranks the endpoints by 429 answers.",
            source=SOURCE,
            pass_finding=_pass(a),
            columns=("attempts",),
        )
    found = a.rows("SELECT * FROM _rate_episodes ORDER BY endpoint, started")
    by_endpoint: dict[str, list[dict]] = {}
    for ep in found:
        by_endpoint.setdefault(ep["endpoint"], []).append(ep)
    waits = {
        r["endpoint"]: r
        for r in a.rows(
            f"""WITH n AS (
                    SELECT endpoint, status_code,
                           epoch(lead(attempted_at) OVER (PARTITION BY endpoint, event_id ORDER BY attempted_at, seq))
                           - epoch(attempted_at) AS wait_s
                    FROM {a.table} WHERE endpoint IN (SELECT endpoint FROM _rate_episodes)
                )
                SELECT endpoint, quantile_cont(wait_s, 0.5) AS median_wait, min(wait_s) AS min_wait
                FROM n WHERE status_code = 429 AND wait_s IS NOT NULL GROUP BY endpoint"""
        )
    }
    findings = []
    for endpoint, eps in sorted(by_endpoint.items()):
        total = sum(int(e["answers"]) for e in eps)
        wait = waits.get(endpoint)
        waited = (
            f"the next attempt of the same event came after {fmt_duration(wait['median_wait'])} (median), "
            f"{fmt_duration(wait['min_wait'])} at the shortest"
            if wait
            else "no event was retried after a 429 within the log"
        )
        findings.append(
            Finding(
                code="rate-limited",
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title=f"{endpoint} rate-limited deliveries (429) in {len(eps)} episode(s)",
                summary=f"{total} attempts were answered 429 in {len(eps)} episode(s); {waited}. Retry-After "
                "headers are not in the log, so compare the waits with what the receiver asked for.",
                subject=endpoint,
                evidence=(
                    ("episodes", len(eps)),
                    ("429 answers", total),
                    ("first", fmt_time(eps[0]["started"])),
                    ("last", fmt_time(eps[-1]["ended"])),
                    ("median wait before the retry (s)", None if not wait else round(float(wait["median_wait"]), 1)),
                    ("shortest wait before the retry (s)", None if not wait else round(float(wait["min_wait"]), 1)),
                    ("Retry-After honoured", "unknown: response headers are not in the log"),
                ),
                samples=tuple(
                    {"start": fmt_time(e["started"]), "end": fmt_time(e["ended"]), "answers_429": int(e["answers"])}
                    for e in eps
                ),
                sample_total=len(eps),
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(_pass(a))
    return findings
