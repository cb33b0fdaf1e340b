"""One test per debugger finding: break the request the way real code breaks it, then check that
the debugger names that cause (through the pipeline entry point other parts call)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from urllib.parse import quote_plus

import pytest

from diagnostics.errors import InputError
from diagnostics.findings import Status, fingerprint_secret
from diagnostics.pipeline.signature import debug_signature
from diagnostics.signatures import sign_headers

from .test_vectors import SENDGRID_BODY, SENDGRID_KEY, SQUARE_BODY, SQUARE_URL, sendgrid_headers

GITHUB_SECRET = "It's a Secret to Everybody"
STRIPE_SECRET = "whsec_9fJz3kQ2mXv7LpR4sT8uW1yZ"
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_700_000_000


def codes(outcome) -> list[str]:
    return [f.code for f in outcome.findings]


def finding(outcome, code: str):
    return next(f for f in outcome.findings if f.code == code)


def test_exact_match_is_signature_valid(push_body: bytes) -> None:
    headers = sign_headers("github", GITHUB_SECRET, push_body)
    outcome = debug_signature(push_body, headers, [GITHUB_SECRET])
    assert codes(outcome) == ["signature-valid"]
    assert outcome.exit_code == 0
    assert outcome.metrics["scheme"] == "github"
    assert outcome.metrics["scheme_chosen_because"] == "the X-Hub-Signature-256 header is present"
    assert outcome.metrics["matched_entry"] == "entry 1 of 1"
    assert outcome.metrics["verdict"] == "valid"


def test_json_dumps_of_parsed_body_is_reserialized(push_body: bytes) -> None:
    headers = sign_headers("github", GITHUB_SECRET, push_body)
    as_python_reserializes = json.dumps(json.loads(push_body)).encode()
    outcome = debug_signature(as_python_reserializes, headers, [GITHUB_SECRET])
    found = finding(outcome, "signature-body-reserialized")
    assert found.status is Status.FAIL and "compact JSON" in found.summary
    assert outcome.exit_code == 1


def test_github_uppercase_escapes_are_a_provider_quirk() -> None:
    body = b'{"action":"opened","issue":{"title":"bell \\u001B and tab"}}'
    headers = sign_headers("github", GITHUB_SECRET, body)
    json_stringify = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    outcome = debug_signature(json_stringify, headers, [GITHUB_SECRET])
    found = finding(outcome, "signature-body-reserialized")
    assert "uppercase" in found.summary and "raw body" in found.summary


def test_stripe_pretty_printed_body_reserialized_by_express_json() -> None:
    event = {"id": "evt_1", "object": "event", "type": "invoice.paid", "data": {"object": {"amount_paid": 2000}}}
    stripe_bytes = json.dumps(event, indent=2).encode()
    headers = sign_headers("stripe", STRIPE_SECRET, stripe_bytes, timestamp=NOW)
    json_stringify = json.dumps(event, separators=(",", ":")).encode()
    outcome = debug_signature(json_stringify, headers, [STRIPE_SECRET], now=NOW)
    assert "2-space indentation" in finding(outcome, "signature-body-reserialized").summary


def test_trailing_newline_added_is_whitespace(push_body: bytes) -> None:
    headers = sign_headers("stripe", STRIPE_SECRET, push_body, timestamp=NOW)
    outcome = debug_signature(push_body + b"\n", headers, [STRIPE_SECRET], now=NOW)
    assert "trailing" in finding(outcome, "signature-body-whitespace-changed").summary


def test_sendgrid_crlf_stripped_is_whitespace() -> None:
    outcome = debug_signature(SENDGRID_BODY.rstrip(), sendgrid_headers(), [SENDGRID_KEY])
    assert "CRLF" in finding(outcome, "signature-body-whitespace-changed").summary
    assert outcome.metrics["scheme"] == "sendgrid"


def test_latin1_mojibake_is_encoding_changed(issue_body_with_accents: bytes) -> None:
    headers = sign_headers("github", GITHUB_SECRET, issue_body_with_accents)
    read_as_latin1 = issue_body_with_accents.decode("latin-1", "replace").encode("utf-8")
    outcome = debug_signature(read_as_latin1, headers, [GITHUB_SECRET])
    found = finding(outcome, "signature-body-encoding-changed")
    assert "mojibake" in found.summary and "non-ASCII" in found.summary


def test_api_gateway_base64_body_is_wrapped(push_body: bytes) -> None:
    headers = sign_headers("github", GITHUB_SECRET, push_body)
    outcome = debug_signature(base64.b64encode(push_body), headers, [GITHUB_SECRET])
    assert "base64" in finding(outcome, "signature-body-wrapped").summary


def test_github_form_payload_decoded_by_framework_is_wrapped(push_body: bytes) -> None:
    form_body = b"payload=" + quote_plus(push_body.decode()).encode()
    headers = sign_headers("github", GITHUB_SECRET, form_body)
    outcome = debug_signature(push_body, headers, [GITHUB_SECRET])
    assert "payload=" in finding(outcome, "signature-body-wrapped").summary


def test_gzip_body_is_wrapped(push_body: bytes) -> None:
    headers = sign_headers("shopify", "shpss_app_secret_0123456789", push_body)
    outcome = debug_signature(gzip.compress(push_body), headers, ["shpss_app_secret_0123456789"])
    assert "gunzipped" in finding(outcome, "signature-body-wrapped").summary


def test_standard_webhooks_sender_that_skips_base64_decoding_is_secret_format(push_body: bytes) -> None:
    # A sender that signs with the whole whsec_ string as the key (the Notifuse bug), via the generic scheme.
    options = {
        "header": "webhook-signature",
        "encoding": "base64",
        "prefix": "v1,",
        "template": "{id}.{timestamp}.{body}",
        "timestamp_header": "webhook-timestamp",
        "id_header": "webhook-id",
    }
    headers = sign_headers("hmac", SW_SECRET, push_body, msg_id="msg_1", timestamp=NOW, options=options)
    outcome = debug_signature(push_body, headers, [SW_SECRET], now=NOW)
    found = finding(outcome, "signature-secret-format")
    assert "the secret string as UTF-8" in found.summary and "base64-decoded" in found.summary


def test_secret_with_trailing_newline_is_secret_format(push_body: bytes) -> None:
    headers = sign_headers("stripe", STRIPE_SECRET, push_body, timestamp=NOW)
    outcome = debug_signature(push_body, headers, [STRIPE_SECRET + "\n"], now=NOW)
    assert "whitespace" in finding(outcome, "signature-secret-format").summary
    shape = finding(outcome, "signature-secret-shape")
    assert shape.status is Status.WARN and "whitespace" in shape.summary


def test_stripe_secret_with_whsec_stripped_is_secret_format(push_body: bytes) -> None:
    headers = sign_headers("stripe", STRIPE_SECRET, push_body, timestamp=NOW)
    outcome = debug_signature(push_body, headers, [STRIPE_SECRET.removeprefix("whsec_")], now=NOW)
    assert "whsec_" in finding(outcome, "signature-secret-format").summary


SQUARE_KEY = "Ibxx_5AKakO-3qeNVR61Dw"


def test_square_hex_signature_is_digest_encoding() -> None:
    # square-go-sdk's test carried the same digest as hex, where Square sends base64.
    hex_header = "185e1892b2601810d9f4d2186cd5c19cccea6f61e82f8456fd2eaf919f7fd8de"
    outcome = debug_signature(SQUARE_BODY, {"x-square-hmacsha256-signature": hex_header}, [SQUARE_KEY], url=SQUARE_URL)
    found = finding(outcome, "signature-digest-encoding")
    assert "lowercase hex" in found.summary and "base64" in found.summary


def test_square_published_vector_is_valid() -> None:
    header = {"x-square-hmacsha256-signature": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="}
    assert codes(debug_signature(SQUARE_BODY, header, [SQUARE_KEY], url=SQUARE_URL))[0] == "signature-valid"


def test_github_prefix_missing_is_digest_encoding(push_body: bytes) -> None:
    digest = sign_headers("github", GITHUB_SECRET, push_body)["X-Hub-Signature-256"].removeprefix("sha256=")
    outcome = debug_signature(push_body, {"X-Hub-Signature-256": digest}, [GITHUB_SECRET])
    assert codes(outcome)[0] == "signature-digest-encoding"


def test_sha1_digest_in_sha256_scheme_is_wrong_algorithm() -> None:
    legacy = sign_headers("github-sha1", SQUARE_KEY, SQUARE_URL.encode() + SQUARE_BODY)["X-Hub-Signature"]
    sha1_b64 = base64.b64encode(bytes.fromhex(legacy.removeprefix("sha1="))).decode()
    outcome = debug_signature(
        SQUARE_BODY, {"x-square-hmacsha256-signature": sha1_b64}, [SQUARE_KEY], scheme="square", url=SQUARE_URL
    )
    found = finding(outcome, "signature-wrong-algorithm")
    assert "SHA1" in found.summary and found.evidence_dict()["algorithm that matches"] == "sha1"


def test_zendesk_body_then_timestamp_is_content_template() -> None:
    body = b'{"type":"zen:event-type:ticket.created","detail":{"id":"42"}}'
    ts = "2021-07-25T10:00:00Z"
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
    import hmac

    older_doc_order = base64.b64encode(hmac.new(secret.encode(), body + ts.encode(), hashlib.sha256).digest()).decode()
    headers = {"X-Zendesk-Webhook-Signature": older_doc_order, "X-Zendesk-Webhook-Signature-Timestamp": ts}
    outcome = debug_signature(body, headers, [secret], now=1627207200)
    found = finding(outcome, "signature-content-template")
    assert found.evidence_dict()["template that matches"] == "{body}{timestamp}"


def test_slack_without_v0_prefix_is_content_template() -> None:
    import hmac

    body = b"token=abc&team_id=T1&command=%2Fdo"
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    sig = hmac.new(secret.encode(), b"1531420618:" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Signature": f"v0={sig}", "X-Slack-Request-Timestamp": "1531420618"}
    outcome = debug_signature(body, headers, [secret], now=1531420618)
    assert (
        finding(outcome, "signature-content-template").evidence_dict()["template that matches"] == "{timestamp}:{body}"
    )


def test_twilio_behind_tls_proxy_is_url_mismatch() -> None:
    body = b"CallSid=CA123&From=%2B14158675309&To=%2B18005551212"
    public = "https://example.com/twilio/voice"
    headers = sign_headers("twilio", "0123456789abcdef0123456789abcdef", body, url=public)
    outcome = debug_signature(
        body, headers, ["0123456789abcdef0123456789abcdef"], url="http://example.com/twilio/voice"
    )
    found = finding(outcome, "signature-url-mismatch")
    assert found.evidence_dict()["URL that matches"] == public


def test_rotation_old_secret_and_second_entry() -> None:
    body = b'{"type":"user.created"}'
    old, new = SW_SECRET, "whsec_" + base64.b64encode(b"n" * 32).decode()
    sig_old = sign_headers("standard-webhooks", old, body, msg_id="msg_2", timestamp=NOW)
    headers = dict(sig_old)
    headers["webhook-signature"] = f"v1a,AAAA v1,{base64.b64encode(b'x' * 32).decode()} {sig_old['webhook-signature']}"
    outcome = debug_signature(body, headers, [new, old], now=NOW)
    assert codes(outcome) == ["signature-valid", "signature-old-secret-matched"]
    assert outcome.metrics["matched_entry"] == "entry 3 of 3"
    assert "entry 3 of 3 matched" in finding(outcome, "signature-valid").summary
    assert fingerprint_secret(old) in outcome.metrics["matched_secret"]
    assert [row["matched"] for row in outcome.tables["signature entries"]] == ["no", "yes"]  # v1a entry skipped
    assert outcome.exit_code == 0


def test_wrong_secret_with_untouched_body_ranks_secret_first(push_body: bytes) -> None:
    headers = sign_headers("github", GITHUB_SECRET, push_body)
    outcome = debug_signature(push_body, headers, ["some other secret entirely"])
    found = finding(outcome, "signature-no-match")
    assert found.evidence_dict()["likely cause 1"].startswith("a different secret")
    assert "raw request bytes" in found.summary
    assert "some other secret" not in json.dumps(outcome.to_dict())


def test_no_match_with_mojibake_ranks_altered_body_first(issue_body_with_accents: bytes) -> None:
    headers = sign_headers("github", GITHUB_SECRET, issue_body_with_accents)
    damaged = issue_body_with_accents.decode("latin-1", "replace").encode("utf-8")
    outcome = debug_signature(damaged, headers, ["some other secret entirely"])
    assert finding(outcome, "signature-no-match").evidence_dict()["likely cause 1"].startswith("the body was changed")


@pytest.mark.parametrize(
    ("timestamp", "now", "cause"),
    [
        (NOW * 1000, NOW, "milliseconds"),
        (NOW, NOW + 2 * 3600 + 20, "timezone"),
        (NOW, NOW - 900, "clock-behind"),
        (NOW, NOW + 3 * 86400, "replay"),
        (NOW, NOW + 1200, "delay"),
    ],
)
def test_valid_signature_with_stale_timestamp(push_body: bytes, timestamp: int, now: int, cause: str) -> None:
    headers = sign_headers("standard-webhooks", SW_SECRET, push_body, msg_id="msg_3", timestamp=timestamp)
    outcome = debug_signature(push_body, headers, [SW_SECRET], now=now)
    assert codes(outcome) == ["signature-valid", "signature-timestamp-stale"]
    stale = finding(outcome, "signature-timestamp-stale")
    assert stale.evidence_dict()["likely cause"] == cause
    assert outcome.metrics["timestamp"]["cause"] == cause and outcome.exit_code == 1


def test_stripe_accepts_future_timestamps_like_its_library(push_body: bytes) -> None:
    headers = sign_headers("stripe", STRIPE_SECRET, push_body, timestamp=NOW + 900)
    outcome = debug_signature(push_body, headers, [STRIPE_SECRET], now=NOW)
    assert codes(outcome) == ["signature-valid"]


def test_tolerance_override_is_used(push_body: bytes) -> None:
    headers = sign_headers("slack", "8f742231b10e8888abcd99yyyzzz85a5", push_body, timestamp=NOW)
    assert codes(debug_signature(push_body, headers, ["8f742231b10e8888abcd99yyyzzz85a5"], now=NOW + 400)) == [
        "signature-valid",
        "signature-timestamp-stale",
    ]
    relaxed = debug_signature(push_body, headers, ["8f742231b10e8888abcd99yyyzzz85a5"], now=NOW + 400, tolerance_s=600)
    assert codes(relaxed) == ["signature-valid"]


def test_api_key_instead_of_signing_secret_is_secret_shape(push_body: bytes) -> None:
    headers = sign_headers("stripe", STRIPE_SECRET, push_body, timestamp=NOW)
    outcome = debug_signature(push_body, headers, ["sk_test_51Habcdefghijklmnop"], now=NOW)
    shape = finding(outcome, "signature-secret-shape")
    assert "Stripe secret API key" in shape.summary
    assert "signature-no-match" in codes(outcome)


def test_short_standard_webhooks_key_is_secret_shape(push_body: bytes) -> None:
    short = "whsec_" + base64.b64encode(b"tiny-key").decode()
    headers = sign_headers("standard-webhooks", short, push_body, msg_id="m", timestamp=NOW)
    outcome = debug_signature(push_body, headers, [short], now=NOW)
    assert "8 bytes" in finding(outcome, "signature-secret-shape").summary


def test_discord_ed25519_valid_and_reserialized() -> None:
    from diagnostics.signatures.asymmetric import public_key_text

    seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    body = json.dumps({"type": 1, "id": "123", "application_id": "456"}, separators=(",", ":")).encode()
    headers = sign_headers("discord", seed, body, timestamp=NOW)
    public = public_key_text("discord", seed)
    assert codes(debug_signature(body, headers, [public])) == ["signature-valid"]
    spaced = json.dumps(json.loads(body)).encode()
    assert codes(debug_signature(spaced, headers, [public]))[0] == "signature-body-reserialized"


def test_standard_webhooks_v1a_is_detected_and_verified(push_body: bytes) -> None:
    from diagnostics.signatures.asymmetric import public_key_text

    seed = "whsk_" + base64.b64encode(bytes(range(32))).decode()
    headers = sign_headers("standard-webhooks-v1a", seed, push_body, msg_id="msg_4", timestamp=NOW)
    outcome = debug_signature(push_body, headers, [public_key_text("standard-webhooks-v1a", seed)], now=NOW)
    assert codes(outcome) == ["signature-valid"]
    assert outcome.metrics["scheme"] == "standard-webhooks-v1a"


def test_twilio_json_body_altered_is_named() -> None:
    event = {"event": "call.completed", "sid": "CA1"}
    body = json.dumps(event, separators=(",", ":")).encode()
    url = f"https://example.com/hook?bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = sign_headers("twilio", "0123456789abcdef0123456789abcdef", body, url=url)
    outcome = debug_signature(json.dumps(event).encode(), headers, ["0123456789abcdef0123456789abcdef"], url=url)
    assert codes(outcome)[0] == "signature-body-reserialized"


@pytest.mark.parametrize(
    ("headers", "kwargs", "message"),
    [
        ({"X-Other": "1"}, {}, "no known signature header"),
        ({"X-Other": "1"}, {"scheme": "stripe"}, "needs the Stripe-Signature header"),
        ({"Stripe-Signature": "t=1,v0=ab"}, {}, "must contain t=<unix> and at least one v1"),
        ({"Stripe-Signature": "garbage"}, {}, "is not key=value"),
        ({"X-Hub-Signature-256": "sha256=%%%not-a-digest"}, {}, "neither hex nor base64"),
        ({"X-Hub-Signature-256": "sha256=00"}, {"scheme": "nope"}, "unknown scheme 'nope'"),
        ({"X-Twilio-Signature": "AAAA"}, {}, "pass the URL"),
        ({"webhook-signature": "v1,AAAA", "webhook-id": "m"}, {}, "needs the webhook-timestamp header"),
    ],
)
def test_unusable_input_is_an_input_error(headers, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        debug_signature(b"{}", headers, ["a-secret-of-some-length"], **kwargs)


def test_empty_secret_and_oversized_body_are_input_errors() -> None:
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    with pytest.raises(InputError, match="empty"):
        debug_signature(b"{}", headers, ["  "])
    with pytest.raises(InputError, match="no secret"):
        debug_signature(b"{}", headers, [])
    with pytest.raises(InputError, match="limit"):
        debug_signature(b"x" * (10 * 1024 * 1024), headers, ["secret"])


def test_non_utf8_form_body_is_an_input_error_for_twilio() -> None:
    with pytest.raises(InputError, match="not valid UTF-8"):
        debug_signature(b"Body=\xff\xfe", {"X-Twilio-Signature": "AAAA"}, ["token"], url="https://example.com/x")


def test_two_causes_at_once_are_both_named(push_body: bytes) -> None:
    headers = sign_headers("stripe", STRIPE_SECRET, push_body, timestamp=NOW)
    reserialized = json.dumps(json.loads(push_body)).encode()
    outcome = debug_signature(reserialized, headers, [STRIPE_SECRET + "\n"], now=NOW)
    assert {"signature-secret-format", "signature-body-reserialized"} <= set(codes(outcome))
    assert [c["axis"] for c in outcome.metrics["changes"]] == ["secret-format", "body"]
