"""Svix message attempts (`MessageAttemptOut`): a bare array or `ListResponse_MessageAttemptOut_` pages.

Field by field (platforms.md 1.1, svix-openapi.json): `msgId` is the event (the same on every
retry), `endpointId` the endpoint, `id` the attempt (`atmpt_...`), `timestamp` the attempt time,
`responseStatusCode` the status, where 0 means no response came and the error kind is read from
the `response` text ("request timed out", "error making request: client error (Connect)", ...).
`triggerType` 0 is scheduled, 1 manual. An embedded `msg` gives the event type, the payload and
the sender's own `eventId`. A page with `done: false` is one page of a longer list: its
`iterator` is where the next page starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from diagnostics.error_kinds import ErrorKind
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.logs.platforms_common import first_present, ids_json, stage_platform_export
from diagnostics.logs.schema import Stage
from diagnostics.logs.taxonomy import classify_error_text

DETECTION_KEYS = frozenset({"msgId", "endpointId", "responseStatusCode"})
TRIGGER_TYPES = {0: "auto", 1: "manual"}


def _trigger(value: Any) -> str:
    """Svix's triggerType number as a word; anything else in the field (a hostile export) is "auto"."""
    return TRIGGER_TYPES.get(value, "auto") if isinstance(value, int) else "auto"


def map_record(record: Mapping[str, Any], path: str) -> dict[str, Any]:
    status = record.get("responseStatusCode")
    no_response = status in (0, "0", None)
    response = record.get("response")
    msg = record.get("msg") if isinstance(record.get("msg"), Mapping) else {}
    return {
        "event_id": record.get("msgId"),
        "event_type": first_present(msg, "eventType") or record.get("eventType"),
        "endpoint": record.get("endpointId"),
        "url": record.get("url"),
        "attempted_at": record.get("timestamp"),
        "status_code": None if no_response else status,
        "error": (classify_error_text(response) or ErrorKind.OTHER) if no_response else None,
        "duration_ms": record.get("responseDurationMs"),
        "trigger": _trigger(record.get("triggerType")),
        "response_body": None if no_response else response,
        "payload": msg.get("payload"),
        "payload_version": first_present(msg, "payloadVersion", "schemaVersion"),
        "attempt_id": record.get("id"),
        "native_ids": ids_json(msg_id=record.get("msgId"), endpoint_id=record.get("endpointId"),
                               event_id=msg.get("eventId")),
    }


def read_pages(pages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The last page decides: `done: false` means more attempts follow from `iterator`."""
    last = pages[-1]
    if last.get("done") is not False:
        return {"partial": False, "pages": len(pages)}
    cursor = last.get("iterator")
    return {
        "partial": True,
        "pages": len(pages),
        "next": cursor,
        "rerun": "list the attempts again with iterator=" + str(cursor) + " (GET /api/v1/app/{app_id}/attempt/"
        "endpoint/{endpoint_id}?iterator=...) and repeat until a page says done: true",
    }


def stage(conn: duckdb.DuckDBPyConnection, path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Stage:
    return stage_platform_export(conn, path, map_record, "Svix", max_bytes, read_pages)
