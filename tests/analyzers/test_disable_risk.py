"""auto-disable-risk follows the profile's rule and finds the planted failing endpoint only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from diagnostics.analyzers import disable_risk
from diagnostics.analyzers.base import fmt_time
from diagnostics.findings import Status
from diagnostics.profiles import BUILTIN_PROFILES, DisableRule
from tests.analyzers.conftest import Planted, ours, problems


def test_the_rotated_endpoint_will_be_disabled_five_days_after_the_flip(planted: Planted) -> None:
    findings = problems(disable_risk.analyze(planted.analysis))
    assert {f.subject: f.evidence_dict()["failing since"] for f in findings} == {
        k: fmt_time(v) for k, v in planted.log.truth.disable_risk.items()
    }
    since = planted.log.truth.disable_risk["ep_rotated"]
    assert fmt_time(since + timedelta(hours=120)) in findings[0].title


def _failing(minutes: int) -> list[tuple]:
    return [("a", "ok", 0, 200)] + [("a", f"f{i}", 1 + i * 10, 500) for i in range(minutes // 10)]


def test_consecutive_failures_rule(tiny: Callable) -> None:
    profile = replace(ours(), disable_rule=DisableRule("consecutive_failures", count=15))
    [finding] = disable_risk.analyze(tiny(_failing(120), profile))  # 12 failures over 2 h
    assert finding.status is Status.FAIL and "3 more failed attempts" in finding.title
    [already] = disable_risk.analyze(tiny(_failing(200), profile))
    assert "already" in already.title


def test_retries_exhausted_rule_and_no_rule(tiny: Callable) -> None:
    convoy = BUILTIN_PROFILES["convoy"]  # disabled once a delivery exhausts its 11 attempts
    rows = [("a", "ok", 0, 200)] + [("a", "e1", 1 + i, 500) for i in range(11)]
    [finding] = disable_risk.analyze(tiny(rows, convoy))
    assert finding.status is Status.FAIL and "exhausted" in finding.title
    [none] = disable_risk.analyze(tiny(rows, BUILTIN_PROFILES["github"]))
    assert none.status is Status.NOT_APPLICABLE


def test_a_recovered_endpoint_is_not_at_risk(tiny: Callable) -> None:
    rows = [*_failing(300), ("a", "back", 400, 200)]
    assert [f.status for f in disable_risk.analyze(tiny(rows))] == [Status.PASS]
