from __future__ import annotations

import pytest

from diagnostics.checks.reachability import check_reachability
from diagnostics.findings import Status
from tests.checks.factories import exchange, failed, observations


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("dns", "dns-failure"),
        ("blocked", "non-public-address"),
        ("connection_refused", "connection-refused"),
        ("connect_timeout", "connect-timeout"),
        ("connection_reset", "connection-reset"),
        ("protocol", "protocol-error"),
    ],
)
def test_each_error_kind_has_its_code(error: str, code: str) -> None:
    findings = check_reachability(observations(failed(error, error_detail="detail")))
    assert [f.code for f in findings] == [code]
    assert findings[0].status is Status.FAIL and findings[0].sample_total == 1


def test_dns_failure_names_the_kind() -> None:
    sample = failed("dns", dns_failure="no_such_name", error_detail="Name or service not known")
    finding = check_reachability(observations(sample))[0]
    assert finding.evidence_dict()["Failure"] == "the name does not exist (NXDOMAIN)"


def test_blocked_names_the_address_and_why() -> None:
    sample = failed(
        "blocked",
        addresses=["93.184.216.34", "10.0.0.7"],
        blocked_address="10.0.0.7",
        blocked_reason="a private address (RFC 1918)",
        error_detail="DNS for hooks.example.com includes 10.0.0.7, a private address (RFC 1918)",
    )
    finding = check_reachability(observations(sample))[0]
    assert finding.summary.startswith("DNS for hooks.example.com includes 10.0.0.7, a private address")
    assert finding.evidence_dict()["Refused address"] == "10.0.0.7"


def test_intermittent_reset_counts_samples() -> None:
    obs = observations(exchange("sample 1"), failed("connection_reset", "sample 2"), exchange("sample 3"))
    finding = check_reachability(obs)[0]
    assert "1 of 3 samples" in finding.summary


def test_healthy_samples_give_nothing() -> None:
    assert check_reachability(observations(exchange(), exchange("sample 2"))) == []


def test_unclassified_error_is_could_not_check() -> None:
    finding = check_reachability(observations(failed("other", error_detail="weird")))[0]
    assert finding.status is Status.ERROR and "weird" in finding.summary
