"""Property: whatever real payload, scheme and breakage, the debugger names the breakage.

Bodies are real GitHub payloads (with accents added so encoding damage is visible); each
breakage is applied the way real code applies it, and the finding code must name it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.pipeline.signature import debug_signature
from diagnostics.signatures import sign_headers

from .conftest import PAYLOADS

EVENTS = sorted({p.parent.name for p in PAYLOADS.glob("*/*.json")})[:12]
NOW = 1_700_000_000
SECRETS = {
    "github": "It's a Secret to Everybody",
    "stripe": "whsec_9fJz3kQ2mXv7LpR4sT8uW1yZ",
    "standard-webhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
    "shopify": "shpss_0123456789abcdef0123456789ab",
}

# breakage name -> (how the customer's stack changes the body, the code that must name it)
BODY_BREAKAGES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "json.dumps(json.loads(body))": (lambda b: json.dumps(json.loads(b)).encode(), "signature-body-reserialized"),
    "JSON.stringify(obj, null, 2)": (
        lambda b: json.dumps(json.loads(b), indent=2, ensure_ascii=False).encode(),
        "signature-body-reserialized",
    ),
    "API Gateway isBase64Encoded": (base64.b64encode, "signature-body-wrapped"),
    "body + newline": (lambda b: b + b"\n", "signature-body-whitespace-changed"),
    "latin-1 read, UTF-8 written": (
        lambda b: b.decode("latin-1").encode("utf-8"),
        "signature-body-encoding-changed",
    ),
}


def payload_bytes(event: str) -> bytes:
    path = sorted((PAYLOADS / event).glob("*.json"))[0]
    value = json.loads(path.read_text(encoding="utf-8"))
    value["note"] = "Zoë’s café — déjà vu"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=30, deadline=None)
@given(
    event=st.sampled_from(EVENTS),
    scheme=st.sampled_from(sorted(SECRETS)),
    breakage=st.sampled_from(sorted(BODY_BREAKAGES)),
)
def test_body_breakage_is_named(event: str, scheme: str, breakage: str) -> None:
    body = payload_bytes(event)
    headers = sign_headers(scheme, SECRETS[scheme], body, msg_id="msg_prop", timestamp=NOW)
    transform, code = BODY_BREAKAGES[breakage]
    outcome = debug_signature(transform(body), headers, [SECRETS[scheme]], now=NOW)
    assert [f.code for f in outcome.findings if f.status.value == "fail"] == [code], breakage


@settings(max_examples=20, deadline=None)
@given(
    event=st.sampled_from(EVENTS),
    scheme=st.sampled_from(sorted(SECRETS)),
    damage=st.sampled_from(["\n", " ", '"', "\r\n"]),
)
def test_secret_damage_is_named(event: str, scheme: str, damage: str) -> None:
    body = payload_bytes(event)
    secret = SECRETS[scheme]
    headers = sign_headers(scheme, secret, body, msg_id="msg_prop", timestamp=NOW)
    damaged = f'"{secret}"' if damage == '"' else secret + damage
    outcome = debug_signature(body, headers, [damaged], now=NOW)
    codes = [f.code for f in outcome.findings]
    if scheme == "standard-webhooks" and damage.isspace():
        # base64 decoding ignores surrounding whitespace (so does the official SDK): valid, shape still flagged
        assert codes == ["signature-valid", "signature-secret-shape"]
    else:
        assert codes[0] == "signature-secret-format" and "signature-secret-shape" in codes
