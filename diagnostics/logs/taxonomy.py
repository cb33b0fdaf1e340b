"""The common failure taxonomy: every platform's way of saying "no response" mapped to one kind.

See shared/reference/platforms.md section 9. Kinds: `error_kinds.LOG_KINDS` (timeout,
connection_refused, connection_reset, dns, tls, blocked, protocol, other). Free-text errors (Svix `response` when the
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

from diagnostics.error_kinds import LOG_KINDS, ErrorKind

ERROR_KINDS = LOG_KINDS

# (kind, lower-case substrings). Order matters: "tls handshake timeout" is tls, checked first.
TEXT_PATTERNS: tuple[tuple[ErrorKind, tuple[str, ...]], ...] = (
    (ErrorKind.BLOCKED, ("ip range are blocked", "ssrf", "blocked by", "remote host denied", "is not supported")),
    (ErrorKind.TLS, ("x509", "tls", "ssl", "certificate", "handshake")),
    (ErrorKind.DNS, ("resolving name", "no such host", "name resolution", "dns", "failed to connect to host",
                     "getaddrinfo")),
    (ErrorKind.TIMEOUT, ("timed out", "timeout", "deadline exceeded", "time out")),
    (ErrorKind.CONNECTION_REFUSED, ("connection refused", "failed to connect to network", "unreachable", "econnrefused",
                                    "client error (connect)", "error trying to connect")),
    (ErrorKind.CONNECTION_RESET, ("connection reset", "broken pipe", "socket closed", "eof", "econnreset", "cut off",
                                  "client error (sendrequest)", "incompletemessage",
                                  "connection closed before message")),
    (ErrorKind.PROTOCOL, ("protocol", "malformed", "invalid http response format", "http2")),
)

HOOKDECK_ERROR_CODES: dict[str, ErrorKind] = {
    "CANCELLED": ErrorKind.BLOCKED,
    "BULK_RETRY_CANCELLED": ErrorKind.BLOCKED,
    "TTL_EXPIRED": ErrorKind.BLOCKED,
    "DATA_ARCHIVED": ErrorKind.BLOCKED,
    "MISSING_URL": ErrorKind.BLOCKED,
    "CLI": ErrorKind.CONNECTION_REFUSED,  # the Hookdeck CLI relay could not hand the event to the local server
    "CLI_UNAVAILABLE": ErrorKind.CONNECTION_REFUSED,  # the CLI relay is offline
    "OAUTH2_HANDSHAKE_FAILED": ErrorKind.PROTOCOL,  # the sender could not get a token from the destination's auth
    "UNKNOWN": ErrorKind.OTHER,
    "TIMEOUT": ErrorKind.TIMEOUT,
    "NOT_FOUND": ErrorKind.DNS,
    "DNS_LOOKUP_FAILED": ErrorKind.DNS,
    "CONNECTION_REFUSED": ErrorKind.CONNECTION_REFUSED,
    "HOST_UNREACHABLE": ErrorKind.CONNECTION_REFUSED,
    "CONNECTION_RESET": ErrorKind.CONNECTION_RESET,
    "SOCKET_CLOSED": ErrorKind.CONNECTION_RESET,
    "PROTOCOL_ERROR": ErrorKind.PROTOCOL,
    "SELF_SIGNED_CERT": ErrorKind.TLS,
    "ERR_TLS_CERT_ALTNAME_INVALID": ErrorKind.TLS,
    "ERR_SSL_WRONG_VERSION_NUMBER": ErrorKind.TLS,
    "SSL_ERROR_CA_UNKNOWN": ErrorKind.TLS,
    "SSL_CERT_EXPIRED": ErrorKind.TLS,
}


def classify_error_text(text: str | None) -> ErrorKind | None:
    """Free error text -> a kind; None when there is no text (the attempt got a response)."""
    if text is None or not str(text).strip():
        return None
    lowered = str(text).lower()
    if lowered in ERROR_KINDS:
        return ErrorKind(lowered)
    for kind, needles in TEXT_PATTERNS:
        if any(needle in lowered for needle in needles):
            return kind
    return ErrorKind.OTHER


def hookdeck_error_kind(code: str | None) -> ErrorKind | None:
    """Hookdeck AttemptErrorCodes -> a kind (unknown and non-network codes are "other")."""
    if not code:
        return None
    return HOOKDECK_ERROR_CODES.get(str(code).upper(), ErrorKind.OTHER)


def error_kind_sql(expr: str) -> str:
    """DuckDB expression: the same classification as `classify_error_text`, for a whole column.

    The SQL spells each kind by its `.value`, so the column holds the same strings as Python does."""
    lowered = f"lower(trim({expr}))"
    kinds = ", ".join(f"'{k.value}'" for k in ERROR_KINDS)
    cases = " ".join(
        f"WHEN {' OR '.join(f'contains({lowered}, {needle!r})' for needle in needles)} THEN '{kind.value}'"
        for kind, needles in TEXT_PATTERNS
    )
    return (
        f"CASE WHEN {expr} IS NULL OR trim({expr}) = '' THEN NULL "
        f"WHEN {lowered} IN ({kinds}) THEN {lowered} {cases} ELSE '{ErrorKind.OTHER.value}' END"
    )
