"""latency-near-timeout: answers slow enough that the sender's timeout is close.

Judged per endpoint with at least MIN_ATTEMPTS (base.py) timed attempts, against the profile's
timeout: p95 above NEAR_TIMEOUT_SHARE (base.py) of the timeout warns; so does a p95 above
HALF_SHARE whose linear trend over the window (regr_slope of duration on time) reaches the timeout
within TREND_HORIZON_DAYS.
"""

from __future__ import annotations

from datetime import timedelta

from diagnostics.analyzers.base import (
    MIN_ATTEMPTS,
    NEAR_TIMEOUT_SHARE,
    LogAnalysis,
    Percentiles,
    fleet_finding,
    fmt_time,
    pct,
)
from diagnostics.findings import Finding, Severity, Status

HALF_SHARE = 0.5
TREND_HORIZON_DAYS = 7.0
SOURCE = "analyzers.latency"


def _judged(a: LogAnalysis) -> str:
    """The endpoints to report, judged in SQL: p95 near the timeout, or trending to it soon."""
    timeout = a.timeout_ms
    days = f"(({timeout} - p95) / NULLIF(slope_per_day, 0))"
    return f"""SELECT name AS endpoint, timed, p50, p95, p99, near_timeout AS near, slope_per_day, first_at, last_at
        FROM _endpoint_stats
        WHERE timed >= {MIN_ATTEMPTS} AND (p95 > {NEAR_TIMEOUT_SHARE * timeout}
              OR (p95 > {HALF_SHARE * timeout} AND slope_per_day > 0 AND p95 < {timeout}
                  AND {days} <= {TREND_HORIZON_DAYS}))"""


def _pass(a: LogAnalysis) -> Finding:
    return Finding(
        code="latency-near-timeout",
        status=Status.PASS,
        severity=Severity.INFO,
        title="Answers come well within the timeout",
        summary=f"No endpoint's p95 latency is above {NEAR_TIMEOUT_SHARE:.0%} of the {a.profile.timeout_s:g} s "
        "timeout or trending toward it.",
        subject=a.subject,
        source=SOURCE,
    )


def analyze(a: LogAnalysis) -> list[Finding]:
    timeout = a.timeout_ms
    problems = a.problems(
        "latency-near-timeout",
        f"""SELECT 'latency-near-timeout' AS code, endpoint, 'warn' AS status,
                   CASE WHEN p95 >= {timeout} THEN 'high' ELSE 'medium' END AS severity,
                   0 AS events, near AS attempts, first_at, last_at,
                   'p95 ' || CAST(CAST(p95 AS BIGINT) AS VARCHAR) || ' ms of a ' || CAST(CAST({timeout} AS BIGINT)
                     AS VARCHAR) || ' ms timeout' AS detail
            FROM ({_judged(a)}) AS j""",
    )
    if a.fleet:
        return fleet_finding(
            a,
            code="latency-near-timeout",
            problems=problems,
            title="{endpoints} of {fleet} endpoints answer close to the " + f"{a.profile.timeout_s:g} s timeout",
            summary="{endpoints} endpoints have a p95 latency above "
            + f"{NEAR_TIMEOUT_SHARE:.0%} of the timeout, or trending to it within {TREND_HORIZON_DAYS:g} days; "
            + "{attempts} attempts took "
            + f"{NEAR_TIMEOUT_SHARE:.0%} of the timeout or more. Slow answers turn into timeouts, retries and "
            "duplicates.",
            source=SOURCE,
            pass_finding=_pass(a),
            columns=("attempts",),
        )
    findings = []
    for r in a.rows(f"{_judged(a)} ORDER BY endpoint"):
        latency = Percentiles.of(r)
        p95 = latency.p95
        slope = float(r["slope_per_day"] or 0.0)
        days_to_timeout = (timeout - p95) / slope if slope > 0 and p95 < timeout else None
        near = p95 > NEAR_TIMEOUT_SHARE * timeout
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
                f"{r['near']} attempts took {NEAR_TIMEOUT_SHARE:.0%} of the timeout or more; {reach}. "
                "Slow answers turn into timeouts, retries and duplicates.",
                subject=r["endpoint"],
                evidence=(
                    ("timeout (ms)", timeout),
                    ("p50 (ms)", round(latency.p50, 1)),
                    ("p95 (ms)", round(p95, 1)),
                    ("p99 (ms)", round(latency.p99, 1)),
                    ("p95 as % of timeout", pct(p95, timeout)),
                    (f"attempts over {NEAR_TIMEOUT_SHARE:.0%} of timeout", int(r["near"])),
                    ("timed attempts", int(r["timed"])),
                    ("trend (ms per day)", round(slope, 1)),
                    ("days until p95 reaches the timeout",
                     None if days_to_timeout is None else round(days_to_timeout, 1)),
                ),
                source=SOURCE,
            )
        )
    if not findings:
        findings.append(_pass(a))
    return findings
