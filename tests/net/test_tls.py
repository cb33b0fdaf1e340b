"""TLS facts and diagnosis against real HTTPS servers with certificates from a test CA."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import trustme

from diagnostics.net.guard import AddressPolicy
from diagnostics.net.probe import Exchange, ProbeClient, ProbeRequest
from diagnostics.net.tls import certificate_facts, diagnose_tls_error
from diagnostics.sandbox import SandboxHandle, start_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(tls=True) as handle:
        yield handle


def send(url: str, context: ssl.SSLContext | None, resolver=None, allow: tuple[str, ...] = ("127.0.0.1",)) -> Exchange:  # type: ignore[no-untyped-def]
    async def run() -> Exchange:
        async with ProbeClient(AddressPolicy.build(allow=allow), ssl_context=context, resolver=resolver) as client:
            return await client.send(ProbeRequest(url, b"{}"), deadline_s=2.0)

    return asyncio.run(run())


def test_good_certificate_gives_session_facts(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("healthy", tls=True), sandbox.client_ssl_context())
    assert seen.status_code == 200 and seen.tls is not None
    assert seen.tls.version in {"TLSv1.2", "TLSv1.3"} and seen.tls_ms is not None
    assert seen.tls.certificate is not None and "127.0.0.1" in seen.tls.certificate.san


@pytest.mark.parametrize(
    ("variant", "kind", "code"),
    [
        ("expired", "expired", 10),
        ("wrong-host", "hostname_mismatch", 64),
        ("self-signed", "self_signed", 18),
        ("missing-intermediate", "incomplete_chain", 20),
    ],
)
def test_broken_certificates_are_diagnosed(sandbox: SandboxHandle, variant: str, kind: str, code: int) -> None:
    seen = send(sandbox.url("healthy", variant=variant), sandbox.client_ssl_context())
    assert seen.error == "tls" and seen.tls_error is not None
    assert (seen.tls_error.kind, seen.tls_error.verify_code) == (kind, code)
    presented = seen.tls_error.presented
    assert presented is not None and presented.certificate is not None  # the diagnostic re-handshake
    if variant == "wrong-host":
        assert presented.certificate.san == ("wrong-host.example",)
    if variant == "missing-intermediate":
        assert len(presented.chain_sent) == 1


def test_old_tls_only_server_is_named(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("healthy", variant="old-tls"), sandbox.client_ssl_context())
    assert seen.error == "tls" and seen.tls_error is not None
    assert seen.tls_error.kind == "old_protocol" and "TLSv1" in seen.tls_error.message


def test_plain_http_port_on_https_url(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("healthy").replace("http://", "https://"), sandbox.client_ssl_context())
    assert seen.error == "tls" and seen.tls_error is not None and seen.tls_error.kind == "not_tls"


def test_untrusted_ca_without_the_test_ca(sandbox: SandboxHandle) -> None:
    seen = send(sandbox.url("healthy", tls=True), None)
    assert seen.error == "tls" and seen.tls_error is not None and seen.tls_error.kind == "incomplete_chain"


def test_sni_and_hostname_check_use_the_url_name_on_a_pinned_ip() -> None:
    """The socket goes to 127.0.0.1, but SNI and certificate checks use webhook.test."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("webhook.test").configure_cert(server_context)
    seen_sni: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: seen_sni.append(name)  # type: ignore[assignment,misc]
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def scenario() -> tuple[Exchange, Exchange]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        policy = AddressPolicy.build(allow=["webhook.test", "other.test"])
        async with server, ProbeClient(policy, ssl_context=client_context, resolver=resolver) as client:
            good = await client.send(ProbeRequest(f"https://webhook.test:{port}/", b"{}"), deadline_s=2)
            wrong = await client.send(ProbeRequest(f"https://other.test:{port}/", b"{}"), deadline_s=2)
        return good, wrong

    good, wrong = asyncio.run(scenario())
    assert good.status_code == 200 and good.connected_address == "127.0.0.1"
    assert wrong.error == "tls" and wrong.tls_error is not None and wrong.tls_error.kind == "hostname_mismatch"
    assert seen_sni[:2] == ["webhook.test", "other.test"]


def test_certificate_facts_parse_lifetime_and_names() -> None:
    ca = trustme.CA()
    not_after = datetime(2031, 1, 2, tzinfo=UTC)
    leaf = ca.issue_cert("a.example", "b.example", not_after=not_after)
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    facts = certificate_facts(der)
    assert facts.san == ("a.example", "b.example")
    assert facts.not_after == not_after and not facts.self_signed
    assert facts.days_left(datetime(2031, 1, 1, tzinfo=UTC)) == pytest.approx(1.0)


def test_diagnosis_walks_the_cause_chain() -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_code = 10
    verify.verify_message = "certificate has expired"
    wrapper = ConnectionError("wrapped")
    wrapper.__cause__ = verify
    outer = RuntimeError("outer")
    outer.__context__ = wrapper
    diagnosis = diagnose_tls_error(outer)
    assert diagnosis is not None and diagnosis.kind == "expired" and diagnosis.verify_code == 10
    assert diagnose_tls_error(RuntimeError("no tls here")) is None
    wrong_version = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    found = diagnose_tls_error(wrong_version)
    assert found is not None and found.kind == "not_tls"
