"""Key derivations and secret-shape checks."""

from __future__ import annotations

import base64

import pytest

from diagnostics.errors import InputError
from diagnostics.signatures import keys


def test_standard_webhooks_derivation_strips_prefix_and_decodes() -> None:
    raw = bytes(range(24))
    secret = "whsec_" + base64.b64encode(raw).decode()
    assert keys.derive(secret, "whsec-base64") == raw
    assert keys.derive(base64.b64encode(raw).decode().rstrip("="), "whsec-base64") == raw  # unpadded, no prefix


def test_stripe_derivation_keeps_the_whole_string() -> None:
    assert keys.derive("whsec_abc", "utf8") == b"whsec_abc"


def test_undecodable_standard_webhooks_secret_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not base64"):
        keys.derive("whsec_not*base64!", "whsec-base64")


def test_variants_cover_the_common_mistakes() -> None:
    raw = b"k" * 24
    secret = ' "whsec_' + base64.b64encode(raw).decode() + '"\n'
    labels = {v.label: v.key for v in keys.key_variants(secret)}
    assert labels["whsec_ stripped, rest base64-decoded (with the quotes around it removed)"] == raw
    assert any(key == secret.strip().encode() for key in labels.values())
    assert len(set(labels.values())) == len(labels)  # deduplicated by key bytes


def test_whsec_is_put_back_for_a_stripped_stripe_secret() -> None:
    assert b"whsec_abcdef" in {v.key for v in keys.key_variants("abcdef")}


@pytest.mark.parametrize(
    ("secret", "scheme", "derivation", "problem"),
    [
        ("sk_live_0123456789abcdefghij", "stripe", "utf8", "api-key"),
        ("shpat_0123456789abcdef01234567", "shopify", "utf8", "api-key"),
        ("whsec_abc\n", "stripe", "utf8", "whitespace"),
        ("'whsec_0123456789abcdef0123'", "stripe", "utf8", "quotes"),
        ("0123456789abcdef0123", "stripe", "utf8", "prefix"),
        ("whsec_" + base64.b64encode(b"short").decode(), "standard-webhooks", "whsec-base64", "short-key"),
        ("whsec_" + base64.b64encode(b"s" * 20).decode(), "standard-webhooks", "whsec-base64", "key-size"),
        ("whsec_***", "standard-webhooks", "whsec-base64", "not-base64"),
        ("tiny", "github", "utf8", "short-key"),
    ],
)
def test_shape_problems(secret: str, scheme: str, derivation: str, problem: str) -> None:
    assert problem in {p.problem for p in keys.shape_problems(secret, scheme, derivation)}


def test_a_good_secret_has_no_shape_problem() -> None:
    good = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    assert keys.shape_problems(good, "standard-webhooks", "whsec-base64") == []
    assert keys.shape_problems("whsec_9fJz3kQ2mXv7LpR4sT8uW1yZ", "stripe", "utf8") == []
