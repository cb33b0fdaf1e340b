"""Issue 14: `make run` allowlists only the sandbox's ports: an `address:port` entry admits that port only."""

from __future__ import annotations

import asyncio

import pytest

from diagnostics.config import load_config
from diagnostics.demo import _allow_sandbox
from diagnostics.errors import InputError
from diagnostics.net.guard import AddressPolicy, BlockedDestination, GuardedBackend, ProbeLimiter
from diagnostics.sandbox import start_sandbox
from tests.net.test_guard_limits import connect, counting_listener, settled_count


def test_an_address_port_entry_admits_that_port_and_no_other() -> None:
    with counting_listener() as allowed, counting_listener() as other:
        policy = AddressPolicy.build(allow=[f"127.0.0.1:{allowed.port}"])
        backend = GuardedBackend(policy, limiter=ProbeLimiter())
        assert connect(backend, "127.0.0.1", allowed.port) == [None]
        with pytest.raises(BlockedDestination) as info:
            asyncio.run(backend.connect_tcp("127.0.0.1", other.port, timeout=1.0))
        assert settled_count(allowed, 1) == 1 and settled_count(other, 0) == 0
    assert "loopback" in info.value.reason
    assert policy.check_address("127.0.0.1") is not None  # without a port nothing is admitted
    assert policy.is_allowlisted("127.0.0.1", ["127.0.0.1"], allowed.port)
    assert not policy.is_allowlisted("127.0.0.1", ["127.0.0.1"], other.port)


def test_ipv6_endpoint_entries_and_bad_ports() -> None:
    policy = AddressPolicy.build(allow=["[::1]:8600"])
    assert policy.check_address("::1", port=8600) is None and policy.check_address("::1", port=8601) is not None
    with pytest.raises(InputError, match="not a TCP port"):
        AddressPolicy.build(allow=["127.0.0.1:70000"])


def test_the_demo_allowlists_only_the_sandbox_ports() -> None:
    """The issue's case: `make run` allowlisted all of 127.0.0.1 for the app."""
    config = load_config(env={})
    with start_sandbox(tls=True) as sandbox, counting_listener() as elsewhere:
        allow = _allow_sandbox(config, sandbox)
        assert "127.0.0.1" not in allow and all(entry.startswith("127.0.0.1:") for entry in allow)
        policy = AddressPolicy.build(allow=allow)
        backend = GuardedBackend(policy, limiter=ProbeLimiter())
        port = int(sandbox.http_url.rsplit(":", 1)[1].strip("/"))
        assert connect(backend, "127.0.0.1", port) == [None]
        assert connect(backend, "127.0.0.1", elsewhere.port) == ["address"]
        assert settled_count(elsewhere, 0) == 0
