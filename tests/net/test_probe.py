"""One observed exchange against real loopback servers, hostile ones included."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from diagnostics.net.guard import AddressPolicy
from diagnostics.net.probe import Exchange, ProbeClient, ProbeRequest
from diagnostics.sandbox import SandboxHandle, start_sandbox

DEADLINE_S = 1.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox() as handle:
        yield handle


def send(url: str, deadline_s: float = DEADLINE_S, max_body_bytes: int = 65536) -> Exchange:
    async def run() -> Exchange:
        policy = AddressPolicy.build(allow=["127.0.0.1"])
        async with ProbeClient(policy, max_body_bytes=max_body_bytes) as client:
            return await client.send(ProbeRequest(url, b'{"hello": "world"}'), deadline_s=deadline_s)

    return asyncio.run(run())


def test_healthy_exchange_records_every_phase(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("slow/50"))
    assert seen.status_code == 200 and seen.error is None
    assert seen.connected_address == "127.0.0.1" and seen.addresses == ["127.0.0.1"]
    assert seen.dns_ms is not None and seen.connect_ms is not None and seen.tls_ms is None
    assert seen.ttfb_ms is not None and 45 <= seen.ttfb_ms <= seen.total_ms
    assert '"received": true' in seen.body_snippet
    assert set(seen.timings()) == {"dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"}


@pytest.mark.parametrize(("path", "error", "phase"), [("hang", "timeout", "response"), ("trickle", "timeout", "body")])
def test_hostile_endpoints_end_within_the_deadline(sandbox: SandboxHandle, path: str, error: str, phase: str) -> None:
    started = time.monotonic()
    seen = send(sandbox.url(path))
    elapsed = time.monotonic() - started
    assert seen.error == error and seen.timeout_phase == phase
    assert DEADLINE_S <= elapsed < DEADLINE_S + 1.0


def test_huge_body_is_capped_with_bounded_memory(sandbox: SandboxHandle) -> None:
    tracemalloc.start()
    try:
        started = time.monotonic()
        seen = send(sandbox.url("huge"), deadline_s=5.0)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen.status_code == 200 and seen.error is None
    assert seen.body_bytes_read == 65536 and seen.body_truncated
    assert time.monotonic() - started < 2.0
    assert peak < 8 * 1024 * 1024  # a 1 GiB body, a few MiB of memory at most


def test_smaller_body_cap_is_respected(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("huge"), max_body_bytes=1000)
    assert seen.body_bytes_read == 1000 and len(seen.body_snippet) <= 2000


@pytest.mark.parametrize(
    ("path", "error"),
    [("reset", "connection_reset"), ("reset-mid", "connection_reset"), ("garbage", "protocol")],
)
def test_broken_answers_are_classified(sandbox: SandboxHandle, path: str, error: str) -> None:
    started = time.monotonic()
    seen = send(sandbox.url(path))
    assert seen.error == error, seen.error_detail
    assert time.monotonic() - started < DEADLINE_S + 1.0


def test_reset_mid_response_keeps_the_status_that_arrived(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("reset-mid"))
    assert seen.status_code == 200 and seen.error == "connection_reset" and seen.body_bytes_read > 0


def test_refused_port() -> None:
    import socket

    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    seen = send(f"http://127.0.0.1:{port}/")
    assert seen.error == "connection_refused" and seen.status_code is None


def test_unknown_name_is_a_dns_failure() -> None:
    seen = send("http://no-such-host.invalid/hook")
    assert seen.error == "dns" and seen.dns_failure in {"no_such_name", "resolver_timeout"}


def test_connect_timeout_when_packets_vanish() -> None:
    """A listener whose accept queue is full drops SYNs: the connect phase times out."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
            fillers.append(filler)
        time.sleep(0.1)
        seen = send(f"http://127.0.0.1:{server.getsockname()[1]}/", deadline_s=1.0)
    finally:
        for filler in fillers:
            filler.close()
        server.close()
    assert seen.error == "connect_timeout" and seen.timeout_phase == "connect"


def test_invalid_url_is_recorded_not_raised() -> None:
    seen = send("http://0177.0.0.1/")
    assert seen.error == "invalid_url"


def test_exchange_to_dict_is_jsonable(sandbox: SandboxHandle) -> None:
    import json

    data = send(sandbox.url("status/404")).to_dict()
    assert json.loads(json.dumps(data))["status_code"] == 404


def test_every_probe_is_logged_without_the_query(sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="diagnostics.probe"):
        send(sandbox.url("healthy?token=s3cr3t"))
    assert any("/healthy -> 200" in r.getMessage() for r in caplog.records)
    assert not any("s3cr3t" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("headers", "message"),
    [({"Bad Name": "x"}, "not a valid HTTP header name"), ({"X-A": "a\r\nInjected: 1"}, "line break"),
     ({"X-A": "café ☕"}, "cannot carry")],
)
def test_invalid_headers_are_input_errors(sandbox: SandboxHandle, headers: dict[str, str], message: str) -> None:
    from diagnostics.errors import InputError

    async def run() -> None:
        async with ProbeClient(AddressPolicy.build(allow=["127.0.0.1"])) as client:
            await client.send(ProbeRequest(sandbox.url("echo"), b"{}", headers), deadline_s=1.0)

    before = sandbox.stats.connections
    with pytest.raises(InputError, match=message):
        asyncio.run(run())
    assert sandbox.stats.connections == before
