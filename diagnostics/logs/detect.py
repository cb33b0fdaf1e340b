"""Which format is this file? Decided by the records' fields, never by the file name alone.

Parquet is recognised by its magic bytes, CSV by a header line, JSON exports by the keys of up to
SAMPLE_RECORDS records from the head of the file (each platform importer declares its
DETECTION_KEYS: the keys every one of its records carries, even when optional fields are omitted).
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

from diagnostics.errors import InputError
from diagnostics.logs import convoy, github, hookdeck, svix
from diagnostics.logs.files import ENVELOPE_KEYS, is_gzip
from diagnostics.logs.schema import REQUIRED_COLUMNS

FORMATS = ("auto", "canonical", "svix", "hookdeck", "convoy", "github")
PLATFORM_SIGNATURES = (
    ("svix", svix.DETECTION_KEYS),
    ("hookdeck", hookdeck.DETECTION_KEYS),
    ("convoy", convoy.DETECTION_KEYS),
    ("github", github.DETECTION_KEYS),
)
PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 1 << 16
SAMPLE_RECORDS = 50
PLATFORM_NAMES = {"svix": "Svix", "hookdeck": "Hookdeck", "convoy": "Convoy", "github": "GitHub"}
_RECORD_ARRAY = re.compile(r'"(?:' + "|".join(ENVELOPE_KEYS) + r')"\s*:\s*\[')
_BETWEEN_RECORDS = re.compile(r"[\s,\[\]]*")


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


def sample_records(path: str, limit: int = SAMPLE_RECORDS) -> list[dict[str, Any]]:
    """Up to `limit` JSON objects from the head of the file (a truncated head is fine).

    Reads JSON Lines, an array, an array of pages (`gh api --paginate --slurp`), arrays one after
    another (`gh api --paginate`) and list responses (`{"data": [...]}`, Convoy's `content`).
    """
    head = _head(path).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    decoder = json.JSONDecoder()
    records: list[dict[str, Any]] = []
    if head.startswith("{") and "\n" in head:
        try:  # JSON Lines: a whole object on the first line
            first, end = decoder.raw_decode(head.split("\n", 1)[0])
            lines_mode = isinstance(first, dict) and not head.split("\n", 1)[0][end:].strip()
        except (json.JSONDecodeError, RecursionError):
            lines_mode = False
        if lines_mode:
            for line in head.splitlines()[:limit]:
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    break  # the head cut this line
                if isinstance(record, dict):
                    records.append(record)
            return records
    pos = 0
    if head.startswith("{"):
        match = _RECORD_ARRAY.search(head)
        if match is None:
            try:
                record, _ = decoder.raw_decode(head)
            except (json.JSONDecodeError, RecursionError):
                return records
            return [record] if isinstance(record, dict) else []
        pos = match.end()
    while len(records) < limit:
        skip = _BETWEEN_RECORDS.match(head, pos)
        pos = skip.end() if skip else pos
        if pos >= len(head) or head[pos] != "{":
            break
        try:
            record, pos = decoder.raw_decode(head, pos)
        except (json.JSONDecodeError, RecursionError):
            break  # the head cut this record
        records.append(record)
    return records


def platform_votes(records: list[dict[str, Any]]) -> dict[str, int]:
    """How many of the sampled records carry each platform's detection keys."""
    votes = {name: 0 for name, _ in PLATFORM_SIGNATURES}
    for record in records:
        for name, detection_keys in PLATFORM_SIGNATURES:
            if detection_keys <= record.keys():
                votes[name] += 1
    return votes


def explain_unrecognized(records: list[dict[str, Any]]) -> str:
    """Why no importer took the file, in one line: which platforms it looked like and what is missing."""
    if not records:
        return "no JSON object found in the head of the file"
    keys = set().union(*(r.keys() for r in records))
    looks = []
    for name, detection_keys in PLATFORM_SIGNATURES:
        shared = sorted(detection_keys & keys)
        if shared:
            missing = ", ".join(sorted(detection_keys - keys)) or "the same record"
            looks.append(f"{PLATFORM_NAMES[name]} (has {', '.join(shared)}; lacks {missing})")
    canonical_missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    looked = "; ".join(looks) if looks else "shares no identifying field with Svix, Hookdeck, Convoy or GitHub exports"
    return (
        f"not a known export, read {len(records)} record(s): {looked}; not canonical either "
        f"(lacks {', '.join(canonical_missing)}): pass --source-format, or --map the canonical columns"
    )


def detect_format(path: str) -> tuple[str, str]:
    """(format, container): format is canonical or a platform; container is csv, json or parquet.

    The platform whose signature most sampled records carry wins, so a first record missing its
    optional fields (a Convoy attempt that got no answer) does not decide alone.
    """
    container = detect_container(path)
    if container != "json":
        return "canonical", container
    votes = platform_votes(sample_records(path))
    best = max(votes, key=lambda name: votes[name])
    return (best if votes[best] else "canonical"), container


def unrecognized_json(path: str) -> str | None:
    """For a JSON file detected as canonical: why it is neither, or None when it is canonical."""
    records = sample_records(path)
    keys = set().union(*(r.keys() for r in records)) if records else set()
    if not records or all(c in keys for c in REQUIRED_COLUMNS):
        return None  # canonical, or not readable JSON: the reader names the line and column
    try:
        _head(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.end < SNIFF_BYTES - 4:  # a bad byte, not a character cut by the head: the reader locates it
            return None
    return explain_unrecognized(records)
