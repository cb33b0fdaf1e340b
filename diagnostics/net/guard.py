"""The SSRF guard: every outbound connection of the project is checked here, at connect time.

Support agents type arbitrary URLs, so the probe must not become a way into our own network.
The guard resolves a name once, judges every address against a fixed deny table (see
shared/reference/probing.md section 2), refuses the whole name if any answer is denied, and
opens the socket to the checked IP literal. TLS SNI, certificate checks and the Host header keep
using the URL's hostname because httpcore still sees the original origin; only the socket is
pinned. That closes literal-IP tricks, odd IP spellings, DNS rebinding and redirects in one place.
SSRF closed, the tool could still port-scan or hammer a public host (probing.md, pitfall 18), so
the same hook also applies the operator's port policy and a per-host rate limit (`ProbeLimiter`);
the allowlisted sandbox and tests are exempt from both. Database connections are not HTTP: a
database URL that arrives with a case, an upload or the app is judged by this module's
`AddressPolicy` in `net/databases.py` before the driver dials (a URL the operator typed is theirs).

The hook is a custom httpcore network backend (`GuardedBackend.connect_tcp`). The probe uses it
through httpcore's public `network_backend=` parameter (`build_pool`); other callers get an httpx
client (`guarded_client`), for which `build_transport` replaces httpx 0.28's private connection
pool because httpx has no public hook yet. `PINNED_VERSIONS` and the tests guard both.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
from httpcore._backends.anyio import AnyIOBackend

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.net.hostnames import hostname_problem, lookup_name

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# The transport hook uses httpx/httpcore internals: these are the versions it was tested on.
PINNED_VERSIONS = {"httpx": "0.28.1", "httpcore": "1.0.9"}
DNS_TIMEOUT_S = 5.0
DEFAULT_MAX_PROBES_PER_TARGET_PER_MINUTE = 120
RATE_WINDOW_S = 60.0

# IPv4 blocks that are never probed, with the reason shown to the agent.
DENIED_V4: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), reason)
    for cidr, reason in (
        ("0.0.0.0/8", "a 'this network' address (0.0.0.0 reaches this machine)"),
        ("10.0.0.0/8", "a private address (RFC 1918)"),
        ("100.64.0.0/10", "a shared carrier-grade NAT address (RFC 6598)"),
        ("127.0.0.0/8", "a loopback address (this machine)"),
        ("169.254.0.0/16", "a link-local address (cloud metadata lives here)"),
        ("172.16.0.0/12", "a private address (RFC 1918)"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address (RFC 5737)"),
        ("192.88.99.0/24", "a deprecated 6to4 relay address"),
        ("192.168.0.0/16", "a private address (RFC 1918)"),
        ("198.18.0.0/15", "a benchmarking address (RFC 2544)"),
        ("198.51.100.0/24", "a documentation address (RFC 5737)"),
        ("203.0.113.0/24", "a documentation address (RFC 5737)"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved or broadcast address"),
    )
)

# IPv6: only global unicast 2000::/3 is allowed, minus these blocks inside it.
GLOBAL_V6 = ipaddress.ip_network("2000::/3")
DENIED_V6_INSIDE_GLOBAL: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), reason)
    for cidr, reason in (
        ("2001::/23", "an IETF protocol IPv6 address (Teredo, benchmarking)"),
        ("2001:db8::/32", "a documentation IPv6 address"),
        ("3fff::/20", "a documentation IPv6 address"),
    )
)
NAT64_V6 = ipaddress.ip_network("64:ff9b::/96")
SIXTOFOUR_V6 = ipaddress.ip_network("2002::/16")


class BlockedDestination(Exception):
    """The guard refused to connect; `reason` is the sentence shown to the agent.

    `kind` says which rule refused: "address" (the deny table or deny list: the customer's URL is
    at fault), "port" (the operator's port policy) or "rate_limit" (too many probes to the host);
    the last two are our own limits, so the checks must not blame the endpoint for them.
    """

    def __init__(
        self, host: str, address: str, reason: str, addresses: Sequence[str] = (), kind: str = "address"
    ) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        self.addresses = tuple(addresses)
        self.kind = kind
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.kind != "address":
            return f"the probe to {self.host} was refused: {self.reason}"
        if self.host and _parse_ip(lookup_name(self.host)) is None:
            return f"DNS for {self.host} includes {self.address}, {self.reason}"
        return f"{self.address} is {self.reason}"


class ResolutionFailed(Exception):
    """The name did not resolve: `kind` is no_such_name, no_address or resolver_timeout."""

    def __init__(self, host: str, kind: str, detail: str) -> None:
        self.host = host
        self.kind = kind
        self.detail = detail
        super().__init__(f"DNS lookup for {host} failed ({kind}): {detail}")


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address inside a v4-mapped, NAT64 or 6to4 IPv6 address, and the form's name."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address in NAT64_V6:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    return None


def _denied_reason_v4(address: ipaddress.IPv4Address) -> str | None:
    for network, reason in DENIED_V4:
        if address in network:
            return reason
    return None


def denied_reason(address: IPAddress) -> str | None:
    """Why the deny table refuses this address, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv4Address):
        return _denied_reason_v4(address)
    embedded = embedded_ipv4(address)
    if embedded is not None:
        inner, form = embedded
        inner_reason = _denied_reason_v4(inner)
        return f"an {form} form of {inner}, {inner_reason}" if inner_reason else None
    if address not in GLOBAL_V6:
        if address.is_loopback:
            return "the IPv6 loopback address (this machine)"
        if address.is_unspecified:
            return "the unspecified IPv6 address (reaches this machine)"
        if address.is_link_local:
            return "an IPv6 link-local address"
        if address in ipaddress.ip_network("fc00::/7"):
            return "an IPv6 unique-local (private) address"
        return "outside global IPv6 unicast (2000::/3)"
    for network, reason in DENIED_V6_INSIDE_GLOBAL:
        if address in network:
            return reason
    return None


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which destinations may be reached: the deny table, plus the operator's allow and deny lists.

    The allowlist (CIDRs and hostnames) is the only way to reach denied addresses (the sandbox,
    tests); the operator deny list adds public addresses that must never be probed and wins
    over everything. `ports` (empty: any port) and `max_probes_per_minute` keep the probe from
    becoming a port scanner or a load generator against public hosts; allowlisted targets are
    exempt because they are our own.
    """

    allow_networks: tuple[Network, ...] = ()
    allow_hosts: frozenset[str] = frozenset()
    allow_endpoints: frozenset[tuple[IPAddress, int]] = frozenset()  # `127.0.0.1:8600`: that port only
    deny_networks: tuple[Network, ...] = ()
    ports: frozenset[int] = frozenset()
    max_probes_per_minute: int = DEFAULT_MAX_PROBES_PER_TARGET_PER_MINUTE

    @classmethod
    def build(
        cls,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        ports: Iterable[Any] = (),
        max_probes_per_minute: Any = DEFAULT_MAX_PROBES_PER_TARGET_PER_MINUTE,
    ) -> AddressPolicy:
        """Parse allow/deny entries and limits; a bad entry is an InputError naming its setting."""
        allow_networks: list[Network] = []
        allow_hosts: set[str] = set()
        allow_endpoints: set[tuple[IPAddress, int]] = set()
        for entry in allow:
            endpoint = _parse_endpoint(entry)
            if endpoint is not None:
                allow_endpoints.add(endpoint)
                continue
            network = _parse_network(entry, "network.allow")
            if network is None:
                allow_hosts.add(_normalise_host(entry))
            else:
                allow_networks.append(network)
        deny_networks = []
        for entry in deny:
            network = _parse_network(entry, "network.deny")
            if network is None:
                raise InputError(f"{entry!r} is not an IP address or CIDR", field="network.deny")
            deny_networks.append(network)
        return cls(
            tuple(allow_networks),
            frozenset(allow_hosts),
            frozenset(allow_endpoints),
            tuple(deny_networks),
            _parse_ports(ports),
            _parse_limit(max_probes_per_minute),
        )

    @classmethod
    def from_config(cls, config: Config, allow: Iterable[str] = ()) -> AddressPolicy:
        configured = list(config.get("network", "allow", []) or [])
        return cls.build(
            [*configured, *allow],
            config.get("network", "deny", []) or [],
            ports=config.get("network", "ports", []) or [],
            max_probes_per_minute=config.get(
                "network", "max_probes_per_target_per_minute", DEFAULT_MAX_PROBES_PER_TARGET_PER_MINUTE
            ),
        )

    def host_allowed(self, host: str) -> bool:
        return _normalise_host(host) in self.allow_hosts

    def is_allowlisted(self, host: str, addresses: Sequence[str], port: int | None = None) -> bool:
        """Our own target: the name is allowlisted, or every address is in an allowed network.

        Only these skip the port policy and the rate limit (the sandbox, tests); one public
        answer among them is enough to treat the name as someone else's host.
        """
        if self.host_allowed(host):
            return True
        if not addresses:
            return False
        for address in addresses:
            ip = _parse_ip(address)
            if ip is None or not self._in_allowed_network(ip, port):
                return False
        return True

    def check_port(self, host: str, port: int, addresses: Sequence[str] = ()) -> str | None:
        """Why this port may not be probed, or None (empty `ports` means any port)."""
        if not self.ports or port in self.ports or self.is_allowlisted(host, addresses, port):
            return None
        allowed = ", ".join(str(p) for p in sorted(self.ports))
        return f"port {port} is not in the [network] ports policy (allowed: {allowed})"

    def check_address(self, address: IPAddress | str, host: str = "", port: int | None = None) -> str | None:
        """The reason this address is refused for this host, or None when it may be reached."""
        ip = _parse_ip(address) if isinstance(address, str) else address
        if ip is None:
            return "not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and (embedded := embedded_ipv4(ip)) is not None:
            candidates.append(embedded[0])
        for candidate in candidates:
            for network in self.deny_networks:
                if candidate.version == network.version and candidate in network:
                    return f"on the operator deny list ({network})"
        if host and self.host_allowed(host):
            return None
        if self._in_allowed_network(ip, port):
            return None
        return denied_reason(ip)

    def _in_allowed_network(self, ip: IPAddress, port: int | None = None) -> bool:
        """An allowlist entry admits exactly the addresses it names.

        The IPv4-mapped spelling (::ffff:a.b.c.d) is the same socket address, so it counts; the
        NAT64 and 6to4 forms are other, global IPv6 destinations and do not (their embedded IPv4
        is still judged by the deny table). An `address:port` entry admits that one port.
        """
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if port is not None and any((candidate, port) in self.allow_endpoints for candidate in candidates):
            return True
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.allow_networks
        )

    def check_all(self, host: str, addresses: Sequence[str], port: int | None = None) -> None:
        """Refuse the whole name if any answer is refused (a mixed answer is refused too)."""
        for address in addresses:
            reason = self.check_address(address, host, port)
            if reason is not None:
                raise BlockedDestination(host, address, reason, addresses)


def _parse_ports(entries: Iterable[Any]) -> frozenset[int]:
    ports: set[int] = set()
    for entry in entries:
        if isinstance(entry, bool) or not isinstance(entry, int) or not 1 <= entry <= 65535:
            raise InputError(f"{entry!r} is not a TCP port (1-65535)", field="network.ports")
        ports.add(entry)
    return frozenset(ports)


def _parse_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(
            f"{value!r} is not a positive whole number", field="network.max_probes_per_target_per_minute"
        )
    return value


def _normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


_ENDPOINT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<v4>\d{1,3}(?:\.\d{1,3}){3})):(?P<port>\d{1,5})$")


def _parse_endpoint(entry: str) -> tuple[IPAddress, int] | None:
    """`127.0.0.1:8600` or `[::1]:8600`: one address and one port (the demo's sandbox), or None."""
    match = _ENDPOINT.match(entry.strip())
    if match is None:
        return None
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise InputError(f"{entry!r} names port {port}, not a TCP port (1-65535)", field="network.allow")
    try:
        return ipaddress.ip_address(match["v6"] or match["v4"]), port
    except ValueError:
        raise InputError(f"{entry!r} is not an IP address with a port", field="network.allow") from None


def _parse_network(entry: str, field_name: str) -> Network | None:
    text = entry.strip()
    if not text:
        raise InputError("empty entry", field=field_name)
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        if "/" in text or ":" in text:
            raise InputError(f"{entry!r} is not a valid CIDR", field=field_name) from None
        return None


# --- Rate limit -----------------------------------------------------------------------------


class ProbeLimiter:
    """A sliding-window counter per target host, shared by every pool in the process.

    Every pool and every event loop (the app runs one per script run) must see the same counts,
    or opening a new client would reset the limit; hence a lock rather than asyncio primitives.
    Refused attempts are not counted: they sent nothing. The clock is injected for tests.
    """

    def __init__(self, window_s: float = RATE_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}
        self._last_sweep = clock()

    def acquire(self, host: str, limit: int) -> bool:
        """Count one probe to `host` and return True, or return False if `limit` is already reached."""
        return self.acquire_target(host, (), limit) is None

    def acquire_target(self, host: str, addresses: Sequence[str], limit: int) -> str | None:
        """Count one probe against the name and every address it resolved to, all or nothing.

        Returns None when counted, else the key (name or address) whose window is full. Keys are
        normalised (`target_key`), so `::ffff:a.b.c.d`, decimal, hex or another name for the same
        address share one window: the limit is per destination, not per spelling.
        """
        keys = list(dict.fromkeys([target_key(host), *(target_key(a) for a in addresses)]))
        with self._lock:
            now = self.clock()
            cutoff = now - self.window_s
            if now - self._last_sweep >= self.window_s:
                self._sweep(cutoff)
                self._last_sweep = now
            windows = []
            for key in keys:
                sent = self._sent.setdefault(key, deque())
                while sent and sent[0] <= cutoff:
                    sent.popleft()
                if len(sent) >= limit:
                    return key
                windows.append(sent)
            for sent in windows:
                sent.append(now)
            return None

    def _sweep(self, cutoff: float) -> None:
        """Forget hosts with no probe in the window, so a sweep of many hosts does not leak memory."""
        for key in [k for k, times in self._sent.items() if not times or times[-1] <= cutoff]:
            del self._sent[key]


def target_key(host_or_address: str) -> str:
    """One spelling per destination: an IP in canonical form (the IPv4 inside a v4-mapped, NAT64
    or 6to4 address, no zone), otherwise the lower-case name without its trailing dot."""
    ip = _parse_ip(lookup_name(host_or_address))
    if ip is None:
        return _normalise_host(host_or_address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        embedded = embedded_ipv4(ip)
        if embedded is not None:
            return str(embedded[0])
    return str(ip)


PROBE_LIMITER = ProbeLimiter()  # the per-process limiter every guarded backend uses by default


# --- Resolution -----------------------------------------------------------------------------

# getaddrinfo cannot be cancelled and asyncio's default executor is tiny; give DNS its own pool.
_DNS_EXECUTOR = ThreadPoolExecutor(max_workers=32, thread_name_prefix="guard-dns")


def _gai_kind(code: int | None) -> str:
    """getaddrinfo's error code in the words of the dns-failure finding."""
    if code == socket.EAI_NONAME:
        return "no_such_name"
    if code in (getattr(socket, "EAI_NODATA", -5), getattr(socket, "EAI_ADDRFAMILY", -9)):
        return "no_address"
    if code == socket.EAI_AGAIN:
        return "resolver_timeout"
    return "resolver_error"


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the OS resolver (also turns `2130706433` or `0x7f.1` into 127.0.0.1)."""
    loop = asyncio.get_running_loop()

    def lookup() -> list[Any]:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)

    with _named_dns_errors(host):
        infos = await asyncio.wait_for(loop.run_in_executor(_DNS_EXECUTOR, lookup), DNS_TIMEOUT_S)
    return _unique_addresses(infos)


def resolve_blocking(host: str, port: int) -> list[str]:
    """The system resolver for synchronous callers (database URLs): same pool, same deadline."""
    future = _DNS_EXECUTOR.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    with _named_dns_errors(host):
        infos = future.result(timeout=DNS_TIMEOUT_S)
    return _unique_addresses(infos)


@contextlib.contextmanager
def _named_dns_errors(host: str) -> Iterator[None]:
    """getaddrinfo's failures as ResolutionFailed, in the words of the dns-failure finding."""
    try:
        yield
    except TimeoutError:
        raise ResolutionFailed(host, "resolver_timeout", f"no answer within {DNS_TIMEOUT_S:g} s") from None
    except socket.gaierror as exc:
        raise ResolutionFailed(host, _gai_kind(exc.errno), exc.strerror or str(exc)) from None
    except UnicodeError as exc:  # a name the resolver cannot encode (IDNA)
        raise ResolutionFailed(host, "invalid_name", str(exc)) from None


def _unique_addresses(infos: Iterable[Any]) -> list[str]:
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


# --- Connect-time hook ----------------------------------------------------------------------


@dataclass
class ConnectRecord:
    """What the guard saw while opening one connection (filled in the request's own task)."""

    host: str = ""
    port: int = 0
    addresses: list[str] = field(default_factory=list)
    connected_address: str | None = None
    dns_ms: float | None = None
    connect_ms: float | None = None
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (address, error) per failed try


_current_record: ContextVar[ConnectRecord | None] = ContextVar("guard_connect_record", default=None)


def start_record() -> ConnectRecord:
    """Begin recording the next connection made in this task (httpcore connects in the caller's task)."""
    record = ConnectRecord()
    _current_record.set(record)
    return record


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves once, checks every address, and dials the checked IP."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
        limiter: ProbeLimiter | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver or system_resolver
        self.inner = inner or AnyIOBackend()
        self.limiter = limiter or PROBE_LIMITER

    async def resolve_checked(self, host: str, port: int) -> list[str]:
        """Resolve (unless the host is an IP literal), refuse if any answer is denied, then apply
        the port policy and count the probe against the host's rate limit; nothing reaches the
        target before all of that passed."""
        record = _current_record.get() or ConnectRecord()
        record.host, record.port = host, port
        problem = hostname_problem(host)
        if problem is not None:
            raise ResolutionFailed(host, "invalid_name", problem)
        name = lookup_name(host)  # `localhost.` is `localhost`: judged, not reported as a DNS failure
        started = time.perf_counter()
        literal = _parse_ip(name)
        try:
            addresses = [name] if literal is not None else await self.resolver(name, port)
        except UnicodeError as exc:  # a name the OS resolver cannot encode: nothing was sent
            raise ResolutionFailed(host, "invalid_name", str(exc)) from None
        finally:
            record.dns_ms = (time.perf_counter() - started) * 1000.0
        record.addresses = list(addresses)
        if not addresses:
            raise ResolutionFailed(host, "no_address", "the name has no A or AAAA record")
        self.policy.check_all(host, addresses, port)
        self.check_limits(host, port, addresses)
        # IPv4 first: a host with broken IPv6 must not eat the whole connect timeout.
        return sorted(addresses, key=lambda a: ":" in a)

    def check_limits(self, host: str, port: int, addresses: Sequence[str]) -> None:
        """The port policy and the per-host rate limit (allowlisted targets skip both)."""
        first = addresses[0] if addresses else host
        reason = self.policy.check_port(host, port, addresses)
        if reason is not None:
            raise BlockedDestination(host, first, reason, addresses, kind="port")
        if self.policy.is_allowlisted(host, addresses, port):
            return
        limit = self.policy.max_probes_per_minute
        full = self.limiter.acquire_target(host, addresses, limit)
        if full is not None:
            via = "" if full == target_key(host) else f" (address {full}, however it is spelled)"
            reason = (
                f"more than {limit} probes to {host}{via} in the last minute "
                "([network] max_probes_per_target_per_minute)"
            )
            raise BlockedDestination(host, first, reason, addresses, kind="rate_limit")

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        record = _current_record.get() or ConnectRecord()
        addresses = await self.resolve_checked(host, port)
        started = time.perf_counter()
        last_error: Exception | None = None
        per_address = None if timeout is None else max(timeout / len(addresses), min(timeout, 2.0))
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    address, port, timeout=per_address, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                record.attempts.append((address, type(exc).__name__))
                last_error = exc
                continue
            record.connected_address = address
            record.connect_ms = (time.perf_counter() - started) * 1000.0
            return stream
        record.connect_ms = (time.perf_counter() - started) * 1000.0
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise BlockedDestination("", "unix socket", "not a network address")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def check_pinned_versions() -> None:
    """Fail loudly if httpx/httpcore moved: the transport hook relies on their internals."""
    found = {"httpx": httpx.__version__, "httpcore": httpcore.__version__}
    if found != PINNED_VERSIONS:
        raise RuntimeError(f"the SSRF guard hook was tested on {PINNED_VERSIONS}, found {found}")


@functools.lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """certifi's trust store, built once: loading the CA bundle per client costs milliseconds."""
    return httpx.create_ssl_context(trust_env=False)


def build_pool(
    policy: AddressPolicy,
    *,
    ssl_context: ssl.SSLContext | None = None,
    max_connections: int = 100,
    resolver: Resolver | None = None,
    limiter: ProbeLimiter | None = None,
    keepalive_s: float = 0.0,
) -> httpcore.AsyncConnectionPool:
    """A connection pool whose every connection goes through the guard.

    No keep-alive by default: a probe judges a fresh connection per request. `keepalive_s` keeps
    idle connections that long, for callers sending many requests to one host (a connector's
    pages, a resend's events): each connection is still judged when it is opened, and the
    requests after the first skip the TCP (and TLS) handshake. `network_backend=` is public
    httpcore API; the probe uses this pool directly.
    """
    check_pinned_versions()
    return httpcore.AsyncConnectionPool(
        ssl_context=ssl_context if ssl_context is not None else default_ssl_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_connections if keepalive_s > 0 else 0,
        keepalive_expiry=keepalive_s,
        http1=True,
        http2=False,
        network_backend=GuardedBackend(policy, resolver=resolver, limiter=limiter),
    )


def build_transport(
    policy: AddressPolicy,
    *,
    ssl_context: ssl.SSLContext | None = None,
    max_connections: int = 100,
    resolver: Resolver | None = None,
    keepalive_s: float = 0.0,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport over `build_pool` (httpx 0.28 has no public hook: its private pool is replaced)."""
    context = ssl_context if ssl_context is not None else default_ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False)
    transport._pool = build_pool(policy, ssl_context=context, max_connections=max_connections, resolver=resolver,
                                 keepalive_s=keepalive_s)
    return transport


def guarded_client(
    policy: AddressPolicy,
    *,
    ssl_context: ssl.SSLContext | None = None,
    max_connections: int = 100,
    resolver: Resolver | None = None,
    timeout: httpx.Timeout | float = 15.0,
    keepalive_s: float = 0.0,
) -> httpx.AsyncClient:
    """The one way the project makes outbound HTTP requests: guarded, no redirects, no env proxies."""
    return httpx.AsyncClient(
        transport=build_transport(
            policy, ssl_context=ssl_context, max_connections=max_connections, resolver=resolver,
            keepalive_s=keepalive_s,
        ),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
    )
