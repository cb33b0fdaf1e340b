"""The common failure taxonomy: every platform's way of saying "no response" mapped to one kind.

See shared/reference/platforms.md section 9. Kinds: timeout, connection_refused,
connection_reset, dns, tls, blocked, protocol, other. Free-text errors (Svix `response` when the
status is 0, Convoy's Go error text, GitHub's `status`) are classified by the patterns below,
first match wins; Hookdeck has an enum (AttemptErrorCodes), mapped code by code, every code of
the published enum listed so none falls to "other" by accident.

Svix reports a failed connection as `error making request: client error (Connect)` (hyper's
error kinds in parentheses): Connect is a refused or unreachable connection, SendRequest and
IncompleteMessage a connection cut while talking. Hookdeck codes that mean the attempt was never
made (CANCELLED, BULK_RETRY_CANCELLED, TTL_EXPIRED, DATA_ARCHIVED, MISSING_URL) are `blocked`: the
sender withheld the request, which is a fact about the sender's side, not about the endpoint.
"""

from __future__ import annotations

ERROR_KINDS = ("timeout", "connection_refused", "connection_reset", "dns", "tls", "blocked", "protocol", "other")

# (kind, lower-case substrings). Order matters: "tls handshake timeout" is tls, checked first.
TEXT_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("blocked", ("ip range are blocked", "ssrf", "blocked by", "remote host denied", "is not supported")),
    ("tls", ("x509", "tls", "ssl", "certificate", "handshake")),
    ("dns", ("resolving name", "no such host", "name resolution", "dns", "failed to connect to host", "getaddrinfo")),
    ("timeout", ("timed out", "timeout", "deadline exceeded", "time out")),
    ("connection_refused", ("connection refused", "failed to connect to network", "unreachable", "econnrefused",
                            "client error (connect)", "error trying to connect")),
    ("connection_reset", ("connection reset", "broken pipe", "socket closed", "eof", "econnreset", "cut off",
                          "client error (sendrequest)", "incompletemessage", "connection closed before message")),
    ("protocol", ("protocol", "malformed", "invalid http response format", "http2")),
)

HOOKDECK_ERROR_CODES: dict[str, str] = {
    "CANCELLED": "blocked",
    "BULK_RETRY_CANCELLED": "blocked",
    "TTL_EXPIRED": "blocked",
    "DATA_ARCHIVED": "blocked",
    "MISSING_URL": "blocked",
    "CLI": "connection_refused",  # the Hookdeck CLI relay could not hand the event to the local server
    "CLI_UNAVAILABLE": "connection_refused",  # the CLI relay is offline
    "OAUTH2_HANDSHAKE_FAILED": "protocol",  # the sender could not get a token from the destination's auth
    "UNKNOWN": "other",
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
