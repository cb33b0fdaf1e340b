"""Bare payload samples: a folder of JSON files, each one event's body, and its event type.

The event type is read from the payload when it says so (`type`, `event_type`, `event` as in
Stripe, Standard Webhooks, Svix), else from the folder and the payload's `action` (GitHub's
layout: `issues/opened.payload.json` holding `"action": "opened"` is `issues.opened`, and
`push/payload.json` without an action is `push`), else from the file name in a flat folder
(`invoice.paid.json`, `invoice.paid.2.json`). `index.json` files are listings, not payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnostics.documents import load_json
from diagnostics.errors import InputError
from diagnostics.logs.files import read_capped

MAX_SAMPLE_FILES = 20_000
MAX_SAMPLE_BYTES = 5_000_000
TYPE_KEYS = ("type", "event_type", "eventType", "event")
VERSION_KEYS = ("api_version", "apiVersion", "payload_version", "schema_version")
_TYPE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(?:[.:/][A-Za-z0-9_-]+)+$")
_SUFFIXES = (".payload.json", ".json")


@dataclass(frozen=True)
class PayloadSample:
    """One sample payload, where it came from, and what we could tell about it."""

    event_type: str | None
    payload: Any
    source: str
    size_bytes: int
    version: str | None = None


def compact_size(payload: Any) -> int:
    """Bytes of the payload as compact JSON: comparable across pretty-printed and minified files."""
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _declared_type(payload: Any) -> str | None:
    if not isinstance(payload, Mapping):
        return None
    for key in TYPE_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and _TYPE_PATTERN.match(value):
            return value
    return None


def _stem(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def infer_event_type(rel_path: str | Path, payload: Any) -> str | None:
    """The event type of a sample, from its payload first, then its folder and `action`, then its name."""
    declared = _declared_type(payload)
    if declared:
        return declared
    rel = Path(rel_path)
    action = payload.get("action") if isinstance(payload, Mapping) else None
    if rel.parent != Path("."):
        folder = rel.parent.name
        return f"{folder}.{action}" if isinstance(action, str) and action else folder
    parts = [p for p in _stem(rel.name).split(".") if p]
    while parts and parts[-1].isdigit():  # invoice.paid.2.json: a second sample of invoice.paid
        parts.pop()
    if isinstance(action, str) and action and len(parts) == 1:
        parts.append(action)
    return ".".join(parts) or None


def declared_version(payload: Any) -> str | None:
    if isinstance(payload, Mapping):
        for key in VERSION_KEYS:
            value = payload.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


def load_payload_samples(folder: str | Path, *, max_files: int = MAX_SAMPLE_FILES) -> list[PayloadSample]:
    """Every `*.json` payload under `folder` (sorted by path), with its inferred event type.

    A file that is not valid JSON is an InputError naming the file, line and column: a sample set
    with a broken file is better fixed than silently thinned.
    """
    root = Path(folder)
    if not root.exists():
        raise InputError("payload folder not found", file=str(root))
    if not root.is_dir():
        raise InputError("expected a folder of JSON payload files", file=str(root))
    files = sorted(p for p in root.rglob("*.json") if p.is_file() and p.name != "index.json")
    if not files:
        raise InputError("the folder holds no *.json payload files", file=str(root))
    if len(files) > max_files:
        raise InputError(f"the folder holds {len(files):,} JSON files, more than the limit of {max_files:,}",
                         file=str(root))
    return [_load_one(root, path) for path in files]


def _load_one(root: Path, path: Path) -> PayloadSample:
    try:
        text = read_capped(str(path), MAX_SAMPLE_BYTES, "payload file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("payload file is not UTF-8 text", file=str(path)) from exc
    payload = load_json(text, str(path))
    rel = path.relative_to(root)
    return PayloadSample(
        event_type=infer_event_type(rel, payload),
        payload=payload,
        source=rel.as_posix(),
        size_bytes=compact_size(payload),
        version=declared_version(payload),
    )


def group_by_type(samples: Iterable[PayloadSample]) -> dict[str, list[PayloadSample]]:
    """Samples per event type (samples without a type are left out), types sorted by name."""
    grouped: dict[str, list[PayloadSample]] = {}
    for sample in samples:
        if sample.event_type:
            grouped.setdefault(sample.event_type, []).append(sample)
    return dict(sorted(grouped.items()))
