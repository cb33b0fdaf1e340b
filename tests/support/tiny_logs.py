"""Tiny hand-made delivery logs for tests: short rows loaded through the real import path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics.logs.schema import AttemptTable, connect, finalize
from diagnostics.logs.staging import stage_records

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def attempts_from_rows(rows: Sequence[tuple[Any, ...]]) -> AttemptTable:
    """Loaded attempts from rows (endpoint, event_id, minute after T0, status[, extra fields])."""
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
