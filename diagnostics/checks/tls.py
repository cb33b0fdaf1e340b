"""TLS: is the certificate valid, for this name, from a trusted CA, and soon to expire?"""

from __future__ import annotations

from typing import Any

from diagnostics.checks.observations import SOURCE, ProbeObservations, sample_row, share
from diagnostics.error_kinds import ErrorKind
from diagnostics.findings import Finding, Severity, Status
from diagnostics.net.probe import Exchange
from diagnostics.net.tls import CertificateFacts, TlsDiagnosis

EXPIRY_WARNING_DAYS = 14
UNTRUSTED_KINDS = {"self_signed", "untrusted_root", "incomplete_chain", "weak_certificate"}
PROTOCOL_KINDS = {
    "not_tls",
    "old_protocol",
    "no_common_cipher",
    "unknown_sni",
    "client_cert_required",
    "closed_during_handshake",
    "other",
}


def check_tls(observations: ProbeObservations) -> list[Finding]:
    findings: list[Finding] = []
    failed = [s for s in observations.samples if s.error == ErrorKind.TLS and s.tls_error is not None]
    by_kind: dict[str, list[Exchange]] = {}
    for sample in failed:
        assert sample.tls_error is not None
        by_kind.setdefault(sample.tls_error.kind, []).append(sample)
    for kind, samples in by_kind.items():
        findings.append(_failure_finding(observations, kind, samples))
    stalled = [s for s in observations.samples if s.error == ErrorKind.TIMEOUT and s.timeout_phase == "tls"]
    if stalled:
        findings.append(_stalled_handshake(observations, stalled))
    expiring = _expiring_soon(observations)
    if expiring is not None:
        findings.append(expiring)
    return findings


def _presented(diagnosis: TlsDiagnosis) -> CertificateFacts | None:
    return diagnosis.presented.certificate if diagnosis.presented else None


def _cert_evidence(cert: CertificateFacts | None, observations: ProbeObservations) -> list[tuple[str, Any]]:
    if cert is None:
        return [("Certificate presented", "could not be read")]
    return [
        ("Certificate subject", cert.subject),
        ("Issuer", cert.issuer),
        ("Names on the certificate (SAN)", list(cert.san) or "none"),
        ("Valid from", cert.not_before.isoformat()),
        ("Valid until", cert.not_after.isoformat()),
        ("Days left", round(cert.days_left(observations.now), 1)),
        ("Self-signed", cert.self_signed),
    ]


def _failure_finding(observations: ProbeObservations, kind: str, samples: list[Exchange]) -> Finding:
    first = samples[0]
    diagnosis = first.tls_error
    assert diagnosis is not None
    cert = _presented(diagnosis)
    how_many = share(len(samples), len(observations.samples))
    evidence: list[tuple[str, Any]] = [("Host", first.host), ("Diagnosis", diagnosis.message)]
    if diagnosis.verify_code is not None:
        evidence.append(("OpenSSL verify code", diagnosis.verify_code))
    if diagnosis.reason:
        evidence.append(("OpenSSL reason", diagnosis.reason))
    rows = [sample_row(s) for s in samples]
    common = {"subject": observations.url, "samples": rows, "source": SOURCE}
    if kind in ("expired", "not_yet_valid"):
        when = cert.not_after.date().isoformat() if cert else "an unknown date"
        title = "The endpoint's TLS certificate has expired" if kind == "expired" else (
            "The endpoint's TLS certificate is not valid yet"
        )
        summary = (
            f"The certificate for {first.host} expired on {when}; every HTTPS delivery fails ({how_many})."
            if kind == "expired"
            else f"The certificate for {first.host} is not valid yet (server clock or a future start date)."
        )
        return Finding(
            code="tls-certificate-expired",
            status=Status.FAIL,
            severity=Severity.CRITICAL,
            title=title,
            summary=summary,
            evidence=[*evidence, *_cert_evidence(cert, observations)],
            **common,
        )
    if kind == "hostname_mismatch":
        names = ", ".join(cert.san) if cert and cert.san else "no names"
        return Finding(
            code="tls-hostname-mismatch",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title=f"The TLS certificate does not cover {first.host}",
            summary=f"The server presents a certificate for {names}, not for {first.host} ({how_many}).",
            evidence=[*evidence, *_cert_evidence(cert, observations)],
            **common,
        )
    if kind in UNTRUSTED_KINDS:
        which = _untrusted_which(kind, diagnosis, cert)
        return Finding(
            code="tls-untrusted-certificate",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title="The endpoint's TLS certificate is not trusted",
            summary=f"{which} ({how_many}). Senders verify certificates against public CAs and refuse this one.",
            evidence=[*evidence, ("Which problem", which), *_cert_evidence(cert, observations), *_chain(diagnosis)],
            **common,
        )
    return Finding(
        code="tls-protocol-error",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The TLS handshake with the endpoint fails",
        summary=f"The TLS handshake failed for {how_many}: {diagnosis.message}.",
        evidence=evidence,
        **common,
    )


def _untrusted_which(kind: str, diagnosis: TlsDiagnosis, cert: CertificateFacts | None) -> str:
    if kind == "self_signed":
        return "The certificate is self-signed"
    if kind == "untrusted_root":
        return "The chain ends in a private root CA that is not publicly trusted"
    if kind == "weak_certificate":
        return f"The certificate is rejected as weak or misused: {diagnosis.message}"
    chain = diagnosis.presented.chain_sent if diagnosis.presented else ()
    issuer = cert.issuer if cert else "unknown"
    if len(chain) <= 1:
        return (
            f"The server sends only its own certificate; the intermediate certificate (issuer {issuer}) is "
            "missing from the chain, or the issuing CA is not publicly trusted"
        )
    return f"The chain the server sends ends at {chain[-1].issuer}, a CA that is not publicly trusted"


def _chain(diagnosis: TlsDiagnosis) -> list[tuple[str, Any]]:
    if diagnosis.presented is None or not diagnosis.presented.chain_sent:
        return []
    chain = [f"{c.subject} (issued by {c.issuer})" for c in diagnosis.presented.chain_sent]
    return [("Chain sent by the server", chain)]


def _stalled_handshake(observations: ProbeObservations, samples: list[Exchange]) -> Finding:
    first = samples[0]
    return Finding(
        code="tls-protocol-error",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The TLS handshake with the endpoint never completes",
        summary=(
            f"The TCP connection opened but the TLS handshake did not finish within {first.deadline_s:g} s "
            f"({share(len(samples), len(observations.samples))})."
        ),
        subject=observations.url,
        evidence=(("Host", first.host), ("Port", first.port), ("Window", f"{first.deadline_s:g} s")),
        samples=[sample_row(s) for s in samples],
        source=SOURCE,
    )


def _expiring_soon(observations: ProbeObservations) -> Finding | None:
    sessions = [s for s in observations.samples if s.tls is not None and s.tls.certificate is not None]
    if not sessions:
        return None
    first = sessions[0]
    assert first.tls is not None and first.tls.certificate is not None
    cert = first.tls.certificate
    days = cert.days_left(observations.now)
    if days >= EXPIRY_WARNING_DAYS:
        return None
    return Finding(
        code="tls-certificate-expiring-soon",
        status=Status.WARN,
        severity=Severity.MEDIUM,
        title=f"The endpoint's TLS certificate expires in {max(days, 0):.0f} days",
        summary=(
            f"The certificate for {first.host} is valid until {cert.not_after.date().isoformat()} "
            f"({days:.1f} days). After that every delivery fails until it is renewed."
        ),
        subject=observations.url,
        evidence=[("TLS version", first.tls.version), *_cert_evidence(cert, observations)],
        source=SOURCE,
    )
