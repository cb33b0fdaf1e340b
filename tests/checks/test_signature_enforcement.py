from __future__ import annotations

from diagnostics.checks.signature_enforcement import check_signature_enforcement
from diagnostics.findings import Severity, Status
from tests.checks.factories import exchange, failed, observations


def run(signed: int | None, **forged: int) -> list:  # type: ignore[type-arg]
    variants = {"signed": exchange(status_code=signed) if signed else failed("timeout", timeout_phase="response")}
    variants.update({name: exchange(name, status_code=status) for name, status in forged.items()})
    return check_signature_enforcement(
        observations(variants["signed"], enforcement=variants, scheme="stripe", secret_fingerprint="whse… (sha256 x)")
    )


def test_enforced() -> None:
    finding = run(200, tampered=401, unsigned=401, stale=401)[0]
    assert (finding.code, finding.status) == ("signature-enforced", Status.PASS)


def test_unsigned_accepted_is_high_severity() -> None:
    finding = run(200, tampered=401, unsigned=200, stale=401)[0]
    assert (finding.code, finding.status, finding.severity) == ("signature-not-enforced", Status.FAIL, Severity.HIGH)
    assert "no signature at all" in finding.summary


def test_only_stale_accepted_is_a_replay_problem() -> None:
    finding = run(200, tampered=401, unsigned=401, stale=200)[0]
    assert finding.code == "signature-not-enforced" and finding.severity is Severity.MEDIUM
    assert "replayed" in finding.summary


def test_correct_signature_rejected() -> None:
    finding = run(401, tampered=401, unsigned=401)[0]
    assert finding.code == "signature-rejected" and "signature debugger" in finding.summary


def test_no_answer_is_an_error_not_a_failure() -> None:
    finding = run(None, tampered=401)[0]
    assert finding.status is Status.ERROR


def test_secret_is_shown_as_fingerprint_only() -> None:
    finding = run(200, tampered=401)[0]
    assert finding.evidence_dict()["Secret"] == "whse… (sha256 x)"


def test_without_enforcement_data_nothing() -> None:
    assert check_signature_enforcement(observations(exchange())) == []
