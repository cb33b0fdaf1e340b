"""The Finding model: validation, ordering, serialization round trip, secret fingerprints."""

from __future__ import annotations

import json

import pytest

from diagnostics.findings import (
    MAX_SAMPLES,
    Finding,
    Outcome,
    Severity,
    Status,
    fingerprint_secret,
    sort_findings,
)


def make(code: str = "redirect-response", status: Status = Status.FAIL, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(code=code, status=status, severity=severity, title="T", summary="S", subject="https://x")


def test_code_must_be_kebab_case() -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        Finding(code="Not_Kebab", status=Status.FAIL, severity=Severity.LOW, title="t", summary="s")


def test_samples_are_capped_and_total_kept() -> None:
    rows = [{"event_id": f"evt_{i}"} for i in range(57)]
    finding = Finding(code="x", status="fail", severity="low", title="t", summary="s", samples=rows, sample_total=57)
    assert len(finding.samples) == MAX_SAMPLES
    assert finding.sample_total == 57
    assert finding.status is Status.FAIL and finding.severity is Severity.LOW


def test_evidence_accepts_mapping_and_keeps_order() -> None:
    finding = Finding(
        code="x", status="warn", severity="info", title="t", summary="s", evidence={"b": 1, "a": [1, 2]}
    )
    assert finding.evidence == (("b", 1), ("a", "1, 2"))


def test_sort_puts_failures_and_severity_first() -> None:
    ordered = sort_findings(
        [
            make("a", Status.PASS, Severity.INFO),
            make("b", Status.WARN, Severity.LOW),
            make("c", Status.FAIL, Severity.MEDIUM),
            make("d", Status.FAIL, Severity.CRITICAL),
            make("e", Status.ERROR, Severity.HIGH),
        ]
    )
    assert [f.code for f in ordered] == ["d", "c", "e", "b", "a"]


def test_round_trip_through_json() -> None:
    original = Finding(
        code="outage-window",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="Endpoint was down",
        summary="42 attempts failed",
        subject="ep_1",
        evidence=(("start", "2026-01-01T00:00:00Z"), ("attempts", 42)),
        samples=({"event_id": "evt_1", "status_code": None},),
        source="analyzers.failures",
    )
    data = json.loads(json.dumps(original.to_dict()))
    assert Finding.from_dict(data) == original


def test_outcome_json_shape_and_exit_code() -> None:
    outcome = Outcome(subject="s", findings=[make(status=Status.WARN), make("b", Status.PASS)])
    assert set(outcome.to_dict()) == {"subject", "findings", "metrics"}
    assert outcome.exit_code == 0
    outcome.findings.append(make("c", Status.FAIL))
    assert outcome.exit_code == 1


def test_fingerprint_never_contains_the_secret() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    fp = fingerprint_secret(secret)
    assert secret not in fp and secret[6:] not in fp
    assert fp.startswith("whse") and "sha256" in fp
    assert fingerprint_secret(secret) == fp
    assert fingerprint_secret("short") != fingerprint_secret("shorT")
