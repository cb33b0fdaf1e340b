"""Pure judgment of probe observations: each module turns what the probe saw into Findings.

Nothing here does I/O; `judge_probe` runs every check over one `ProbeObservations` and a sender
profile, so the same observations always give the same findings.
"""

from __future__ import annotations

from diagnostics.checks.observations import ProbeObservations
from diagnostics.checks.reachability import check_reachability
from diagnostics.checks.redirects import check_redirects
from diagnostics.checks.signature_enforcement import check_signature_enforcement
from diagnostics.checks.status import check_status
from diagnostics.checks.timing import check_timing
from diagnostics.checks.tls import check_tls
from diagnostics.checks.url import check_url_scheme, check_url_valid
from diagnostics.checks.verdict import check_healthy
from diagnostics.findings import Finding
from diagnostics.profiles import SenderProfile

__all__ = ["ProbeObservations", "check_url_valid", "judge_probe"]


def judge_probe(observations: ProbeObservations, profile: SenderProfile) -> list[Finding]:
    """Every finding the probe's observations support, judged by the sender profile's rules."""
    findings: list[Finding] = check_url_scheme(observations.url)
    findings += check_reachability(observations)
    findings += check_tls(observations)
    findings += check_timing(observations, profile)
    findings += check_redirects(observations, profile)
    findings += check_status(observations, profile)
    # Delivery health is judged on the delivery findings alone: an endpoint that answers every
    # event in time is healthy for delivery even when it also accepts forged events.
    findings += check_healthy(observations, profile, findings)
    findings += check_signature_enforcement(observations)
    return findings
