"""Oracle tests against the official SDKs: what they sign we verify, what we sign they verify,
what they reject we reject. Randomized over bodies, ids, timestamps and secrets."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
import stripe
import svix.webhooks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.pipeline.signature import debug_signature
from diagnostics.signatures import sign_headers

ORACLE_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

bodies = st.text(min_size=0, max_size=300).map(lambda t: t.encode("utf-8"))
json_bodies = st.dictionaries(st.text(max_size=12), st.one_of(st.integers(), st.text(max_size=20)), max_size=5)
msg_ids = st.from_regex(r"msg_[A-Za-z0-9]{8,27}", fullmatch=True)
key_bytes = st.binary(min_size=24, max_size=64)
stripe_secrets = st.from_regex(r"whsec_[A-Za-z0-9]{24,40}", fullmatch=True)
offsets = st.integers(min_value=-250, max_value=250)


def verdict(outcome) -> str:
    return outcome.metrics["verdict"]


def sw_secret(raw: bytes) -> str:
    return "whsec_" + base64.b64encode(raw).decode()


@ORACLE_SETTINGS
@given(body=bodies, msg_id=msg_ids, raw=key_bytes, offset=offsets)
def test_standardwebhooks_signs_we_verify(body: bytes, msg_id: str, raw: bytes, offset: int) -> None:
    now = int(time.time())
    ts = now + offset
    signature = standardwebhooks.Webhook(sw_secret(raw)).sign(msg_id, datetime.fromtimestamp(ts, UTC), body.decode())
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}
    outcome = debug_signature(body, headers, [sw_secret(raw)], now=now)
    assert verdict(outcome) == "valid" and outcome.exit_code == 0


@ORACLE_SETTINGS
@given(body=bodies, msg_id=msg_ids, raw=key_bytes, offset=offsets)
def test_we_sign_standardwebhooks_and_svix_verify(body: bytes, msg_id: str, raw: bytes, offset: int) -> None:
    ts = int(time.time()) + offset
    ours = sign_headers("standard-webhooks", sw_secret(raw), body, msg_id=msg_id, timestamp=ts)
    standardwebhooks.Webhook(sw_secret(raw)).verify(body, ours, json_parse=False)
    svix_headers = sign_headers("svix", sw_secret(raw), body, msg_id=msg_id, timestamp=ts)
    assert set(svix_headers) == {"svix-id", "svix-timestamp", "svix-signature"}
    svix.webhooks.Webhook(sw_secret(raw)).verify(body, svix_headers)


@ORACLE_SETTINGS
@given(body=bodies, msg_id=msg_ids, raw=key_bytes, flip=st.integers(min_value=0, max_value=31))
def test_what_standardwebhooks_rejects_we_reject(body: bytes, msg_id: str, raw: bytes, flip: int) -> None:
    ts = int(time.time())
    headers = sign_headers("standard-webhooks", sw_secret(raw), body, msg_id=msg_id, timestamp=ts)
    tampered_key = bytes([raw[0] ^ (1 << (flip % 8)), *raw[1:]])
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(sw_secret(tampered_key)).verify(body, headers, json_parse=False)
    assert verdict(debug_signature(body, headers, [sw_secret(tampered_key)], now=ts)) != "valid"


@ORACLE_SETTINGS
@given(payload=json_bodies, msg_id=msg_ids, raw=key_bytes)
def test_svix_signs_with_svix_headers_we_verify(payload: dict, msg_id: str, raw: bytes) -> None:
    import json

    body = json.dumps(payload)
    ts = int(time.time())
    signature = svix.webhooks.Webhook(sw_secret(raw)).sign(msg_id, datetime.fromtimestamp(ts, UTC), body)
    headers = {"svix-id": msg_id, "svix-timestamp": str(ts), "svix-signature": signature}
    outcome = debug_signature(body.encode(), headers, [sw_secret(raw)], now=ts)
    assert verdict(outcome) == "valid"
    assert outcome.metrics["signature_header"] == "svix-signature"


def test_svix_rejects_stale_timestamp_and_so_do_we() -> None:
    raw = bytes(range(32))
    ts = int(time.time()) - 3600
    headers = sign_headers("svix", sw_secret(raw), b'{"a":1}', msg_id="msg_stale", timestamp=ts)
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(sw_secret(raw)).verify(b'{"a":1}', headers)
    outcome = debug_signature(b'{"a":1}', headers, [sw_secret(raw)])
    assert [f.code for f in outcome.findings] == ["signature-valid", "signature-timestamp-stale"]


@ORACLE_SETTINGS
@given(body=bodies, secret=stripe_secrets, offset=st.integers(min_value=-250, max_value=0))
def test_stripe_signs_we_verify(body: bytes, secret: str, offset: int) -> None:
    now = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=now + offset)
    outcome = debug_signature(body, {"Stripe-Signature": header}, [secret], now=now)
    assert verdict(outcome) == "valid"


@ORACLE_SETTINGS
@given(body=bodies, secret=stripe_secrets)
def test_we_sign_stripe_verifies(body: bytes, secret: str) -> None:
    headers = sign_headers("stripe", secret, body)
    assert stripe.WebhookSignature.verify_header(body, headers["Stripe-Signature"], secret, tolerance=300)


@ORACLE_SETTINGS
@given(body=bodies, secret=stripe_secrets, other=stripe_secrets)
def test_what_stripe_rejects_we_reject(body: bytes, secret: str, other: str) -> None:
    if other == secret:
        return
    header = sign_headers("stripe", secret, body)["Stripe-Signature"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, header, other, tolerance=300)
    assert verdict(debug_signature(body, {"Stripe-Signature": header}, [other])) != "valid"


def test_stripe_multiple_v1_entries_second_matches() -> None:
    secret, old = "whsec_currentcurrentcurrent01", "whsec_previouspreviousprevio1"
    now = int(time.time())
    first = stripe.WebhookSignature.generate_signature_header("{}", old, timestamp=now)
    second = stripe.WebhookSignature.generate_signature_header("{}", secret, timestamp=now)
    header = f"{first},{second.split(',')[1]},v0=deadbeef"
    stripe.WebhookSignature.verify_header("{}", header, secret, tolerance=300)
    outcome = debug_signature(b"{}", {"Stripe-Signature": header}, [secret], now=now)
    assert verdict(outcome) == "valid" and outcome.metrics["matched_entry"] == "entry 2 of 3"
    assert outcome.metrics["entries_skipped"] == ["v0= entry"]
