"""Public-key schemes: SendGrid (ECDSA P-256), Discord (Ed25519, hex) and Standard Webhooks
v1a (Ed25519, base64). The receiver holds only the public key; signing needs the private key.

Key inputs accepted for verification: the public key in the provider's format, or the private
key (its public half is derived). For signing: the private key.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import TYPE_CHECKING

from diagnostics.errors import InputError
from diagnostics.signatures import digests
from diagnostics.signatures.base import Headers, Match, Presented, Scheme, check_body, check_secret, render_template
from diagnostics.signatures.hmac_core import make_entries
from diagnostics.signatures.standard_webhooks import new_message_id, read_entries, read_triplet

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

# `cryptography` is imported inside the methods that use keys: listing or detecting schemes
# (`schemes`, every `verify` of an HMAC scheme) then never pays for loading it.
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def _b64(text: str) -> bytes | None:
    text = text.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


class AsymmetricScheme(Scheme):
    """Sign with a private key, verify with a public key; content comes from the template."""

    def private_key(self, secret: str) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
        raise NotImplementedError

    def public_key(self, secret: str) -> PublicKey:
        raise NotImplementedError

    def signature_bytes(self, private, content: bytes) -> bytes:  # type: ignore[no-untyped-def]
        return private.sign(content)

    def check(self, public: PublicKey, signature: bytes, content: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            if isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(signature, content, ec.ECDSA(hashes.SHA256()))
            else:
                public.verify(signature, content)
        except (InvalidSignature, ValueError):
            return False
        return True

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None, timestamp: int | None, url: str | None
    ) -> dict[str, str]:
        check_secret(secret)
        check_body(body)
        ts = str(int(time.time()) if timestamp is None else int(timestamp))
        parts = {"timestamp": ts.encode(), "id": (msg_id or new_message_id()).encode()}
        signature = self.signature_bytes(self.private_key(secret), render_template(self.template, parts, body))
        return self.format(signature, parts)

    def format(self, signature: bytes, parts: dict[str, bytes]) -> dict[str, str]:
        raise NotImplementedError

    def verify(self, presented: Presented, body: bytes, secrets: list[str], url: str | None) -> Match | None:
        content = render_template(self.template, self.parts(presented, url), body)
        for secret_index, secret in enumerate(secrets):
            try:
                public = self.public_key(secret)
            except InputError:
                continue
            for entry in presented.entries:
                if entry.digest is not None and self.check(public, entry.digest, content):
                    return Match(entry, secret_index, self.key_hint)
        return None


class SendGrid(AsymmetricScheme):
    name = "sendgrid"
    label = "SendGrid Event Webhook"
    family = "ecdsa"
    formula = (
        "X-Twilio-Email-Event-Webhook-Signature: base64(DER ECDSA-P256-SHA256(private key, "
        "X-Twilio-Email-Event-Webhook-Timestamp + raw body)); verified with the base64 public key"
    )
    headers = ("X-Twilio-Email-Event-Webhook-Signature",)
    template = "{timestamp}{body}"
    key_hint = "the verification key (base64 DER public key)"

    def private_key(self, secret: str) -> ec.EllipticCurvePrivateKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        key = _load_private(secret)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InputError("SendGrid signing needs an EC P-256 private key (PEM or base64 DER)", field="--secret")
        return key

    def signature_bytes(self, private, content: bytes) -> bytes:  # type: ignore[no-untyped-def]
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return private.sign(content, ec.ECDSA(hashes.SHA256()))

    def public_key(self, secret: str) -> PublicKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        text = secret.strip()
        try:
            if text.startswith("-----BEGIN PUBLIC"):
                key = serialization.load_pem_public_key(text.encode())
            elif text.startswith("-----BEGIN"):
                key = _load_private(text).public_key()
            else:
                der = _b64(text)
                if der is None:
                    raise ValueError("not base64")
                try:
                    key = serialization.load_der_public_key(der)
                except ValueError:
                    key = serialization.load_der_private_key(der, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise InputError(
                "the SendGrid verification key is not a base64 or PEM EC public key", field="--secret"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InputError("the SendGrid verification key is not an EC key", field="--secret")
        return key

    def format(self, signature: bytes, parts: dict[str, bytes]) -> dict[str, str]:
        return {
            self.headers[0]: base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": parts["timestamp"].decode(),
        }

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        ts = headers.require("X-Twilio-Email-Event-Webhook-Timestamp", self.name)
        entries = make_entries([("", value)], "base64")
        return Presented(self.headers[0], entries, timestamp=ts)


def _load_private(secret: str):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    text = secret.strip()
    try:
        if text.startswith("-----BEGIN"):
            return serialization.load_pem_private_key(text.encode(), password=None)
        der = _b64(text)
        if der is None:
            raise ValueError("not base64")
        return serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError("the private key is neither PEM nor base64 DER", field="--secret") from exc


class Discord(AsymmetricScheme):
    name = "discord"
    label = "Discord interactions"
    family = "ed25519"
    formula = (
        "X-Signature-Ed25519: hex(Ed25519(private key, X-Signature-Timestamp + raw body)); "
        "verified with the application's hex public key"
    )
    headers = ("X-Signature-Ed25519",)
    template = "{timestamp}{body}"
    key_hint = "the application public key (64 hex characters)"

    def private_key(self, secret: str) -> ed25519.Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        text = secret.strip()
        if not (_HEX.match(text) and len(text) in (64, 128)):
            raise InputError("Discord signing needs a 32-byte Ed25519 seed as 64 hex characters", field="--secret")
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text)[:32])

    def public_key(self, secret: str) -> PublicKey:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        text = secret.strip()
        if not (_HEX.match(text) and len(text) == 64):
            raise InputError("a Discord public key is 64 hex characters", field="--secret")
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))

    def format(self, signature: bytes, parts: dict[str, bytes]) -> dict[str, str]:
        return {self.headers[0]: signature.hex(), "X-Signature-Timestamp": parts["timestamp"].decode()}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        ts = headers.require("X-Signature-Timestamp", self.name)
        return Presented(self.headers[0], make_entries([("", value)], "hex"), timestamp=ts)


class StandardWebhooksV1a(AsymmetricScheme):
    name = "standard-webhooks-v1a"
    label = "Standard Webhooks v1a (Ed25519)"
    family = "ed25519"
    formula = (
        'webhook-signature: "v1a," + base64(Ed25519(whsk_ seed, webhook-id + "." + webhook-timestamp + "." + body)); '
        "verified with the whpk_ public key"
    )
    headers = ("webhook-signature", "svix-signature")
    template = "{id}.{timestamp}.{body}"
    tolerance_s = 300.0
    key_hint = "the whpk_ public key"

    def private_key(self, secret: str) -> ed25519.Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        raw = _b64(secret.strip().removeprefix("whsk_"))
        if raw is None or len(raw) not in (32, 64):
            raise InputError("a v1a signing key is whsk_ + base64 of a 32-byte Ed25519 seed", field="--secret")
        return ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])

    def public_key(self, secret: str) -> PublicKey:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        text = secret.strip()
        if text.startswith("whsk_"):
            return self.private_key(text).public_key()
        raw = _b64(text.removeprefix("whpk_"))
        if raw is None or len(raw) != 32:
            raise InputError("a v1a public key is whpk_ + base64 of 32 bytes", field="--secret")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)

    def format(self, signature: bytes, parts: dict[str, bytes]) -> dict[str, str]:
        return {
            "webhook-id": parts["id"].decode("utf-8"),
            "webhook-timestamp": parts["timestamp"].decode(),
            "webhook-signature": "v1a," + digests.encode(signature, "base64"),
        }

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        prefix, msg_id, ts, value = read_triplet(headers, self.name)
        entries, skipped = read_entries(value, "v1a", "base64", prefix + "signature")
        return Presented(prefix + "signature", entries, timestamp=ts, msg_id=msg_id, skipped=skipped)


def public_key_text(scheme: str, private_secret: str) -> str:
    """The public key a receiver would configure, in the provider's format (for tests and demos)."""
    from cryptography.hazmat.primitives import serialization

    if scheme == "discord":
        pub = Discord().private_key(private_secret).public_key()
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    if scheme == "standard-webhooks-v1a":
        pub = StandardWebhooksV1a().private_key(private_secret).public_key()
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "whpk_" + base64.b64encode(raw).decode()
    if scheme == "sendgrid":
        pub = SendGrid().private_key(private_secret).public_key()
        der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()
    raise InputError(f"{scheme} is not a public-key scheme", field="--scheme")
