"""A loopback server in Hookdeck's real API shape, for the connector and `pull` tests.

It serves the attempts of tests/fixtures/logs/hookdeck_attempts.json and the events they belong
to (built from them), as hookdeck-openapi.json describes: `GET /connections/{id}` and
`/destinations/{id}`, `GET /events` filtered by `webhook_id` or `destination_id` (and
`last_attempt_at[gte]`, `created_at[lte]`), `GET /attempts` filtered by `event_id` or
`event_id[]`, each a `*PaginatedResult` page with an opaque `pagination.next` cursor. Every
object and page served is validated against the OpenAPI schema. It checks the bearer token
(401), keeps connections alive (HTTP/1.1, the port each request came from is kept), answers one
429 with Retry-After in the middle (`Seen.rate_limit_at`), 404 for an unknown
connection or destination, and can answer an HTML page (`Seen.html`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from openapi_schema_validator import OAS30Validator

from tests.support.loopback_api import ApiHandler, serve
from tests.support.openapi import component

DOC = "hookdeck-openapi.json"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "hookdeck_attempts.json"
ATTEMPTS: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["models"]
DESTINATION = ATTEMPTS[0]["destination_id"]
CONNECTION = "web_shop0001"
TEAM = ATTEMPTS[0]["team_id"]
TOKEN = "hk_loopback_api_key_0000000000"
ATTEMPT_PAGE = OAS30Validator(component(DOC, "EventAttemptPaginatedResult"))
EVENT_PAGE = OAS30Validator(component(DOC, "EventPaginatedResult"))
CONNECTION_SHAPE = OAS30Validator(component(DOC, "Connection"))
DESTINATION_SHAPE = OAS30Validator(component(DOC, "Destination"))
ERROR_SHAPE = OAS30Validator(component(DOC, "APIErrorResponse"))
RETRIED_SHAPE = OAS30Validator(component(DOC, "RetriedEvent"))
BATCH_SHAPE = OAS30Validator(component(DOC, "BatchOperation"))
STAMP = "2026-03-01T00:00:00.000Z"


def _events(attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One Hookdeck Event per event id of the attempts, as the API lists them."""
    by_event: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_event.setdefault(attempt["event_id"], []).append(attempt)
    events = []
    for number, (event_id, tried) in enumerate(by_event.items()):
        last = tried[-1]
        ok = [a for a in tried if a["status"] == "SUCCESSFUL"]
        events.append({
            "id": event_id, "team_id": TEAM, "webhook_id": CONNECTION, "source_id": "src_shop",
            "destination_id": last["destination_id"], "event_data_id": f"edt_{number:04d}",
            "request_id": f"req_{number:04d}", "attempts": len(tried), "last_attempt_at": last["delivered_at"],
            "next_attempt_at": None, "response_status": last.get("response_status"),
            "status": "SUCCESSFUL" if ok else "FAILED", "successful_at": ok[0]["delivered_at"] if ok else None,
            "cli_id": None, "updated_at": last["updated_at"], "created_at": tried[0]["created_at"],
            **({"error_code": last["error_code"]} if last.get("error_code") else {}),
        })
    return events


EVENTS = _events(ATTEMPTS)
DESTINATION_OBJECT = {"id": DESTINATION, "name": "shop", "description": None, "team_id": TEAM,
                      "url": "https://shop.example.com/webhooks", "http_method": "POST", "disabled_at": None,
                      "updated_at": STAMP, "created_at": STAMP}
CONNECTION_OBJECT = {
    "id": CONNECTION, "name": "shop", "full_name": "stripe -> shop", "description": None, "team_id": TEAM,
    "destination": DESTINATION_OBJECT,
    "source": {"id": "src_shop", "name": "stripe", "team_id": TEAM, "url": "https://hkdk.events/abc",
               "disabled_at": None, "updated_at": STAMP, "created_at": STAMP},
    "rules": [], "disabled_at": None, "paused_at": None, "updated_at": STAMP, "created_at": STAMP,
}
for shape, obj in ((CONNECTION_SHAPE, CONNECTION_OBJECT), (DESTINATION_SHAPE, DESTINATION_OBJECT)):
    assert not list(shape.iter_errors(obj))


def cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"hd:{position}".encode()).decode().rstrip("=")


def position(value: str) -> int:
    return int(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split(":")[1])


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_at: int | None = 4  # answer 429 to this request (1-based), once
    html: bool = False
    ignore_event_filter: bool = False
    resends: list[dict[str, Any]] = field(default_factory=list)  # every retry call (`redeliver --via hookdeck`)
    resend_limit_at: int | None = 1  # answer 429 to this retry (1-based), once


class HookdeckHandler(ApiHandler):
    seen: Seen
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API

    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = {"code": code, "status": status, "message": message}
        assert not list(ERROR_SHAPE.iter_errors(body))
        self.answer(status, body, headers)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.seen.requests.append({"path": url.path, "query": query, "auth": self.headers.get("Authorization"),
                                   "client_port": self.client_address[1]})
        if self.seen.html:
            return self.answer(200, "<html><body>Hookdeck dashboard</body></html>", content_type="text/html")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401, "UNAUTHORIZED", "Invalid API key")
        if len(self.seen.requests) == self.seen.rate_limit_at:
            self.seen.rate_limit_at = None
            return self.error(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", {"Retry-After": "2"})
        if url.path == f"/connections/{CONNECTION}":
            return self.answer(200, CONNECTION_OBJECT)
        if url.path == f"/destinations/{DESTINATION}":
            return self.answer(200, DESTINATION_OBJECT)
        if url.path == "/events":
            return self.page(EVENT_PAGE, self.events(query), query)
        if url.path == "/attempts":
            ids = set(query.get("event_id", []) + query.get("event_id[]", []))
            if not ids:
                return self.error(422, "UNPROCESSABLE_ENTITY", "event_id is required")
            chosen = ATTEMPTS if self.seen.ignore_event_filter else [a for a in ATTEMPTS if a["event_id"] in ids]
            return self.page(ATTEMPT_PAGE, sorted(chosen, key=lambda a: a["created_at"]), query)
        return self.error(404, "NOT_FOUND", "Resource not found")

    def events(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        chosen = [e for e in EVENTS if e["webhook_id"] in query.get("webhook_id", [e["webhook_id"]])
                  and e["destination_id"] in query.get("destination_id", [e["destination_id"]])]
        if "last_attempt_at[gte]" in query:
            since = query["last_attempt_at[gte]"][0]
            chosen = [e for e in chosen if e["last_attempt_at"] and e["last_attempt_at"] >= since]
        if "created_at[lte]" in query:
            until = query["created_at[lte]"][0]
            chosen = [e for e in chosen if e["created_at"] <= until]
        return sorted(chosen, key=lambda e: e["created_at"])

    def page(self, shape: OAS30Validator, rows: list[dict[str, Any]], query: dict[str, list[str]]) -> None:
        limit = int(query.get("limit", ["100"])[0])
        start = position(query["next"][0]) if "next" in query else 0
        models = rows[start:start + limit]
        pagination: dict[str, Any] = {"order_by": "created_at", "dir": "asc", "limit": limit}
        if start + limit < len(rows):
            pagination["next"] = cursor(start + limit)
        if start:
            pagination["prev"] = cursor(max(0, start - limit))
        body = {"pagination": pagination, "count": len(rows), "models": models}
        assert not list(shape.iter_errors(body))
        self.answer(200, body)


    def do_POST(self) -> None:
        """`POST /events/{id}/retry`: 200, a RetriedEvent (the event, with one more attempt)."""
        url = urlparse(self.path)
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))  # read whole: the connection is reused
        self.seen.resends.append({"method": "POST", "path": url.path, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401, "UNAUTHORIZED", "Invalid API key")
        if len(self.seen.resends) == self.seen.resend_limit_at:
            self.seen.resend_limit_at = None
            return self.error(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", {"Retry-After": "1"})
        if url.path == "/bulk/events/retry":
            body = json.loads(data)
            self.seen.resends[-1]["body"] = body
            operation = {"id": "bch_0001", "team_id": TEAM, "query": body["query"], "created_at": STAMP,
                         "updated_at": STAMP, "cancelled_at": None, "completed_at": None, "estimated_batch": 1,
                         "estimated_count": len(body["query"]["id"]), "processed_batch": 0, "completed_count": 0,
                         "in_progress": True, "progress": 0, "failed_count": 0, "number": 1}
            errors = list(BATCH_SHAPE.iter_errors(operation))
            assert not errors, errors[:2]
            return self.answer(200, operation)
        event_id = url.path.removeprefix("/events/").removesuffix("/retry")
        event = next((e for e in EVENTS if e["id"] == event_id), None)
        if event is None or not url.path.endswith("/retry"):
            return self.error(404, "NOT_FOUND", "Resource not found")
        body = {**event, "attempts": event["attempts"] + 1}
        assert not list(RETRIED_SHAPE.iter_errors(body))
        return self.answer(200, body)


@contextmanager
def serve_hookdeck() -> Iterator[tuple[str, Seen]]:
    with serve(HookdeckHandler, Seen()) as served:
        yield served
