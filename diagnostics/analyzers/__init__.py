"""Delivery-log analyzers: pure judgments of the canonical attempt table.

`run_all(attempts, profile)` prepares the shared derived tables once, runs every analyzer in
ANALYZERS and computes the metrics. To add an analyzer: a module with `analyze(LogAnalysis) ->
list[Finding]` built with literal `code="..."`, a playbook per code, and one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from diagnostics.analyzers import (
    disable_risk,
    duplicates,
    failure_rates,
    failure_runs,
    latency,
    ordering,
    rate_limits,
    redirects,
    retries,
    stats,
)
from diagnostics.analyzers.base import LogAnalysis, prepare
from diagnostics.findings import Finding
from diagnostics.logs.schema import AttemptTable
from diagnostics.profiles import SenderProfile

ANALYZERS: tuple[Callable[[LogAnalysis], list[Finding]], ...] = (
    duplicates.analyze,
    failure_runs.analyze,
    retries.analyze,
    failure_rates.analyze,
    redirects.analyze,
    rate_limits.analyze,
    latency.analyze,
    disable_risk.analyze,
    ordering.analyze,
)


@dataclass
class LogJudgment:
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def run_all(attempts: AttemptTable, profile: SenderProfile) -> LogJudgment:
    """Every analyzer over one attempt table, plus metrics and report tables."""
    analysis = prepare(attempts, profile)
    findings: list[Finding] = []
    for analyzer in ANALYZERS:
        findings.extend(analyzer(analysis))
    metrics, tables = stats.compute(analysis)
    metrics["redeliver"] = retries.to_redeliver(analysis)
    return LogJudgment(findings=findings, metrics=metrics, tables=tables)
