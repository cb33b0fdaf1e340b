"""Shared inputs for recovery tests: the planted recovery log, loaded, and tiny hand-made logs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from diagnostics.config import DEFAULTS
from diagnostics.logs import load_attempts
from diagnostics.logs.schema import AttemptTable
from diagnostics.profiles import DisableRule, SenderProfile, ours_from_config
from diagnostics.recovery.generate import RecoveryLog, generate_recovery_log
from tests.support.tiny_logs import attempts_from_rows

SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]


def ours(rule: DisableRule | None = None) -> SenderProfile:
    """Our sender with the repository's schedule and a 120 h failing_for rule (or `rule`)."""
    sender = dict(DEFAULTS["sender"])
    sender.update(retry_schedule_seconds=SCHEDULE)
    profile = ours_from_config(sender, DEFAULTS["signature"])
    return replace(profile, disable_rule=rule or DisableRule("failing_for", hours=120, description="5 days"))


@dataclass
class PlantedRecovery:
    log: RecoveryLog
    parquet: Path
    csv: Path

    def attempts(self, endpoint: str | None = None) -> AttemptTable:
        return load_attempts([str(self.parquet)], endpoint=endpoint)


@pytest.fixture(scope="session")
def planted_recovery(tmp_path_factory: pytest.TempPathFactory) -> PlantedRecovery:
    log = generate_recovery_log(seed=11)
    folder = Path(tmp_path_factory.mktemp("recovery"))
    return PlantedRecovery(log=log, parquet=log.write(folder / "log.parquet"), csv=log.write(folder / "log.csv"))


@pytest.fixture
def tiny() -> Callable[..., AttemptTable]:
    """Loaded attempts from short rows: (endpoint, event_id, minute, status, extra fields)."""

    def build(rows: Sequence[tuple[Any, ...]]) -> AttemptTable:
        return attempts_from_rows(rows)

    return build
