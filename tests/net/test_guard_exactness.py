"""Issue 14, guard limits: an allowlist admits exactly what it names, the rate limit counts
destinations (not spellings), one deadline covers a redirect chain, and names the resolver cannot
encode or that end in a dot are judged before anything is sent."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.net.guard import (
    AddressPolicy,
    BlockedDestination,
    GuardedBackend,
    ProbeLimiter,
    ResolutionFailed,
    target_key,
)
from diagnostics.net.hostnames import hostname_problem
from diagnostics.net.probe import ProbeClient, ProbeRequest
from diagnostics.pipeline.probe import probe_endpoint
from tests.net.loopback import TEST_PROFILE, clean_config, counting_listener, http_server, reply
from tests.net.test_guard_limits import PUBLIC, FakeClock, ToListener, connect, settled_count


def nat64(v4: str) -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(ipaddress.IPv4Address(v4))))


def sixtofour(v4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(v4)) << 80) | 1))


# --- The allowlist admits exactly what it names ----------------------------------------------


@pytest.mark.parametrize("address", ["2002:7f00:1::1", "64:ff9b::7f00:1"])
def test_allowlisted_ipv4_does_not_admit_its_6to4_or_nat64_form(address: str) -> None:
    """The issue's case: `--allow 127.0.0.1/32` dialled both global IPv6 forms."""
    policy = AddressPolicy.build(allow=["127.0.0.1/32"])
    reason = policy.check_address(address)
    assert reason is not None and "form of 127.0.0.1" in reason and "loopback" in reason
    with counting_listener() as listener:
        backend = GuardedBackend(policy, inner=ToListener(listener.port), limiter=ProbeLimiter())
        with pytest.raises(BlockedDestination) as info:
            asyncio.run(backend.connect_tcp(address, listener.port, timeout=1.0))
        assert settled_count(listener, 0) == 0
    assert info.value.kind == "address"


def test_allowlisted_ipv4_admits_its_mapped_spelling_the_same_socket_address() -> None:
    policy = AddressPolicy.build(allow=["127.0.0.1/32"])
    assert policy.check_address("::ffff:127.0.0.1") is None
    assert policy.is_allowlisted("::ffff:127.0.0.1", ["::ffff:127.0.0.1"])
    assert policy.check_address("127.0.0.2") is not None


def test_an_ipv6_allowlist_entry_admits_what_it_names() -> None:
    policy = AddressPolicy.build(allow=["2002:7f00:1::/48"])
    assert policy.check_address("2002:7f00:1::1") is None
    assert policy.check_address("2002:7f00:2::1") is not None


def test_deny_list_still_sees_the_embedded_ipv4() -> None:
    policy = AddressPolicy.build(deny=["93.184.215.0/24"])
    assert "operator deny list" in (policy.check_address(nat64(PUBLIC)) or "")
    assert "operator deny list" in (policy.check_address(sixtofour(PUBLIC)) or "")


ipv4s = st.integers(min_value=0, max_value=2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))


@settings(max_examples=300, deadline=None)
@given(v4=ipv4s, prefix=st.integers(min_value=8, max_value=32))
def test_property_embedded_forms_of_an_allowlisted_network_are_judged_by_the_deny_table(v4: str, prefix: int) -> None:
    """Whatever IPv4 network is allowlisted, its NAT64 and 6to4 forms get exactly the verdict the
    deny table gives them without any allowlist: the allowlist never widens to them."""
    network = ipaddress.ip_network(f"{v4}/{prefix}", strict=False)
    allowed = AddressPolicy.build(allow=[str(network)])
    bare = AddressPolicy.build()
    for spelled in (nat64(v4), sixtofour(v4)):
        assert (allowed.check_address(spelled) is None) == (bare.check_address(spelled) is None)
        assert not allowed.is_allowlisted(spelled, [spelled])


# --- The rate limit counts destinations ------------------------------------------------------


async def spelling_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo's reading of numeric spellings (decimal, hex), and every name at PUBLIC."""
    try:
        return [socket.inet_ntoa(socket.inet_aton(host))]
    except OSError:
        return [PUBLIC]


SPELLINGS = (
    PUBLIC,
    f"::ffff:{PUBLIC}",
    str(int(ipaddress.IPv4Address(PUBLIC))),  # decimal
    hex(int(ipaddress.IPv4Address(PUBLIC))),  # hex
    "hooks.example.com",
    "HOOKS.example.com.",
)


def test_rate_limit_counts_the_address_however_it_is_spelled() -> None:
    """The issue's case: 720 attempts at one address in six spellings let 600 through, not 120."""
    with counting_listener() as listener:
        backend = GuardedBackend(
            AddressPolicy.build(), resolver=spelling_resolver, inner=ToListener(listener.port),
            limiter=ProbeLimiter(clock=FakeClock()),
        )
        kinds: list[str | None] = []
        for _round in range(120):
            for spelling in SPELLINGS:
                kinds.extend(connect(backend, spelling, 443))
        assert kinds.count(None) == 120 and kinds.count("rate_limit") == 600
        assert settled_count(listener, 120) == 120


def test_rate_limit_refusal_names_the_shared_address() -> None:
    backend = GuardedBackend(AddressPolicy.build(max_probes_per_minute=1), resolver=spelling_resolver,
                             inner=None, limiter=ProbeLimiter(clock=FakeClock()))
    with counting_listener() as listener:
        backend.inner = ToListener(listener.port)
        assert connect(backend, "a.example.com", 443) == [None]
        with pytest.raises(BlockedDestination) as info:
            asyncio.run(backend.connect_tcp("b.example.com", 443, timeout=1.0))
    assert info.value.kind == "rate_limit"
    assert f"(address {PUBLIC}, however it is spelled)" in info.value.reason


@settings(max_examples=200, deadline=None)
@given(v4=ipv4s)
def test_property_every_spelling_of_an_address_has_one_key(v4: str) -> None:
    spellings = [v4, f"::ffff:{v4}", f"[::ffff:{v4}]", nat64(v4), sixtofour(v4), f"{v4}."]
    assert {target_key(s) for s in spellings} == {v4}


def test_a_refused_probe_is_not_counted_against_any_key() -> None:
    limiter = ProbeLimiter(clock=FakeClock())
    assert limiter.acquire_target("a.example", [PUBLIC], 1) is None
    assert limiter.acquire_target("b.example", [PUBLIC], 1) == PUBLIC
    assert limiter.acquire_target("b.example", ["93.184.215.15"], 1) is None  # b was not counted before


# --- Names: trailing dot, IDNA errors --------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1.", "LOCALHOST.", "localhost."])
def test_trailing_dot_spellings_are_refused_as_the_address_they_reach(host: str) -> None:
    with counting_listener() as listener:
        outcome = probe_endpoint(f"http://{host}:{listener.port}/", config=clean_config(),
                                 profile=TEST_PROFILE, samples=1)
        assert settled_count(listener, 0) == 0
    assert "non-public-address" in {f.code for f in outcome.findings}
    assert not {"dns-failure", "dns-no-address"} & {f.code for f in outcome.findings}


def test_trailing_dot_of_an_allowlisted_address_connects() -> None:
    with counting_listener() as listener:
        backend = GuardedBackend(AddressPolicy.build(allow=["127.0.0.1/32"]), limiter=ProbeLimiter())
        assert connect(backend, "127.0.0.1.", listener.port) == [None]
        assert settled_count(listener, 1) == 1


BAD_NAMES = ("a..b.test", "a" * 64 + ".test", ".a.test")


@pytest.mark.parametrize("host", BAD_NAMES)
def test_names_the_resolver_cannot_encode_are_url_invalid(host: str) -> None:
    outcome = probe_endpoint(f"http://{host}/", config=clean_config(), profile=TEST_PROFILE, samples=1)
    assert [f.code for f in outcome.findings] == ["url-invalid"]
    assert hostname_problem(host) in outcome.findings[0].summary


@pytest.mark.parametrize("host", BAD_NAMES)
def test_the_guard_and_the_exchange_refuse_such_names_without_a_traceback(host: str) -> None:
    backend = GuardedBackend(AddressPolicy.build(), limiter=ProbeLimiter())
    with pytest.raises(ResolutionFailed) as info:
        asyncio.run(backend.connect_tcp(host, 80, timeout=1.0))
    assert info.value.kind == "invalid_name"

    async def run() -> Any:
        async with ProbeClient(AddressPolicy.build()) as client:
            return await client.send(ProbeRequest(f"http://{host}/"), deadline_s=1.0)

    seen = asyncio.run(run())
    assert seen.error == "invalid_url" and seen.addresses == []


@settings(max_examples=200, deadline=None)
@given(labels=st.lists(st.text(alphabet="abcxyz019-", max_size=70), min_size=1, max_size=5))
def test_property_a_name_is_either_refused_in_words_or_encodable(labels: list[str]) -> None:
    name = ".".join(labels)
    problem = hostname_problem(name)
    if problem is None:
        name.rstrip(".").encode("idna")  # what getaddrinfo does: must not raise
    else:
        assert isinstance(problem, str) and problem


# --- One deadline for a redirect chain -------------------------------------------------------


def test_one_deadline_covers_the_whole_redirect_chain() -> None:
    """The issue's case: 2 s timeout, 5 slow hops, 8.8 s. Now the chain ends within the deadline + 1 s."""
    hop_delay_s = 0.4
    served = threading.Semaphore(0)

    def handle(handler: Any) -> None:
        time.sleep(hop_delay_s)
        number = int(handler.path.strip("/").split("/")[-1] or 0)
        served.release()
        reply(handler, 302, Location=f"/hop/{number + 1}")

    with http_server(handle) as base:
        started = time.monotonic()
        outcome = probe_endpoint(f"{base}/hop/0", config=clean_config(), profile=TEST_PROFILE, samples=1,
                                 allow=["127.0.0.1/32"])
        elapsed = time.monotonic() - started
    assert elapsed < TEST_PROFILE.timeout_s + 1.0
    chain = outcome.metrics["redirect_chain"]
    assert chain and chain[-1]["error"] == "timeout"
    assert len(chain) < 5
