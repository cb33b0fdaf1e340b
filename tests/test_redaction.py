"""Issue 14, secrets: no encoding of a secret reaches any output format or the case store.

The hostile endpoint reflects the signing secret (body, headers, as JSON, URL-encoded, base64 of
the key); the secret itself carries `& < > " '`. Every rendering and the raw bytes of the SQLite
case store are searched for every spelling of it.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape as jinja_escape

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.findings import Finding, Outcome, Severity, Status, fingerprint_secret
from diagnostics.neutralize import md_cell, md_text, terminal_text
from diagnostics.pipeline.case import Case, run_case
from diagnostics.pipeline.probe import probe_endpoint
from diagnostics.redaction import Redactor, redact, redact_outcome, secret_forms
from diagnostics.report import render
from tests.net.loopback import TEST_PROFILE, clean_config, http_server

HOSTILE_SECRET = "s3cr&t<k>\"q'u0te-Zx9"
WHSEC_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef-key&<>").decode()


def encodings(secret: str) -> dict[str, str]:
    """The spellings the issue names, computed independently of the module under test."""
    raw = secret.encode()
    forms = {
        "raw": secret,
        "html": html.escape(secret),
        "jinja": str(jinja_escape(secret)),
        "markdown": md_text(secret),
        "markdown-cell": md_cell(secret),
        "json": json.dumps(secret)[1:-1],
        "json-in-html": html.escape(json.dumps(secret)[1:-1]),
        "url": quote(secret, safe=""),
        "url-form": quote_plus(secret),
        "base64": base64.b64encode(raw).decode(),
        "base64url-unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret[6:])
        forms["key-base64"] = secret[6:]
        forms["key-hex"] = key.hex()
    return forms


def leaks(text: str, secret: str) -> list[str]:
    return [name for name, form in encodings(secret).items() if form in text]


@pytest.mark.parametrize("secret", [HOSTILE_SECRET, WHSEC_SECRET])
def test_every_named_encoding_is_a_form_and_is_redacted(secret: str) -> None:
    forms = secret_forms(secret)
    for name, form in encodings(secret).items():
        assert form in forms, name
        redacted = redact(f"before {form} after", [secret])
        assert leaks(redacted, secret) == [], name
        assert f"[secret {fingerprint_secret(secret)}]" in redacted


def test_redact_walks_tuples_mappings_and_keys() -> None:
    value = {"k": (HOSTILE_SECRET, [html.escape(HOSTILE_SECRET)]), HOSTILE_SECRET: 3}
    assert leaks(repr(redact(value, [HOSTILE_SECRET])), HOSTILE_SECRET) == []
    assert redact("plain", []) == "plain" and not Redactor([])


secrets_with_specials = st.text(
    alphabet=st.sampled_from("&<>\"'\\/|[]()`*_#%+=@:;?!~ abcXYZ019é\u00a0"), min_size=8, max_size=40
).filter(lambda s: s.strip() == s and len(set(s)) > 3)


@settings(max_examples=150, deadline=None)
@given(secret=secrets_with_specials, noise=st.text(max_size=30))
def test_property_no_encoding_survives_redaction(secret: str, noise: str) -> None:
    forms = encodings(secret)
    text = noise.join(forms.values())
    redacted = redact(text, [secret])
    for name, form in forms.items():
        if len(form) >= 6:
            assert form not in redacted, (name, form)


def hostile_outcome(secret: str) -> Outcome:
    finding = Finding(
        code="http-error-status", status=Status.FAIL, severity=Severity.HIGH,
        title=f"The endpoint answers 500 {secret}", summary=f"It said {json.dumps({'k': secret})}",
        subject="https://hooks.example.com/in",
        evidence=(("Response body (start)", f"echo={quote(secret)}&b={base64.b64encode(secret.encode()).decode()}"),),
        samples=({"body": html.escape(secret)},), sample_total=1,
    )
    return Outcome(subject="https://hooks.example.com/in", findings=[finding],
                   metrics={"echo": secret}, tables={"samples": [{"reason": secret}]})


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_a_redacted_outcome_carries_the_secret_in_no_format(fmt: str) -> None:
    rendered = render(redact_outcome(hostile_outcome(HOSTILE_SECRET), [HOSTILE_SECRET]), fmt)
    assert leaks(rendered, HOSTILE_SECRET) == []


def reflecting_endpoint(secret: str) -> Any:
    """An endpoint that reflects the secret in every encoding, in its body and its headers."""

    def handle(handler: Any) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        body = json.dumps({"error": "bad signature", "expected_secret": secret,
                           "as_url": quote(secret, safe=""), "as_b64": base64.b64encode(secret.encode()).decode(),
                           "html": html.escape(secret)}).encode()
        handler.send_response(500)
        handler.send_header("X-Echo", quote(secret, safe=""))
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return http_server(handle)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_an_endpoint_reflecting_the_secret_gets_it_into_no_output(fmt: str) -> None:
    """The issue's case: a reflected secret reached all four output formats."""
    with reflecting_endpoint(HOSTILE_SECRET) as base:
        outcome = probe_endpoint(f"{base}/hook", config=clean_config(), profile=TEST_PROFILE, samples=1,
                                 scheme="github", secret=HOSTILE_SECRET, allow=["127.0.0.1/32"])
    assert "http-error-status" in {f.code for f in outcome.findings}
    rendered = render(outcome, fmt)
    assert leaks(rendered, HOSTILE_SECRET) == []
    assert leaks(json.dumps(outcome.to_dict()), HOSTILE_SECRET) == []
    assert fingerprint_secret(HOSTILE_SECRET)[:2] in rendered or fmt == "json"


def test_the_case_store_keeps_no_encoding_of_the_secret(tmp_path: Path) -> None:
    """The issue's case: HTML-, Markdown- and JSON-escaped forms reached the store. Search its bytes."""
    config = load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path / "ws"), "DIAGNOSTICS_ALLOW": "127.0.0.1/32"})
    store = CaseStore(config.database_url)
    try:
        with reflecting_endpoint(HOSTILE_SECRET) as base:
            case = Case(ticket=f"ZD-1 {HOSTILE_SECRET}", customer="Acme", endpoint_url=f"{base}/hook",
                        secret=HOSTILE_SECRET, profile="github")
            result = run_case(case, config, store=store)
        for text in result.reports.values():
            assert leaks(text, HOSTILE_SECRET) == []
    finally:
        store.close()
    database = tmp_path / "ws" / "cases.db"
    data = database.read_bytes().decode("utf-8", "replace")
    assert leaks(data, HOSTILE_SECRET) == []
    assert "ZD-1" in data  # the store did keep the case


def test_terminal_form_is_redacted_too() -> None:
    secret = "ab\x1bcd\x07efgh"
    assert terminal_text(secret) in secret_forms(secret)
    assert terminal_text(secret) not in redact(terminal_text(secret), [secret])
