"""The sandbox receiver: each scenario misbehaves exactly as documented."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from diagnostics.config import load_config
from diagnostics.net.guard import AddressPolicy
from diagnostics.net.probe import Exchange, ProbeClient, ProbeRequest
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle, start_sandbox
from diagnostics.signatures import sign_headers

HMAC_OPTIONS = load_config(env={}).get("signature", "hmac")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(tls=True, hmac_options=HMAC_OPTIONS) as handle:
        yield handle


def send(sandbox: SandboxHandle, url: str, body: bytes = b"{}", headers: dict[str, str] | None = None) -> Exchange:
    async def run() -> Exchange:
        policy = AddressPolicy.build(allow=["127.0.0.1"])
        async with ProbeClient(policy, ssl_context=sandbox.client_ssl_context()) as client:
            return await client.send(ProbeRequest(url, body, headers or {}), deadline_s=1.0, diagnose_tls=False)

    return asyncio.run(run())


def test_healthy_status_and_slow(sandbox: SandboxHandle) -> None:
    assert send(sandbox, sandbox.url("healthy")).status_code == 200
    assert send(sandbox, sandbox.url("status/418")).status_code == 418
    slow = send(sandbox, sandbox.url("slow/150"))
    assert slow.status_code == 200 and slow.ttfb_ms is not None and slow.ttfb_ms >= 145


def test_redirect_points_where_asked(sandbox: SandboxHandle) -> None:
    seen = send(sandbox, sandbox.url("redirect/308?to=/elsewhere"))
    assert seen.status_code == 308 and seen.header("location") == "/elsewhere"


def test_flaky_fails_one_in_n(sandbox: SandboxHandle) -> None:
    statuses = [send(sandbox, sandbox.url("flaky/3")).status_code for _ in range(6)]
    assert statuses == [200, 200, 503, 200, 200, 503]


def test_unknown_scenario_lists_the_known_ones(sandbox: SandboxHandle) -> None:
    seen = send(sandbox, sandbox.url("nope"))
    assert seen.status_code == 404 and "healthy" in json.loads(seen.body_snippet)["scenarios"]


def test_echo_reports_the_request(sandbox: SandboxHandle) -> None:
    seen = send(sandbox, sandbox.url("echo?x=1"), b'{"a": 1}', {"X-Test": "yes"})
    echoed = json.loads(seen.body_snippet)
    assert echoed["method"] == "POST" and echoed["target"] == "/echo?x=1"
    assert echoed["headers"]["X-Test"] == "yes" and echoed["body_bytes"] == 8


@pytest.mark.parametrize("scheme", ["standard-webhooks", "stripe", "github", "shopify", "slack", "hmac"])
def test_verify_accepts_good_and_rejects_bad_signatures(sandbox: SandboxHandle, scheme: str) -> None:
    body = b'{"id": "evt_1", "type": "invoice.paid"}'
    url = sandbox.url(f"verify/{scheme}")
    options = HMAC_OPTIONS if scheme == "hmac" else None
    headers = sign_headers(scheme, DEMO_SECRET, body, msg_id="msg_1", timestamp=int(time.time()), url=url,
                           options=options)
    good = send(sandbox, url, body, headers)
    assert good.status_code == 200, good.body_snippet
    tampered = send(sandbox, url, body.replace(b"paid", b"void"), headers)
    assert tampered.status_code == 401 and not json.loads(tampered.body_snippet)["verified"]
    wrong = sign_headers(scheme, "whsec_" + "A" * 32, body, msg_id="msg_1", timestamp=int(time.time()), url=url,
                         options=options)
    assert send(sandbox, url, body, wrong).status_code == 401
    assert send(sandbox, url, body, {}).status_code == 401


def test_verify_refuses_stale_timestamps(sandbox: SandboxHandle) -> None:
    body = b'{"id": "evt_2"}'
    url = sandbox.url("verify/stripe")
    stale = sign_headers("stripe", DEMO_SECRET, body, timestamp=int(time.time()) - 3600)
    seen = send(sandbox, url, body, stale)
    assert seen.status_code == 401 and "old" in json.loads(seen.body_snippet)["reason"]


def test_accept_all_accepts_anything(sandbox: SandboxHandle) -> None:
    assert send(sandbox, sandbox.url("accept-all"), b"not json", {"Stripe-Signature": "t=1,v1=bad"}).status_code == 200


def test_tls_variants_listen_separately(sandbox: SandboxHandle) -> None:
    assert set(sandbox.tls_variants) == {"expired", "expiring-soon", "wrong-host", "self-signed",
                                         "missing-intermediate", "old-tls"}
    good = send(sandbox, sandbox.url("healthy", tls=True))
    assert good.status_code == 200
    soon = send(sandbox, sandbox.url("healthy", variant="expiring-soon"))
    assert soon.tls is not None and soon.tls.certificate is not None
    assert 4 <= soon.tls.certificate.days_left(soon.started_at) <= 5.01
    assert send(sandbox, sandbox.url("healthy", variant="expired")).error == "tls"


def test_counts_connections_and_requests(sandbox: SandboxHandle) -> None:
    before = sandbox.stats.connections
    send(sandbox, sandbox.url("healthy?count=1"))
    assert sandbox.stats.connections == before + 1
    assert ("POST", "/healthy?count=1") in sandbox.stats.requests


def test_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        start_sandbox(host="0.0.0.0")


def test_url_without_tls_is_an_error() -> None:
    with start_sandbox() as plain:
        assert plain.https_url is None and plain.client_ssl_context() is None
        with pytest.raises(ValueError, match="without TLS"):
            plain.url("healthy", tls=True)


def test_port_in_use_raises_and_leaves_no_thread(sandbox: SandboxHandle) -> None:
    import threading

    before = {t for t in threading.enumerate() if t.name == "sandbox"}
    port = int(sandbox.http_url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        start_sandbox(port=port)
    assert {t for t in threading.enumerate() if t.name == "sandbox"} == before
