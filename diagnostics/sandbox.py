"""The sandbox: a loopback webhook receiver that misbehaves on purpose, one scenario per path.

It is the demo target, a training tool for new agents and the probe's test fixture. It listens
on 127.0.0.1 only, so the SSRF guard refuses it unless the address is on the allowlist
(`--allow 127.0.0.1`). Paths:

    /healthy                 200 at once                   /slow/<ms>        200 after <ms> ms
    /status/<code>           answers with that status     /redirect/<code>  3xx to /healthy
    /hang                    accepts, never answers        /reset            resets the connection
    /reset-mid               headers, a few bytes, reset   /trickle          body at 1 byte/s
    /huge                    a 1 GiB body                  /garbage          not HTTP at all
    /accept-all              200 to anything, verifies nothing
    /verify/<scheme>         verifies the signature with DEMO_SECRET: 200, or 401 with the reason
    /flaky/<n>               fails (503) one request in <n>
    /echo                    200 with the request's method, path and headers as JSON

With TLS (`start_sandbox(tls=True)` or `sandbox --tls`), a local test CA (trustme) signs the
certificates; besides the good HTTPS listener there is one listener per broken certificate:
expired, expiring-soon (5 days), wrong-host, self-signed, missing-intermediate and old-tls
(TLS 1.0/1.1 only).

DEMO_SECRET is a fixed, documented demo value: the sandbox is a demo and test tool, never a
real receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

DEMO_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 (documented demo secret, see module docstring)
HUGE_BODY_BYTES = 1024**3
MAX_REQUEST_BODY = 1024 * 1024
MAX_REMEMBERED_REQUESTS = 10_000
TIMESTAMP_TOLERANCE_S = 300.0
TLS_VARIANTS = ("expired", "expiring-soon", "wrong-host", "self-signed", "missing-intermediate", "old-tls")


@dataclass
class Request:
    """One parsed request as the sandbox saw it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


@dataclass
class SandboxStats:
    """What the sandbox received: the tests use it to prove the guard sent no packet."""

    connections: int = 0
    requests: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=MAX_REMEMBERED_REQUESTS))
    flaky_counts: dict[str, int] = field(default_factory=dict)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


Route = Callable[[Request, str, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class _NotHttp(Exception):
    """The client spoke TLS to the plain HTTP port."""


class Receiver:
    """The request handler shared by every listener."""

    def __init__(self, hmac_options: Mapping[str, Any] | None = None) -> None:
        self.hmac_options = hmac_options
        self.stats = SandboxStats()
        self._lock = threading.Lock()
        self._routes = self._route_table()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.stats.connections += 1
        try:
            try:
                request = await _read_request(reader)
            except _NotHttp:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            if request is None:
                return
            with self._lock:
                self.stats.requests.append((request.method, request.target))
            await self._route(request, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError, asyncio.CancelledError):
            pass  # the client went away, or the sandbox is shutting down
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _route(self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parts = [p for p in request.path.split("/") if p]
        name = parts[0] if parts else "healthy"
        arg = parts[1] if len(parts) > 1 else ""
        handler = self._routes.get(name)
        if handler is None:
            await _respond(writer, 404, {"error": f"no sandbox scenario {name!r}", "scenarios": sorted(self._routes)})
            return
        await handler(request, arg, reader, writer)

    def _route_table(self) -> dict[str, Route]:
        return {
            "healthy": self._healthy,
            "accept-all": self._healthy,
            "slow": self._slow,
            "status": self._status,
            "redirect": self._redirect,
            "hang": self._hang,
            "reset": self._reset,
            "reset-mid": self._reset_mid,
            "trickle": self._trickle,
            "huge": self._huge,
            "garbage": self._garbage,
            "verify": self._verify,
            "flaky": self._flaky,
            "echo": self._echo,
        }

    async def _healthy(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        await _respond(writer, 200, {"received": True})

    async def _slow(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        delay_ms = _int(arg, 1000)
        await asyncio.sleep(delay_ms / 1000.0)
        await _respond(writer, 200, {"received": True, "delay_ms": delay_ms})

    async def _status(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        status = _int(arg, 500)
        await _respond(writer, status if 100 <= status <= 599 else 500, {"status": status})

    async def _redirect(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        status = _int(arg, 301)
        target = request.query.get("to", ["/healthy"])[0]
        await _respond(writer, status if 300 <= status <= 399 else 301, {"moved": target}, {"Location": target})

    async def _hang(self, request: Request, arg: str, reader: asyncio.StreamReader, writer: Any) -> None:
        while await reader.read(1024):
            pass  # accepted, never answers: wait until the client gives up

    async def _reset(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        _abort_with_rst(writer)

    async def _reset_mid(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"rec")
        await writer.drain()
        await asyncio.sleep(0.05)
        _abort_with_rst(writer)

    async def _trickle(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        interval = _int(arg, 1000) / 1000.0
        body = b'{"received": true, "note": "this body arrives one byte at a time"}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        for i in range(len(body)):
            writer.write(body[i : i + 1])
            await writer.drain()
            await asyncio.sleep(interval)

    async def _huge(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % HUGE_BODY_BYTES)
        chunk = b"x" * 65536
        for _ in range(HUGE_BODY_BYTES // len(chunk)):
            writer.write(chunk)
            await writer.drain()

    async def _garbage(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6 this is not HTTP\r\n\r\n")
        await writer.drain()

    async def _verify(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        scheme = "https" if writer.get_extra_info("sslcontext") is not None else "http"
        url = f"{scheme}://{request.headers.get('Host', '')}{request.target}"
        ok, reason = verify_signature(arg, request, url, self.hmac_options)
        await _respond(writer, 200 if ok else 401, {"verified": ok, "scheme": arg, "reason": reason})

    async def _flaky(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        every = max(_int(arg, 3), 1)
        with self._lock:
            count = self.stats.flaky_counts.get(arg, 0) + 1
            self.stats.flaky_counts[arg] = count
        if count % every == 0:
            await _respond(writer, 503, {"error": "flaky: this one fails", "request": count})
        else:
            await _respond(writer, 200, {"received": True, "request": count})

    async def _echo(self, request: Request, arg: str, reader: Any, writer: asyncio.StreamWriter) -> None:
        await _respond(
            writer,
            200,
            {
                "method": request.method,
                "target": request.target,
                "headers": request.headers,
                "body_bytes": len(request.body),
            },
        )


def verify_signature(
    scheme: str, request: Request, url: str | None = None, options: Mapping[str, Any] | None = None
) -> tuple[bool, str]:
    """Verify a request with the signatures package and DEMO_SECRET, as a careful receiver would.

    Checks the signature over the raw body and, for schemes that sign a timestamp, that it is
    within TIMESTAMP_TOLERANCE_S. Returns (accepted, reason).
    """
    from diagnostics.errors import InputError
    from diagnostics.signatures import Headers, get_scheme

    try:
        verifier = get_scheme(scheme, options if scheme == "hmac" else None)
        presented = verifier.read(Headers(request.headers), request.body, url)
        match = verifier.verify(presented, request.body, [DEMO_SECRET], url)
        signed_at = verifier.timestamp_seconds(presented, request.body)
    except InputError as exc:
        return False, str(exc)[:300]
    if match is None:
        return False, "the signature does not match the body with the demo secret"
    if signed_at is not None and abs(time.time() - signed_at) > TIMESTAMP_TOLERANCE_S:
        return False, f"the signed timestamp is {time.time() - signed_at:,.0f} s old (tolerance 300 s)"
    return True, "valid signature"


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashing server or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        first = await reader.readexactly(1)
        if first == b"\x16":  # a TLS ClientHello on the plain port: answer in HTTP, as nginx does
            raise _NotHttp
        head = first + await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip()] = value.strip()
    length = min(_int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"), 0), MAX_REQUEST_BODY)
    body = await reader.readexactly(length) if length > 0 else b""
    return Request(method=method, target=target, headers=headers, body=body)


async def _respond(
    writer: asyncio.StreamWriter, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
) -> None:
    body = json.dumps(payload).encode()
    head = [f"HTTP/1.1 {status} {_reason(status)}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


# --- Certificates -----------------------------------------------------------------------------


@dataclass
class SandboxCertificates:
    """A local test CA and the server contexts for the good certificate and each broken one."""

    ca: trustme.CA
    contexts: dict[str, ssl.SSLContext]

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts the sandbox CA (what the probe needs to reach it)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def make_certificates(hostnames: tuple[str, ...] = ("127.0.0.1", "localhost")) -> SandboxCertificates:
    """Create the test CA and one server context per scenario."""
    ca = trustme.CA(organization_name="Webhook Doctor sandbox CA")
    now = datetime.now(UTC)

    def server_context(configure: Callable[[ssl.SSLContext], None]) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        configure(context)
        return context

    contexts = {
        "good": server_context(ca.issue_cert(*hostnames).configure_cert),
        "expired": server_context(
            ca.issue_cert(
                *hostnames, not_before=now - timedelta(days=90), not_after=now - timedelta(days=2)
            ).configure_cert
        ),
        "expiring-soon": server_context(ca.issue_cert(*hostnames, not_after=now + timedelta(days=5)).configure_cert),
        "wrong-host": server_context(ca.issue_cert("wrong-host.example").configure_cert),
    }
    rogue = trustme.CA(organization_name="Self-signed sandbox")
    contexts["self-signed"] = server_context(
        lambda ctx: _load_pair(ctx, rogue.cert_pem.bytes(), rogue.private_key_pem.bytes())
    )
    intermediate = ca.create_child_ca()
    leaf = intermediate.issue_cert(*hostnames)
    contexts["missing-intermediate"] = server_context(
        lambda ctx: _load_pair(ctx, leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes())
    )
    contexts["old-tls"] = _old_tls_context(ca, hostnames)
    return SandboxCertificates(ca=ca, contexts=contexts)


def _old_tls_context(ca: trustme.CA, hostnames: tuple[str, ...]) -> ssl.SSLContext:
    """A server that only speaks TLS 1.0/1.1, as old appliances do (deprecated on purpose)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    ca.issue_cert(*hostnames).configure_cert(context)
    return context


def _load_pair(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        context.load_cert_chain(str(cert_path), str(key_path))


# --- Running it -------------------------------------------------------------------------------


@dataclass
class SandboxHandle:
    """A running sandbox: its URLs, certificates and counters; `stop()` ends it."""

    http_url: str
    https_url: str | None
    tls_variants: dict[str, str]
    certificates: SandboxCertificates | None
    receiver: Receiver
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _servers: list[asyncio.Server]

    @property
    def stats(self) -> SandboxStats:
        return self.receiver.stats

    def url(self, path: str, *, tls: bool = False, variant: str | None = None) -> str:
        base = self.tls_variants[variant] if variant else (self.https_url if tls else self.http_url)
        if base is None:
            raise ValueError("the sandbox was started without TLS")
        return base.rstrip("/") + "/" + path.lstrip("/")

    def client_ssl_context(self) -> ssl.SSLContext | None:
        return self.certificates.client_context() if self.certificates else None

    def stop(self) -> None:
        async def shutdown() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self._loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    tls_port: int = 0,
    hmac_options: Mapping[str, Any] | None = None,
) -> SandboxHandle:
    """Start the sandbox in a background thread on loopback; ports default to free ones.

    `hmac_options` configures /verify/hmac like `[signature.hmac]` in diagnostics.toml.
    """
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("the sandbox only listens on loopback")
    receiver = Receiver(hmac_options)
    certificates = make_certificates() if tls else None
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sandbox", daemon=True)
    thread.start()

    async def listen(listen_port: int, context: ssl.SSLContext | None) -> asyncio.Server:
        return await asyncio.start_server(receiver.handle, host, listen_port, ssl=context, backlog=1024)

    def run(coro: Awaitable[asyncio.Server]) -> asyncio.Server:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=10)  # type: ignore[arg-type]

    servers: list[asyncio.Server] = []
    https_url = None
    variants: dict[str, str] = {}
    try:
        servers.append(run(listen(port, None)))
        if certificates is not None:
            servers.append(run(listen(tls_port, certificates.contexts["good"])))
            https_url = _base_url("https", servers[-1])
            for variant in TLS_VARIANTS:
                servers.append(run(listen(0, certificates.contexts[variant])))
                variants[variant] = _base_url("https", servers[-1])
    except BaseException:
        for server in servers:
            loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        raise
    return SandboxHandle(
        http_url=_base_url("http", servers[0]),
        https_url=https_url,
        tls_variants=variants,
        certificates=certificates,
        receiver=receiver,
        _loop=loop,
        _thread=thread,
        _servers=servers,
    )


def _base_url(scheme: str, server: asyncio.Server) -> str:
    address = server.sockets[0].getsockname()
    host = f"[{address[0]}]" if ":" in address[0] else address[0]
    return f"{scheme}://{host}:{address[1]}"
