"""Body transforms for the debugger: the ways real code and infrastructure change the bytes
between the sender's signature and the receiver's HMAC (signatures.md F1, F2, F9, F10, F11).

Each candidate is the body as the SENDER may have signed it, rebuilt from the body the customer
hashed. Candidates come cheapest and smallest first (a newline before a re-serialization), so
the first match the debugger finds is the smallest change.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

BOM = b"\xef\xbb\xbf"
WHITESPACE = "whitespace"
ENCODING = "encoding"
WRAPPED = "wrapped"
RESERIALIZED = "reserialized"
_B64_BODY = re.compile(rb"^[A-Za-z0-9+/\r\n]+={0,2}\s*$")
_LOWER_ESCAPE = re.compile(rb"\\u([0-9a-f]{4})")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_FORM_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_FORM_TABLE = {b: "+" if b == 0x20 else f"%{b:02X}" for b in range(256) if b not in _FORM_SAFE}
_INDENT = re.compile(rb"(?m)^((?:  )+)")
_MOJIBAKE = re.compile("[ÃÂâ][\u0080-\u00bf\u2018-\u203a\u0152-\u0178]")


@dataclass(frozen=True)
class BodyVariant:
    """A candidate for the bytes the sender signed, and how it differs from the bytes given."""

    kind: str
    label: str
    body: bytes


def _whitespace(body: bytes) -> Iterator[BodyVariant]:
    if body != body.rstrip():
        yield BodyVariant(WHITESPACE, "trailing whitespace or newline removed", body.rstrip())
    if body.endswith(b"\r\n"):
        yield BodyVariant(WHITESPACE, "the trailing CRLF removed", body[:-2])
    elif body.endswith(b"\n"):
        yield BodyVariant(WHITESPACE, "the trailing newline removed", body[:-1])
    yield BodyVariant(WHITESPACE, "a trailing newline (\\n) added", body + b"\n")
    yield BodyVariant(WHITESPACE, "a trailing CRLF (\\r\\n) added", body + b"\r\n")
    if b"\r\n" in body:
        yield BodyVariant(WHITESPACE, "CRLF line endings instead of LF", body.replace(b"\r\n", b"\n"))
    elif b"\n" in body:
        yield BodyVariant(WHITESPACE, "LF line endings instead of CRLF", body.replace(b"\n", b"\r\n"))
    if body.startswith(BOM):
        yield BodyVariant(WHITESPACE, "without the UTF-8 byte-order mark (BOM)", body[len(BOM) :])
    stripped = body.strip()
    if stripped != body and stripped != body.rstrip():
        yield BodyVariant(WHITESPACE, "leading and trailing whitespace removed", stripped)


def _encodings(body: bytes) -> Iterator[BodyVariant]:
    if body.isascii():
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None:
        # The customer's runtime wrote the text in a legacy encoding; the sender signed UTF-8.
        for legacy in ("cp1252", "latin-1"):
            try:
                yield BodyVariant(
                    ENCODING, f"the text as UTF-8 (your runtime produced {legacy} bytes)", body.decode(legacy).encode()
                )
            except UnicodeDecodeError:
                continue
        return
    for legacy in ("latin-1", "cp1252"):
        try:
            original = text.encode(legacy)
        except UnicodeEncodeError:
            continue
        if original != body:
            yield BodyVariant(
                ENCODING, f"mojibake undone: your code read the UTF-8 bytes as {legacy} and re-encoded them", original
            )
    for form in ("NFC", "NFD"):
        normalized = unicodedata.normalize(form, text).encode()
        if normalized != body:
            yield BodyVariant(ENCODING, f"Unicode normalized to {form}", normalized)
    for legacy in ("latin-1", "cp1252"):
        try:
            yield BodyVariant(ENCODING, f"the text encoded as {legacy} instead of UTF-8", text.encode(legacy))
        except UnicodeEncodeError:
            continue
    yield BodyVariant(ENCODING, "non-ASCII replaced with '?' (ASCII)", text.encode("ascii", "replace"))


def _wrappings(body: bytes) -> Iterator[BodyVariant]:
    compact = body.strip()
    if len(compact) >= 8 and _B64_BODY.match(compact):
        try:
            decoded = base64.b64decode(compact, validate=False)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded:
            yield BodyVariant(WRAPPED, "base64-decoded (your platform handed you the body base64-encoded)", decoded)
    if body.startswith(b"payload="):
        inner = unquote_plus(body[len(b"payload=") :].decode("utf-8", "replace")).encode("utf-8")
        yield BodyVariant(WRAPPED, "the JSON inside the form field payload= (the form wrapper removed)", inner)
    elif body.lstrip()[:1] in (b"{", b"["):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            yield BodyVariant(
                WRAPPED,
                "form-encoded as payload=<JSON> (the sender posted application/x-www-form-urlencoded)",
                b"payload=" + _form_encode(body),
            )
    if body[:2] == b"\x1f\x8b":
        inflated = _gunzip(body)
        if inflated is not None:
            yield BodyVariant(WRAPPED, "gunzipped (the body arrived gzip-compressed)", inflated)


def _form_encode(body: bytes) -> bytes:
    """urllib.parse.quote_plus for bytes via str.translate (C speed on megabyte bodies)."""
    return body.decode("latin-1").translate(_FORM_TABLE).encode("ascii")


def _gunzip(body: bytes) -> bytes | None:
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        return None


def _ascii_escaped(text: bytes) -> bytes:
    """JSON text with every non-ASCII character written as \\uXXXX (what ensure_ascii=True does).

    Non-ASCII can only occur inside JSON strings, so escaping it across the whole text is exact.
    """
    if text.isascii():
        return text
    return _NON_ASCII.sub(_escape_char, text.decode("utf-8")).encode("ascii")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _dumps(value: Any, **options: Any) -> bytes:
    return json.dumps(value, **options).encode("utf-8")


def _serializations(body: bytes) -> Iterator[BodyVariant]:
    stripped = body.strip()
    if stripped[:1] not in (b"{", b"["):
        return
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    compact = _dumps(value, separators=(",", ":"), ensure_ascii=False)
    spaced = _dumps(value, ensure_ascii=False)
    yield BodyVariant(RESERIALIZED, "compact JSON (no spaces), as GitHub and JSON.stringify write it", compact)
    yield BodyVariant(RESERIALIZED, "JSON with ', ' and ': ' separators (json.dumps spacing)", spaced)
    yield BodyVariant(RESERIALIZED, "compact JSON with non-ASCII escaped as \\uXXXX", _ascii_escaped(compact))
    yield BodyVariant(
        RESERIALIZED,
        "Python's json.dumps default (', ' and ': ', non-ASCII escaped as \\uXXXX)",
        _ascii_escaped(spaced),
    )
    # Indentation uses json's pure-Python encoder: encode once, derive 4-space and \u-escaped forms.
    pretty2 = _dumps(value, indent=2, ensure_ascii=False)
    pretty4 = _INDENT.sub(lambda m: m.group(1) * 2, pretty2)
    for indent, pretty in ((2, pretty2), (4, pretty4)):
        for escaped, text in (("", pretty), (" and non-ASCII escaped as \\uXXXX", _ascii_escaped(pretty))):
            yield BodyVariant(RESERIALIZED, f"pretty-printed with {indent}-space indentation{escaped}", text)
            yield BodyVariant(
                RESERIALIZED,
                f"pretty-printed with {indent}-space indentation{escaped} and a final newline",
                text + b"\n",
            )
    yield BodyVariant(
        RESERIALIZED,
        "compact JSON with keys sorted",
        _dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
    )
    yield BodyVariant(
        RESERIALIZED,
        "JSON with ', ' and ': ' separators and keys sorted",
        _dumps(value, ensure_ascii=False, sort_keys=True),
    )
    # Provider quirks (F2): bytes no generic serializer writes.
    upper = _LOWER_ESCAPE.sub(lambda m: b"\\u" + m.group(1).upper(), compact)
    if upper != compact:
        yield BodyVariant(
            RESERIALIZED,
            "compact JSON with uppercase \\uXXXX escapes (a provider quirk: GitHub's own serializer)",
            upper,
        )
    slashes = compact.replace(b"/", b"\\/")
    if slashes != compact:
        yield BodyVariant(
            RESERIALIZED, "compact JSON with '/' escaped as '\\/' (a provider quirk: PHP and Ruby serializers)", slashes
        )
    html_safe = compact.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
    if html_safe != compact:
        yield BodyVariant(
            RESERIALIZED,
            "compact JSON with & < > escaped as \\u0026 \\u003c \\u003e (a provider quirk: Go and Rails)",
            html_safe,
        )
        yield BodyVariant(
            RESERIALIZED,
            "compact JSON with '/' and & < > escaped (a provider quirk: Shopify and Rails)",
            html_safe.replace(b"/", b"\\/"),
        )
    if isinstance(value, list) and value:
        events = b",\r\n".join(_dumps(item, separators=(",", ":"), ensure_ascii=False) for item in value)
        yield BodyVariant(
            RESERIALIZED,
            "one JSON event per line with CRLF (a provider quirk: SendGrid's exact bytes)",
            b"[" + events + b"]\r\n",
        )


def body_variants(body: bytes) -> Iterator[BodyVariant]:
    """Every candidate for the signed bytes, smallest change first, never the body itself."""
    seen = {body}
    for generator in (_whitespace, _wrappings, _encodings, _serializations):
        for variant in generator(body):
            if variant.body not in seen:
                seen.add(variant.body)
                yield variant


def body_signals(body: bytes) -> list[str]:
    """What the body itself suggests about its history, used to rank causes when nothing matches."""
    signals = []
    if body.startswith(BOM):
        signals.append("starts with a byte-order mark")
    if body[:2] == b"\x1f\x8b":
        signals.append("is gzip-compressed")
    if body.startswith(b"payload="):
        signals.append("is form-encoded (payload=...)")
    stripped = body.strip()
    if len(stripped) >= 16 and _B64_BODY.match(stripped) and stripped[:1] not in (b"{", b"["):
        signals.append("looks base64-encoded")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        signals.append("is not valid UTF-8")
        return signals
    if _MOJIBAKE.search(text):
        signals.append("contains mojibake such as 'Ã©' (UTF-8 read as latin-1)")
    return signals
