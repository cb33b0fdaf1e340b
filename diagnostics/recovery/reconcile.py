"""Reconciliation: our log of one endpoint against what the customer says they received.

The receipts are loaded into the engine as RECEIVED_TABLE (event id, receipts) and joined, in one
SELECT, with the endpoint's events of the window (first sent in [since, until), as in the plan)
and the plan's categories (`_plan_events`). Every event of the window, and every id they list,
lands in one of:
- missed: no 2xx here, not in their records (pending ones are marked: the retry may still land);
- delivered_not_recorded: a 2xx here, no record there;
- processed_but_failed_here: recorded once there, no 2xx here (the answer was lost or late);
- duplicated: recorded more than once there (whatever our result: `delivered` says which);
- unknown_to_us: listed by them, not an event of this endpoint in our log;
- recorded_once: delivered and recorded once: counted only.
Ids they list that are events of this endpoint first sent outside the window are counted as
`outside_window`, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from diagnostics.analyzers.base import OK
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.logs.schema import sql_literal
from diagnostics.recovery.categories import PENDING
from diagnostics.recovery.plan import PLAN_TABLE, iso, iso_sql, window_sql
from diagnostics.recovery.received import Received

MISSED = "missed"
DELIVERED_NOT_RECORDED = "delivered_not_recorded"
PROCESSED_BUT_FAILED_HERE = "processed_but_failed_here"
DUPLICATED = "duplicated"
UNKNOWN_TO_US = "unknown_to_us"
RECORDED_ONCE = "recorded_once"
RECONCILE_CATEGORIES = (MISSED, DELIVERED_NOT_RECORDED, PROCESSED_BUT_FAILED_HERE, DUPLICATED, UNKNOWN_TO_US)
RECEIVED_TABLE = "_received"
RECONCILED_TABLE = "_reconciled"


@dataclass
class Reconciliation:
    endpoint: str
    since: datetime | None
    until: datetime | None
    received: dict[str, Any]
    totals: dict[str, int]
    events: list[dict[str, Any]] = field(default_factory=list)
    outside_window: int = 0

    def ids(self, category: str) -> set[str]:
        return {e["event_id"] for e in self.events if e["category"] == category}

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "since": iso(self.since),
            "until": iso(self.until),
            "received": self.received,
            "totals": dict(self.totals),
            "outside_window": self.outside_window,
            "events": list(self.events),
        }


def load_received(engine: DuckDBEngine, received: Received) -> None:
    """The receipts as a table on the engine (one Arrow hand-off, whatever their number)."""
    data = pa.table({"event_id": pa.array(list(received.receipts), pa.string()),
                     "receipts": pa.array(list(received.receipts.values()), pa.int64())})
    engine.conn.register("_received_arrow", data)
    try:
        engine.materialize(RECEIVED_TABLE, "SELECT event_id, receipts FROM _received_arrow")
    finally:
        engine.conn.unregister("_received_arrow")


def reconcile_sql(table: str, endpoint: str, since: datetime | None, until: datetime | None) -> str:
    ep = sql_literal(endpoint)
    return f"""WITH ev AS (
            SELECT event_id, min(event_type) AS event_type, count(*) AS attempts,
                   count(*) FILTER (WHERE {OK}) AS successes, min(attempted_at) AS first_at,
                   max(attempted_at) AS last_at
            FROM {table} WHERE endpoint = {ep} GROUP BY event_id
        ), joined AS (
            SELECT coalesce(e.event_id, r.event_id) AS event_id, e.event_type, e.attempts, e.first_at, e.last_at,
                   e.successes, coalesce(r.receipts, 0) AS receipts, e.event_id IS NOT NULL AS ours,
                   coalesce({window_sql('e.first_at', since, until)}, FALSE) AS in_window,
                   p.category AS plan_category
            FROM ev AS e FULL OUTER JOIN {RECEIVED_TABLE} AS r ON r.event_id = e.event_id
            LEFT JOIN {PLAN_TABLE} AS p ON p.event_id = e.event_id
        )
        SELECT *,
               CASE WHEN NOT ours THEN '{UNKNOWN_TO_US}'
                    WHEN NOT in_window THEN 'outside_window'
                    WHEN receipts > 1 THEN '{DUPLICATED}'
                    WHEN successes = 0 AND receipts = 0 THEN '{MISSED}'
                    WHEN successes = 0 THEN '{PROCESSED_BUT_FAILED_HERE}'
                    WHEN receipts = 0 THEN '{DELIVERED_NOT_RECORDED}'
                    ELSE '{RECORDED_ONCE}' END AS category
        FROM joined
        WHERE ours AND in_window OR receipts > 0"""


def reconcile(engine: DuckDBEngine, endpoint: str, received: Received, *, since: datetime | None = None,
              until: datetime | None = None, table: str = "attempts") -> Reconciliation:
    """Judge the endpoint's events of the window against the receipts (PLAN_TABLE is judged
    first: `plan.judge_plan`)."""
    load_received(engine, received)
    engine.materialize(RECONCILED_TABLE, reconcile_sql(table, endpoint, since, until))
    counts = {r["category"]: int(r["n"]) for r in engine.rows(
        f"SELECT category, count(*) AS n FROM {RECONCILED_TABLE} GROUP BY category")}
    order = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(RECONCILE_CATEGORIES))
    rows = engine.rows(
        f"""SELECT event_id, category, receipts, successes, plan_category, event_type, attempts,
                   {iso_sql('first_at')} AS first_at, {iso_sql('last_at')} AS last_at
            FROM {RECONCILED_TABLE} AS r WHERE category IN ({', '.join(f"'{c}'" for c in RECONCILE_CATEGORIES)})
            ORDER BY CASE r.category {order} END, r.first_at NULLS LAST, r.event_id"""  # the time, not its text
    )
    events = []
    for r in rows:
        event: dict[str, Any] = {"event_id": r["event_id"], "category": r["category"], "receipts": int(r["receipts"])}
        if r["category"] != UNKNOWN_TO_US:
            event.update(delivered=bool(r["successes"]), event_type=r["event_type"], attempts=int(r["attempts"]),
                         first_at=r["first_at"], last_at=r["last_at"])
        if r["plan_category"] is not None:
            event["plan_category"] = r["plan_category"]
        if r["category"] == MISSED:
            event["pending"] = r["plan_category"] == PENDING
        events.append(event)
    totals = {c: counts.get(c, 0) for c in (*RECONCILE_CATEGORIES, RECORDED_ONCE)}
    return Reconciliation(endpoint=endpoint, since=since, until=until, received=received.summary(),
                          totals=totals, events=events, outside_window=counts.get("outside_window", 0))
