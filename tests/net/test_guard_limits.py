"""The guard's port policy and per-host rate limit: refusals before any packet, allowlist exempt."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import pytest
from httpcore._backends.anyio import AnyIOBackend

from diagnostics.checks.reachability import check_reachability
from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.findings import Status
from diagnostics.net.guard import (
    DEFAULT_MAX_PROBES_PER_TARGET_PER_MINUTE,
    AddressPolicy,
    BlockedDestination,
    GuardedBackend,
    ProbeLimiter,
)
from diagnostics.net.probe import ProbeClient, ProbeRequest
from tests.checks.factories import failed, observations
from tests.net.loopback import CountingListener, counting_listener

PUBLIC = "93.184.215.14"


class FakeClock:
    """A monotonic clock the test moves by hand: the window is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC]


async def two_hosts_resolver(host: str, port: int) -> list[str]:
    """`other.example.com` lives at another public address (the limit counts addresses too)."""
    return ["93.184.215.15"] if host.startswith("other.") else [PUBLIC]


class ToListener(httpcore.AsyncNetworkBackend):
    """Dials the counting listener whatever (public) address the guard chose: a stand-in internet."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self.inner.connect_tcp("127.0.0.1", self.port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def connect(backend: GuardedBackend, host: str, port: int, times: int = 1) -> list[str | None]:
    """Open and close `times` connections; the refusal kind of each (None when it connected)."""

    async def run() -> list[str | None]:
        kinds: list[str | None] = []
        for _ in range(times):
            try:
                stream = await backend.connect_tcp(host, port, timeout=2.0)
            except BlockedDestination as exc:
                kinds.append(exc.kind)
            else:
                await stream.aclose()
                kinds.append(None)
        return kinds

    return asyncio.run(run())


def settled_count(listener: CountingListener, expected: int) -> int:
    """The listener counts in its own thread: give it a moment to catch up with `expected`."""
    deadline = time.monotonic() + 2.0
    while listener.connections < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # and a moment more, so an unexpected extra connection would show
    return listener.connections


# --- Port policy ----------------------------------------------------------------------------


def test_port_outside_the_policy_is_refused_without_a_packet() -> None:
    with counting_listener() as listener:
        policy = AddressPolicy.build(ports=[80, 443, 8080, 8443])
        backend = GuardedBackend(policy, resolver=public_resolver, inner=ToListener(listener.port))
        with pytest.raises(BlockedDestination) as info:
            asyncio.run(backend.connect_tcp("hooks.example.com", 2222, timeout=2.0))
        assert settled_count(listener, 0) == 0
    assert info.value.kind == "port"
    assert info.value.describe() == (
        "the probe to hooks.example.com was refused: port 2222 is not in the [network] ports policy "
        "(allowed: 80, 443, 8080, 8443)"
    )


def test_listed_port_and_empty_policy_are_allowed() -> None:
    with counting_listener() as listener:
        inner = ToListener(listener.port)
        listed = GuardedBackend(AddressPolicy.build(ports=[8443]), resolver=public_resolver, inner=inner,
                                limiter=ProbeLimiter())
        any_port = GuardedBackend(AddressPolicy.build(), resolver=public_resolver, inner=inner, limiter=ProbeLimiter())
        assert connect(listed, "hooks.example.com", 8443) == [None]
        assert connect(any_port, "hooks.example.com", 2222) == [None]
        assert settled_count(listener, 2) == 2


def test_allowlisted_hosts_and_networks_are_exempt_from_the_port_policy() -> None:
    with counting_listener() as listener:
        by_network = GuardedBackend(AddressPolicy.build(allow=["127.0.0.0/8"], ports=[443]))
        assert connect(by_network, "127.0.0.1", listener.port) == [None]
        by_name = GuardedBackend(
            AddressPolicy.build(allow=["sandbox.test"], ports=[443]), resolver=public_resolver,
            inner=ToListener(listener.port),
        )
        assert connect(by_name, "sandbox.test", 2222) == [None]
        assert settled_count(listener, 2) == 2


def test_a_private_address_is_still_refused_as_an_address_not_a_port() -> None:
    backend = GuardedBackend(AddressPolicy.build(ports=[443]))
    with pytest.raises(BlockedDestination) as info:
        asyncio.run(backend.connect_tcp("10.0.0.7", 2222, timeout=1.0))
    assert info.value.kind == "address" and "private" in info.value.reason


def test_port_refusal_surfaces_as_an_exchange_and_a_could_not_check_finding() -> None:
    async def run() -> Any:
        async with ProbeClient(AddressPolicy.build(ports=[443]), resolver=public_resolver) as client:
            return await client.send(ProbeRequest("http://hooks.example.com:9000/in", b"{}"), deadline_s=2.0)

    seen = asyncio.run(run())
    assert seen.error == "blocked" and seen.blocked_kind == "port"
    assert seen.connected_address is None and seen.connect_ms is None
    findings = check_reachability(observations(seen))
    assert [f.code for f in findings] == ["probe-refused"]
    assert findings[0].status is Status.ERROR
    assert "port 9000 is not in the [network] ports policy" in findings[0].summary


def test_address_refusal_keeps_the_non_public_address_finding() -> None:
    sample = failed("blocked", blocked_kind="address", blocked_address="10.0.0.7",
                    blocked_reason="a private address (RFC 1918)", error_detail="DNS for x includes 10.0.0.7")
    assert [f.code for f in check_reachability(observations(sample))] == ["non-public-address"]


@pytest.mark.parametrize(
    ("ports", "limit", "field"),
    [
        ([0], 120, "network.ports"),
        (["443"], 120, "network.ports"),
        ([70000], 120, "network.ports"),
        ([], 0, "network.max_probes_per_target_per_minute"),
        ([], "many", "network.max_probes_per_target_per_minute"),
    ],
)
def test_bad_settings_name_their_field(ports: list[Any], limit: Any, field: str) -> None:
    with pytest.raises(InputError) as info:
        AddressPolicy.build(ports=ports, max_probes_per_minute=limit)
    assert field in str(info.value)


def test_defaults_come_from_the_config() -> None:
    policy = AddressPolicy.from_config(load_config(env={}))
    assert policy.ports == frozenset()
    assert policy.max_probes_per_minute == DEFAULT_MAX_PROBES_PER_TARGET_PER_MINUTE == 120


# --- Rate limit -----------------------------------------------------------------------------


def test_limiter_refuses_the_n_plus_first_probe_and_allows_after_the_window() -> None:
    clock = FakeClock()
    limiter = ProbeLimiter(clock=clock)
    assert all(limiter.acquire("hooks.example.com", 3) for _ in range(3))
    assert not limiter.acquire("hooks.example.com", 3)
    assert limiter.acquire("other.example.com", 3)  # another host has its own window
    clock.now += 59.0
    assert not limiter.acquire("HOOKS.example.com.", 3)  # same host, however it is spelled
    clock.now += 1.0  # the first three are now a full minute old
    assert limiter.acquire("hooks.example.com", 3)


def test_limiter_window_slides_rather_than_resetting() -> None:
    clock = FakeClock()
    limiter = ProbeLimiter(clock=clock)
    assert limiter.acquire("h.example", 2)
    clock.now += 30.0
    assert limiter.acquire("h.example", 2)
    clock.now += 30.0  # only the first has left the window
    assert limiter.acquire("h.example", 2)
    assert not limiter.acquire("h.example", 2)


def test_limiter_forgets_idle_hosts() -> None:
    clock = FakeClock()
    limiter = ProbeLimiter(clock=clock)
    for n in range(50):
        assert limiter.acquire(f"host{n}.example", 1)
    clock.now += 61.0
    assert limiter.acquire("late.example", 1)
    assert list(limiter._sent) == ["late.example"]


def test_limiter_is_thread_safe() -> None:
    limiter = ProbeLimiter(clock=FakeClock())
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            ok = limiter.acquire("busy.example", 120)
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 120 and len(granted) == 400


def test_rate_limit_refuses_without_a_packet_and_reopens_after_the_window() -> None:
    clock = FakeClock()
    with counting_listener() as listener:
        policy = AddressPolicy.build(max_probes_per_minute=3)
        backend = GuardedBackend(
            policy, resolver=two_hosts_resolver, inner=ToListener(listener.port), limiter=ProbeLimiter(clock=clock)
        )
        assert connect(backend, "hooks.example.com", 443, times=4) == [None, None, None, "rate_limit"]
        assert settled_count(listener, 3) == 3
        with pytest.raises(BlockedDestination) as info:
            asyncio.run(backend.connect_tcp("hooks.example.com", 443, timeout=2.0))
        assert settled_count(listener, 3) == 3
        assert connect(backend, "other.example.com", 443) == [None]  # a sweep of other hosts (other addresses) goes on
        clock.now += 60.0
        assert connect(backend, "hooks.example.com", 443) == [None]
        assert settled_count(listener, 5) == 5
    assert info.value.kind == "rate_limit"
    assert "more than 3 probes to hooks.example.com in the last minute" in info.value.describe()


def test_allowlisted_targets_are_exempt_from_the_rate_limit() -> None:
    with counting_listener() as listener:
        policy = AddressPolicy.build(allow=["127.0.0.1"], max_probes_per_minute=2)
        backend = GuardedBackend(policy, limiter=ProbeLimiter(clock=FakeClock()))
        assert connect(backend, "127.0.0.1", listener.port, times=5) == [None] * 5
        assert settled_count(listener, 5) == 5


def test_rate_limit_surfaces_as_a_could_not_check_finding() -> None:
    limiter = ProbeLimiter(clock=FakeClock())
    assert limiter.acquire("hooks.example.com", 1)

    async def run() -> Any:
        policy = AddressPolicy.build(max_probes_per_minute=1)
        async with ProbeClient(policy, resolver=public_resolver, limiter=limiter) as client:
            return await client.send(ProbeRequest("https://hooks.example.com/in", b"{}"), deadline_s=2.0)

    seen = asyncio.run(run())
    assert seen.error == "blocked" and seen.blocked_kind == "rate_limit"
    assert seen.connected_address is None
    finding = check_reachability(observations(seen))[0]
    assert finding.code == "probe-refused" and finding.status is Status.ERROR
    assert "more than 1 probes to hooks.example.com in the last minute" in finding.summary


def test_refusals_are_audited_with_their_rule(caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> None:
        async with ProbeClient(AddressPolicy.build(ports=[443]), resolver=public_resolver) as client:
            await client.send(ProbeRequest("http://hooks.example.com:9000/in", b"{}"), deadline_s=2.0)

    with caplog.at_level("INFO", logger="diagnostics.probe"):
        asyncio.run(run())
    assert any("hooks.example.com:9000/in -> blocked (port)" in r.getMessage() for r in caplog.records)
