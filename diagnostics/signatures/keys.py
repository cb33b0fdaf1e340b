"""Secrets: the canonical key derivation of each scheme, the variants people get wrong, and the
shape checks that catch an API key pasted where a signing secret belongs.

The same `whsec_` prefix means opposite things: Stripe feeds the whole string to HMAC as UTF-8,
Standard Webhooks strips it and base64-decodes the rest. Most "signature never matches" tickets
with a correct body come down to one of the derivations listed here.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from diagnostics.errors import InputError

WHSEC = "whsec_"
MIN_KEY_BYTES = 16
_B64_CHARS = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_B64URL_CHARS = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})+$")

API_KEY_PREFIXES = {
    "sk_live_": "a Stripe secret API key",
    "sk_test_": "a Stripe secret API key",
    "rk_live_": "a Stripe restricted API key",
    "rk_test_": "a Stripe restricted API key",
    "pk_live_": "a Stripe publishable key",
    "pk_test_": "a Stripe publishable key",
    "shpat_": "a Shopify Admin API access token",
    "shpca_": "a Shopify custom-app access token",
    "shppa_": "a Shopify private-app password",
    "ghp_": "a GitHub personal access token",
    "github_pat_": "a GitHub personal access token",
    "xoxb-": "a Slack bot token",
    "xoxp-": "a Slack user token",
    "SG.": "a SendGrid API key",
    "key-": "a Mailgun API key",
}


def b64decode_lenient(text: str, *, urlsafe: bool = False) -> bytes | None:
    """Base64 with the padding fixed (the Python SDKs accept unpadded secrets); None if not base64."""
    stripped = text.strip().rstrip("=")
    pattern = _B64URL_CHARS if urlsafe else _B64_CHARS
    if not stripped or not pattern.match(stripped):
        return None
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        return base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def derive_utf8(secret: str) -> bytes:
    """The secret string itself as UTF-8 (GitHub, Stripe incl. `whsec_`, Slack, Shopify ...)."""
    return secret.encode("utf-8")


def derive_whsec_base64(secret: str) -> bytes:
    """Standard Webhooks: strip `whsec_`, base64-decode the rest."""
    body = secret[len(WHSEC) :] if secret.startswith(WHSEC) else secret
    key = b64decode_lenient(body)
    if key is None:
        raise InputError(
            "the secret is not base64 after the whsec_ prefix, which Standard Webhooks requires",
            field="--secret",
        )
    return key


DERIVATIONS = {
    "utf8": (derive_utf8, "the secret string as UTF-8 bytes"),
    "whsec-base64": (derive_whsec_base64, "whsec_ stripped, the rest base64-decoded"),
}


def derive(secret: str, derivation: str) -> bytes:
    return DERIVATIONS[derivation][0](secret)


@dataclass(frozen=True)
class KeyVariant:
    """One way of turning the secret into HMAC key bytes, and what it means in words."""

    label: str
    key: bytes


def _cleanups(secret: str) -> list[tuple[str, str]]:
    """The secret as given, then with the usual environment-variable damage undone."""
    out = [("as given", secret)]
    trimmed = secret.strip()
    if trimmed != secret:
        out.append(("with surrounding whitespace or newline removed", trimmed))
    unquoted = trimmed.strip("\"'")
    if unquoted != trimmed:
        out.append(("with the quotes around it removed", unquoted))
    for prefix in ("v1,", "Bearer "):
        if unquoted.startswith(prefix):
            out.append((f"with a pasted {prefix.strip()!r} removed", unquoted[len(prefix) :]))
    return out


def key_variants(secret: str) -> list[KeyVariant]:
    """Every derivation worth trying (F4), deduplicated by key bytes, most common first."""
    variants: list[KeyVariant] = []
    seen: set[bytes] = set()

    def add(label: str, key: bytes | None) -> None:
        if key and key not in seen:
            seen.add(key)
            variants.append(KeyVariant(label, key))

    for how, text in _cleanups(secret):
        suffix = "" if how == "as given" else f" ({how})"
        add(f"the secret string as UTF-8{suffix}", text.encode("utf-8"))
        bare = text[len(WHSEC) :] if text.startswith(WHSEC) else None
        if bare is not None:
            add(f"whsec_ stripped, rest as UTF-8{suffix}", bare.encode("utf-8"))
            add(f"whsec_ stripped, rest base64-decoded{suffix}", b64decode_lenient(bare))
            add(f"whsec_ stripped, rest base64url-decoded{suffix}", b64decode_lenient(bare, urlsafe=True))
        else:
            add(f"'whsec_' put back in front, as UTF-8{suffix}", (WHSEC + text).encode("utf-8"))
        add(f"the whole string base64-decoded{suffix}", b64decode_lenient(text))
        add(f"the whole string base64url-decoded{suffix}", b64decode_lenient(text, urlsafe=True))
        if _HEX.match(text):
            add(f"the string hex-decoded{suffix}", bytes.fromhex(text))
    return variants


@dataclass(frozen=True)
class ShapeProblem:
    """Something about the secret itself that is wrong before any signature is computed."""

    problem: str
    detail: str


def shape_problems(secret: str, scheme: str, derivation: str) -> list[ShapeProblem]:
    """What is wrong with the secret's own shape for this scheme (F3, F4): never shows the secret."""
    problems: list[ShapeProblem] = []
    if secret != secret.strip():
        problems.append(
            ShapeProblem("whitespace", "the secret starts or ends with whitespace or a newline (an env-var artefact)")
        )
    core = secret.strip()
    if len(core) >= 2 and core[0] == core[-1] and core[0] in "\"'":
        problems.append(ShapeProblem("quotes", "the secret is wrapped in quotes, which become part of the key"))
    for prefix, what in API_KEY_PREFIXES.items():
        if core.startswith(prefix):
            problems.append(
                ShapeProblem(
                    "api-key", f"the secret starts with {prefix!r}: it looks like {what}, not a signing secret"
                )
            )
            break
    if scheme == "stripe" and not core.startswith(WHSEC) and not any(core.startswith(p) for p in API_KEY_PREFIXES):
        problems.append(ShapeProblem("prefix", "Stripe signing secrets start with 'whsec_'; this one does not"))
    if derivation == "whsec-base64":
        bare = core[len(WHSEC) :] if core.startswith(WHSEC) else core
        key = b64decode_lenient(bare)
        if key is None:
            problems.append(
                ShapeProblem("not-base64", "after 'whsec_' the secret is not base64, so it cannot be decoded")
            )
        elif len(key) < MIN_KEY_BYTES:
            problems.append(
                ShapeProblem("short-key", f"the secret decodes to only {len(key)} bytes (fewer than {MIN_KEY_BYTES})")
            )
        elif not 24 <= len(key) <= 64:
            problems.append(
                ShapeProblem("key-size", f"the secret decodes to {len(key)} bytes; the spec requires 24 to 64")
            )
    elif derivation == "utf8" and len(core.encode("utf-8")) < MIN_KEY_BYTES:
        problems.append(
            ShapeProblem(
                "short-key", f"the secret is only {len(core.encode('utf-8'))} bytes (fewer than {MIN_KEY_BYTES})"
            )
        )
    return problems
