"""A loopback server in GitHub's real REST shape for hook deliveries, for the connector tests.

It serves the deliveries of tests/fixtures/logs/github_deliveries.json newest first, as
`hook-delivery-item` pages (validated against the shape in tests/support/openapi.py), with the
next page in a `Link` header (`rel="next"`, an opaque cursor), checks the bearer token and the
API headers, answers the secondary rate limit (403 with Retry-After) once in the middle
(`Seen.limit_at`), 404 for another hook, and can send a next link to another host (`Seen.hostile`).
A GitHub App's own hook (`/app/hook/config`, `/app/hook/deliveries`) serves the same deliveries to
the app's JWT, checked as GitHub does (`valid_app_jwt`); redeliver calls answer 202.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from openapi_schema_validator import OAS30Validator

from tests.support.loopback_api import ApiHandler, serve
from tests.support.openapi import GITHUB_ITEM

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "github_deliveries.json"
DELIVERIES: list[dict[str, Any]] = list(reversed(json.loads(FIXTURE.read_text())))  # newest first
REPO, HOOK = "acme/shop", 4242
TOKEN = "ghp_loopbacktoken0000000000000000000000"
APP_ID = "987654"  # a GitHub App whose own hook serves the same deliveries (`/app/hook/...`, a JWT, not a token)
APP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APP_KEY_PEM = APP_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
PAGE_SHAPE = OAS30Validator({"type": "array", "items": GITHUB_ITEM})
HOOK_OBJECT = {"type": "Repository", "id": HOOK, "name": "web", "active": True, "events": ["push"],
               "config": {"content_type": "json", "url": "https://shop.example.com/hooks", "insecure_ssl": "0"},
               "updated_at": "2026-03-01T00:00:00Z", "created_at": "2026-03-01T00:00:00Z",
               "url": f"https://api.github.com/repos/{REPO}/hooks/{HOOK}"}


def valid_app_jwt(authorization: str | None, now: float | None = None) -> bool:
    """GitHub's check of an app's JWT: RS256 by the app's key, iss the app, not expired, exp <= 10 min ahead."""
    if not authorization or not authorization.startswith("Bearer "):
        return False
    try:
        header, payload, signature = authorization.removeprefix("Bearer ").split(".")
        APP_KEY.public_key().verify(_unb64(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(),
                                    hashes.SHA256())
        claims = json.loads(_unb64(payload))
    except (ValueError, InvalidSignature):
        return False
    now = time.time() if now is None else now
    return (json.loads(_unb64(header)) == {"alg": "RS256", "typ": "JWT"} and claims.get("iss") == APP_ID
            and claims["iat"] <= now < claims["exp"] <= now + 600)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    limit_at: int | None = 2  # answer the secondary rate limit to this request (1-based), once
    hostile: bool = False
    resends: list[dict[str, Any]] = field(default_factory=list)  # every redeliver call (`redeliver --via github`)
    resend_limit_at: int | None = 1  # answer 429 with Retry-After to this redeliver (1-based), once


def cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{position}".encode()).decode()


class GitHubHandler(ApiHandler):
    seen: Seen

    def authorized(self, path: str) -> bool:
        """An app's own hook takes the app's JWT; a repository's hook, the token."""
        if path.startswith("/app/"):
            return valid_app_jwt(self.headers.get("Authorization"))
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.seen.requests.append({"path": url.path, "query": query, "auth": self.headers.get("Authorization"),
                                   "version": self.headers.get("X-GitHub-Api-Version"),
                                   "accept": self.headers.get("Accept")})
        if not self.authorized(url.path):
            return self.answer(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                    "status": "401"})
        if url.path == f"/repos/{REPO}/hooks/{HOOK}":
            return self.answer(200, HOOK_OBJECT)
        if url.path == "/app/hook/config":
            return self.answer(200, {"content_type": "json", "url": "https://shop.example.com/hooks",
                                     "insecure_ssl": "0"})
        if url.path not in (f"/repos/{REPO}/hooks/{HOOK}/deliveries", "/app/hook/deliveries"):
            return self.answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                                    "status": "404"})
        if len(self.seen.requests) == self.seen.limit_at:
            self.seen.limit_at = None
            return self.answer(403, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "3"})
        per_page = int(query.get("per_page", "30"))
        start = int(base64.urlsafe_b64decode(query["cursor"]).decode().split(":")[1]) if "cursor" in query else 0
        page = DELIVERIES[start:start + per_page]
        assert not list(PAGE_SHAPE.iter_errors(page))
        headers = {}
        if start + per_page < len(DELIVERIES):
            host = "evil.example:8443" if self.seen.hostile else self.headers["Host"]
            headers["Link"] = (f'<http://{host}{url.path}?per_page={per_page}&cursor={cursor(start + per_page)}>; '
                               f'rel="next"')
        return self.answer(200, page, headers)

    def do_POST(self) -> None:
        """`POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts`: 202 Accepted."""
        url = urlparse(self.path)
        self.seen.resends.append({"method": "POST", "path": url.path, "auth": self.headers.get("Authorization"),
                                  "version": self.headers.get("X-GitHub-Api-Version")})
        if not self.authorized(url.path):
            return self.answer(401, {"message": "Bad credentials", "status": "401"})
        if len(self.seen.resends) == self.seen.resend_limit_at:
            self.seen.resend_limit_at = None
            return self.answer(429, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "1"})
        prefix = "/app/hook/deliveries/" if url.path.startswith("/app/") else f"/repos/{REPO}/hooks/{HOOK}/deliveries/"
        suffix = "/attempts"
        number = url.path[len(prefix):-len(suffix)] if url.path.startswith(prefix) and url.path.endswith(suffix) else ""
        if not number.isdigit() or int(number) not in {d["id"] for d in DELIVERIES}:
            return self.answer(404, {"message": "Not Found", "status": "404"})
        return self.answer(202, {})


@contextmanager
def serve_github() -> Iterator[tuple[str, Seen]]:
    with serve(GitHubHandler, Seen()) as served:
        yield served
