"""The one vocabulary of "no usable response" kinds, shared by the probe and the delivery logs.

A probe (`net/probe.py`) names why one request of ours got no answer; an importer
(`logs/taxonomy.py`) maps every platform's way of saying the same into the canonical `error`
column. Both speak this enum, so a check, an analyzer and a playbook mean the same thing by
`connection_reset`. The logs use the eight kinds of `LOG_KINDS`; the probe can tell two more
(`invalid_url`, `connect_timeout`) that no platform export distinguishes.

`ErrorKind` is a `StrEnum` (a `str` subclass): a member equals, formats, prints and serializes
as its value, so JSON, reports, SQL literals and the stored runs carry the same strings as before.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """Why an attempt got no (complete) HTTP response."""

    INVALID_URL = "invalid_url"
    """Probe only: the URL cannot be sent at all (it does not parse, or its host name is not encodable)."""
    DNS = "dns"
    """The host name did not resolve (no such name, no address, or the resolver gave no answer)."""
    BLOCKED = "blocked"
    """The request was withheld on purpose: our guard refused the address, port or rate, or the
    sender refused to send (a platform's SSRF block, a cancelled or expired attempt)."""
    CONNECTION_REFUSED = "connection_refused"
    """The host answered the TCP connect with a refusal (nothing listens), or is unreachable."""
    CONNECT_TIMEOUT = "connect_timeout"
    """Probe only: no TCP connection could be opened in time (host down, or packets dropped)."""
    CONNECTION_RESET = "connection_reset"
    """The connection was cut or closed before a complete response arrived."""
    TLS = "tls"
    """The TLS handshake failed (certificate, name, chain, protocol version or cipher)."""
    TIMEOUT = "timeout"
    """The answer did not come within the deadline (for the probe: after the connection was open)."""
    PROTOCOL = "protocol"
    """Something answered, but not with valid HTTP."""
    OTHER = "other"
    """A failure none of the kinds above describes."""


# The kinds a delivery log's `error` column holds (`logs/taxonomy.py` classifies into these).
LOG_KINDS: tuple[ErrorKind, ...] = (
    ErrorKind.TIMEOUT,
    ErrorKind.CONNECTION_REFUSED,
    ErrorKind.CONNECTION_RESET,
    ErrorKind.DNS,
    ErrorKind.TLS,
    ErrorKind.BLOCKED,
    ErrorKind.PROTOCOL,
    ErrorKind.OTHER,
)
# The kinds one probe exchange can end with (`net/probe.Exchange.error`): every kind.
PROBE_KINDS: tuple[ErrorKind, ...] = (
    ErrorKind.INVALID_URL,
    ErrorKind.DNS,
    ErrorKind.BLOCKED,
    ErrorKind.CONNECTION_REFUSED,
    ErrorKind.CONNECT_TIMEOUT,
    ErrorKind.CONNECTION_RESET,
    ErrorKind.TLS,
    ErrorKind.TIMEOUT,
    ErrorKind.PROTOCOL,
    ErrorKind.OTHER,
)
