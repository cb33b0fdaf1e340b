"""Standard Webhooks (and Svix, which signs the same way under `svix-*` header names).

Signed bytes are `id.timestamp.body`; the key is the secret with `whsec_` stripped and the rest
base64-decoded; the signature header is a space-separated list of `version,base64` entries, so
several signatures (key rotation) travel at once and unknown versions are skipped.
"""

from __future__ import annotations

import secrets as _random

from diagnostics.errors import InputError
from diagnostics.signatures import digests
from diagnostics.signatures.base import Entry, Headers, Presented
from diagnostics.signatures.hmac_core import HmacScheme


def new_message_id() -> str:
    return "msg_" + _random.token_urlsafe(18).replace("-", "A").replace("_", "B")


def read_entries(value: str, version: str, encoding: str, header: str) -> tuple[tuple[Entry, ...], tuple[str, ...]]:
    """Entries of `version` from a space-separated `v,sig` list, plus what was skipped."""
    items = value.split()
    chosen: list[tuple[int, str, str]] = []
    skipped: list[str] = []
    for position, item in enumerate(items, start=1):
        ver, comma, sig = item.partition(",")
        if not comma:
            if digests.decodings(item):
                chosen.append((position, "", item))  # a bare signature: entry without its version
                continue
            raise InputError(f"{header} entry {position} {item[:30]!r} is not 'version,signature'", field=header)
        if ver == version:
            chosen.append((position, ver, sig))
        else:
            skipped.append(f"entry {position} ({ver})")
    entries = tuple(
        Entry(
            index=pos,
            total=len(items),
            version=ver,
            text=sig,
            digest=digests.decode_canonical(sig, encoding) if ver == version else None,
        )
        for pos, ver, sig in chosen
    )
    if not entries:
        raise InputError(
            f"{header} has no {version!r} signature entry (found: {', '.join(skipped) or 'nothing'})", field=header
        )
    return entries, tuple(skipped)


def read_triplet(headers: Headers, scheme: str) -> tuple[str, str, str, str]:
    """(prefix, id, timestamp, signature) from `webhook-*` or, failing that, `svix-*` headers."""
    for prefix in ("webhook-", "svix-"):
        if headers.has(prefix + "signature"):
            return (
                prefix,
                headers.require(prefix + "id", scheme),
                headers.require(prefix + "timestamp", scheme),
                " ".join(headers.get_all(prefix + "signature")),
            )
    headers.require("webhook-signature", scheme)
    raise AssertionError("unreachable: require raises")


class StandardWebhooks(HmacScheme):
    name = "standard-webhooks"
    label = "Standard Webhooks / Svix"
    formula = (
        'webhook-signature: "v1," + base64(HMAC-SHA256(base64decode(secret without "whsec_"), '
        'webhook-id + "." + webhook-timestamp + "." + raw body)); space-separated entries'
    )
    headers = ("webhook-signature", "svix-signature")
    encoding = "base64"
    derivation = "whsec-base64"
    template = "{id}.{timestamp}.{body}"
    tolerance_s = 300.0
    header_prefix = "webhook-"

    def sign_parts(self, ts: int, msg_id: str | None, url: str | None, body: bytes) -> dict[str, bytes]:
        parts = super().sign_parts(ts, msg_id or new_message_id(), url, body)
        return parts

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        p = self.header_prefix
        return {
            f"{p}id": parts["id"].decode("utf-8"),
            f"{p}timestamp": parts["timestamp"].decode(),
            f"{p}signature": f"v1,{encoded}",
        }

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        prefix, msg_id, ts, value = read_triplet(headers, self.name)
        entries, skipped = read_entries(value, "v1", self.encoding, prefix + "signature")
        return Presented(prefix + "signature", entries, timestamp=ts, msg_id=msg_id, skipped=skipped)


class Svix(StandardWebhooks):
    """The alias `svix`: identical signing, `svix-*` header names."""

    name = "svix"
    header_prefix = "svix-"
