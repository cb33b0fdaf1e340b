"""Digest decoding: canonical per scheme, and every plausible alternative for the debugger."""

from __future__ import annotations

import base64

from diagnostics.signatures import digests

RAW = bytes(range(32))


def test_canonical_hex_is_lowercase_only() -> None:
    assert digests.decode_canonical(RAW.hex(), "hex") == RAW
    assert digests.decode_canonical(RAW.hex().upper(), "hex") is None


def test_canonical_base64_requires_padding() -> None:
    padded = base64.b64encode(RAW).decode()
    assert digests.decode_canonical(padded, "base64") == RAW
    assert digests.decode_canonical(padded.rstrip("="), "base64") is None


def test_alternatives_name_how_the_value_was_read() -> None:
    readings = dict((label, raw) for label, raw in digests.decodings("sha256=" + RAW.hex().upper()))
    assert readings["with a 'sha256=' prefix, uppercase hex"] == RAW
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode().rstrip("=")
    assert (b"\xfb\xff" * 16) in {raw for _, raw in digests.decodings(urlsafe)}


def test_garbage_has_no_reading() -> None:
    assert digests.decodings("%%%") == []


def test_lengths_name_algorithms() -> None:
    assert digests.describe_length(b"x" * 20) == "SHA-1 (20 bytes)"
    assert digests.ALGORITHM_BY_LENGTH[64] == "sha512"
