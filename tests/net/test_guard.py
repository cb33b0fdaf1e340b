"""The SSRF guard: the deny table, the policy, and refusals on real sockets without a packet sent."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpcore
import httpx
import pytest

from diagnostics.errors import InputError
from diagnostics.net import guard
from diagnostics.net.guard import AddressPolicy, BlockedDestination, GuardedBackend, denied_reason
from diagnostics.net.probe import ProbeClient, ProbeRequest
from diagnostics.pipeline.probe import probe_endpoint
from diagnostics.sandbox import start_sandbox
from tests.net.loopback import TEST_PROFILE, clean_config, counting_listener, http_server, reply


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("0.0.0.0", "this network"),
        ("10.20.30.40", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.100.100.200", "carrier-grade NAT"),
        ("169.254.169.254", "link-local"),
        ("192.0.0.192", "IETF protocol"),
        ("192.0.2.5", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved or broadcast"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique-local"),
        ("::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"),
        ("2002:7f00:1::1", "6to4 form of 127.0.0.1"),
        ("::127.0.0.1", "outside global IPv6"),
        ("fec0::1", "outside global IPv6"),
        ("5f00::1", "outside global IPv6"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("2001::1", "IETF protocol"),
        ("ff02::1", "outside global IPv6"),
    ],
)
def test_deny_table_refuses_with_reason(address: str, reason: str) -> None:
    found = denied_reason(ipaddress.ip_address(address))
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert denied_reason(ipaddress.ip_address(address)) is None


def test_policy_allowlist_operator_deny_and_bad_entries() -> None:
    policy = AddressPolicy.build(allow=["127.0.0.0/8", "sandbox.test"], deny=["203.0.113.9", "8.8.8.0/24"])
    assert policy.check_address("127.0.0.5") is None
    assert policy.check_address("::ffff:127.0.0.1") is None  # mapped forms follow their IPv4
    assert policy.check_address("10.0.0.1", host="sandbox.test") is None
    assert "operator deny list" in (policy.check_address("8.8.8.8") or "")
    assert "operator deny list" in (policy.check_address("8.8.8.8", host="sandbox.test") or "")
    assert policy.check_address("10.0.0.1") is not None
    with pytest.raises(InputError, match="not a valid CIDR"):
        AddressPolicy.build(allow=["10.0.0.0/33"])
    with pytest.raises(InputError, match=r"network\.deny"):
        AddressPolicy.build(deny=["example.com"])


def test_mixed_answer_refuses_the_whole_name() -> None:
    policy = AddressPolicy.build()
    with pytest.raises(BlockedDestination) as info:
        policy.check_all("hooks.example.com", ["93.184.216.34", "10.0.0.7"])
    assert info.value.describe() == "DNS for hooks.example.com includes 10.0.0.7, a private address (RFC 1918)"


REFUSED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0x7f.1",
    "0",
    "0.0.0.0",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",
    "169.254.169.254",
    "10.1.2.3",
    "100.64.0.1",
]


def test_refusal_table_sends_no_packet() -> None:
    """Every spelling of a non-public destination is refused at connect time, with its reason."""

    async def run(port: int) -> list[tuple[str, str | None, str]]:
        results = []
        async with ProbeClient(AddressPolicy.build()) as client:
            for host in REFUSED_HOSTS:
                seen = await client.send(ProbeRequest(f"http://{host}:{port}/hook", b"{}"), deadline_s=2.0)
                results.append((host, seen.error, seen.error_detail))
                assert seen.connected_address is None and seen.connect_ms is None
        return results

    with counting_listener("127.0.0.1") as v4, counting_listener("::1", v4.port) as v6:
        results = asyncio.run(run(v4.port))
        assert v4.connections == 0 and v6.connections == 0
    for host, error, detail in results:
        assert error == "blocked", (host, error, detail)
        assert any(word in detail for word in ("loopback", "this network", "unspecified", "link-local", "private",
                                                  "carrier-grade")), (host, detail)


def test_name_resolving_to_private_address_is_refused_with_reason() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["10.0.0.7"]

    async def run() -> str:
        async with ProbeClient(AddressPolicy.build(), resolver=resolver) as client:
            seen = await client.send(ProbeRequest("https://hooks.example.com/in", b"{}"), deadline_s=2.0)
            assert seen.error == "blocked"
            return seen.error_detail

    assert asyncio.run(run()) == "DNS for hooks.example.com includes 10.0.0.7, a private address (RFC 1918)"


def test_rebinding_resolver_is_checked_on_every_connection() -> None:
    """Public first, private second: the first connection goes to the checked IP, the second is refused.

    127.0.0.2 stands in for a public address (allow-listed); 127.0.0.1 is the private target.
    """
    answers = [["127.0.0.2"], ["127.0.0.1"], ["127.0.0.2", "127.0.0.1"]]
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[len(calls) - 1]

    def ok(handler) -> None:  # type: ignore[no-untyped-def]
        reply(handler, 200, b"ok")

    with http_server(ok, host="127.0.0.2") as base:
        port = int(base.rsplit(":", 1)[1])
        with counting_listener("127.0.0.1", port) as private:

            async def run() -> list[tuple[str | None, int | None, str | None]]:
                policy = AddressPolicy.build(allow=["127.0.0.2/32"])
                async with ProbeClient(policy, resolver=resolver) as client:
                    out = []
                    for _ in answers:
                        seen = await client.send(ProbeRequest(f"http://rebind.example:{port}/", b"{}"), deadline_s=2)
                        out.append((seen.error, seen.status_code, seen.connected_address))
                    return out

            first, second, mixed = asyncio.run(run())
            assert private.connections == 0
    assert first == (None, 200, "127.0.0.2")
    assert second[0] == "blocked" and mixed[0] == "blocked"
    assert len(calls) == 3  # one lookup per connection, none behind the guard's back


def test_redirect_to_private_address_is_refused_without_a_packet() -> None:
    with counting_listener("127.0.0.1") as private:
        target = f"http://127.0.0.1:{private.port}/internal"

        def redirect(handler) -> None:  # type: ignore[no-untyped-def]
            reply(handler, 302, b"", Location=target)

        with http_server(redirect, host="127.0.0.2") as base:
            outcome = probe_endpoint(
                f"{base}/hook", config=clean_config(), profile=TEST_PROFILE, samples=1, allow=["127.0.0.2/32"]
            )
        assert private.connections == 0
    codes = {f.code: f for f in outcome.findings}
    assert "redirect-response" in codes and "non-public-address" in codes
    assert "127.0.0.1 is a loopback address" in codes["non-public-address"].summary
    assert outcome.metrics["redirect_chain"][0]["error"] == "blocked"


def test_sandbox_is_refused_without_the_allowlist() -> None:
    with start_sandbox() as sandbox:
        outcome = probe_endpoint(sandbox.url("healthy"), config=clean_config(), profile=TEST_PROFILE, samples=1)
        assert sandbox.stats.connections == 0
        allowed = probe_endpoint(
            sandbox.url("healthy"), config=clean_config(), profile=TEST_PROFILE, samples=1, allow=["127.0.0.1"]
        )
        assert sandbox.stats.connections == 1
    assert [f.code for f in outcome.findings if f.failed] == ["non-public-address"]
    assert "endpoint-healthy" in {f.code for f in allowed.findings}


def test_transport_hook_is_installed_on_the_pinned_versions() -> None:
    assert {"httpx": httpx.__version__, "httpcore": httpcore.__version__} == guard.PINNED_VERSIONS
    transport = guard.build_transport(AddressPolicy.build(), max_connections=7)
    pool = transport._pool
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, GuardedBackend)
    assert pool._max_keepalive_connections == 0 and pool._max_connections == 7


def test_probe_pool_uses_the_public_backend_hook() -> None:
    pool = guard.build_pool(AddressPolicy.build(), max_connections=3)
    assert isinstance(pool._network_backend, GuardedBackend)
    assert pool._max_keepalive_connections == 0 and pool._max_connections == 3
    assert pool._ssl_context is guard.default_ssl_context()  # built once, shared


def test_guarded_httpx_client_refuses_and_reaches_through_the_hook() -> None:
    """The httpx client other parts use goes through the same guard (the private-pool hook)."""
    with start_sandbox() as sandbox:

        async def run() -> tuple[int, str]:
            async with guard.guarded_client(AddressPolicy.build(allow=["127.0.0.1"])) as allowed:
                status = (await allowed.post(sandbox.url("healthy"), content=b"{}")).status_code
            async with guard.guarded_client(AddressPolicy.build()) as default:
                try:
                    await default.post(sandbox.url("healthy"), content=b"{}")
                except BlockedDestination as exc:
                    return status, exc.describe()
            return status, "not refused"

        status, refusal = asyncio.run(run())
        assert sandbox.stats.connections == 1
    assert status == 200 and refusal == "127.0.0.1 is a loopback address (this machine)"


def test_pinned_version_check_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpcore, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match="tested on"):
        guard.check_pinned_versions()


def test_no_keep_alive_and_no_env_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each probe opens its own connection; a proxy in the environment is ignored."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with start_sandbox() as sandbox:

        async def run() -> list[int | None]:
            async with ProbeClient(AddressPolicy.build(allow=["127.0.0.1"])) as client:
                return [
                    (await client.send(ProbeRequest(sandbox.url("echo"), b"{}"), deadline_s=2)).status_code
                    for _ in range(3)
                ]

        assert asyncio.run(run()) == [200, 200, 200]
        assert sandbox.stats.connections == 3


def test_host_header_keeps_the_name_while_the_socket_is_pinned() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    with start_sandbox() as sandbox:
        port = sandbox.http_url.rsplit(":", 1)[1]

        async def run() -> str:
            policy = AddressPolicy.build(allow=["webhook.test"])
            async with ProbeClient(policy, resolver=resolver) as client:
                seen = await client.send(ProbeRequest(f"http://webhook.test:{port}/echo", b"{}"), deadline_s=2)
                assert seen.connected_address == "127.0.0.1"
                return seen.body_snippet

        body = asyncio.run(run())
    assert f'"Host": "webhook.test:{port}"' in body


def test_unix_sockets_are_refused() -> None:
    backend = GuardedBackend(AddressPolicy.build())
    with pytest.raises(BlockedDestination):
        asyncio.run(backend.connect_unix_socket("/tmp/x.sock"))


@pytest.mark.parametrize(
    ("code", "kind"),
    [(socket.EAI_NONAME, "no_such_name"), (socket.EAI_AGAIN, "resolver_timeout"), (socket.EAI_FAIL, "resolver_error")],
)
def test_resolver_errors_are_named(code: int, kind: str) -> None:
    assert guard._gai_kind(code) == kind


def test_resolver_answers_and_failures() -> None:
    assert "127.0.0.1" in asyncio.run(guard.system_resolver("localhost", 80))
    with pytest.raises(guard.ResolutionFailed) as info:
        asyncio.run(guard.system_resolver("no-such-host.invalid", 80))
    assert info.value.kind in {"no_such_name", "resolver_timeout"}
