"""The common failure taxonomy: every platform's way of saying "no response" mapped to one kind.

See shared/reference/platforms.md section 9. Kinds: timeout, connection_refused,
connection_reset, dns, tls, blocked, protocol, other. Free-text errors (Svix `response` when the
status is 0, Convoy's Go error text, GitHub's `status`) are classified by the patterns below,
first match wins; Hookdeck has an enum, mapped code by code.
"""

from __future__ import annotations

ERROR_KINDS = ("timeout", "connection_refused", "connection_reset", "dns", "tls", "blocked", "protocol", "other")

# (kind, lower-case substrings). Order matters: "tls handshake timeout" is tls, checked first.
TEXT_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("blocked", ("ip range are blocked", "ssrf", "blocked by", "remote host denied", "is not supported")),
    ("tls", ("x509", "tls", "ssl", "certificate", "handshake")),
    ("dns", ("resolving name", "no such host", "name resolution", "dns", "failed to connect to host", "getaddrinfo")),
    ("timeout", ("timed out", "timeout", "deadline exceeded", "time out")),
    ("connection_refused", ("connection refused", "failed to connect to network", "unreachable", "econnrefused")),
    ("connection_reset", ("connection reset", "broken pipe", "socket closed", "eof", "econnreset", "cut off")),
    ("protocol", ("protocol", "malformed", "invalid http response format", "http2")),
)

HOOKDECK_ERROR_CODES: dict[str, str] = {
    "TIMEOUT": "timeout",
    "NOT_FOUND": "dns",
    "DNS_LOOKUP_FAILED": "dns",
    "CONNECTION_REFUSED": "connection_refused",
    "HOST_UNREACHABLE": "connection_refused",
    "CONNECTION_RESET": "connection_reset",
    "SOCKET_CLOSED": "connection_reset",
    "PROTOCOL_ERROR": "protocol",
    "SELF_SIGNED_CERT": "tls",
    "ERR_TLS_CERT_ALTNAME_INVALID": "tls",
    "ERR_SSL_WRONG_VERSION_NUMBER": "tls",
    "SSL_ERROR_CA_UNKNOWN": "tls",
    "SSL_CERT_EXPIRED": "tls",
}


def classify_error_text(text: str | None) -> str | None:
    """Free error text -> a kind; None when there is no text (the attempt got a response)."""
    if text is None or not str(text).strip():
        return None
    lowered = str(text).lower()
    if lowered in ERROR_KINDS:
        return lowered
    for kind, needles in TEXT_PATTERNS:
        if any(needle in lowered for needle in needles):
            return kind
    return "other"


def hookdeck_error_kind(code: str | None) -> str | None:
    """Hookdeck AttemptErrorCodes -> a kind (unknown and non-network codes are "other")."""
    if not code:
        return None
    return HOOKDECK_ERROR_CODES.get(str(code).upper(), "other")


def error_kind_sql(expr: str) -> str:
    """DuckDB expression: the same classification as `classify_error_text`, for a whole column."""
    lowered = f"lower(trim({expr}))"
    kinds = ", ".join(f"'{k}'" for k in ERROR_KINDS)
    cases = " ".join(
        f"WHEN {' OR '.join(f'contains({lowered}, {needle!r})' for needle in needles)} THEN '{kind}'"
        for kind, needles in TEXT_PATTERNS
    )
    return (
        f"CASE WHEN {expr} IS NULL OR trim({expr}) = '' THEN NULL "
        f"WHEN {lowered} IN ({kinds}) THEN {lowered} {cases} ELSE 'other' END"
    )
