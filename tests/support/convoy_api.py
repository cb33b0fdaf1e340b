"""A loopback server in Convoy's real API shape, for the connector and `pull` tests.

It serves the attempts of tests/fixtures/logs/convoy_attempts.json and the event deliveries they
belong to (one per `msg_id`, built from them), as convoy-openapi3.json describes, under the API
root `/api`: `GET /v1/projects/{p}/endpoints/{e}`, `GET /v1/projects/{p}/eventdeliveries`
(`endpointId`, `perPage`, `startDate`/`endDate`, `next_page_cursor`: Convoy's paged envelope with
`has_next_page`), and `GET .../eventdeliveries/{id}/deliveryattempts`. Every answer is validated
against the OpenAPI document. It checks the bearer token (401), answers one 429 with Retry-After
in the middle (`Seen.rate_limit_at`), 404 for another project or endpoint, and can answer an
HTML page (`Seen.html`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from openapi_schema_validator import OAS30Validator

from tests.support.loopback_api import ApiHandler, serve
from tests.support.openapi import description

DOC = "convoy-openapi3.json"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "convoy_attempts.json"
ATTEMPTS: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["data"]
PROJECT, ENDPOINT = ATTEMPTS[0]["project_id"], ATTEMPTS[0]["endpoint_id"]
TOKEN = "CO.loopback.api-key-0000000000"
ROOT = f"/api/v1/projects/{PROJECT}"


def response_shape(path: str, status: str = "200", method: str = "get") -> OAS30Validator:
    """The response schema the OpenAPI document gives for `method` `path` and `status`."""
    doc = description(DOC)
    schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return OAS30Validator({**schema, "components": doc["components"]})


DELIVERIES_PATH = "/v1/projects/{projectID}/eventdeliveries"
ATTEMPTS_PATH = "/v1/projects/{projectID}/eventdeliveries/{eventDeliveryID}/deliveryattempts"
ENDPOINT_PATH = "/v1/projects/{projectID}/endpoints/{endpointID}"
DELIVERY_PAGE = response_shape(DELIVERIES_PATH)
ATTEMPT_LIST = response_shape(ATTEMPTS_PATH)
ENDPOINT_SHAPE = response_shape(ENDPOINT_PATH)
ERROR_SHAPE = response_shape(ENDPOINT_PATH, "404")
FORCE_SHAPE = response_shape("/v1/projects/{projectID}/eventdeliveries/forceresend", method="post")
RESEND_SHAPE = response_shape("/v1/projects/{projectID}/eventdeliveries/{eventDeliveryID}/resend", method="put")
# What `pull convoy` writes: Convoy's paged envelope around delivery attempts.
PULLED_SHAPE = OAS30Validator({
    "allOf": [{"$ref": "#/components/schemas/util.ServerResponse"},
              {"properties": {"data": {"allOf": [{"$ref": "#/components/schemas/models.PagedResponse"},
                                                 {"properties": {"content": {"type": "array", "items": {
                                                     "$ref": "#/components/schemas/datastore.DeliveryAttempt"}}}}]}}}],
    "components": description(DOC)["components"],
})


def _deliveries(attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_delivery: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt["msg_id"], []).append(attempt)
    return [{
        "uid": uid, "project_id": PROJECT, "endpoint_id": ENDPOINT, "event_id": f"01HEVENT{number:04d}",
        "event_type": "order.created", "subscription_id": "01HSUBSCRIPTION", "delivery_mode": "at_least_once",
        "status": "Success" if any(a.get("status") for a in tried) else "Failure",
        "created_at": tried[0]["created_at"], "updated_at": tried[-1]["updated_at"], "acknowledged_at": None,
        "headers": {"Content-Type": ["application/json"]}, "latency_seconds": 0.15,
    } for number, (uid, tried) in enumerate(by_delivery.items())]


DELIVERIES = _deliveries(ATTEMPTS)


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_at: int | None = 3  # answer 429 to this request (1-based), once
    html: bool = False
    resends: list[dict[str, Any]] = field(default_factory=list)  # every resend call (`redeliver --via convoy`)
    resend_limit_at: int | None = 1  # answer 429 to this resend (1-based), once


class ConvoyHandler(ApiHandler):
    seen: Seen

    def reply(self, shape: OAS30Validator, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        errors = list(shape.iter_errors(body))
        assert not errors, errors[:3]
        self.answer(status, body, headers)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self.reply(ERROR_SHAPE, status, {"status": False, "message": message, "data": None}, headers)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.seen.requests.append({"path": url.path, "query": query, "auth": self.headers.get("Authorization")})
        if self.seen.html:
            return self.answer(200, "<html><body>Convoy dashboard</body></html>", content_type="text/html")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401, "Invalid API Key")
        if len(self.seen.requests) == self.seen.rate_limit_at:
            self.seen.rate_limit_at = None
            return self.error(429, "rate limit exceeded", {"Retry-After": "2"})
        if url.path == f"{ROOT}/endpoints/{ENDPOINT}":
            return self.reply(ENDPOINT_SHAPE, 200, {"status": True, "message": "Endpoint fetched successfully",
                                                    "data": {"uid": ENDPOINT, "project_id": PROJECT, "name": "shop",
                                                             "url": ATTEMPTS[0]["url"], "status": "active"}})
        if url.path == f"{ROOT}/eventdeliveries":
            return self.deliveries(query)
        prefix, suffix = f"{ROOT}/eventdeliveries/", "/deliveryattempts"
        if url.path.startswith(prefix) and url.path.endswith(suffix):
            uid = url.path[len(prefix):-len(suffix)]
            if uid not in {d["uid"] for d in DELIVERIES}:
                return self.error(404, "event delivery not found")
            data = [a for a in ATTEMPTS if a["msg_id"] == uid]
            return self.reply(ATTEMPT_LIST, 200, {"status": True, "message": "App event delivery attempts fetched "
                                                  "successfully", "data": data})
        return self.error(404, "endpoint not found" if "/endpoints/" in url.path else "project not found")

    def deliveries(self, query: dict[str, list[str]]) -> None:
        chosen = [d for d in DELIVERIES if d["endpoint_id"] in query.get("endpointId", [d["endpoint_id"]])]
        if "startDate" in query:
            chosen = [d for d in chosen if d["created_at"][:19] >= query["startDate"][0]]
        if "endDate" in query:
            chosen = [d for d in chosen if d["created_at"][:19] <= query["endDate"][0]]
        per_page = int(query.get("perPage", ["20"])[0])
        start = 0
        if "next_page_cursor" in query:
            start = next(i for i, d in enumerate(chosen) if d["uid"] == query["next_page_cursor"][0]) + 1
        content = chosen[start:start + per_page]
        more = start + per_page < len(chosen)
        pagination = {"per_page": per_page, "has_next_page": more, "has_prev_page": start > 0,
                      "next_page_cursor": content[-1]["uid"] if more else "",
                      "prev_page_cursor": content[0]["uid"] if content and start else ""}
        self.reply(DELIVERY_PAGE, 200, {"status": True, "message": "Event deliveries fetched successfully",
                                        "data": {"content": content, "pagination": pagination}})


    def do_POST(self) -> None:
        """`POST /v1/projects/{projectID}/eventdeliveries/forceresend` with `ids`: 200."""
        url = urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        self.seen.resends.append({"method": "POST", "path": url.path, "auth": self.headers.get("Authorization"),
                                  "body": body})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401, "Invalid API Key")
        if len(self.seen.resends) == self.seen.resend_limit_at:
            self.seen.resend_limit_at = None
            return self.error(429, "rate limit exceeded", {"Retry-After": "1"})
        if url.path != f"{ROOT}/eventdeliveries/forceresend":
            return self.error(404, "not found")
        known = {d["uid"] for d in DELIVERIES}
        if not body.get("ids") or not set(body["ids"]) <= known:
            return self.error(400, "one or more event deliveries not found")
        return self.reply(FORCE_SHAPE, 200, {"status": True, "message": "event delivery(s) successfully retried",
                                             "data": {}})

    def do_PUT(self) -> None:
        """`PUT /v1/projects/{projectID}/eventdeliveries/{eventDeliveryID}/resend`: 200, the delivery."""
        url = urlparse(self.path)
        self.seen.resends.append({"method": "PUT", "path": url.path, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401, "Invalid API Key")
        if len(self.seen.resends) == self.seen.resend_limit_at:
            self.seen.resend_limit_at = None
            return self.error(429, "rate limit exceeded", {"Retry-After": "1"})
        prefix, suffix = f"{ROOT}/eventdeliveries/", "/resend"
        uid = url.path[len(prefix):-len(suffix)] if url.path.startswith(prefix) and url.path.endswith(suffix) else ""
        delivery = next((d for d in DELIVERIES if d["uid"] == uid), None)
        if delivery is None:
            return self.error(404, "event delivery not found")
        return self.reply(RESEND_SHAPE, 200, {"status": True, "message": "App event processed for retry successfully",
                                              "data": {**delivery, "status": "Scheduled"}})


@contextmanager
def serve_convoy() -> Iterator[tuple[str, Seen]]:
    with serve(ConvoyHandler, Seen()) as served:
        yield served[0] + "/api", served[1]
