"""GitHub hook deliveries: `hook-delivery-item` lists and `hook-delivery` details.

Field by field (platforms.md 5.1): `guid` (X-GitHub-Delivery, the same on redelivery) is the
event id, `id` (numeric, new for every attempt) the attempt id that the redeliver call takes,
`delivered_at` the attempt time, `redelivery` marks a manual resend, `duration` is in seconds,
`status_code` the HTTP status (0 when none), and the `status` text gives the error kind ("timed
out", "failed to connect to host", ...). `event` and `action` form the event type,
`throttled_at` when GitHub held the delivery back. A delivery detail (`GET .../deliveries/{id}`)
adds `request.payload` (kept as the payload), `response.headers` and `response.payload` (the
body). The list belongs to one hook and does not name it: the endpoint is `hook_id` when the
record has one, else `github:<file stem>`. `gh api --paginate` (with or without `--slurp`)
output is read as it comes (files.read_json_export).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from diagnostics.error_kinds import ErrorKind
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.logs.platforms_common import headers_json, ids_json, stage_platform_export
from diagnostics.logs.schema import Stage
from diagnostics.logs.taxonomy import classify_error_text

DETECTION_KEYS = frozenset({"guid", "delivered_at", "redelivery"})


def endpoint_for(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".json", ".jsonl"):
        name = name.removesuffix(suffix)
    return f"github:{name}"


def _part(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def map_record(record: Mapping[str, Any], path: str) -> dict[str, Any]:
    status_code = record.get("status_code")
    no_response = status_code in (0, "0", None)
    duration = record.get("duration")
    event, action = record.get("event"), record.get("action")
    request, response = _part(record, "request"), _part(record, "response")
    return {
        "event_id": record.get("guid"),
        "event_type": f"{event}.{action}" if event and action else event,
        "endpoint": str(record["hook_id"]) if record.get("hook_id") is not None else endpoint_for(path),
        "url": record.get("url"),
        "attempted_at": record.get("delivered_at"),
        "status_code": None if no_response else status_code,
        "error": (classify_error_text(record.get("status")) or ErrorKind.OTHER) if no_response else None,
        "duration_ms": float(duration) * 1000.0 if isinstance(duration, (int, float)) else None,
        "trigger": "manual" if record.get("redelivery") else "auto",
        "response_body": None if no_response else response.get("payload"),
        "payload": request.get("payload"),
        "attempt_id": record.get("id"),
        "native_ids": ids_json(delivery_id=record.get("id"), guid=record.get("guid"), hook_id=record.get("hook_id"),
                               installation_id=record.get("installation_id"),
                               repository_id=record.get("repository_id")),
        "response_headers": headers_json(response.get("headers")),
        "throttled_at": record.get("throttled_at"),
    }


def stage(conn: duckdb.DuckDBPyConnection, path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Stage:
    return stage_platform_export(conn, path, map_record, "GitHub", max_bytes)
