"""Body candidates: each transform reproduces what real code does to a body, in reverse."""

from __future__ import annotations

import base64
import gzip
import json

from diagnostics.signatures.bodies import body_signals, body_variants

from .conftest import github_bytes


def candidates(body: bytes) -> dict[bytes, str]:
    return {v.body: v.kind for v in body_variants(body)}


def test_every_reserialization_of_a_real_payload_is_reversed() -> None:
    original = github_bytes("issues", "opened.payload.json")
    value = json.loads(original)
    for broken in (
        json.dumps(value).encode(),
        json.dumps(value, indent=2).encode(),
        json.dumps(value, indent=4, ensure_ascii=False).encode(),
    ):
        assert candidates(broken).get(original) == "reserialized"


def test_a_sender_that_sorts_keys_is_rebuilt() -> None:
    value = {"b": 1, "a": {"d": 2, "c": 3}}
    sorted_compact = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    assert candidates(json.dumps(value).encode())[sorted_compact] == "reserialized"


def test_json_dumps_default_is_rebuilt_from_compact() -> None:
    value = {"name": "Zoë ☕ 😀", "n": [1, 2]}
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    for expected in (
        json.dumps(value).encode(),
        json.dumps(value, indent=2).encode(),
        json.dumps(value, indent=4).encode(),
    ):
        assert expected in candidates(compact)


def test_wrappers_are_undone_and_applied() -> None:
    body = b'{"action":"opened"}'
    assert candidates(base64.b64encode(body))[body] == "wrapped"
    assert candidates(gzip.compress(body))[body] == "wrapped"
    assert candidates(b"payload=%7B%22action%22%3A%22opened%22%7D")[body] == "wrapped"
    assert candidates(body)[b"payload=%7B%22action%22%3A%22opened%22%7D"] == "wrapped"


def test_whitespace_edits() -> None:
    found = candidates(b'{"a":1}\r\n')
    assert found[b'{"a":1}'] == "whitespace"
    assert found[b'{"a":1}\n'] == "whitespace"
    assert candidates(b'\xef\xbb\xbf{"a":1}')[b'{"a":1}'] == "whitespace"


def test_mojibake_is_undone() -> None:
    original = '{"title":"Café"}'.encode()
    mojibake = original.decode("latin-1").encode("utf-8")
    assert candidates(mojibake)[original] == "encoding"
    assert candidates(original.decode().encode("latin-1"))[original] == "encoding"


def test_the_body_itself_is_never_a_candidate() -> None:
    body = b'{"a":1}'
    assert body not in candidates(body)


def test_signals() -> None:
    assert "looks base64-encoded" in body_signals(base64.b64encode(b'{"action":"opened","n":1}'))
    assert any("mojibake" in s for s in body_signals("CafÃ©".encode()))
    assert body_signals(b'{"a":1}') == []
