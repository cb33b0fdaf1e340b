"""redirect-responses and rate-limited find the planted endpoints and episodes only."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.analyzers import rate_limits, redirects
from diagnostics.findings import Status
from tests.analyzers.conftest import Planted, problems


def test_redirects_are_the_planted_endpoint(planted: Planted) -> None:
    findings = problems(redirects.analyze(planted.analysis))
    assert {f.subject for f in findings} == planted.log.truth.redirect_endpoints
    [finding] = findings
    assert finding.status is Status.FAIL and finding.evidence_dict()["statuses"] == "301"
    assert finding.evidence_dict()["configured URL"].startswith("http://")


def test_rate_limit_episodes_are_the_planted_ones(planted: Planted) -> None:
    findings = problems(rate_limits.analyze(planted.analysis))
    assert {f.subject: f.evidence_dict()["episodes"] for f in findings} == planted.log.truth.rate_limited
    [finding] = findings
    assert finding.evidence_dict()["shortest wait before the retry (s)"] >= 4  # 5 s +-20%


def test_sporadic_429s_far_apart_are_separate_episodes(tiny: Callable) -> None:
    analysis = tiny([("a", "e1", 0, 429), ("a", "e1", 1, 200), ("a", "e2", 60, 429), ("a", "e2", 61, 200)])
    [finding] = rate_limits.analyze(analysis)
    assert finding.evidence_dict()["episodes"] == 2
    assert finding.evidence_dict()["median wait before the retry (s)"] == 60.0
