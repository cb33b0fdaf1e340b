"""Published vectors (signatures.md section 2): we sign exactly what the providers publish and
verify what they publish."""

from __future__ import annotations

import pytest

from diagnostics.signatures import Headers, get_scheme, sign_headers

SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_BODY = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"
SENDGRID_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpV"
    "KS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SENDGRID_BODY = (
    b'[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":'
    b'"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":'
    b'"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":'
    b'"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n'
)
SENDGRID_SIG = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="

# (vector, scheme, secret, body, sign kwargs, expected headers)
SIGNING_VECTORS = [
    (
        "V1",
        "standard-webhooks",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        b'{"test": 2432232314}',
        {"msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "timestamp": 1614265330},
        {"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    ),
    (
        "V1-svix",
        "svix",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        b'{"test": 2432232314}',
        {"msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "timestamp": 1614265330},
        {"svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    ),
    (
        "V6",
        "github",
        "It's a Secret to Everybody",
        b"Hello, World!",
        {},
        {"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
    ),
    (
        "V10",
        "slack",
        "8f742231b10e8888abcd99yyyzzz85a5",
        SLACK_BODY,
        {"timestamp": 1531420618},
        {"X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
    ),
    (
        "V11",
        "twilio",
        "12345",
        TWILIO_BODY,
        {"url": TWILIO_URL},
        {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
    ),
    (
        "V18",
        "shopify",
        "test_secret_key",
        b'{"foo": "bar"}',
        {},
        {"X-Shopify-Hmac-Sha256": "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="},
    ),
]


@pytest.mark.parametrize(("vector", "scheme", "secret", "body", "kwargs", "expected"), SIGNING_VECTORS)
def test_sign_reproduces_published_vector(vector, scheme, secret, body, kwargs, expected) -> None:
    headers = sign_headers(scheme, secret, body, **kwargs)
    for name, value in expected.items():
        assert headers[name] == value, vector


@pytest.mark.parametrize(("vector", "scheme", "secret", "body", "kwargs", "expected"), SIGNING_VECTORS)
def test_verify_accepts_published_vector(vector, scheme, secret, body, kwargs, expected) -> None:
    sent = sign_headers(scheme, secret, body, **kwargs)
    chosen = get_scheme(scheme)
    presented = chosen.read(Headers(sent), body, kwargs.get("url"))
    match = chosen.verify(presented, body, [secret], kwargs.get("url"))
    assert match is not None and match.entry.index == 1 and match.secret_index == 0
    assert chosen.verify(presented, body + b" ", [secret], kwargs.get("url")) is None


def sendgrid_headers(signature: str = SENDGRID_SIG) -> Headers:
    return Headers(
        {"X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": "1600112502"}
    )


def test_v20_sendgrid_published_signature_verifies() -> None:
    scheme = get_scheme("sendgrid")
    presented = scheme.read(sendgrid_headers(), SENDGRID_BODY, None)
    assert scheme.verify(presented, SENDGRID_BODY, [SENDGRID_KEY], None) is not None


@pytest.mark.parametrize(
    "altered",
    [SENDGRID_BODY.rstrip(b"\r\n"), SENDGRID_BODY.replace(b'","', b'", "')],
    ids=["crlf-stripped", "re-spaced"],
)
def test_v20_sendgrid_altered_body_is_rejected(altered: bytes) -> None:
    scheme = get_scheme("sendgrid")
    presented = scheme.read(sendgrid_headers(), altered, None)
    assert scheme.verify(presented, altered, [SENDGRID_KEY], None) is None


def test_twilio_accepts_url_with_default_port_like_the_sdk() -> None:
    scheme = get_scheme("twilio")
    sent = sign_headers("twilio", "12345", TWILIO_BODY, url=TWILIO_URL)
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    presented = scheme.read(Headers(sent), TWILIO_BODY, with_port)
    assert scheme.verify(presented, TWILIO_BODY, ["12345"], with_port) is not None


def test_twilio_json_body_is_checked_through_body_sha256() -> None:
    import hashlib

    body = b'{"event": "call.completed"}'
    url = f"https://mycompany.com/hook?bodySHA256={hashlib.sha256(body).hexdigest()}"
    scheme = get_scheme("twilio")
    sent = sign_headers("twilio", "12345", body, url=url)
    presented = scheme.read(Headers(sent), body, url)
    assert scheme.verify(presented, body, ["12345"], url) is not None
    assert scheme.verify(presented, body + b"\n", ["12345"], url) is None


# twilio-python tests/unit/test_request_validator.py: the SDK accepts the URL with the default
# port added or a port removed; each published signature below is for one of those URL forms.
TWILIO_PORT_VECTORS = [
    ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
]


@pytest.mark.parametrize(("url", "signature"), TWILIO_PORT_VECTORS)
def test_twilio_sdk_port_vectors(url: str, signature: str) -> None:
    scheme = get_scheme("twilio")
    presented = scheme.read(Headers({"X-Twilio-Signature": signature}), TWILIO_BODY, url)
    assert scheme.verify(presented, TWILIO_BODY, ["12345"], url) is not None


def test_twilio_sdk_repeated_parameters_vector() -> None:
    body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234"
    assert sign_headers("twilio", "12345", body, url=TWILIO_URL)["X-Twilio-Signature"] == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_sdk_json_body_vector() -> None:
    body = b'{"property": "value", "boolean": true}'
    url = TWILIO_URL + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    scheme = get_scheme("twilio")
    presented = scheme.read(Headers({"X-Twilio-Signature": "a9nBmqA0ju/hNViExpshrM61xv4="}), body, url)
    assert scheme.verify(presented, body, ["12345"], url) is not None


# square-python-sdk tests/utils/test_webhooks_helper.py
SQUARE_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
    b'"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SQUARE_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


@pytest.mark.parametrize(
    ("body", "signature", "key", "url", "valid"),
    [
        (SQUARE_BODY, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", "Ibxx_5AKakO-3qeNVR61Dw", SQUARE_URL, True),
        (
            b'{"data":{"type":"webhooks","id":">id<"}}',
            "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
            "signature-key",
            "https://webhook.site/webhooks",
            True,
        ),
        (
            SQUARE_BODY,
            "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=",
            "Ibxx_5AKakO-3qeNVR61Dw",
            "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9",
            False,
        ),
        (SQUARE_BODY, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", "MCmhFRxGX82xMwg5FsaoQA", SQUARE_URL, False),
        (SQUARE_BODY, "1z2n3DEJJiUPKcPzQo1ftvbxGdw=", "Ibxx_5AKakO-3qeNVR61Dw", SQUARE_URL, False),
    ],
    ids=["pass", "escaped-chars", "url-mismatch", "wrong-key", "wrong-signature"],
)
def test_square_sdk_vectors(body: bytes, signature: str, key: str, url: str, valid: bool) -> None:
    scheme = get_scheme("square")
    presented = scheme.read(Headers({"x-square-hmacsha256-signature": signature}), body, url)
    assert (scheme.verify(presented, body, [key], url) is not None) is valid
