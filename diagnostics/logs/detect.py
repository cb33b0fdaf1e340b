"""Which format is this file? Decided by the first record's fields, never by the file name alone.

Parquet is recognised by its magic bytes, CSV by a header line, JSON exports by the keys of their
first record (each platform importer declares its SIGNATURE_KEYS).
"""

from __future__ import annotations

import gzip
import json
import re

from diagnostics.errors import InputError
from diagnostics.logs import convoy, github, hookdeck, svix
from diagnostics.logs.files import is_gzip

FORMATS = ("auto", "canonical", "svix", "hookdeck", "convoy", "github")
PLATFORM_SIGNATURES = (
    ("svix", svix.SIGNATURE_KEYS),
    ("hookdeck", hookdeck.SIGNATURE_KEYS),
    ("convoy", convoy.SIGNATURE_KEYS),
    ("github", github.SIGNATURE_KEYS),
)
PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 1 << 16


def _head(path: str) -> bytes:
    if is_gzip(path):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise InputError(f"the gzip data is damaged or truncated ({exc})", file=path) from exc
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


def detect_container(path: str) -> str:
    """'parquet', 'json' or 'csv' from the file's first bytes."""
    head = _head(path)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def first_record_keys(path: str) -> set[str]:
    """Keys of the first JSON object in the head of the file (works on truncated heads too)."""
    head = _head(path).decode("utf-8", "replace")
    keys = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', head[:SNIFF_BYTES]))
    first_line = head.lstrip().split("\n", 1)[0]
    try:
        record = json.loads(first_line)
        if isinstance(record, dict):
            keys |= set(record)
    except (json.JSONDecodeError, RecursionError):  # too deep: the loader names the line
        pass
    return keys


def detect_format(path: str) -> tuple[str, str]:
    """(format, container): format is canonical or a platform; container is csv, json or parquet."""
    container = detect_container(path)
    if container != "json":
        return "canonical", container
    keys = first_record_keys(path)
    for name, signature in PLATFORM_SIGNATURES:
        if signature <= keys:
            return name, container
    return "canonical", container
