"""Reading user files safely: size limit, gzip, UTF-8 and JSON errors located by line and column.

Every importer opens files through here, so "file too large", "not UTF-8" and "truncated JSON"
read the same whichever format was chosen.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diagnostics.errors import InputError

DEFAULT_MAX_FILE_BYTES = 1 << 30  # 1 GiB on disk; larger logs belong in a database source
GZIP_MAGIC = b"\x1f\x8b"
ENVELOPE_KEYS = ("data", "models", "content", "items", "deliveries", "attempts")
TOO_DEEP = "the JSON is nested too deeply to read (arrays or objects inside each other hundreds of levels deep)"


def read_capped(path: str, max_bytes: int, what: str = "file") -> bytes:
    """A user-named file's bytes, reading at most `max_bytes` + 1: the size a device or a pipe
    reports (0 for /dev/zero) is not trusted, so an endless input ends in a one-line error."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found", file=path) from exc
    except IsADirectoryError as exc:
        raise InputError(f"{what} is a folder, expected a file", file=path) from exc
    except PermissionError as exc:
        raise InputError(f"{what} cannot be read (permission denied)", file=path) from exc
    except OSError as exc:
        raise InputError(f"{what} cannot be read ({exc.strerror or exc})", file=path) from exc
    if len(data) > max_bytes:
        raise InputError(f"{what} is larger than {max_bytes:,} bytes", file=path)
    return data


def check_file(path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Path:
    """The file exists, is a regular file, is not empty and not over the size limit."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError as exc:
        raise InputError("delivery-log file not found", file=path) from exc
    except PermissionError as exc:
        raise InputError("delivery-log file cannot be read (permission denied)", file=path) from exc
    if p.is_dir():
        raise InputError("is a folder, expected a delivery-log file", file=path)
    if not p.is_file():  # /dev/zero, a pipe: its size says nothing and DuckDB would read it forever
        raise InputError("is not a regular file (a device or a pipe); save the log to a file first", file=path)
    if size == 0:
        raise InputError("the file is empty", file=path)
    if size > max_bytes:
        raise InputError(
            f"the file is {size / 1e9:.2f} GB, over the {max_bytes / 1e9:.2f} GB limit for files; "
            "split it by time or load it into a database and analyze it from there",
            file=path,
        )
    if not os.access(p, os.R_OK):
        raise InputError("delivery-log file cannot be read (permission denied)", file=path)
    return p


def is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def read_bytes(path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The whole file, decompressed when gzip, refusing to inflate past the limit."""
    check_file(path, max_bytes)
    if not is_gzip(path):
        return Path(path).read_bytes()
    try:
        with gzip.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except (OSError, EOFError) as exc:
        raise InputError(f"the gzip data is damaged or truncated ({exc})", file=path) from exc
    if len(data) > max_bytes:
        raise InputError(f"the file inflates to more than {max_bytes / 1e9:.2f} GB", file=path)
    if not data:
        raise InputError("the file is empty", file=path)
    return data


def decode_utf8(data: bytes, path: str) -> str:
    """UTF-8 text (a BOM is allowed), or an InputError naming the line and column of the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise InputError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); export it as UTF-8",
            file=path,
            line=line,
            column=column,
        ) from exc


def locate_bad_utf8(path: str) -> tuple[int, int] | None:
    """(line, column) of the first byte that is not UTF-8, streaming; None when all is well."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, len(raw[: exc.start].decode("utf-8", "replace")) + 1
    return None


def first_line(path: str) -> str:
    """The header line of a text file (gzip-aware), decoded as UTF-8."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        raw = fh.readline(1 << 20)
    try:
        return raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError("the file is not UTF-8 text", file=path, line=1, column=exc.start + 1) from exc


def iter_json_records(text: str, path: str) -> Iterator[tuple[int, Any]]:
    """(line, record) for JSON Lines, a JSON array, or a list response like {"data": [...]}.

    Parsing errors (a truncated file, a stray comma) name the line and column.
    """
    stripped = text.lstrip()
    if not stripped:
        raise InputError("the file is empty", file=path)
    offset = len(text) - len(stripped)
    if stripped[0] == "[" or (stripped[0] == "{" and _is_single_document(text)):
        document = _load_document(text, path)
        array_start = _array_start(text, document)
        items = document if isinstance(document, list) else _envelope_items(document, path)
        lines = _element_lines(text, array_start, len(items)) if array_start is not None else [None] * len(items)
        yield from zip(lines, items, strict=True)
        return
    decoder = json.JSONDecoder()
    for number, line in enumerate(text[offset:].splitlines(), start=1 + text.count("\n", 0, offset)):
        if not line.strip():
            continue
        try:
            record, end = decoder.raw_decode(line.strip())
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", file=path, line=number, column=exc.colno) from exc
        except RecursionError:
            raise InputError(TOO_DEEP, file=path, line=number) from None
        if line.strip()[end:].strip():
            raise InputError("more than one JSON value on a line", file=path, line=number, column=end + 1)
        yield number, record


def _is_single_document(text: str) -> bool:
    """A file starting with '{' is one document unless its first line is a complete object (JSONL)."""
    first = text.lstrip().split("\n", 1)[0]
    try:
        json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        return True
    return "\n" not in text.strip()


def _load_document(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(TOO_DEEP, file=path) from None
    except json.JSONDecodeError as exc:
        reason = "the JSON ends early (is the file truncated?)" if exc.pos >= len(text.rstrip()) else exc.msg
        raise InputError(f"invalid JSON: {reason}", file=path, line=exc.lineno, column=exc.colno) from exc


def _envelope_items(document: Any, path: str) -> list[Any]:
    """The record list inside a list response: Svix {"data": []}, Hookdeck {"models": []}, Convoy."""
    if isinstance(document, dict):
        for key in ENVELOPE_KEYS:
            value = document.get(key)
            if isinstance(value, list):
                return value
            if isinstance(value, dict):
                for inner in ENVELOPE_KEYS:
                    if isinstance(value.get(inner), list):
                        return list(value[inner])
        return [document]
    raise InputError("expected a JSON array or object of delivery attempts", file=path, line=1)


def _array_start(text: str, document: Any) -> int | None:
    if isinstance(document, list):
        return text.index("[")
    keys = "|".join(ENVELOPE_KEYS)
    match = re.search(rf'"(?:{keys})"\s*:\s*\[', text)
    return match.end() - 1 if match else None


def _element_lines(text: str, array_start: int, count: int) -> list[int | None]:
    """Line where each element of the array starting at `array_start` begins."""
    decoder = json.JSONDecoder()
    lines: list[int | None] = []
    pos = array_start + 1
    line = text.count("\n", 0, pos) + 1
    ws = re.compile(r"[\s,]*")
    while len(lines) < count:
        skip = ws.match(text, pos)
        assert skip is not None
        line += text.count("\n", pos, skip.end())
        pos = skip.end()
        lines.append(line)
        try:
            _, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            lines.extend([None] * (count - len(lines)))
            break
        line += text.count("\n", pos, end)
        pos = end
    return lines
