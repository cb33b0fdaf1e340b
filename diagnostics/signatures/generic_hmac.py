"""The generic `hmac` scheme: most SaaS companies sign their own way, so header, algorithm,
encoding, prefix and signed-content template come from flags or `[signature.hmac]` in
diagnostics.toml instead of code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnostics.errors import InputError
from diagnostics.signatures import keys
from diagnostics.signatures.base import Headers, Presented, split_template, template_parts
from diagnostics.signatures.hmac_core import ALGORITHMS, HmacScheme, make_entries, strip_prefix

DEFAULT_OPTIONS: dict[str, Any] = {
    "header": "X-Signature",
    "algorithm": "sha256",
    "encoding": "hex",
    "prefix": "",
    "template": "{body}",
    "timestamp_header": "",
    "id_header": "",
    "secret_encoding": "utf8",
    "tolerance_seconds": None,
}
SECRET_ENCODINGS = ("utf8", "base64", "hex")


class GenericHmac(HmacScheme):
    """An HMAC scheme assembled from options (see DEFAULT_OPTIONS)."""

    name = "hmac"
    label = "Generic HMAC"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        merged = {**DEFAULT_OPTIONS, **{k: v for k, v in (options or {}).items() if v is not None}}
        self.options = merged
        self.algorithm = str(merged["algorithm"]).lower().replace("-", "")
        if self.algorithm not in ALGORITHMS:
            raise InputError(
                f"unknown algorithm {merged['algorithm']!r}; use {', '.join(ALGORITHMS)}", field="algorithm"
            )
        self.encoding = str(merged["encoding"]).lower()
        if self.encoding not in ("hex", "base64", "base64url"):
            raise InputError(f"unknown encoding {merged['encoding']!r}; use hex, base64 or base64url", field="encoding")
        self.secret_encoding = str(merged["secret_encoding"]).lower()
        if self.secret_encoding not in SECRET_ENCODINGS:
            raise InputError(f"unknown secret encoding {self.secret_encoding!r}", field="secret_encoding")
        self.prefix = str(merged["prefix"] or "")
        self.template = str(merged["template"])
        split_template(self.template)  # fails early on an unknown placeholder
        self.header = str(merged["header"])
        self.timestamp_header = str(merged["timestamp_header"] or "")
        self.id_header = str(merged["id_header"] or "")
        self.headers = (self.header,)
        self.signs_url = "url" in template_parts(self.template)
        needs_ts = "timestamp" in template_parts(self.template)
        if needs_ts and not self.timestamp_header:
            raise InputError("the template signs {timestamp} but no timestamp_header is set", field="timestamp_header")
        if "id" in template_parts(self.template) and not self.id_header:
            raise InputError("the template signs {id} but no id_header is set", field="id_header")
        tolerance = merged["tolerance_seconds"]
        self.tolerance_s = float(tolerance) if tolerance is not None else (300.0 if self.timestamp_header else None)
        self.formula = (
            f"{self.header}: {self.prefix!r} + {self.encoding}(HMAC-{self.algorithm.upper()}"
            f"(secret as {self.secret_encoding}, {self.template}))"
        )

    @property
    def key_hint(self) -> str:  # type: ignore[override]
        return {
            "utf8": "the secret string as UTF-8 bytes",
            "base64": "the secret base64-decoded",
            "hex": "the secret hex-decoded",
        }[self.secret_encoding]

    def key(self, secret: str) -> bytes:
        key_encoding = self.secret_encoding
        if key_encoding == "utf8":
            return secret.encode("utf-8")
        if key_encoding == "hex":
            try:
                return bytes.fromhex(secret.strip())
            except ValueError as exc:
                raise InputError("the secret is not hex, but secret_encoding is hex", field="--secret") from exc
        key = keys.b64decode_lenient(secret.strip())
        if key is None:
            raise InputError("the secret is not base64, but secret_encoding is base64", field="--secret")
        return key

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        out = {}
        if self.id_header and "id" in parts:
            out[self.id_header] = parts["id"].decode("utf-8")
        if self.timestamp_header:
            out[self.timestamp_header] = parts["timestamp"].decode()
        out[self.header] = f"{self.prefix}{encoded}"
        return out

    def sign_parts(self, ts: int, msg_id: str | None, url: str | None, body: bytes) -> dict[str, bytes]:
        if "id" in template_parts(self.template) and msg_id is None:
            raise InputError("the template signs {id}; pass a message id", field="--id")
        return super().sign_parts(ts, msg_id, url, body)

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.header, self.name)
        version, text = strip_prefix(value, self.prefix)
        entries = make_entries([(version, text)], self.encoding)
        if self.prefix and not version:
            entries = tuple(type(e)(e.index, e.total, "", e.text, None) for e in entries)
        ts = headers.require(self.timestamp_header, self.name) if self.timestamp_header else None
        msg_id = headers.get(self.id_header) if self.id_header else None
        if "id" in template_parts(self.template) and msg_id is None:
            headers.require(self.id_header, self.name)
        if self.signs_url and not url:
            raise InputError("the template signs {url}; pass the URL with --url", field="--url")
        return Presented(self.header, entries, timestamp=ts, msg_id=msg_id)
