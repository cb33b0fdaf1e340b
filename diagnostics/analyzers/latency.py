"""latency-near-timeout: answers slow enough that the sender's timeout is close.

Judged per endpoint with at least MIN_ATTEMPTS timed attempts, against the profile's timeout:
p95 above NEAR_SHARE of the timeout warns; so does a p95 above HALF_SHARE whose linear trend over
the window (regr_slope of duration on time) reaches the timeout within TREND_HORIZON_DAYS.
"""

from __future__ import annotations

from datetime import timedelta

from diagnostics.analyzers.base import LogAnalysis, fmt_time, pct
from diagnostics.findings import Finding, Severity, Status

MIN_ATTEMPTS = 20
NEAR_SHARE = 0.8
HALF_SHARE = 0.5
TREND_HORIZON_DAYS = 7.0
SOURCE = "analyzers.latency"


def analyze(a: LogAnalysis) -> list[Finding]:
    timeout = a.timeout_ms
    # base.prepare counts attempts at 80% of the timeout or more: NEAR_SHARE must stay 0.8.
    rows = a.rows(
        f"""SELECT name AS endpoint, timed, q, near_timeout AS near, slope_per_day, last_at
            FROM _endpoint_stats WHERE timed >= {MIN_ATTEMPTS} ORDER BY name"""
    )
    findings = []
    for r in rows:
        p50, p95, p99 = r["q"]
        slope = float(r["slope_per_day"] or 0.0)
        days_to_timeout = (timeout - p95) / slope if slope > 0 and p95 < timeout else None
        near = p95 > NEAR_SHARE * timeout
        trending = (
            p95 > HALF_SHARE * timeout and days_to_timeout is not None and days_to_timeout <= TREND_HORIZON_DAYS
        )
        if not (near or trending):
            continue
        reach = (
            f"at this trend (+{slope:.0f} ms/day) p95 reaches the timeout around "
            f"{fmt_time(r['last_at'] + timedelta(days=days_to_timeout))}"
            if days_to_timeout is not None
            else "latency is not trending upward"
        )
        findings.append(
            Finding(
                code="latency-near-timeout",
                status=Status.WARN,
                severity=Severity.HIGH if p95 >= timeout else Severity.MEDIUM,
                title=f"{r['endpoint']} answers close to the {a.profile.timeout_s:g} s timeout "
                f"(p95 {p95 / 1000:.1f} s)",
                summary=f"p95 latency is {p95:.0f} ms, {pct(p95, timeout)}% of the {timeout:.0f} ms timeout; "
                f"{r['near']} attempts took {NEAR_SHARE:.0%} of the timeout or more; {reach}. Slow answers turn "
                "into timeouts, retries and duplicates.",
                subject=r["endpoint"],
                evidence=(
                    ("timeout (ms)", timeout),
                    ("p50 (ms)", round(p50, 1)),
                    ("p95 (ms)", round(p95, 1)),
                    ("p99 (ms)", round(p99, 1)),
                    ("p95 as % of timeout", pct(p95, timeout)),
                    (f"attempts over {NEAR_SHARE:.0%} of timeout", int(r["near"])),
                    ("timed attempts", int(r["timed"])),
                    ("trend (ms per day)", round(slope, 1)),
                    ("days until p95 reaches the timeout",
                     None if days_to_timeout is None else round(days_to_timeout, 1)),
                ),
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(
            Finding(
                code="latency-near-timeout",
                status=Status.PASS,
                severity=Severity.INFO,
                title="Answers come well within the timeout",
                summary=f"No endpoint's p95 latency is above {NEAR_SHARE:.0%} of the {a.profile.timeout_s:g} s "
                "timeout or trending toward it.",
                subject=a.subject,
                source=SOURCE,
            )
        )
    return findings
