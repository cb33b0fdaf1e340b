"""Shared helpers: real GitHub payloads (from the shared data folder) as request bodies."""

from __future__ import annotations

import json

import pytest

from tests.support.shared import GITHUB_EXAMPLES as PAYLOADS


def github_payload(event: str, name: str = "payload.json") -> dict:
    """A real GitHub webhook payload, parsed (the files are pretty-printed)."""
    return json.loads((PAYLOADS / event / name).read_text(encoding="utf-8"))


def github_bytes(event: str, name: str = "payload.json") -> bytes:
    """The payload as GitHub sends it: compact JSON, UTF-8, no trailing newline."""
    return json.dumps(github_payload(event, name), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="session")
def push_body() -> bytes:
    return github_bytes("push")


@pytest.fixture(scope="session")
def issue_body_with_accents() -> bytes:
    payload = github_payload("issues", "assigned.payload.json")
    payload["issue"]["title"] = "Café crème ☕ déjà vu — naïve façade"
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
