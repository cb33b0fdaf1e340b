"""A loopback server in Svix's real API shape, for the connector and `pull` tests.

It pages the attempts of tests/fixtures/logs/svix_attempts.json (validated against
svix-openapi.json, as is every page it serves) with Svix's iterator pagination, checks the bearer
token, answers one 429 with Retry-After in the middle (`Seen.rate_limit_at`), and can answer 404
(an unknown app or endpoint) or an HTML page (`Seen.html`).
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
from tests.support.openapi import component

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "svix_attempts.json"
ATTEMPTS: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["data"]
APP, ENDPOINT = "app_shop", ATTEMPTS[0]["endpointId"]
TOKEN = "testsk_loopback-token.us"
PAGE_SHAPE = OAS30Validator(component("svix-openapi.json", "ListResponse_MessageAttemptOut_"))
ENDPOINT_SHAPE = OAS30Validator(component("svix-openapi.json", "EndpointOut"))
RECOVER_IN = OAS30Validator(component("svix-openapi.json", "RecoverIn"))
RECOVER_OUT = OAS30Validator(component("svix-openapi.json", "RecoverOut"))
ENDPOINT_OBJECT = {"id": ENDPOINT, "url": ATTEMPTS[0]["url"], "description": "shop", "metadata": {},
                   "createdAt": "2026-03-01T00:00:00Z", "updatedAt": "2026-03-01T00:00:00Z"}


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_at: int | None = 2  # answer 429 to this request (1-based), once
    html: bool = False
    resends: list[dict[str, Any]] = field(default_factory=list)  # every resend call (`redeliver --via svix`)
    resend_limit_at: int | None = 1  # answer 429 to this resend (1-based), once


class SvixHandler(ApiHandler):
    seen: Seen

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.seen.requests.append({"path": url.path, "query": query, "auth": self.headers.get("Authorization")})
        if self.seen.html:
            return self.answer(200, "<html><body>Svix dashboard</body></html>", content_type="text/html")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"code": "authentication_failed", "detail": "Invalid token"})
        if url.path == f"/api/v1/app/{APP}/endpoint/{ENDPOINT}":
            assert not list(ENDPOINT_SHAPE.iter_errors(ENDPOINT_OBJECT))
            return self.answer(200, ENDPOINT_OBJECT)
        if url.path != f"/api/v1/app/{APP}/attempt/endpoint/{ENDPOINT}":
            return self.answer(404, {"code": "not_found", "detail": "Entity not found"})
        if len(self.seen.requests) == self.seen.rate_limit_at:
            self.seen.rate_limit_at = None
            return self.answer(429, {"code": "rate_limited", "detail": "Too many requests"}, {"Retry-After": "2"})
        limit = int(query.get("limit", "50"))
        start = 0
        if "iterator" in query:
            start = next(i for i, a in enumerate(ATTEMPTS) if a["id"] == query["iterator"]) + 1
        data = ATTEMPTS[start:start + limit]
        done = start + limit >= len(ATTEMPTS)
        page = {"data": data, "iterator": data[-1]["id"] if data else None, "prevIterator": None, "done": done}
        assert not list(PAGE_SHAPE.iter_errors(page))
        return self.answer(200, page)


    def do_POST(self) -> None:
        """`POST /api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend`: 202, an EmptyResponse."""
        url = urlparse(self.path)
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        call = {"method": "POST", "path": url.path, "auth": self.headers.get("Authorization"),
                "idempotency_key": self.headers.get("idempotency-key")}
        self.seen.resends.append(call)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"code": "authentication_failed", "detail": "Invalid token"})
        if len(self.seen.resends) == self.seen.resend_limit_at:
            self.seen.resend_limit_at = None
            return self.answer(429, {"code": "rate_limited", "detail": "Too many requests"}, {"Retry-After": "1"})
        if url.path == f"/api/v1/app/{APP}/endpoint/{ENDPOINT}/recover":
            call["body"] = json.loads(data)
            assert not list(RECOVER_IN.iter_errors(call["body"]))
            body = {"id": "qtask_" + "1" * 27, "status": "running", "task": "endpoint.recover",
                    "updatedAt": "2026-03-02T01:00:00Z"}
            assert not list(RECOVER_OUT.iter_errors(body))
            return self.answer(202, body)
        prefix, suffix = f"/api/v1/app/{APP}/msg/", f"/endpoint/{ENDPOINT}/resend"
        msg = url.path[len(prefix):-len(suffix)] if url.path.startswith(prefix) and url.path.endswith(suffix) else ""
        if msg not in {a["msgId"] for a in ATTEMPTS}:
            return self.answer(404, {"code": "not_found", "detail": "Entity not found"})
        return self.answer(202, {})


@contextmanager
def serve_svix() -> Iterator[tuple[str, Seen]]:
    with serve(SvixHandler, Seen()) as served:
        yield served
