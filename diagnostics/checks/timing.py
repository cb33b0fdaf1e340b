"""Timing: does the endpoint answer within the sender's window, with room to spare?"""

from __future__ import annotations

from diagnostics.checks.observations import SOURCE, ProbeObservations, ms, sample_row, share
from diagnostics.error_kinds import ErrorKind
from diagnostics.findings import Finding, Severity, Status
from diagnostics.profiles import SenderProfile

SLOW_FRACTION = 0.5


def check_timing(observations: ProbeObservations, profile: SenderProfile) -> list[Finding]:
    findings: list[Finding] = []
    timed_out = [
        s for s in observations.samples if s.error == ErrorKind.TIMEOUT and s.timeout_phase in ("response", "body")
    ]
    total = len(observations.samples)
    if timed_out:
        first = timed_out[0]
        headers_came = any(s.timeout_phase == "body" for s in timed_out)
        retries = (
            f"retries up to {profile.max_attempts - 1} more times ({profile.retry_note})"
            if profile.retry_schedule_s
            else "does not retry automatically"
        )
        findings.append(
            Finding(
                code="response-timeout",
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"The endpoint does not answer within the {profile.timeout_s:g} s timeout of {profile.label}",
                summary=(
                    f"{share(len(timed_out), total).capitalize()} got no complete answer within "
                    f"{profile.timeout_s:g} s"
                    + (" (the headers came, the body kept trickling)" if headers_came else "")
                    + f". {profile.label} counts that as failed and {retries}, so if the endpoint finishes the work "
                    "after we gave up, the same event is processed twice."
                ),
                subject=observations.url,
                evidence=(
                    ("Sender", profile.label),
                    ("Timeout", f"{profile.timeout_s:g} s"),
                    ("Samples timed out", f"{len(timed_out)} of {total}"),
                    ("Stopped during", first.timeout_phase),
                    ("Elapsed", ms(first.total_ms)),
                ),
                samples=[sample_row(s) for s in timed_out],
                source=SOURCE,
            )
        )
    answered = [s for s in observations.samples if s.status_code is not None and s.error is None]
    if answered and not timed_out:
        slowest = max(answered, key=lambda s: s.total_ms)
        window_ms = profile.timeout_s * 1000.0
        if slowest.total_ms > SLOW_FRACTION * window_ms:
            findings.append(
                Finding(
                    code="slow-response",
                    status=Status.WARN,
                    severity=Severity.MEDIUM,
                    title=f"The endpoint uses more than half of the {profile.timeout_s:g} s window of {profile.label}",
                    summary=(
                        f"The slowest sample took {ms(slowest.total_ms)} of the {profile.timeout_s:g} s allowed "
                        f"({slowest.total_ms / window_ms:.0%}). A little more load and deliveries start timing out."
                    ),
                    subject=observations.url,
                    evidence=(
                        ("Sender", profile.label),
                        ("Timeout", f"{profile.timeout_s:g} s"),
                        ("Slowest total", ms(slowest.total_ms)),
                        ("Slowest time to first byte", ms(slowest.ttfb_ms)),
                        ("Share of the window", f"{slowest.total_ms / window_ms:.0%}"),
                    ),
                    samples=[sample_row(s) for s in answered],
                    source=SOURCE,
                )
            )
    return findings
