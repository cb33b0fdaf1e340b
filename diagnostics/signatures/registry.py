"""Scheme names, aliases, formula text and header-based auto-detection.

One explicit table, greppable, in the order `schemes` prints it. Detection looks at header
names (and, where two schemes share a header, at the other headers present) and always says why
it chose what it chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from diagnostics.errors import InputError
from diagnostics.signatures.asymmetric import Discord, SendGrid, StandardWebhooksV1a
from diagnostics.signatures.base import Headers, Scheme
from diagnostics.signatures.generic_hmac import GenericHmac
from diagnostics.signatures.hmac_schemes import (
    GitHub,
    GitHubSha1,
    Intercom,
    Linear,
    Paddle,
    Shopify,
    Slack,
    Square,
    Zendesk,
)
from diagnostics.signatures.standard_webhooks import StandardWebhooks, Svix
from diagnostics.signatures.stripe import Stripe
from diagnostics.signatures.twilio import Twilio

_FIXED: dict[str, type[Scheme]] = {
    "standard-webhooks": StandardWebhooks,
    "stripe": Stripe,
    "github": GitHub,
    "github-sha1": GitHubSha1,
    "shopify": Shopify,
    "slack": Slack,
    "twilio": Twilio,
    "square": Square,
    "zendesk": Zendesk,
    "intercom": Intercom,
    "paddle": Paddle,
    "linear": Linear,
    "sendgrid": SendGrid,
    "discord": Discord,
    "standard-webhooks-v1a": StandardWebhooksV1a,
}
ALIASES: dict[str, type[Scheme]] = {"svix": Svix}


def scheme_names() -> list[str]:
    """Canonical scheme names, in display order (aliases such as `svix` are accepted too)."""
    return [*_FIXED, "hmac"]


def get_scheme(name: str, options: Mapping[str, Any] | None = None) -> Scheme:
    """The scheme called `name` (or an alias); `hmac` is assembled from `options`."""
    key = (name or "").strip().lower()
    if key == "hmac":
        return GenericHmac(options)
    factory = _FIXED.get(key) or ALIASES.get(key)
    if factory is None:
        known = ", ".join([*scheme_names(), *ALIASES])
        raise InputError(f"unknown scheme {name!r}; known schemes: {known}", field="--scheme")
    return factory()


def scheme_formula(name: str, options: Mapping[str, Any] | None = None) -> str:
    return get_scheme(name, options).formula


@dataclass(frozen=True)
class Detection:
    """Which scheme auto-detection chose, why, and which other signature headers were present."""

    scheme: str
    reason: str
    also_present: tuple[str, ...] = ()


# (header, scheme) in priority order: specific, unambiguous headers first.
_RULES: tuple[tuple[str, str], ...] = (
    ("Stripe-Signature", "stripe"),
    ("X-Hub-Signature-256", "github"),
    ("X-Shopify-Hmac-Sha256", "shopify"),
    ("shopify-hmac-sha256", "shopify"),
    ("X-Slack-Signature", "slack"),
    ("X-Twilio-Email-Event-Webhook-Signature", "sendgrid"),
    ("X-Twilio-Signature", "twilio"),
    ("x-square-hmacsha256-signature", "square"),
    ("X-Zendesk-Webhook-Signature", "zendesk"),
    ("Paddle-Signature", "paddle"),
    ("Linear-Signature", "linear"),
    ("X-Signature-Ed25519", "discord"),
    ("webhook-signature", "standard-webhooks"),
    ("svix-signature", "standard-webhooks"),
    ("X-Hub-Signature", "github-sha1"),
)


def detect_scheme(headers: Headers, options: Mapping[str, Any] | None = None) -> Detection:
    """Choose the scheme from the headers; InputError when no signature header is recognised."""
    hits = [(h, s) for h, s in _RULES if headers.has(h)]
    custom = (options or {}).get("header")
    if custom and headers.has(str(custom)) and not any(h.lower() == str(custom).lower() for h, _ in hits):
        hits.append((str(custom), "hmac"))
    if not hits:
        present = ", ".join(headers.names()) or "none"
        raise InputError(
            f"no known signature header found (headers given: {present}); pass --scheme NAME",
            field="--header",
        )
    header, scheme = hits[0]
    reason = f"the {header} header is present"
    if scheme == "standard-webhooks":
        value = " ".join(headers.get_all(header))
        versions = {item.partition(",")[0] for item in value.split()}
        if "v1a" in versions and "v1" not in versions:
            scheme = "standard-webhooks-v1a"
            reason += " and carries only v1a (Ed25519) entries"
        elif header.lower().startswith("svix"):
            reason += " (Svix names, Standard Webhooks signing)"
    if scheme == "github-sha1":
        if headers.has("X-GitHub-Event") or headers.has("X-GitHub-Delivery"):
            reason += " with X-GitHub-* headers"
        else:
            scheme = "intercom"
            reason += " without X-GitHub-* headers, so Intercom (same formula as GitHub's legacy SHA-1)"
    others = tuple(h for h, _ in hits[1:])
    return Detection(scheme=scheme, reason=reason, also_present=others)
