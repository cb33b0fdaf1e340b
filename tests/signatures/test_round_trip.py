"""Every scheme: what we sign, the debugger verifies exactly; any change to the body, the secret
or the signed timestamp is no longer valid. Randomized over bodies, ids, timestamps, secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.pipeline.signature import debug_signature
from diagnostics.signatures import scheme_names, sign_headers
from diagnostics.signatures.asymmetric import public_key_text

NOW = 1_700_000_000
URL = "https://hooks.example.com/in?tenant=7"
GENERIC = {
    "header": "X-Acme-Signature",
    "algorithm": "sha512",
    "encoding": "base64",
    "prefix": "v1=",
    "template": "{id}.{timestamp}.{url}.{body}",
    "timestamp_header": "X-Acme-Timestamp",
    "id_header": "X-Acme-Delivery",
}
ED25519_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
V1A_SEED = "whsk_" + base64.b64encode(bytes(range(32))).decode()


def _sendgrid_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


SENDGRID_PRIVATE = _sendgrid_private_key()
PRIVATE = {"discord": ED25519_SEED, "standard-webhooks-v1a": V1A_SEED, "sendgrid": SENDGRID_PRIVATE}


def request_for(scheme: str, secret: str, body: bytes, msg_id: str, ts: int) -> tuple[bytes, dict, str | None, str]:
    """(body, headers, url, verification key) for a freshly signed request."""
    url = URL if scheme in ("twilio", "square", "hmac") else None
    if scheme == "twilio" and not body.lstrip().startswith((b"{", b"[")):
        body = b"From=%2B1555&Body=" + base64.urlsafe_b64encode(body)
    if scheme == "twilio" and body.lstrip().startswith((b"{", b"[")):
        url = f"{URL}&bodySHA256={hashlib.sha256(body).hexdigest()}"
    if scheme == "linear":
        body = json.dumps({"action": "create", "webhookTimestamp": ts * 1000, "data": body.decode()}).encode()
    signing_secret = PRIVATE.get(scheme, secret)
    options = GENERIC if scheme == "hmac" else None
    headers = sign_headers(scheme, signing_secret, body, msg_id=msg_id, timestamp=ts, url=url, options=options)
    verify_key = public_key_text(scheme, signing_secret) if scheme in PRIVATE else secret
    return body, headers, url, verify_key


@pytest.mark.parametrize("scheme", scheme_names())
def test_every_scheme_round_trips(scheme: str) -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
    body, headers, url, key = request_for(scheme, secret, b'{"event":"ping","note":"caf\xc3\xa9"}', "msg_rt", NOW)
    options = GENERIC if scheme == "hmac" else None
    outcome = debug_signature(body, headers, [key], scheme=scheme, url=url, now=NOW, options=options)
    assert outcome.metrics["verdict"] == "valid", (scheme, [f.code for f in outcome.findings])
    assert "signature-valid" in [f.code for f in outcome.findings]
    auto = debug_signature(body, headers, [key], url=url, now=NOW, options=options)
    expected = {"github-sha1": "intercom"}.get(scheme, scheme)  # same header, no X-GitHub-* headers here
    assert auto.metrics["scheme"] == expected


def codes(outcome) -> list[str]:
    return [f.code for f in outcome.findings]


HMAC_SCHEMES = [s for s in scheme_names() if s not in PRIVATE]


@settings(max_examples=40, deadline=None)
@given(
    scheme=st.sampled_from(HMAC_SCHEMES),
    text=st.text(min_size=1, max_size=120),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9]{6,20}", fullmatch=True),
    raw_key=st.binary(min_size=24, max_size=48),
    offset=st.integers(min_value=-4, max_value=0),
)
def test_hmac_schemes_verify_what_they_sign_and_reject_tampering(scheme, text, msg_id, raw_key, offset) -> None:
    secret = "whsec_" + base64.b64encode(raw_key).decode()
    ts = int(time.time()) + offset
    body = json.dumps({"text": text}).encode()
    body, headers, url, key = request_for(scheme, secret, body, msg_id, ts)
    options = GENERIC if scheme == "hmac" else None
    ok = debug_signature(body, headers, [key], scheme=scheme, url=url, options=options)
    assert ok.metrics["verdict"] == "valid"
    other = "whsec_" + base64.b64encode(bytes(b ^ 0x5A for b in raw_key)).decode()
    wrong = debug_signature(body, headers, [other], scheme=scheme, url=url, options=options)
    assert wrong.metrics["verdict"] == "no-match" and wrong.exit_code == 1


def test_linear_timestamp_lives_in_the_body_in_milliseconds() -> None:
    secret = "lin_wh_0123456789abcdef0123456789"
    body, headers, _, _ = request_for("linear", secret, b"x", "m", NOW)
    assert codes(debug_signature(body, headers, [secret], now=NOW + 30)) == ["signature-valid"]
    late = debug_signature(body, headers, [secret], now=NOW + 120)
    assert codes(late) == ["signature-valid", "signature-timestamp-stale"]
    assert late.metrics["timestamp"]["tolerance_s"] == 60


def test_paddle_rejects_only_old_timestamps_after_five_seconds() -> None:
    secret = "pdl_ntfset_0123456789abcdef0123"
    headers = sign_headers("paddle", secret, b"{}", timestamp=NOW)
    assert codes(debug_signature(b"{}", headers, [secret], now=NOW + 4)) == ["signature-valid"]
    assert "signature-timestamp-stale" in codes(debug_signature(b"{}", headers, [secret], now=NOW + 6))
    assert codes(debug_signature(b"{}", headers, [secret], now=NOW - 60)) == ["signature-valid"]
