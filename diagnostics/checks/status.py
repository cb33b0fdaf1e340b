"""HTTP status: what a 4xx or 5xx from a webhook receiver usually means."""

from __future__ import annotations

from collections import Counter

from diagnostics.checks.observations import SOURCE, ProbeObservations, sample_row, share
from diagnostics.findings import Finding, Severity, Status
from diagnostics.profiles import SenderProfile

MEANINGS = {
    400: "the receiver rejected the request as malformed: often a body parser or schema validation failing",
    401: "authentication or signature verification failed: wrong secret, or the body is re-serialized before verifying",
    403: "the request is forbidden: signature verification, an IP allowlist, a WAF or bot protection",
    404: "the path does not exist: the URL is wrong, or the route was renamed or removed",
    405: "the path does not accept POST: often the URL of a web page, not of the webhook handler",
    408: "the receiver timed out reading our request",
    410: "the endpoint is gone: the integration was removed",
    413: "the payload is too large for the receiver's body size limit (server or proxy)",
    415: "the receiver does not accept application/json",
    422: "the receiver understood the request but refused its content (validation)",
    429: "the receiver is rate limiting us: deliveries arrive faster than it accepts",
    500: "the receiver's own code crashed while handling the event",
    502: "a proxy or load balancer in front of the receiver could not reach the application",
    503: "the receiver is down or overloaded (maintenance, scaling, crash loop)",
    504: "a proxy in front of the receiver timed out waiting for the application",
}


def meaning(status: int) -> str:
    if status in MEANINGS:
        return MEANINGS[status]
    if 400 <= status <= 499:
        return "the receiver refused the request (a client error on their side's terms)"
    if 500 <= status <= 599:
        return "the receiver's server failed: the problem is in their code or infrastructure"
    return "an unexpected status for a webhook receiver"


def check_status(observations: ProbeObservations, profile: SenderProfile) -> list[Finding]:
    errors = [s for s in observations.samples if s.status_code is not None and s.status_code >= 400 and s.error is None]
    if not errors:
        return []
    counts = Counter(s.status_code for s in errors)
    status, _count = counts.most_common(1)[0]
    assert status is not None
    first = next(s for s in errors if s.status_code == status)
    ok = sum(1 for s in observations.samples if profile.is_success(s.status_code) and s.error is None)
    intermittent = f" The other {ok} succeeded, so it fails intermittently." if ok else ""
    return [
        Finding(
            code="http-error-status",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title=f"The endpoint answers {status} {first.reason_phrase}".rstrip(),
            summary=(
                f"{share(len(errors), len(observations.samples)).capitalize()} got an error status "
                f"({', '.join(f'{code} x{n}' for code, n in sorted(counts.items()))}). For a webhook receiver, "
                f"{status} usually means {meaning(status)}.{intermittent}"
            ),
            subject=observations.url,
            evidence=(
                ("Status", status),
                ("What it usually means", meaning(status)),
                ("Statuses seen", [f"{code} x{n}" for code, n in sorted(counts.items())]),
                ("Response body (start)", first.body_snippet[:300] or "(empty)"),
                ("Content-Type", first.header("content-type") or "(none)"),
            ),
            samples=[sample_row(s) for s in errors],
            source=SOURCE,
        )
    ]
