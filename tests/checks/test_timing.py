from __future__ import annotations

from dataclasses import replace

from diagnostics.checks.timing import check_timing
from diagnostics.findings import Status
from diagnostics.profiles import BUILTIN_PROFILES
from tests.checks.factories import exchange, failed, observations

SHOPIFY = BUILTIN_PROFILES["shopify"]  # 5 s window


def test_fast_answers_give_nothing() -> None:
    assert check_timing(observations(exchange(total_ms=2400.0)), SHOPIFY) == []


def test_slow_response_over_half_the_window() -> None:
    findings = check_timing(observations(exchange(total_ms=1000.0), exchange("sample 2", total_ms=2600.0)), SHOPIFY)
    assert [f.code for f in findings] == ["slow-response"]
    assert findings[0].status is Status.WARN
    assert findings[0].evidence_dict()["Share of the window"] == "52%"


def test_response_timeout_explains_retries_and_duplicates() -> None:
    sample = failed("timeout", timeout_phase="response", total_ms=5001.0, deadline_s=5.0)
    finding = check_timing(observations(sample), SHOPIFY)[0]
    assert finding.code == "response-timeout" and finding.status is Status.FAIL
    assert "processed twice" in finding.summary and "retries up to 8 more times" in finding.summary


def test_trickling_body_is_a_timeout_too() -> None:
    sample = failed("timeout", timeout_phase="body", status_code=200, total_ms=5001.0)
    finding = check_timing(observations(sample), SHOPIFY)[0]
    assert "the body kept trickling" in finding.summary


def test_sender_without_retries_says_so() -> None:
    github = replace(BUILTIN_PROFILES["github"])
    finding = check_timing(observations(failed("timeout", timeout_phase="response")), github)[0]
    assert "does not retry automatically" in finding.summary
