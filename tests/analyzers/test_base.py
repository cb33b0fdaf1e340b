"""The shared derived tables speak of the same lines as the analyzers that read them."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.analyzers import base, failure_rates, latency
from diagnostics.analyzers.base import MIN_ATTEMPTS, NEAR_TIMEOUT_SHARE, PERCENTILES, Percentiles


def test_percentiles_are_read_by_name_whatever_the_column_order() -> None:
    row = {"p99": 3.0, "p50": 1.0, "name": "a", "p95": 2.0}
    assert Percentiles.of(row) == Percentiles(p50=1.0, p95=2.0, p99=3.0)
    assert Percentiles(p50=1.04, p95=None, p99=2.96).as_metrics() == {"p50_ms": 1.0, "p95_ms": None, "p99_ms": 3.0}
    assert [column for column, _ in PERCENTILES] == ["p50", "p95", "p99"]


def test_near_timeout_count_and_latency_judgment_share_one_line(tiny: Callable) -> None:
    """`near_timeout` (prepare) counts exactly the attempts at or over the share latency judges by."""
    timeout_ms = 15000.0  # our sender's timeout in diagnostics.toml
    line = NEAR_TIMEOUT_SHARE * timeout_ms
    durations = [line - 1, line, line + 1, 100.0] * 6
    analysis = tiny([("a", f"e{i}", i, 200, {"duration_ms": d}) for i, d in enumerate(durations)])
    assert analysis.timeout_ms == timeout_ms
    [row] = analysis.rows("SELECT near_timeout, timed, p50, p95, p99 FROM _endpoint_stats")
    assert row["near_timeout"] == 12 and row["timed"] == len(durations) >= MIN_ATTEMPTS
    [finding] = latency.analyze(analysis)
    assert finding.evidence_dict()[f"attempts over {NEAR_TIMEOUT_SHARE:.0%} of timeout"] == 12
    assert finding.evidence_dict()["p95 (ms)"] == round(Percentiles.of(row).p95, 1)


def test_thresholds_live_in_base_only() -> None:
    assert failure_rates.MIN_ATTEMPTS is base.MIN_ATTEMPTS and latency.MIN_ATTEMPTS is base.MIN_ATTEMPTS
    assert not hasattr(latency, "NEAR_SHARE")
