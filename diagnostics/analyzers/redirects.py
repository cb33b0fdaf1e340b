"""redirect-responses: the endpoint answered 3xx; senders do not follow redirects, so each one
is a failed delivery (Svix, Stripe and ours count a 3xx as a failure)."""

from __future__ import annotations

from diagnostics.analyzers.base import LogAnalysis, fleet_finding, fmt_time
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.redirects"


# Per endpoint, its 3xx answers and URLs, each listed once: string_agg over a SELECT DISTINCT, not
# string_agg(DISTINCT ...) beside count(DISTINCT ...), which Spark cannot plan.
LISTS = """WITH r AS (SELECT * FROM _failures WHERE status_code BETWEEN 300 AND 399),
    statuses AS (
        SELECT endpoint, string_agg(status, ', ' ORDER BY status) AS statuses
        FROM (SELECT DISTINCT endpoint, CAST(status_code AS VARCHAR) AS status FROM r) AS s GROUP BY endpoint
    ), urls AS (
        SELECT endpoint, string_agg(url, ' | ' ORDER BY url) AS urls
        FROM (SELECT DISTINCT endpoint, url FROM r WHERE url IS NOT NULL) AS u GROUP BY endpoint
    ), per_endpoint AS (
        SELECT endpoint, count(*) AS attempts, count(DISTINCT event_id) AS events, min(attempted_at) AS first_seen,
               max(attempted_at) AS last_seen
        FROM r GROUP BY endpoint
    )"""

PROBLEMS_SQL = f"""{LISTS}
    SELECT 'redirect-responses' AS code, p.endpoint, 'fail' AS status, 'medium' AS severity, p.events, p.attempts,
           p.first_seen AS first_at, p.last_seen AS last_at, 'answered ' || s.statuses AS detail
    FROM per_endpoint AS p JOIN statuses AS s ON s.endpoint = p.endpoint"""


def _pass(a: LogAnalysis) -> Finding:
    return Finding(
        code="redirect-responses",
        status=Status.PASS,
        severity=Severity.INFO,
        title="No redirect answers",
        summary="No attempt was answered with a 3xx.",
        subject=a.subject,
        source=SOURCE,
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    problems = a.problems("redirect-responses", PROBLEMS_SQL)
    if a.fleet:
        return fleet_finding(
            a,
            code="redirect-responses",
            problems=problems,
            title="{endpoints} of {fleet} endpoints answered with a redirect",
            summary="{attempts} attempts ({events} events) to {endpoints} endpoints got a 3xx between {first_at} "
            "and {last_at}. Redirects are not followed, so each is a failed delivery; each customer must "
            "configure the final URL.",
            source=SOURCE,
            pass_finding=_pass(a),
        )
    rows = a.rows(
        f"""{LISTS}
            SELECT p.*, s.statuses, u.urls FROM per_endpoint AS p JOIN statuses AS s ON s.endpoint = p.endpoint
            LEFT JOIN urls AS u ON u.endpoint = p.endpoint ORDER BY p.endpoint"""
    )
    samples_of: dict[str, list[dict]] = {}
    for sample in a.rows(
        """SELECT * FROM (
                SELECT endpoint, event_id, attempted_at, status_code, url,
                       row_number() OVER (PARTITION BY endpoint ORDER BY attempted_at, seq) AS pos
                FROM _failures WHERE status_code BETWEEN 300 AND 399) AS r
            WHERE pos <= 20 ORDER BY endpoint, pos"""
    ):
        samples_of.setdefault(sample["endpoint"], []).append(sample)
    findings = []
    for r in rows:
        samples = samples_of.get(r["endpoint"], [])
        followed = " (this profile follows redirects, so check the final target)" if a.profile.follows_redirects else ""
        findings.append(
            Finding(
                code="redirect-responses",
                status=Status.FAIL,
                severity=Severity.MEDIUM,
                title=f"{r['endpoint']} answered with a redirect ({r['statuses']})",
                summary=f"{r['attempts']} attempts ({r['events']} events) got a {r['statuses']} between "
                f"{fmt_time(r['first_seen'])} and {fmt_time(r['last_seen'])}. Redirects are not followed, so "
                f"each is a failed delivery; configure the final URL{followed}.",
                subject=r["endpoint"],
                evidence=(
                    ("redirected attempts", int(r["attempts"])),
                    ("events affected", int(r["events"])),
                    ("statuses", r["statuses"]),
                    ("first seen", fmt_time(r["first_seen"])),
                    ("last seen", fmt_time(r["last_seen"])),
                    ("configured URL", (r["urls"] or "-")[:300]),
                ),
                samples=tuple(
                    {"event_id": s["event_id"], "attempted_at": fmt_time(s["attempted_at"]),
                     "status_code": s["status_code"], "url": s["url"]}
                    for s in samples
                ),
                sample_total=int(r["attempts"]),
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(_pass(a))
    return findings
