"""probe_endpoint / probe_many / send_event: every finding produced by a real misbehaving server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, Status
from diagnostics.pipeline.probe import probe_endpoint, probe_many, send_event, sweep_outcome
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle, start_sandbox
from tests.net.loopback import TEST_PROFILE, clean_config

LOOPBACK = ["127.0.0.1"]


@pytest.fixture(scope="module")
def config() -> Config:
    return clean_config()


@pytest.fixture(scope="module")
def sandbox(config: Config) -> Iterator[SandboxHandle]:
    with start_sandbox(tls=True, hmac_options=config.get("signature", "hmac")) as handle:
        yield handle


def probe(url: str, config: Config, sandbox: SandboxHandle | None = None, **kwargs: object) -> Outcome:
    kwargs.setdefault("samples", 1)
    kwargs.setdefault("allow", LOOPBACK)
    context = sandbox.client_ssl_context() if sandbox else None
    return probe_endpoint(url, config=config, profile=TEST_PROFILE, ssl_context=context, **kwargs)  # type: ignore[arg-type]


def codes(outcome: Outcome) -> dict[str, Status]:
    return {f.code: f.status for f in outcome.findings}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (("http", "healthy"), {"endpoint-healthy": Status.PASS, "url-not-https": Status.WARN}),
        (("https", "healthy"), {"endpoint-healthy": Status.PASS}),
        (("http", "slow/600"), {"slow-response": Status.WARN}),
        (("http", "hang"), {"response-timeout": Status.FAIL}),
        (("http", "trickle"), {"response-timeout": Status.FAIL}),
        (("http", "reset"), {"connection-reset": Status.FAIL}),
        (("http", "garbage"), {"protocol-error": Status.FAIL}),
        (("http", "status/500"), {"http-error-status": Status.FAIL}),
        (("http", "redirect/301"), {"redirect-response": Status.FAIL}),
        (("expired", "healthy"), {"tls-certificate-expired": Status.FAIL}),
        (("expiring-soon", "healthy"), {"tls-certificate-expiring-soon": Status.WARN, "endpoint-healthy": Status.PASS}),
        (("wrong-host", "healthy"), {"tls-hostname-mismatch": Status.FAIL}),
        (("self-signed", "healthy"), {"tls-untrusted-certificate": Status.FAIL}),
        (("missing-intermediate", "healthy"), {"tls-untrusted-certificate": Status.FAIL}),
        (("http-as-https", "healthy"), {"tls-protocol-error": Status.FAIL}),
        (("old-tls", "healthy"), {"tls-protocol-error": Status.FAIL}),
    ],
)
def test_each_finding_from_a_real_server(
    sandbox: SandboxHandle, config: Config, where: tuple[str, str], expected: dict[str, Status]
) -> None:
    kind, path = where
    if kind == "http":
        url = sandbox.url(path)
    elif kind == "https":
        url = sandbox.url(path, tls=True)
    elif kind == "http-as-https":
        url = sandbox.url(path).replace("http://", "https://")
    else:
        url = sandbox.url(path, variant=kind)
    started = time.monotonic()
    found = codes(probe(url, config, sandbox))
    assert time.monotonic() - started < TEST_PROFILE.timeout_s + 1.5
    for code, status in expected.items():
        assert found.get(code) == status, found
    if any(s is Status.FAIL for s in expected.values()):
        assert "endpoint-healthy" not in found


def test_huge_body_is_capped_and_noted(sandbox: SandboxHandle, config: Config) -> None:
    started = time.monotonic()
    outcome = probe(sandbox.url("huge"), config, sandbox)
    assert time.monotonic() - started < TEST_PROFILE.timeout_s + 1.0
    healthy = next(f for f in outcome.findings if f.code == "endpoint-healthy")
    assert healthy.evidence_dict()["Response body"].startswith("larger than the 65,536 bytes")
    assert outcome.metrics["samples"][0]["body_bytes_read"] == 65536


def test_redirect_is_followed_for_diagnosis(sandbox: SandboxHandle, config: Config) -> None:
    outcome = probe(sandbox.url("redirect/302?to=/slow/10"), config, sandbox)
    finding = next(f for f in outcome.findings if f.code == "redirect-response")
    assert finding.evidence_dict()["URL to configure instead"] == sandbox.url("slow/10")


def test_url_invalid_sends_nothing(config: Config) -> None:
    outcome = probe("gopher://example.com/", config)
    assert codes(outcome) == {"url-invalid": Status.FAIL}


def test_dns_failure(config: Config) -> None:
    assert codes(probe("https://no-such-endpoint.invalid/hook", config)) == {"dns-failure": Status.FAIL}


def test_non_public_address_without_allowlist(sandbox: SandboxHandle, config: Config) -> None:
    outcome = probe(sandbox.url("healthy"), config, allow=[], samples=3)
    assert codes(outcome)["non-public-address"] is Status.FAIL
    assert len(outcome.metrics["samples"]) == 1  # refused once, not hammered


def test_connection_refused(config: Config) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    assert codes(probe(f"http://127.0.0.1:{port}/", config))["connection-refused"] is Status.FAIL


def test_connect_timeout(config: Config) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = [socket.socket() for _ in range(4)]
    try:
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
        time.sleep(0.1)
        outcome = probe(f"http://127.0.0.1:{server.getsockname()[1]}/", config)
    finally:
        for filler in fillers:
            filler.close()
        server.close()
    assert codes(outcome)["connect-timeout"] is Status.FAIL


def test_signature_enforced(sandbox: SandboxHandle, config: Config) -> None:
    outcome = probe(sandbox.url("verify/standard-webhooks"), config, sandbox, scheme="standard-webhooks",
                    secret=DEMO_SECRET)
    assert codes(outcome)["signature-enforced"] is Status.PASS
    variants = outcome.metrics["signature"]["variants"]
    assert {name: v["status"] for name, v in variants.items()} == {
        "signed": 200, "tampered": 401, "unsigned": 401, "stale": 401}
    assert DEMO_SECRET not in str(outcome.to_dict())


def test_signature_not_enforced(sandbox: SandboxHandle, config: Config) -> None:
    outcome = probe(sandbox.url("accept-all"), config, sandbox, scheme="stripe", secret=DEMO_SECRET)
    assert codes(outcome)["signature-not-enforced"] is Status.FAIL
    # Delivery itself works: the pass says so, the security failure stands beside it.
    assert codes(outcome)["endpoint-healthy"] is Status.PASS


def test_signature_rejected_with_the_wrong_secret(sandbox: SandboxHandle, config: Config) -> None:
    secret = "whsec_" + "B" * 32
    outcome = probe(sandbox.url("verify/stripe"), config, sandbox, scheme="stripe", secret=secret)
    assert codes(outcome)["signature-rejected"] is Status.FAIL
    assert secret not in str(outcome.to_dict())


def test_schemes_without_timestamps_skip_the_replay_test(sandbox: SandboxHandle, config: Config) -> None:
    outcome = probe(sandbox.url("verify/github"), config, sandbox, scheme="github", secret=DEMO_SECRET)
    finding = next(f for f in outcome.findings if f.code == "signature-enforced")
    assert any(label.startswith("Not tested") for label, _ in finding.evidence)


def test_metrics_carry_phase_timings_against_the_timeout(sandbox: SandboxHandle, config: Config) -> None:
    messages: list[str] = []
    outcome = probe(sandbox.url("slow/20", tls=True), config, sandbox, samples=3, progress=messages.append)
    assert outcome.metrics["timeout_ms"] == 1000.0
    phases = outcome.metrics["phases"]
    assert len(phases) == 3 and all(p["tls_ms"] is not None and p["ttfb_ms"] >= 15 for p in phases)
    assert len(messages) == 3 and messages[0].startswith("sample 1 of 3: 200")
    assert outcome.metrics["tls"]["tls_version"].startswith("TLSv1")
    assert len(outcome.tables["samples"]) == 3


def test_bad_arguments_are_input_errors(config: Config) -> None:
    with pytest.raises(InputError, match="samples"):
        probe("https://example.com/", config, samples=0)
    with pytest.raises(InputError, match="secret"):
        probe("https://example.com/", config, secret="  ")


def test_probe_many_keeps_order_and_runs_concurrently(sandbox: SandboxHandle, config: Config) -> None:
    urls = [sandbox.url(f"slow/200?n={i}") for i in range(20)] + [sandbox.url("status/503"), "nope://x"]
    done: list[int] = []
    started = time.monotonic()
    rows = probe_many(urls, config=config, profile=TEST_PROFILE, concurrency=25, allow=LOOPBACK,
                      progress=lambda n, total: done.append(n))
    elapsed = time.monotonic() - started
    assert elapsed < 1.5  # 20 x 200 ms in parallel, not 4 s in a row
    assert [r.url for r in rows] == urls
    assert {r.verdict for r in rows[:20]} == {"warning"}  # plain http only
    assert rows[20].verdict == "failing" and "http-error-status" in rows[20].codes
    assert rows[21].codes == ("url-invalid",)
    assert sorted(done) == list(range(1, 23))
    outcome = sweep_outcome(rows, TEST_PROFILE)
    assert outcome.metrics["verdicts"] == {"warning": 20, "failing": 2}
    assert len(outcome.tables["endpoints"]) == 22


def test_send_event_goes_through_the_guard(sandbox: SandboxHandle, config: Config) -> None:
    sent = send_event(sandbox.url("echo"), b'{"id": "evt_9"}', {"X-Redelivery": "1"}, config=config, allow=LOOPBACK)
    assert sent.ok and sent.status_code == 200 and '"X-Redelivery": "1"' in sent.body_snippet
    assert sent.timings["total_ms"] is not None
    refused = send_event(sandbox.url("echo"), b"{}", {}, config=config)
    assert not refused.ok and refused.error == "blocked" and "loopback" in refused.error_detail
    timed_out = send_event(sandbox.url("hang"), b"{}", {}, config=config, allow=LOOPBACK, timeout_s=0.5)
    assert timed_out.error == "timeout" and timed_out.duration_ms < 1500
    assert send_event("file:///etc/passwd", b"", {}, config=config).error == "invalid_url"


def test_sync_entry_points_work_inside_a_running_loop(sandbox: SandboxHandle, config: Config) -> None:
    """Callers that already run an event loop (some UI frameworks) can still use the sync API."""
    import asyncio

    async def inside_a_loop() -> Outcome:
        return probe(sandbox.url("healthy"), config, sandbox)

    assert "endpoint-healthy" in codes(asyncio.run(inside_a_loop()))


def test_bad_network_settings_are_input_errors() -> None:
    from diagnostics.config import load_config

    broken = load_config(env={})
    broken.override("network", "max_body_bytes", 0)
    with pytest.raises(InputError, match="max_body_bytes"):
        probe_endpoint("https://example.com/", config=broken, profile=TEST_PROFILE)
    broken.override("network", "max_body_bytes", "lots")
    with pytest.raises(InputError, match=r"invalid \[network\] value"):
        probe_endpoint("https://example.com/", config=broken, profile=TEST_PROFILE)
