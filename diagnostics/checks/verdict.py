"""The overall verdict: a pass finding with the timings when nothing else went wrong."""

from __future__ import annotations

from statistics import median

from diagnostics.checks.observations import SOURCE, ProbeObservations, ms, sample_row
from diagnostics.findings import Finding, Severity, Status
from diagnostics.profiles import SenderProfile


def check_healthy(observations: ProbeObservations, profile: SenderProfile, findings: list[Finding]) -> list[Finding]:
    """endpoint-healthy when every sample got a 2xx within the window and no delivery check failed."""
    samples = observations.samples
    if not samples:
        return []
    all_ok = all(s.error is None and profile.is_success(s.status_code) for s in samples)
    failed = any(f.status in (Status.FAIL, Status.ERROR) for f in findings)
    if not all_ok or failed:
        return []
    totals = [s.total_ms for s in samples]
    tls = next((s.tls for s in samples if s.tls is not None), None)
    evidence = [
        ("Sender", f"{profile.label} (timeout {profile.timeout_s:g} s)"),
        ("Samples", len(samples)),
        ("Statuses", sorted({s.status_code for s in samples if s.status_code is not None})),
        ("Median total", ms(median(totals))),
        ("Slowest total", ms(max(totals))),
        ("Median time to first byte", ms(median([s.ttfb_ms for s in samples if s.ttfb_ms is not None] or [0.0]))),
        ("Address", samples[0].connected_address),
    ]
    if tls is not None:
        evidence.append(("TLS", f"{tls.version}, {tls.cipher}"))
    truncated = [s for s in samples if s.body_truncated]
    if truncated:
        read = truncated[0].body_bytes_read
        evidence.append(("Response body", f"larger than the {read:,} bytes we read; senders ignore it, keep it short"))
    return [
        Finding(
            code="endpoint-healthy",
            status=Status.PASS,
            severity=Severity.INFO,
            title="The endpoint accepts test events promptly",
            summary=(
                f"All {len(samples)} test events got a {samples[0].status_code} within the "
                f"{profile.timeout_s:g} s window of {profile.label} (slowest {ms(max(totals))})."
            ),
            subject=observations.url,
            evidence=evidence,
            samples=[sample_row(s) for s in samples],
            source=SOURCE,
        )
    ]
