"""Shared inputs for analyzer tests: one generated log with planted truth, and tiny hand-made logs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from diagnostics.analyzers.base import LogAnalysis, prepare
from diagnostics.config import DEFAULTS
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.findings import Finding, Status
from diagnostics.logs import load_attempts
from diagnostics.logs.generate import GeneratedLog, generate_log
from diagnostics.logs.schema import AttemptTable
from diagnostics.profiles import SenderProfile, ours_from_config
from tests.support.tiny_logs import attempts_from_rows


@dataclass
class Planted:
    log: GeneratedLog
    analysis: LogAnalysis


def analysis_of(attempts: AttemptTable, profile: SenderProfile, view: str = "auto") -> LogAnalysis:
    """A prepared analysis of loaded attempts on the embedded engine."""
    return prepare(DuckDBEngine(attempts.conn, attempts.name), profile, attempts.subject(), view=view)


def ours() -> SenderProfile:
    """Our sender as configured in the repository's diagnostics.toml defaults plus its schedule."""
    sender = dict(DEFAULTS["sender"])
    sender.update(retry_schedule_seconds=[5, 300, 1800, 7200, 18000, 36000, 36000],
                  disable={"kind": "failing_for", "hours": 120, "description": "disabled after 5 days"})
    return ours_from_config(sender, DEFAULTS["signature"])


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    log = generate_log(seed=7, attempts=40_000)
    path = log.write(Path(tmp_path_factory.mktemp("planted")) / "log.parquet")
    return Planted(log=log, analysis=analysis_of(load_attempts([str(path)]), ours()))


def problems(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.status not in (Status.PASS, Status.NOT_APPLICABLE)]


@pytest.fixture
def tiny() -> Callable[..., LogAnalysis]:
    """Build a prepared analysis from short rows: (endpoint, event_id, minute, status[, extra])."""

    def build(rows: Sequence[tuple[Any, ...]], profile: SenderProfile | None = None) -> LogAnalysis:
        return analysis_of(attempts_from_rows(rows), profile or ours())

    return build

