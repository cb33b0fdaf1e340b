"""The endpoint URL itself: is it a URL we can deliver to, and does it use HTTPS?"""

from __future__ import annotations

import functools

import httpx

from diagnostics.checks.observations import SOURCE
from diagnostics.findings import Finding, Severity, Status
from diagnostics.net.hostnames import hostname_problem

ALLOWED_SCHEMES = ("http", "https")
MAX_URL_CHARS = 2048


@functools.lru_cache(maxsize=4096)
def parse_endpoint_url(url: str) -> tuple[httpx.URL | None, str]:
    """Parse with the same parser that connects (httpx), so the check and the dial agree.

    Returns the URL, or None and the reason it cannot be used. Cached: a sweep asks per check.
    """
    text = url.strip()
    if not text:
        return None, "the URL is empty"
    if len(text) > MAX_URL_CHARS:
        return None, f"the URL is longer than {MAX_URL_CHARS} characters"
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        return None, f"it does not parse: {exc}"
    if parsed.scheme not in ALLOWED_SCHEMES:
        shown = parsed.scheme or "none"
        return None, f"the scheme is {shown!r}; webhooks are delivered over http:// or https:// only"
    if not parsed.host:
        return None, "it has no host name"
    if (host_problem := hostname_problem(parsed.host)) is not None:
        return None, host_problem
    if any(ch.isspace() for ch in text):
        return None, "it contains spaces"
    return parsed, ""


def check_url_valid(url: str) -> list[Finding]:
    """url-invalid when the URL cannot be probed at all (nothing else runs then)."""
    parsed, problem = parse_endpoint_url(url)
    if parsed is not None:
        return []
    return [
        Finding(
            code="url-invalid",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title="The endpoint URL is not a valid webhook URL",
            summary=f"The URL cannot be used: {problem}. No request was sent.",
            subject=url[:300],
            evidence=(("URL as given", url[:300]), ("Problem", problem)),
            source=SOURCE,
        )
    ]


def check_url_scheme(url: str) -> list[Finding]:
    """url-not-https (warn) for plain http:// endpoints."""
    parsed, _problem = parse_endpoint_url(url)
    if parsed is None or parsed.scheme != "http":
        return []
    return [
        Finding(
            code="url-not-https",
            status=Status.WARN,
            severity=Severity.MEDIUM,
            title="The endpoint uses plain HTTP, not HTTPS",
            summary=(
                "Events and their signatures travel unencrypted to "
                f"{parsed.host}; anyone on the path can read them. Use an https:// URL."
            ),
            subject=url[:300],
            evidence=(("URL", url[:300]), ("Scheme", "http"), ("Suggested URL", "https" + url.strip()[4:][:300])),
            source=SOURCE,
        )
    ]
