"""Provider HMAC schemes whose header carries one signature: GitHub, Shopify, Slack, Square,
Zendesk, Intercom, Paddle, Linear. Each class is the provider's recipe and header format
(signatures.md section 1.1); the shared machinery is in hmac_core.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from diagnostics.errors import InputError
from diagnostics.signatures.base import Headers, Presented
from diagnostics.signatures.hmac_core import HmacScheme, make_entries, strip_prefix


class PrefixedHexScheme(HmacScheme):
    """`<prefix><digest>` in one header (GitHub's `sha256=`, Intercom's `sha1=`, Slack's `v0=`)."""

    prefix = ""

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        return {self.headers[0]: f"{self.prefix}{encoded}"}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        version, text = strip_prefix(value, self.prefix)
        entries = make_entries([(version, text)], self.encoding)
        if self.prefix and not version:
            # Without its prefix the value is not in the scheme's format; the debugger says so.
            entries = tuple(type(e)(e.index, e.total, "", e.text, None) for e in entries)
        return self.presented(headers, value, entries, body)

    def presented(self, headers: Headers, value: str, entries: tuple, body: bytes) -> Presented:
        return Presented(header=self.headers[0], entries=entries)


class GitHub(PrefixedHexScheme):
    name = "github"
    label = "GitHub (X-Hub-Signature-256)"
    formula = 'X-Hub-Signature-256: "sha256=" + hex(HMAC-SHA256(secret as UTF-8, raw body))'
    headers = ("X-Hub-Signature-256",)
    prefix = "sha256="

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        out = {self.headers[0]: f"{self.prefix}{encoded}"}
        if "id" in parts:
            out["X-GitHub-Delivery"] = parts["id"].decode("utf-8")
        return out


class GitHubSha1(PrefixedHexScheme):
    name = "github-sha1"
    label = "GitHub legacy (X-Hub-Signature, SHA-1)"
    formula = 'X-Hub-Signature: "sha1=" + hex(HMAC-SHA1(secret as UTF-8, raw body))'
    headers = ("X-Hub-Signature",)
    prefix = "sha1="
    algorithm = "sha1"


class Intercom(PrefixedHexScheme):
    name = "intercom"
    label = "Intercom"
    formula = 'X-Hub-Signature: "sha1=" + hex(HMAC-SHA1(client secret as UTF-8, raw body))'
    headers = ("X-Hub-Signature",)
    prefix = "sha1="
    algorithm = "sha1"


class Shopify(HmacScheme):
    name = "shopify"
    label = "Shopify"
    formula = "X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(app API secret as UTF-8, raw body))"
    headers = ("X-Shopify-Hmac-Sha256", "shopify-hmac-sha256")
    encoding = "base64"

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        out = {self.headers[0]: encoded}
        if "id" in parts:
            out["X-Shopify-Webhook-Id"] = parts["id"].decode("utf-8")
        return out

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        name = next((h for h in self.headers if headers.has(h)), self.headers[0])
        value = headers.require(name, self.name)
        return Presented(header=name, entries=make_entries([("", value)], self.encoding))


class Slack(PrefixedHexScheme):
    name = "slack"
    label = "Slack"
    formula = (
        'X-Slack-Signature: "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + body))'
    )
    headers = ("X-Slack-Signature",)
    prefix = "v0="
    template = "v0:{timestamp}:{body}"
    tolerance_s = 300.0

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        return {
            "X-Slack-Request-Timestamp": parts["timestamp"].decode(),
            self.headers[0]: f"{self.prefix}{encoded}",
        }

    def presented(self, headers: Headers, value: str, entries: tuple, body: bytes) -> Presented:
        ts = headers.require("X-Slack-Request-Timestamp", self.name)
        return Presented(header=self.headers[0], entries=entries, timestamp=ts)


class Square(HmacScheme):
    name = "square"
    label = "Square"
    formula = "x-square-hmacsha256-signature: base64(HMAC-SHA256(signature key, notification URL + raw body))"
    headers = ("x-square-hmacsha256-signature",)
    encoding = "base64"
    template = "{url}{body}"
    signs_url = True


class Zendesk(HmacScheme):
    name = "zendesk"
    label = "Zendesk"
    formula = (
        "X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(signing secret used verbatim, "
        "X-Zendesk-Webhook-Signature-Timestamp + raw body))"
    )
    headers = ("X-Zendesk-Webhook-Signature",)
    encoding = "base64"
    template = "{timestamp}{body}"
    timestamp_unit = "iso"

    def sign_parts(self, ts: int, msg_id: str | None, url: str | None, body: bytes) -> dict[str, bytes]:
        iso = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"timestamp": iso.encode()}

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        return {self.headers[0]: encoded, "X-Zendesk-Webhook-Signature-Timestamp": parts["timestamp"].decode()}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        ts = headers.require("X-Zendesk-Webhook-Signature-Timestamp", self.name)
        return Presented(header=self.headers[0], entries=make_entries([("", value)], self.encoding), timestamp=ts)


class Paddle(HmacScheme):
    name = "paddle"
    label = "Paddle Billing"
    formula = 'Paddle-Signature: "ts=" + ts + ";h1=" + hex(HMAC-SHA256(endpoint secret, ts + ":" + raw body))'
    headers = ("Paddle-Signature",)
    template = "{timestamp}:{body}"
    tolerance_s = 5.0
    window = "past"

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        return {self.headers[0]: f"ts={parts['timestamp'].decode()};h1={encoded}"}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        fields = _split_pairs(value, ";", self.headers[0])
        ts = next((v for k, v in fields if k == "ts"), None)
        sigs = [("h1", v) for k, v in fields if k == "h1"]
        if ts is None or not sigs:
            raise InputError(
                f"{self.headers[0]} must look like 'ts=<unix>;h1=<hex>'; got {value[:60]!r}", field=self.headers[0]
            )
        skipped = tuple(f"{k}={v[:12]}…" for k, v in fields if k not in ("ts", "h1"))
        return Presented(self.headers[0], make_entries(sigs, self.encoding), timestamp=ts, skipped=skipped)


class Linear(HmacScheme):
    name = "linear"
    label = "Linear"
    formula = "Linear-Signature: hex(HMAC-SHA256(webhook secret, raw body)); webhookTimestamp (ms) in the JSON body"
    headers = ("Linear-Signature",)
    tolerance_s = 60.0
    timestamp_unit = "ms"

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        return Presented(
            self.headers[0], make_entries([("", value)], self.encoding), timestamp=_json_field(body, "webhookTimestamp")
        )

    def parts(self, presented: Presented, url: str | None) -> dict[str, bytes]:
        # The timestamp travels inside the body: it is judged, but not signed separately.
        return {"url": url.encode()} if url else {}


def _json_field(body: bytes, name: str) -> str | None:
    """A top-level field of a JSON body as text, None when the body is not a JSON object."""
    match = re.search(rb'"' + name.encode() + rb'"\s*:\s*(-?\d+)', body[:65536])
    if match:
        return match.group(1).decode()
    try:
        value = json.loads(body).get(name)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return None if value is None else str(value)


def _split_pairs(value: str, separator: str, header: str) -> list[tuple[str, str]]:
    """`k=v<sep>k=v` into pairs; an element without '=' makes the header malformed."""
    pairs = []
    for item in value.split(separator):
        item = item.strip()
        if not item:
            continue
        key, eq, val = item.partition("=")
        if not eq:
            raise InputError(f"{header} element {item[:30]!r} is not key=value", field=header)
        pairs.append((key.strip(), val.strip()))
    return pairs
