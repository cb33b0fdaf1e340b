"""TLS facts and TLS error diagnosis.

After a verified handshake we read the version, cipher and certificate; when verification
fails the handshake aborts and shows nothing, so `presented_certificate` makes a second,
unverified handshake to the same already-checked IP with the same SNI (never a new DNS lookup)
just to show the agent which certificate the server presents. Nothing is sent after it.
`diagnose_tls_error` turns the OpenSSL error buried in httpx's exception chain into a kind the
checks can judge (see shared/reference/probing.md section 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate says, as shown to people."""

    subject: str
    issuer: str
    san: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    self_signed: bool
    signature_hash: str | None
    serial: str

    def days_left(self, now: datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400.0


@dataclass(frozen=True)
class TlsSession:
    """A TLS connection as negotiated: version, cipher, the leaf and the chain the server sent."""

    version: str | None
    cipher: str | None
    certificate: CertificateFacts | None
    chain_sent: tuple[CertificateFacts, ...] = ()


@dataclass(frozen=True)
class TlsDiagnosis:
    """Why a handshake failed.

    kind: expired, not_yet_valid, hostname_mismatch, self_signed, untrusted_root,
    incomplete_chain, weak_certificate, not_tls, old_protocol, no_common_cipher, unknown_sni,
    client_cert_required, closed_during_handshake, other.
    """

    kind: str
    message: str
    verify_code: int | None = None
    reason: str | None = None
    presented: TlsSession | None = field(default=None)


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common:
        return str(common[0].value)
    return name.rfc4514_string() or "(empty)"


def certificate_facts(der: bytes) -> CertificateFacts:
    """Parse a DER certificate into the facts a report shows."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san_ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        san = tuple(
            [str(n) for n in san_ext.get_values_for_type(x509.DNSName)]
            + [str(n) for n in san_ext.get_values_for_type(x509.IPAddress)]
        )
    except x509.ExtensionNotFound:
        san = ()
    hash_algorithm = cert.signature_hash_algorithm
    return CertificateFacts(
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        san=san,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        self_signed=cert.issuer == cert.subject,
        signature_hash=hash_algorithm.name if hash_algorithm else None,
        serial=format(cert.serial_number, "x"),
    )


def _chain_sent(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> tuple[CertificateFacts, ...]:
    """The chain the server sent (public in Python 3.13; a private method on 3.10-3.12)."""
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        inner = getattr(ssl_object, "_sslobj", None)
        getter = getattr(inner, "get_unverified_chain", None)
    if getter is None:
        return ()
    try:
        chain = getter() or []
    except (ssl.SSLError, ValueError):
        return ()
    ders = [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
    return tuple(certificate_facts(der) for der in ders)


def session_facts(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> TlsSession | None:
    """Version, cipher, leaf and sent chain of an established TLS connection."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    return TlsSession(
        version=ssl_object.version(),
        cipher=cipher[0] if cipher else None,
        certificate=certificate_facts(der) if der else None,
        chain_sent=_chain_sent(ssl_object),
    )


async def presented_certificate(
    address: str, port: int, server_hostname: str, timeout: float = 5.0
) -> TlsSession | None:
    """Handshake without verification to an already-checked IP, to show what the server presents.

    The caller passes the address the guard pinned; no name is resolved here.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("ALL:@SECLEVEL=0")
    writer = None
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(
                address, port, ssl=context, server_hostname=server_hostname
            )
            return session_facts(writer.get_extra_info("ssl_object"))
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    finally:
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            except (OSError, TimeoutError, ssl.SSLError):
                pass


def find_ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """Walk __cause__/__context__ for the real SSL error (skipping SSLWantRead noise)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and not isinstance(current, ssl.SSLWantReadError | ssl.SSLWantWriteError):
            return current
        # httpcore wraps the cause as an argument (`ConnectError(exc)`), not always as __cause__.
        linked = [current.__cause__, current.__context__, *current.args]
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return None


_VERIFY_CODES: dict[int, tuple[str, str]] = {
    10: ("expired", "the certificate has expired"),
    9: ("not_yet_valid", "the certificate is not valid yet (server clock or notBefore)"),
    18: ("self_signed", "the certificate is self-signed"),
    19: ("untrusted_root", "the chain ends in a self-signed root that is not publicly trusted (private CA)"),
    20: ("incomplete_chain", "the issuer cannot be found: the intermediate is missing or the CA is not trusted"),
    21: ("incomplete_chain", "the certificate chain is incomplete"),
    2: ("incomplete_chain", "the issuer certificate cannot be found"),
    62: ("hostname_mismatch", "the certificate does not cover this hostname"),
    64: ("hostname_mismatch", "the certificate does not cover this IP address"),
    24: ("weak_certificate", "an invalid CA certificate is in the chain"),
    26: ("weak_certificate", "the certificate is not meant for server authentication"),
    66: ("weak_certificate", "the certificate key is too small"),
    67: ("weak_certificate", "the certificate key is too small"),
    68: ("weak_certificate", "the certificate uses a weak signature (SHA-1 or MD5)"),
}

_REASONS: tuple[tuple[str, str, str], ...] = (
    ("WRONG_VERSION_NUMBER", "not_tls", "the port does not speak TLS (plain HTTP on an https:// URL?)"),
    ("RECORD_LAYER_FAILURE", "not_tls", "the port does not speak TLS"),
    ("PACKET_LENGTH_TOO_LONG", "not_tls", "the port does not speak TLS"),
    ("TLSV1_ALERT_PROTOCOL_VERSION", "old_protocol", "the server only offers old TLS versions (1.0/1.1)"),
    ("UNSUPPORTED_PROTOCOL", "old_protocol", "the server only offers old TLS versions (1.0/1.1)"),
    ("NO_PROTOCOLS_AVAILABLE", "old_protocol", "no common TLS version"),
    ("SSLV3_ALERT_HANDSHAKE_FAILURE", "no_common_cipher", "no common TLS version or cipher"),
    ("NO_CIPHERS_AVAILABLE", "no_common_cipher", "no common cipher"),
    ("TLSV1_UNRECOGNIZED_NAME", "unknown_sni", "the server has no certificate for this hostname (SNI)"),
    ("TLSV1_ALERT_INTERNAL_ERROR", "unknown_sni", "the server failed the handshake for this hostname (SNI)"),
    ("CERTIFICATE_REQUIRED", "client_cert_required", "the endpoint requires mutual TLS (a client certificate)"),
    ("UNEXPECTED_EOF", "closed_during_handshake", "the connection was closed during the TLS handshake"),
)


def diagnose_tls_error(exc: BaseException) -> TlsDiagnosis | None:
    """The TLS cause of a failed connection, or None when the failure was not a TLS one."""
    error = find_ssl_error(exc)
    if error is None:
        return None
    reason = getattr(error, "reason", None)
    if isinstance(error, ssl.SSLCertVerificationError):
        code = error.verify_code
        kind, message = _VERIFY_CODES.get(code, ("other", error.verify_message or "certificate verification failed"))
        return TlsDiagnosis(kind=kind, message=message, verify_code=code, reason=reason)
    text = f"{reason or ''} {error}"
    for marker, kind, message in _REASONS:
        if marker in text:
            return TlsDiagnosis(kind=kind, message=message, reason=reason)
    if isinstance(error, ssl.SSLEOFError):
        return TlsDiagnosis(
            kind="closed_during_handshake", message="the connection was closed during the TLS handshake"
        )
    return TlsDiagnosis(kind="other", message=str(error)[:300], reason=reason)


def describe_session(session: TlsSession | None) -> dict[str, Any]:
    """Plain facts about a TLS session for evidence and metrics."""
    if session is None:
        return {}
    facts: dict[str, Any] = {"tls_version": session.version, "cipher": session.cipher}
    cert = session.certificate
    if cert is not None:
        facts.update(
            subject=cert.subject,
            issuer=cert.issuer,
            san=list(cert.san),
            not_after=cert.not_after.isoformat(),
            self_signed=cert.self_signed,
        )
    if session.chain_sent:
        facts["chain_sent"] = [c.subject for c in session.chain_sent]
    return facts
