"""Hand-built observations for the pure checks: no network, exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics.checks.observations import ProbeObservations
from diagnostics.net.probe import Exchange
from diagnostics.net.tls import CertificateFacts, TlsDiagnosis, TlsSession

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
URL = "https://hooks.example.com/in"


def exchange(label: str = "sample 1", **fields: Any) -> Exchange:
    base: dict[str, Any] = {
        "url": URL,
        "label": label,
        "deadline_s": 15.0,
        "host": "hooks.example.com",
        "port": 443,
        "addresses": ["93.184.216.34"],
        "connected_address": "93.184.216.34",
        "dns_ms": 3.0,
        "connect_ms": 20.0,
        "tls_ms": 30.0,
        "ttfb_ms": 100.0,
        "total_ms": 160.0,
        "status_code": 200,
    }
    base.update(fields)
    return Exchange(**base)


def failed(error: str, label: str = "sample 1", **fields: Any) -> Exchange:
    defaults: dict[str, Any] = {"status_code": None, "ttfb_ms": None, "error": error}
    defaults.update(fields)
    return exchange(label, **defaults)


def observations(*samples: Exchange, **fields: Any) -> ProbeObservations:
    return ProbeObservations(url=URL, samples=list(samples), now=NOW, **fields)


def certificate(days_left: float, san: tuple[str, ...] = ("hooks.example.com",), **fields: Any) -> CertificateFacts:
    values: dict[str, Any] = {
        "subject": "hooks.example.com",
        "issuer": "R11",
        "san": san,
        "not_before": NOW - timedelta(days=60),
        "not_after": NOW + timedelta(days=days_left),
        "self_signed": False,
        "signature_hash": "sha256",
        "serial": "abc",
    }
    values.update(fields)
    return CertificateFacts(**values)


def session(days_left: float) -> TlsSession:
    return TlsSession(version="TLSv1.3", cipher="TLS_AES_128_GCM_SHA256", certificate=certificate(days_left))


def tls_failure(kind: str, code: int | None, cert: CertificateFacts | None, chain: int = 1) -> Exchange:
    presented = TlsSession("TLSv1.3", "X", cert, tuple([cert] * chain) if cert else ()) if cert else None
    diagnosis = TlsDiagnosis(kind=kind, message=f"{kind} message", verify_code=code, presented=presented)
    return failed("tls", tls_error=diagnosis, tls_ms=5.0)
