"""The shared vocabulary of every scheme: headers as received, signature entries, signed parts.

A scheme reads a request into a `Presented` (the signature entries it carries and the parts that
were signed besides the body), and the debugger compares digests it computes against those
entries. Keeping this shape common is what lets one variant search serve every scheme.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnostics.errors import InputError

MAX_BODY_BYTES = 5 * 1024 * 1024 + 1024 * 1024  # 6 MiB: webhook bodies are far smaller
_PLACEHOLDER = re.compile(r"\{(id|timestamp|body|url|params)\}")

HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]]


class Headers:
    """Request headers, looked up case-insensitively; repeated names keep every value in order."""

    def __init__(self, headers: HeadersInput) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        self._pairs: list[tuple[str, str]] = [(str(k).strip(), str(v).strip()) for k, v in pairs]

    @classmethod
    def parse_lines(cls, lines: Iterable[str]) -> Headers:
        """Read `Name: value` strings (the --header flag) into headers."""
        pairs = []
        for position, line in enumerate(lines, start=1):
            name, sep, value = line.partition(":")
            if not sep or not name.strip() or " " in name.strip():
                raise InputError(f"header {position} is not 'Name: value': {line[:80]!r}", field="--header")
            pairs.append((name.strip(), value.strip()))
        return cls(pairs)

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self._pairs if k.lower() == wanted]

    def has(self, name: str) -> bool:
        return bool(self.get_all(name))

    def names(self) -> list[str]:
        return [k for k, _ in self._pairs]

    def pairs(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def require(self, name: str, scheme: str) -> str:
        """The header's value, or an InputError naming the header the scheme needs."""
        values = self.get_all(name)
        if not values or not values[0]:
            present = ", ".join(self.names()) or "none"
            raise InputError(f"the {scheme} scheme needs the {name} header; headers given: {present}", field=name)
        return values[0]


@dataclass(frozen=True)
class Entry:
    """One signature carried by the request ("entry 2 of 3").

    `digest` is the canonical decoding of `text` for the scheme, or None when the text does not
    decode that way (the debugger then tries other decodings).
    """

    index: int
    total: int
    version: str
    text: str
    digest: bytes | None

    @property
    def position(self) -> str:
        return f"entry {self.index} of {self.total}"


@dataclass(frozen=True)
class Match:
    """A signature check that succeeded: which entry, which secret, which key derivation."""

    entry: Entry
    secret_index: int
    key_label: str


@dataclass(frozen=True)
class Presented:
    """What a request presents to a verifier: entries plus the signed parts besides the body."""

    header: str
    entries: tuple[Entry, ...]
    timestamp: str | None = None
    msg_id: str | None = None
    skipped: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def split_template(template: str) -> tuple[tuple[str, str], ...]:
    """Compile "{timestamp}.{body}" into (kind, value) segments: ("lit", ".") or ("part", "body")."""
    segments: list[tuple[str, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            segments.append(("lit", template[position : match.start()]))
        segments.append(("part", match.group(1)))
        position = match.end()
    if position < len(template):
        segments.append(("lit", template[position:]))
    unknown = re.findall(r"\{([^}]*)\}", "".join(v for k, v in segments if k == "lit"))
    if unknown:
        raise InputError(
            f"unknown placeholder {{{unknown[0]}}} in template {template!r}; use {{id}} {{timestamp}} {{body}} {{url}}",
            field="template",
        )
    return tuple(segments)


def render_template(template: str, parts: Mapping[str, bytes], body: bytes) -> bytes:
    """The signed bytes: literals as UTF-8, parts as given, the body exactly as received."""
    chunks = []
    for kind, value in split_template(template):
        if kind == "lit":
            chunks.append(value.encode("utf-8"))
        elif value == "body":
            chunks.append(body)
        else:
            if value not in parts:
                raise InputError(f"the template needs {{{value}}} but the request has none", field="template")
            chunks.append(parts[value])
    return b"".join(chunks)


def template_parts(template: str) -> list[str]:
    return [value for kind, value in split_template(template) if kind == "part"]


def check_body(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise InputError(
            f"the body is {len(body):,} bytes; the limit is {MAX_BODY_BYTES:,} (webhook bodies are far smaller)",
            field="body",
        )


def check_secret(secret: str) -> None:
    if not isinstance(secret, str) or not secret.strip():
        raise InputError("the secret is empty", field="--secret")


class Scheme(ABC):
    """A signature scheme: how to sign a body and how to read the signature back from headers.

    Attributes:
        name: the name on the command line.
        label: human name.
        family: "hmac", "ed25519" or "ecdsa".
        formula: the formula in words, printed by `schemes` and in reports.
        headers: signature header names that identify the scheme (for auto-detection).
        template: signed-content template over {id} {timestamp} {body} {url} {params}.
        tolerance_s: default timestamp window, None when the scheme signs no timestamp.
        window: "both" (|now - ts| checked) or "past" (only too-old is rejected).
        timestamp_unit: "s", "ms" or "iso": how the timestamp is written.
    """

    name: str = ""
    label: str = ""
    family: str = "hmac"
    formula: str = ""
    headers: tuple[str, ...] = ()
    template: str = "{body}"
    tolerance_s: float | None = None
    window: str = "both"
    timestamp_unit: str = "s"
    signs_url: bool = False
    key_hint: str = ""

    @abstractmethod
    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None, timestamp: int | None, url: str | None
    ) -> dict[str, str]:
        """Headers a sender would attach to this body."""

    @abstractmethod
    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        """Parse the signature headers; InputError when a needed header is missing or malformed."""

    @abstractmethod
    def verify(self, presented: Presented, body: bytes, secrets: list[str], url: str | None) -> Match | None:
        """Exact verification with the canonical recipe: a Match naming entry and secret, or None."""

    def parts(self, presented: Presented, url: str | None) -> dict[str, bytes]:
        """The signed parts besides the body, as bytes."""
        parts: dict[str, bytes] = {}
        if presented.timestamp is not None:
            parts["timestamp"] = presented.timestamp.encode("utf-8")
        if presented.msg_id is not None:
            parts["id"] = presented.msg_id.encode("utf-8")
        if url is not None:
            parts["url"] = url.encode("utf-8")
        return parts

    def timestamp_seconds(self, presented: Presented, body: bytes) -> float | None:
        """The signed timestamp as unix seconds, None when the scheme signs none."""
        if presented.timestamp is None:
            return None
        return parse_timestamp(presented.timestamp, self.timestamp_unit)


def parse_timestamp(text: str, unit: str) -> float:
    """Unix seconds from a header value (seconds, milliseconds or ISO-8601)."""
    from datetime import datetime

    if unit == "iso":
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise InputError(f"timestamp {text[:40]!r} is not ISO-8601", field="timestamp") from exc
    if not re.fullmatch(r"-?\d{1,16}", text.strip()):
        raise InputError(f"timestamp {text[:40]!r} is not a whole number of seconds", field="timestamp")
    value = int(text)
    return value / 1000.0 if unit == "ms" else float(value)
