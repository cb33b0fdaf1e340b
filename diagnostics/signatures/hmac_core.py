"""The machinery every HMAC scheme shares: derive the key, build the signed bytes from a
template, compute the digest, and compare raw digest bytes in constant time.

A provider module only declares its header format (how entries and the timestamp are read and
written) and its recipe (template, algorithm, encoding, key derivation); everything else, and
the debugger's variant search, works from that declaration.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from diagnostics.errors import InputError
from diagnostics.signatures import digests, keys
from diagnostics.signatures.base import (
    Entry,
    Headers,
    Match,
    Presented,
    Scheme,
    check_body,
    check_secret,
    render_template,
)

ALGORITHMS: dict[str, Callable[[], object]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def mac(key: bytes, content: bytes, algorithm: str) -> bytes:
    return hmac.new(key, content, algorithm).digest()


def make_entries(texts: list[tuple[str, str]], encoding: str) -> tuple[Entry, ...]:
    """Entries from (version, digest text) pairs, canonically decoded where possible."""
    total = len(texts)
    return tuple(
        Entry(index=i, total=total, version=v, text=t, digest=digests.decode_canonical(t, encoding))
        for i, (v, t) in enumerate(texts, start=1)
    )


class HmacScheme(Scheme):
    """An HMAC scheme described by its recipe; subclasses read and write the header format."""

    family = "hmac"
    algorithm = "sha256"
    encoding = "hex"
    derivation = "utf8"

    def key(self, secret: str) -> bytes:
        return keys.derive(secret, self.derivation)

    @property
    def key_hint(self) -> str:  # type: ignore[override]
        """The canonical key derivation in words."""
        return keys.DERIVATIONS[self.derivation][1]

    def digest(self, secret: str, body: bytes, parts: dict[str, bytes]) -> bytes:
        return mac(self.key(secret), render_template(self.template, parts, body), self.algorithm)

    def encoded(self, secret: str, body: bytes, parts: dict[str, bytes]) -> str:
        return digests.encode(self.digest(secret, body, parts), self.encoding)

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None, timestamp: int | None, url: str | None
    ) -> dict[str, str]:
        check_secret(secret)
        check_body(body)
        ts = int(time.time()) if timestamp is None else int(timestamp)
        parts = self.sign_parts(ts, msg_id, url, body)
        return self.format(self.encoded(secret, body, parts), parts)

    def sign_parts(self, ts: int, msg_id: str | None, url: str | None, body: bytes) -> dict[str, bytes]:
        """The non-body parts a sender signs; URL-signing schemes insist on a URL."""
        parts: dict[str, bytes] = {"timestamp": str(ts).encode()}
        if msg_id is not None:
            parts["id"] = msg_id.encode("utf-8")
        if url is not None:
            parts["url"] = url.encode("utf-8")
        elif self.signs_url:
            raise InputError(f"the {self.name} scheme signs the URL; pass the endpoint URL", field="--url")
        return parts

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        """Header(s) carrying one signature; subclasses override for richer formats."""
        return {self.headers[0]: encoded}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        return Presented(header=self.headers[0], entries=make_entries([("", value)], self.encoding))

    def verify(self, presented: Presented, body: bytes, secrets: list[str], url: str | None) -> Match | None:
        """Exact verification: canonical key, canonical content, raw digest bytes compared in constant time."""
        parts = self.parts(presented, url)
        content = render_template(self.template, parts, body)
        for secret_index, secret in enumerate(secrets):
            try:
                key = self.key(secret)
            except InputError:  # an undecodable secret simply does not verify
                continue
            computed = mac(key, content, self.algorithm)
            for entry in presented.entries:
                if entry.digest is not None and hmac.compare_digest(computed, entry.digest):
                    return Match(entry, secret_index, self.key_hint)
        return None


def strip_prefix(value: str, prefix: str) -> tuple[str, str]:
    """(version label, digest text): 'sha256=abc' -> ('sha256', 'abc'); other text kept whole."""
    if prefix and value.lower().startswith(prefix.lower()):
        return prefix.rstrip("=,:"), value[len(prefix) :]
    return "", value
