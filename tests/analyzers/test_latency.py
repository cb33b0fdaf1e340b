"""latency-near-timeout flags the planted slow endpoint, with its upward trend, and no other."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.analyzers import latency
from diagnostics.findings import Status
from tests.analyzers.conftest import Planted, problems


def test_only_the_slow_endpoint_is_flagged(planted: Planted) -> None:
    findings = problems(latency.analyze(planted.analysis))
    assert {f.subject for f in findings} == planted.log.truth.slow_endpoints
    evidence = findings[0].evidence_dict()
    assert evidence["p95 (ms)"] > 0.8 * 15000
    assert evidence["trend (ms per day)"] > 1000  # planted: +4.5 s over 3 days
    assert evidence["days until p95 reaches the timeout"] is not None


def test_trend_alone_warns_when_the_timeout_is_days_away(tiny: Callable) -> None:
    # One attempt an hour, 40 ms slower each time: +960 ms a day, p95 ~9.5 s, timeout in ~6 days.
    rows = [("a", f"e{i}", i * 60, 200, {"duration_ms": 8000 + 40 * i}) for i in range(40)]
    [finding] = latency.analyze(tiny(rows))
    assert finding.status is Status.WARN
    assert finding.evidence_dict()["p95 (ms)"] < 0.8 * 15000


def test_fast_endpoints_pass(tiny: Callable) -> None:
    rows = [("a", f"e{i}", i, 200, {"duration_ms": 100 + i}) for i in range(30)]
    assert [f.status for f in latency.analyze(tiny(rows))] == [Status.PASS]
