"""One HTTP exchange with an endpoint, observed phase by phase.

`exchange` sends one request through a guarded connection pool and records what happened: resolved and
connected addresses, DNS / TCP connect / TLS / time-to-first-byte / total timings, status,
headers and the first bytes of the body, or the kind of failure. httpcore timeouts apply per
operation (a server trickling one byte every 9 s never trips a 10 s read timeout), so the whole
exchange runs under one `asyncio.timeout` deadline, and at most `max_body_bytes` are read.
Nothing here judges: the checks turn `Exchange` records into findings.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from diagnostics.error_kinds import PROBE_KINDS, ErrorKind
from diagnostics.errors import InputError
from diagnostics.net.guard import (
    AddressPolicy,
    BlockedDestination,
    ProbeLimiter,
    ResolutionFailed,
    Resolver,
    build_pool,
    start_record,
)
from diagnostics.net.hostnames import hostname_problem
from diagnostics.net.tls import TlsDiagnosis, TlsSession, diagnose_tls_error, presented_certificate, session_facts

DEFAULT_MAX_BODY_BYTES = 64 * 1024
audit_log = logging.getLogger("diagnostics.probe")  # every probe is logged (URL and outcome, no headers)
SNIPPET_CHARS = 2000
USER_AGENT = "WebhookDoctor/0.1 (endpoint probe)"
OLD_TLS_VERSIONS = {"SSLv3", "TLSv1", "TLSv1.1"}
# Failures a server limited to old TLS versions shows; the diagnostic handshake tells which.
HANDSHAKE_KINDS = {"closed_during_handshake", "old_protocol", "no_common_cipher", "other"}

# Canonical error kinds (the delivery-log table's `error` vocabulary, refined): every ErrorKind.
ERROR_KINDS = PROBE_KINDS


@dataclass(frozen=True)
class ProbeRequest:
    """What to send: a POST of `body` with `headers` (a label says which variant it is)."""

    url: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    label: str = "sample"


@dataclass
class Exchange:
    """Everything observed during one request; `error` is None when a response arrived."""

    url: str
    label: str = "sample"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    deadline_s: float = 0.0
    host: str = ""
    port: int = 0
    addresses: list[str] = field(default_factory=list)
    connected_address: str | None = None
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float = 0.0
    status_code: int | None = None
    reason_phrase: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_snippet: str = ""
    body_bytes_read: int = 0
    body_truncated: bool = False
    error: ErrorKind | None = None
    error_detail: str = ""
    timeout_phase: str | None = None
    dns_failure: str | None = None
    blocked_address: str | None = None
    blocked_reason: str | None = None
    blocked_kind: str | None = None  # "address", or our own "port" / "rate_limit" policy
    tls: TlsSession | None = None
    tls_error: TlsDiagnosis | None = None

    @property
    def responded(self) -> bool:
        return self.status_code is not None and self.error is None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def timings(self) -> dict[str, float | None]:
        return {
            "dns_ms": _round(self.dns_ms),
            "connect_ms": _round(self.connect_ms),
            "tls_ms": _round(self.tls_ms),
            "ttfb_ms": _round(self.ttfb_ms),
            "total_ms": _round(self.total_ms),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (headers and body snippet included; they are customer text)."""
        return {
            "label": self.label,
            "url": self.url,
            "started_at": self.started_at.isoformat(),
            "addresses": list(self.addresses),
            "connected_address": self.connected_address,
            **self.timings(),
            "deadline_s": self.deadline_s,
            "status_code": self.status_code,
            "error": self.error,
            "error_detail": self.error_detail,
            "timeout_phase": self.timeout_phase,
            "body_bytes_read": self.body_bytes_read,
            "body_truncated": self.body_truncated,
            "body_snippet": self.body_snippet[:500],
            "headers": {k: v for k, v in self.headers[:40]},
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _errnos(exc: BaseException) -> list[int]:
    """Every errno in the exception's cause chain (including exception groups)."""
    found: list[int] = []
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno:
            found.append(current.errno)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        # httpcore wraps the OSError as an argument (`ConnectError(exc)`), not always as a cause.
        linked = [current.__cause__, current.__context__, *current.args]
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return found


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def check_headers(headers: Mapping[str, str]) -> None:
    """Headers we are asked to send must be valid HTTP: an InputError names the bad one."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise InputError(f"header name {name[:60]!r} is not a valid HTTP header name", field="headers")
        if "\r" in value or "\n" in value:
            raise InputError(f"header {name} contains a line break", field="headers")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise InputError(f"header {name} contains characters HTTP headers cannot carry", field="headers") from None


class _Timeline:
    """Timestamps of httpcore trace events, and the TLS session when one is established."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self.tls: TlsSession | None = None

    async def __call__(self, name: str, info: Mapping[str, Any]) -> None:
        self.marks[name] = time.perf_counter()
        if name == "connection.start_tls.complete":
            stream = info.get("return_value")
            ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
            try:
                self.tls = session_facts(ssl_object)
            except (ValueError, ssl.SSLError):
                self.tls = None

    def span(self, start: str, end: str) -> float | None:
        if start in self.marks and end in self.marks:
            return (self.marks[end] - self.marks[start]) * 1000.0
        return None

    def phase(self) -> str:
        """Which phase was running when the exchange stopped."""
        m = self.marks
        if "http11.receive_response_headers.complete" in m:
            return "body"
        if "http11.send_request_headers.started" in m:
            return "response"
        if "connection.start_tls.started" in m:
            return "tls"
        return "connect"


async def exchange(
    pool: httpcore.AsyncConnectionPool,
    request: ProbeRequest,
    *,
    deadline_s: float,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    diagnose_tls: bool = True,
    connect_timeout_s: float | None = None,
) -> Exchange:
    """Send one request through a guarded pool (`guard.build_pool`) and observe it.

    Never raises for network trouble, only records it. The URL is parsed by httpx's parser, the
    one the URL checks use, and handed to httpcore as parts, so the check and the dial agree.
    """
    result = Exchange(url=request.url, label=request.label, deadline_s=deadline_s)
    try:
        url = httpx.URL(request.url)
    except (httpx.InvalidURL, ValueError) as exc:
        result.error, result.error_detail = ErrorKind.INVALID_URL, str(exc)
        return result
    result.host, result.port = url.host, url.port or (443 if url.scheme == "https" else 80)
    problem = hostname_problem(url.host)
    if problem is not None:
        result.error, result.error_detail = ErrorKind.INVALID_URL, problem
        return result
    check_headers(request.headers)
    record = start_record()
    timeline = _Timeline()
    headers = {"User-Agent": USER_AGENT, "Connection": "close", **dict(request.headers)}
    if request.body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    try:
        async with asyncio.timeout(deadline_s):
            await _send(pool, url, request, headers, timeline, result, max_body_bytes, connect_timeout_s)
    except TimeoutError:
        result.error, result.timeout_phase = ErrorKind.TIMEOUT, timeline.phase()
        if result.timeout_phase == "connect" and "connection.connect_tcp.complete" not in timeline.marks:
            result.error = ErrorKind.CONNECT_TIMEOUT if record.addresses else ErrorKind.DNS
            if not record.addresses:
                result.dns_failure = "resolver_timeout"
        result.error_detail = f"no complete answer within {deadline_s:g} s (stopped during {result.timeout_phase})"
    except BlockedDestination as exc:
        result.error, result.error_detail = ErrorKind.BLOCKED, exc.describe()
        result.blocked_address, result.blocked_reason = exc.address, exc.reason
        result.blocked_kind = exc.kind
    except ResolutionFailed as exc:
        result.error, result.error_detail, result.dns_failure = ErrorKind.DNS, exc.detail, exc.kind
    except httpcore.TimeoutException as exc:
        phase = timeline.phase()
        is_connect = isinstance(exc, httpcore.ConnectTimeout) and phase == "connect"
        result.error = ErrorKind.CONNECT_TIMEOUT if is_connect else ErrorKind.TIMEOUT
        result.timeout_phase = phase
        result.error_detail = f"{type(exc).__name__} during {phase}"
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError) as exc:
        _classify_transport_error(exc, timeline, result)
    finally:
        result.total_ms = (time.perf_counter() - started) * 1000.0
        result.addresses = list(record.addresses)
        result.connected_address = record.connected_address
        result.dns_ms, result.connect_ms = record.dns_ms, record.connect_ms
        result.tls_ms = timeline.span("connection.start_tls.started", "connection.start_tls.complete") or (
            timeline.span("connection.start_tls.started", "connection.start_tls.failed")
        )
        result.ttfb_ms = timeline.span(
            "http11.send_request_body.complete", "http11.receive_response_headers.complete"
        )
        result.tls = timeline.tls
    if result.error == ErrorKind.TLS and diagnose_tls and result.connected_address:
        # The diagnostic handshake stays inside the deadline plus one second.
        budget = deadline_s + 1.0 - (time.perf_counter() - started)
        await _attach_presented_certificate(result, url, max(0.2, min(budget, 2.0)))
    audit_log.info(
        "probe %s %s://%s:%s%s -> %s in %.0f ms via %s",  # no query string: it may carry a token
        request.method,
        url.scheme,
        result.host,
        result.port,
        url.path[:200],
        result.status_code if result.error is None else _logged_error(result),
        result.total_ms,
        result.connected_address or "-",
    )
    return result


def _logged_error(result: Exchange) -> str:
    """The error kind for the audit log; a refusal says which rule refused, so limits show up there."""
    return f"blocked ({result.blocked_kind})" if result.error == ErrorKind.BLOCKED else str(result.error)


async def _send(
    pool: httpcore.AsyncConnectionPool,
    url: httpx.URL,
    request: ProbeRequest,
    headers: dict[str, str],
    timeline: _Timeline,
    result: Exchange,
    max_body_bytes: int,
    connect_timeout_s: float | None,
) -> None:
    target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
    extensions = {
        "trace": timeline,
        "timeout": {"connect": connect_timeout_s, "read": None, "write": None, "pool": None},
    }
    async with pool.stream(
        request.method,
        target,
        headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        content=request.body,
        extensions=extensions,
    ) as response:
        result.status_code = response.status
        result.reason_phrase = response.extensions.get("reason_phrase", b"").decode("latin-1")
        result.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
        collected = bytearray()
        async for chunk in response.aiter_stream():
            room = max_body_bytes - len(collected)
            collected.extend(chunk[:room])
            result.body_bytes_read += min(len(chunk), room)
            if len(chunk) > room:
                result.body_truncated = True
                break
        result.body_snippet = bytes(collected[:SNIPPET_CHARS]).decode("utf-8", "replace")


def _classify_transport_error(exc: BaseException, timeline: _Timeline, result: Exchange) -> None:
    """Name the failure: refused, reset, TLS or protocol (timeouts are handled by the caller)."""
    codes = _errnos(exc)
    phase = timeline.phase()
    diagnosis = diagnose_tls_error(exc)
    result.error_detail = str(exc)[:300] or type(exc).__name__
    if errno.ECONNREFUSED in codes:
        result.error = ErrorKind.CONNECTION_REFUSED
    elif diagnosis is not None and phase == "tls":
        result.error, result.tls_error = ErrorKind.TLS, diagnosis
        result.error_detail = diagnosis.message
    elif errno.ECONNRESET in codes or errno.EPIPE in codes:
        result.error = ErrorKind.CONNECTION_RESET
        result.error_detail = f"the connection was reset during {phase}"
    elif {errno.EHOSTUNREACH, errno.ENETUNREACH} & set(codes):
        result.error = ErrorKind.CONNECT_TIMEOUT
        result.error_detail = "no route to the host"
    elif isinstance(exc, httpcore.ProtocolError):
        closed = "without sending" in str(exc) or "disconnected" in str(exc).lower()
        if closed and phase == "response":
            result.error = ErrorKind.CONNECTION_RESET
            result.error_detail = "the server closed the connection without a response"
        else:
            result.error = ErrorKind.PROTOCOL
    elif isinstance(exc, httpcore.ReadError | httpcore.WriteError):
        result.error = ErrorKind.CONNECTION_RESET
        result.error_detail = f"the connection broke during {phase}: {result.error_detail}"
    elif diagnosis is not None:
        result.error, result.tls_error = ErrorKind.TLS, diagnosis
    else:
        result.error = ErrorKind.OTHER
    if result.error != ErrorKind.TIMEOUT:
        result.timeout_phase = None


async def _attach_presented_certificate(result: Exchange, url: httpx.URL, timeout_s: float) -> None:
    """Show the certificate the server presents, from the already-checked address."""
    assert result.connected_address is not None and result.tls_error is not None
    presented = await presented_certificate(result.connected_address, result.port, url.host, timeout=timeout_s)
    if presented is not None:
        diagnosis = result.tls_error
        kind, message = diagnosis.kind, diagnosis.message
        if presented.version in OLD_TLS_VERSIONS and kind in HANDSHAKE_KINDS:
            kind = "old_protocol"
            message = f"the server only offers {presented.version}, which senders no longer accept"
        result.tls_error = TlsDiagnosis(
            kind=kind,
            message=message,
            verify_code=diagnosis.verify_code,
            reason=diagnosis.reason,
            presented=presented,
        )


class ProbeClient:
    """A guarded connection pool for a run of probes: one shared SSL context, no keep-alive,
    no redirects, no proxies from the environment (httpcore reads none).

    Use as `async with ProbeClient(policy) as probe: await probe.send(request, deadline_s=...)`.
    `max_connections` must be at least the caller's concurrency so nothing queues in the pool.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        connect_timeout_s: float | None = None,
        resolver: Resolver | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        limiter: ProbeLimiter | None = None,
    ) -> None:
        self.policy = policy
        self.max_body_bytes = max_body_bytes
        self.connect_timeout_s = connect_timeout_s
        self.pool = build_pool(
            policy, ssl_context=ssl_context, max_connections=max_connections, resolver=resolver, limiter=limiter
        )

    async def __aenter__(self) -> ProbeClient:
        await self.pool.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.pool.__aexit__(*exc_info)

    async def send(self, request: ProbeRequest, *, deadline_s: float, diagnose_tls: bool = True) -> Exchange:
        return await exchange(
            self.pool,
            request,
            deadline_s=deadline_s,
            max_body_bytes=self.max_body_bytes,
            diagnose_tls=diagnose_tls,
            connect_timeout_s=self.connect_timeout_s,
        )
