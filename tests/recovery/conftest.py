"""Shared inputs for recovery tests: the planted recovery log, loaded, and tiny hand-made logs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from diagnostics.config import DEFAULTS
from diagnostics.logs import load_attempts
from diagnostics.logs.schema import AttemptTable, connect, finalize
from diagnostics.logs.staging import stage_records
from diagnostics.profiles import DisableRule, SenderProfile, ours_from_config
from diagnostics.recovery.generate import RecoveryLog, generate_recovery_log

T0 = datetime(2026, 3, 2, tzinfo=UTC)
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
        conn = connect()
        records = []
        for line, row in enumerate(rows, start=2):
            endpoint, event_id, minute, status, *extra = row
            record = {
                "endpoint": endpoint,
                "event_id": event_id,
                "event_type": "invoice.paid",
                "url": f"https://{endpoint}.example.com/in",
                "attempted_at": (T0 + timedelta(minutes=minute)).isoformat(),
                "status_code": status,
                "duration_ms": 100,
            }
            record.update(extra[0] if extra else {})
            records.append((line, record))
        return finalize(conn, [stage_records(conn, records, "tiny.csv")])

    return build
