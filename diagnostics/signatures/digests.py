"""Digest text <-> raw digest bytes, every plausible way.

Verification compares raw digest bytes, never strings, so a signature is judged the same
whether it arrived as hex, uppercase hex or base64. The canonical decoding is the one the scheme
specifies; the alternatives feed the debugger's digest-encoding axis (F5).
"""

from __future__ import annotations

import base64
import binascii
import re

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
KNOWN_PREFIXES = ("sha256=", "sha1=", "sha512=", "v1=", "v0=", "h1=", "v1,", "v1a,")


def encode(digest: bytes, encoding: str) -> str:
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return base64.b64encode(digest).decode("ascii")
    if encoding == "base64url":
        return base64.urlsafe_b64encode(digest).decode("ascii")
    raise ValueError(f"unknown digest encoding {encoding!r}")


def decode_canonical(text: str, encoding: str) -> bytes | None:
    """Decode exactly as the scheme specifies: lowercase hex, or padded standard base64."""
    text = text.strip()
    if encoding == "hex":
        if text and len(text) % 2 == 0 and _HEX.match(text) and text == text.lower():
            return bytes.fromhex(text)
        return None
    if encoding == "base64":
        if text and len(text) % 4 == 0 and _B64.match(text):
            try:
                return base64.b64decode(text, validate=True)
            except binascii.Error:
                return None
        return None
    if encoding == "base64url":
        if text and _B64URL.match(text):
            return _b64(text, urlsafe=True)
        return None
    raise ValueError(f"unknown digest encoding {encoding!r}")


def _b64(text: str, *, urlsafe: bool) -> bytes | None:
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def decodings(text: str) -> list[tuple[str, bytes]]:
    """Every plausible reading of a digest text, as (how it was read, raw bytes), deduplicated.

    Known prefixes (`sha256=`, `v1,` ...) are stripped first and named in the label.
    """
    text = text.strip()
    readings: list[tuple[str, bytes]] = []
    seen: set[bytes] = set()

    def add(label: str, raw: bytes | None) -> None:
        if raw and raw not in seen:
            seen.add(raw)
            readings.append((label, raw))

    candidates = [("", text)]
    for prefix in KNOWN_PREFIXES:
        if text.lower().startswith(prefix):
            candidates.append((f"with a {prefix!r} prefix, ", text[len(prefix) :]))
    for how, body in candidates:
        if body and len(body) % 2 == 0 and _HEX.match(body):
            case = "lowercase" if body == body.lower() else "uppercase" if body == body.upper() else "mixed-case"
            add(f"{how}{case} hex", bytes.fromhex(body))
        if _B64.match(body):
            padding = "padded" if len(body) % 4 == 0 else "unpadded"
            add(f"{how}{padding} base64", _b64(body, urlsafe=False))
        if _B64URL.match(body) and re.search(r"[-_]", body):
            add(f"{how}base64url", _b64(body, urlsafe=True))
    return readings


def describe_length(raw: bytes) -> str:
    """Name the hash a raw digest length points to (F6: the algorithm by digest length)."""
    return {20: "SHA-1 (20 bytes)", 32: "SHA-256 (32 bytes)", 48: "SHA-384 (48 bytes)", 64: "SHA-512 (64 bytes)"}.get(
        len(raw), f"{len(raw)} bytes"
    )


ALGORITHM_BY_LENGTH = {20: "sha1", 32: "sha256", 48: "sha384", 64: "sha512"}
