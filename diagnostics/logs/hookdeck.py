"""Hookdeck event attempts (`EventAttempt`), a bare array or the `EventAttemptPaginatedResult` page.

Field by field (platforms.md 2.1, hookdeck-openapi.json): `event_id` is the event,
`destination_id` the endpoint, `id` the attempt, `requested_url` the URL, `delivered_at` the
attempt time, `response_status` the status, `error_code` (AttemptErrorCodes) mapped onto our
error kinds, `attempt_number` the attempt, `response_latency` the duration in ms, `body` the
response, `bulk_retry_id` the bulk replay that made the attempt. Triggers: INITIAL and AUTOMATIC
are automatic, MANUAL is a person, BULK_RETRY and UNPAUSE are replays. A page whose
`pagination.next` is set is one page of a longer list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.logs.platforms_common import first_present, ids_json, stage_platform_export
from diagnostics.logs.schema import Stage
from diagnostics.logs.taxonomy import hookdeck_error_kind

DETECTION_KEYS = frozenset({"event_id", "destination_id"})
TRIGGERS = {"INITIAL": "auto", "AUTOMATIC": "auto", "MANUAL": "manual", "BULK_RETRY": "replay", "UNPAUSE": "replay"}


def map_record(record: Mapping[str, Any], path: str) -> dict[str, Any]:
    status = record.get("response_status")
    return {
        "event_id": record.get("event_id"),
        "event_type": first_present(record, "event_type", "topic"),
        "endpoint": record.get("destination_id"),
        "url": record.get("requested_url"),
        "attempt": record.get("attempt_number"),
        "attempted_at": first_present(record, "delivered_at", "created_at"),
        "status_code": status if status not in (0, "0") else None,
        "error": hookdeck_error_kind(record.get("error_code")),
        "duration_ms": record.get("response_latency"),
        "trigger": TRIGGERS.get(str(record.get("trigger") or "").upper(), "auto"),
        "response_body": record.get("body"),
        "attempt_id": record.get("id"),
        "native_ids": ids_json(event_id=record.get("event_id"), destination_id=record.get("destination_id"),
                               bulk_retry_id=record.get("bulk_retry_id"), team_id=record.get("team_id")),
    }


def read_pages(pages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The last page decides: a `pagination.next` cursor means more attempts follow."""
    pagination = pages[-1].get("pagination")
    cursor = pagination.get("next") if isinstance(pagination, Mapping) else None
    if not cursor:
        return {"partial": False, "pages": len(pages)}
    return {
        "partial": True,
        "pages": len(pages),
        "next": cursor,
        "rerun": f"list the attempts again with next={cursor} (GET /attempts?next=...) and repeat until a page "
        "has no pagination.next",
    }


def stage(conn: duckdb.DuckDBPyConnection, path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Stage:
    return stage_platform_export(conn, path, map_record, "Hookdeck", max_bytes, read_pages)
