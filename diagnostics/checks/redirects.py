"""Redirects: a 3xx is a failed delivery for senders that do not follow redirects."""

from __future__ import annotations

from typing import Any

from diagnostics.checks.observations import SOURCE, ProbeObservations, sample_row, share
from diagnostics.findings import Finding, Severity, Status
from diagnostics.profiles import SenderProfile


def _is_redirect(status: int | None) -> bool:
    return status is not None and 300 <= status <= 399


def check_redirects(observations: ProbeObservations, profile: SenderProfile) -> list[Finding]:
    redirected = [s for s in observations.samples if _is_redirect(s.status_code)]
    if not redirected:
        return []
    first = redirected[0]
    location = first.header("location") or "(no Location header)"
    hops: list[str] = [f"{first.status_code} {observations.url} → {location}"]
    final_url: str | None = None
    stopped = ""
    for hop in observations.redirect_chain:
        if _is_redirect(hop.status_code):
            hops.append(f"{hop.status_code} {hop.url} → {hop.header('location') or '(none)'}")
        elif hop.status_code is not None:
            hops.append(f"{hop.status_code} {hop.url}")
            final_url = hop.url if 200 <= hop.status_code <= 299 else None
            if final_url is None:
                stopped = f"the redirect ends at {hop.url}, which answers {hop.status_code}"
        else:
            hops.append(f"{hop.url}: {hop.error_detail or hop.error}")
            stopped = f"following the redirect to {hop.url} failed: {hop.error_detail or hop.error}"
    if observations.redirect_chain and _is_redirect(observations.redirect_chain[-1].status_code):
        stopped = "the redirects did not end within the hop limit"
    advice = f" Configure {final_url} instead." if final_url else (f" Note: {stopped}." if stopped else "")
    follows = profile.follows_redirects
    evidence: list[tuple[str, Any]] = [
        ("Status", first.status_code),
        ("Location", location),
        ("Hops (followed for diagnosis only)", hops),
        ("URL to configure instead", final_url or "none found"),
        (f"{profile.label} follows redirects", "yes" if follows else "no"),
    ]
    return [
        Finding(
            code="redirect-response",
            status=Status.WARN if follows else Status.FAIL,
            severity=Severity.LOW if follows else Severity.HIGH,
            title=f"The endpoint answers with a redirect ({first.status_code})",
            summary=(
                f"{share(len(redirected), len(observations.samples)).capitalize()} answered {first.status_code} "
                f"pointing to {location}. "
                + (
                    f"{profile.label} follows it, at the cost of an extra request."
                    if follows
                    else f"{profile.label} does not follow redirects and counts this as a failed delivery."
                )
                + advice
            ),
            subject=observations.url,
            evidence=evidence,
            samples=[sample_row(s) for s in redirected],
            source=SOURCE,
        )
    ]
