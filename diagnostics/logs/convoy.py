"""Convoy delivery attempts (`datastore.DeliveryAttempt`), a bare array or Convoy's API envelope.

Field by field (platforms.md 3.1, convoy-openapi3.json): `msg_id` (the event delivery: one event
to one endpoint, the same on every retry) is the event id unless an `event_id` is present,
`endpoint_id` the endpoint, `uid` the attempt, `requested_at` the attempt time,
`responded_at - requested_at` the duration, `http_status` (a string) the status, the raw Go
`error` text classified into our error kinds, `response_data` the body, `response_http_header`
the response headers, `ip_address` the address dialled. Convoy omits empty fields, so an attempt
that never got an answer has no `http_status`, `response_data` nor `status`. `api_version` is
the Convoy server's own version, not the payload's, and is not read as one. Convoy attempts
carry no trigger: all are automatic. The attempts of a delivery come in one unpaginated list
(`GET .../eventdeliveries/{id}/deliveryattempts`); a file in Convoy's paged envelope
(`data.content` and `data.pagination`, as `pull convoy` writes) with `has_next_page` is one page
of a longer list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from diagnostics.error_kinds import ErrorKind
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.logs.platforms_common import first_present, headers_json, ids_json, stage_platform_export
from diagnostics.logs.schema import Stage
from diagnostics.logs.taxonomy import classify_error_text
from diagnostics.logs.timestamps import parse_timestamp

# The keys every attempt carries, answered or not (http_status is omitted when there was no answer).
DETECTION_KEYS = frozenset({"msg_id", "endpoint_id"})


def _duration_ms(record: Mapping[str, Any]) -> float | None:
    start, end = record.get("requested_at"), record.get("responded_at")
    if not start or not end:
        return None
    try:
        return (parse_timestamp(end) - parse_timestamp(start)).total_seconds() * 1000.0
    except ValueError:
        return None  # the attempt time itself is validated by finalize


def map_record(record: Mapping[str, Any], path: str) -> dict[str, Any]:
    status = str(record.get("http_status") or "").strip()
    error_text = record.get("error")
    status_code = status.split()[0] if status and status.split()[0].isdigit() and status != "0" else None
    return {
        "event_id": first_present(record, "event_id", "msg_id"),
        "event_type": record.get("event_type"),
        "endpoint": record.get("endpoint_id"),
        "url": record.get("url"),
        "attempted_at": first_present(record, "requested_at", "created_at"),
        "status_code": status_code,
        "error": (classify_error_text(error_text) or ErrorKind.OTHER) if status_code is None else None,
        "duration_ms": _duration_ms(record),
        "trigger": "auto",
        "response_body": record.get("response_data"),
        "attempt_id": record.get("uid"),
        "native_ids": ids_json(event_delivery_id=record.get("msg_id"), endpoint_id=record.get("endpoint_id"),
                               project_id=record.get("project_id"), event_id=record.get("event_id")),
        "response_headers": headers_json(record.get("response_http_header")),
        "remote_address": record.get("ip_address") or None,
    }


def read_pages(pages: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The last page decides; a plain attempt list (no `data.pagination`) carries no paging facts."""
    data = pages[-1].get("data")
    pagination = data.get("pagination") if isinstance(data, Mapping) else None
    if not isinstance(pagination, Mapping):
        return None
    cursor = str(pagination.get("next_page_cursor") or "")
    if not pagination.get("has_next_page"):
        return {"partial": False, "pages": len(pages)}
    return {
        "partial": True,
        "pages": len(pages),
        "next": cursor or None,
        "rerun": f"pull the endpoint's event deliveries again from next_page_cursor={cursor} and repeat until "
        "has_next_page is false",
    }


def stage(conn: duckdb.DuckDBPyConnection, path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Stage:
    return stage_platform_export(conn, path, map_record, "Convoy", max_bytes, read_pages)
