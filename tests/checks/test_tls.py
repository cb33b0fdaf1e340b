from __future__ import annotations

import pytest

from diagnostics.checks.tls import EXPIRY_WARNING_DAYS, check_tls
from diagnostics.findings import Status
from tests.checks.factories import certificate, exchange, failed, observations, session, tls_failure


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("expired", "tls-certificate-expired"),
        ("not_yet_valid", "tls-certificate-expired"),
        ("hostname_mismatch", "tls-hostname-mismatch"),
        ("self_signed", "tls-untrusted-certificate"),
        ("untrusted_root", "tls-untrusted-certificate"),
        ("incomplete_chain", "tls-untrusted-certificate"),
        ("not_tls", "tls-protocol-error"),
        ("old_protocol", "tls-protocol-error"),
    ],
)
def test_failure_kinds_map_to_codes(kind: str, code: str) -> None:
    findings = check_tls(observations(tls_failure(kind, None, certificate(-3))))
    assert [f.code for f in findings] == [code] and findings[0].status is Status.FAIL


def test_hostname_mismatch_lists_the_san() -> None:
    finding = check_tls(observations(tls_failure("hostname_mismatch", 62, certificate(40, san=("other.example",)))))[0]
    assert "other.example" in finding.summary
    assert finding.evidence_dict()["Names on the certificate (SAN)"] == "other.example"


def test_missing_intermediate_is_named() -> None:
    finding = check_tls(observations(tls_failure("incomplete_chain", 20, certificate(40), chain=1)))[0]
    assert "intermediate" in finding.evidence_dict()["Which problem"]


def test_expired_shows_days_left() -> None:
    finding = check_tls(observations(tls_failure("expired", 10, certificate(-3))))[0]
    assert finding.evidence_dict()["Days left"] == -3.0


@pytest.mark.parametrize(("days", "warns"), [(EXPIRY_WARNING_DAYS - 1, True), (EXPIRY_WARNING_DAYS + 1, False)])
def test_expiring_soon_threshold(days: float, warns: bool) -> None:
    findings = check_tls(observations(exchange(tls=session(days))))
    assert [f.code for f in findings] == (["tls-certificate-expiring-soon"] if warns else [])
    if warns:
        assert findings[0].status is Status.WARN


def test_stalled_handshake_is_a_protocol_error() -> None:
    sample = failed("timeout", timeout_phase="tls", deadline_s=2.0)
    assert [f.code for f in check_tls(observations(sample))] == ["tls-protocol-error"]
