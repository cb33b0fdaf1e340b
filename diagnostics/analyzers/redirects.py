"""redirect-responses: the endpoint answered 3xx; senders do not follow redirects, so each one
is a failed delivery (Svix, Stripe and ours count a 3xx as a failure)."""

from __future__ import annotations

from diagnostics.analyzers.base import LogAnalysis, fmt_time
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.redirects"


def analyze(a: LogAnalysis) -> list[Finding]:
    rows = a.rows(
        """SELECT endpoint, count(*) AS attempts, count(DISTINCT event_id) AS events,
                   min(attempted_at) AS first_seen, max(attempted_at) AS last_seen,
                   string_agg(DISTINCT CAST(status_code AS VARCHAR), ', ') AS statuses,
                   string_agg(DISTINCT url, ' | ') AS urls
            FROM _failures WHERE status_code BETWEEN 300 AND 399
            GROUP BY endpoint ORDER BY endpoint"""
    )
    findings = []
    for r in rows:
        samples = a.rows(
            """SELECT event_id, attempted_at, status_code, url FROM _failures
                WHERE endpoint = ? AND status_code BETWEEN 300 AND 399 ORDER BY attempted_at, seq LIMIT 20""",
            [r["endpoint"]],
        )
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
        findings.append(
            Finding(
                code="redirect-responses",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No redirect answers",
                summary="No attempt was answered with a 3xx.",
                subject=a.subject,
                source=SOURCE,
            )
        )
    return findings
