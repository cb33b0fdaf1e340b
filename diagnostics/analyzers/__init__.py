"""Delivery-log analyzers: pure judgments of the canonical attempt table, on any engine.

`run_all(engine, profile, subject)` prepares the shared derived tables once (`base.prepare`),
runs every analyzer in ANALYZERS, computes the metrics and, on request, writes every analyzer's
per-endpoint problems to a details file where the engine holds them. To add an analyzer: a module
with `analyze(LogAnalysis) -> list[Finding]` built with literal `code="..."`, set-based SQL in the
portable subset (ARCHITECTURE.md), its per-endpoint problems projected with `LogAnalysis.problems`
and a fleet view through `base.fleet_finding`, a playbook per code, and one line below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnostics.analyzers import (
    disable_risk,
    duplicates,
    exports,
    failure_rates,
    failure_runs,
    fleet_incidents,
    latency,
    ordering,
    rate_limits,
    redirects,
    retries,
    stats,
)
from diagnostics.analyzers.base import LogAnalysis, prepare
from diagnostics.engines.base import Engine
from diagnostics.findings import Finding
from diagnostics.profiles import SenderProfile

ANALYZERS: tuple[Callable[[LogAnalysis], list[Finding]], ...] = (
    fleet_incidents.analyze,
    exports.analyze,
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


def run_all(
    engine: Engine,
    profile: SenderProfile,
    subject: str,
    *,
    table: str = "attempts",
    fleet_table: str | None = None,
    view: str = "auto",
    details_path: str | None = None,
    import_facts: Mapping[str, Any] | None = None,
) -> LogJudgment:
    """Every analyzer over one attempt relation, plus metrics, report tables and the details file.

    `import_facts` is what the import knew beyond the rows (`exports`: each platform file's paging).
    """
    analysis = prepare(engine, profile, subject, table=table, fleet_table=fleet_table, view=view)
    analysis.import_facts = dict(import_facts or {})
    findings: list[Finding] = []
    for analyzer in ANALYZERS:
        findings.extend(analyzer(analysis))
    metrics, tables = stats.compute(analysis)
    metrics["redeliver"] = retries.to_redeliver(analysis)
    tables.update(analysis.tables)
    if details_path:
        select = analysis.details_select()
        written = engine.export(select, details_path) if select else 0
        metrics["details"] = {"path": details_path, "rows": written}
    return LogJudgment(findings=findings, metrics=metrics, tables=tables)
