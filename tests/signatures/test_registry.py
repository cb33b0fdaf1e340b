"""Scheme names, aliases, formulas and detection from headers."""

from __future__ import annotations

import pytest

from diagnostics.errors import InputError
from diagnostics.signatures import Headers, detect_scheme, get_scheme, scheme_formula, scheme_names

ISSUE_SCHEMES = [
    "standard-webhooks",
    "stripe",
    "github",
    "github-sha1",
    "shopify",
    "slack",
    "twilio",
    "square",
    "zendesk",
    "intercom",
    "paddle",
    "linear",
    "sendgrid",
    "discord",
    "standard-webhooks-v1a",
    "hmac",
]


def test_every_scheme_of_the_issue_is_registered_with_a_formula() -> None:
    assert scheme_names() == ISSUE_SCHEMES
    for name in scheme_names():
        assert scheme_formula(name)


def test_svix_is_an_alias_with_svix_header_names() -> None:
    svix = get_scheme("svix")
    assert svix.template == get_scheme("standard-webhooks").template


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="known schemes: standard-webhooks"):
        get_scheme("stripey")


@pytest.mark.parametrize(
    ("headers", "scheme"),
    [
        ({"Stripe-Signature": "t=1,v1=00"}, "stripe"),
        ({"X-Hub-Signature-256": "sha256=00", "X-Hub-Signature": "sha1=00"}, "github"),
        ({"X-Hub-Signature": "sha1=00", "X-GitHub-Event": "push"}, "github-sha1"),
        ({"X-Hub-Signature": "sha1=00"}, "intercom"),
        ({"svix-signature": "v1,AA==", "svix-id": "m", "svix-timestamp": "1"}, "standard-webhooks"),
        ({"webhook-signature": "v1a,AA=="}, "standard-webhooks-v1a"),
        ({"x-shopify-hmac-sha256": "AA=="}, "shopify"),
        ({"X-Slack-Signature": "v0=00"}, "slack"),
        ({"X-Twilio-Signature": "AA=="}, "twilio"),
        ({"X-Twilio-Email-Event-Webhook-Signature": "AA=="}, "sendgrid"),
        ({"x-square-hmacsha256-signature": "AA=="}, "square"),
        ({"X-Zendesk-Webhook-Signature": "AA=="}, "zendesk"),
        ({"Paddle-Signature": "ts=1;h1=00"}, "paddle"),
        ({"Linear-Signature": "00"}, "linear"),
        ({"X-Signature-Ed25519": "00"}, "discord"),
    ],
)
def test_detection(headers: dict[str, str], scheme: str) -> None:
    assert detect_scheme(Headers(headers)).scheme == scheme


def test_detection_reports_other_signature_headers() -> None:
    found = detect_scheme(Headers({"X-Hub-Signature-256": "sha256=00", "X-Hub-Signature": "sha1=00"}))
    assert found.also_present == ("X-Hub-Signature",) and "X-Hub-Signature-256" in found.reason


def test_detection_of_the_configured_generic_header() -> None:
    found = detect_scheme(Headers({"X-Acme-Signature": "00"}), {"header": "X-Acme-Signature"})
    assert found.scheme == "hmac"


def test_headers_parse_lines_and_case_insensitive_lookup() -> None:
    headers = Headers.parse_lines(["Date: Mon, 01 Jan 2024 10:00:00 GMT", "X-A: 1", "x-a: 2"])
    assert headers.get("date") == "Mon, 01 Jan 2024 10:00:00 GMT"
    assert headers.get_all("X-A") == ["1", "2"]
    with pytest.raises(InputError, match="header 1"):
        Headers.parse_lines(["no colon here"])
