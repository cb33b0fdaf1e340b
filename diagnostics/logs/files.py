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
from dataclasses import dataclass, field
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
        inflated_size(path, max_bytes)  # a 1 MB bomb is refused before any of it is held in memory
        with gzip.open(path, "rb") as fh:
            data = fh.read()  # read(n) would allocate n bytes up front: the size is known to fit now
    except (OSError, EOFError) as exc:
        raise InputError(f"the gzip data is damaged or truncated ({exc})", file=path) from exc
    if not data:
        raise InputError("the file is empty", file=path)
    return data


INFLATE_CHUNK = 1 << 20


def inflated_size(path: str, max_bytes: int) -> int:
    """The decompressed size of a gzip file, streamed a megabyte at a time and stopped at the
    limit: memory stays at one chunk however far the data would inflate."""
    total = 0
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(INFLATE_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise InputError(f"the file inflates to more than {max_bytes / 1e9:.2f} GB", file=path)
    return total


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


@dataclass
class JsonExport:
    """The records of a JSON export with the line each starts on, and the envelope of each page.

    `pages` keeps what a list response says about itself without its records (Svix `done` and
    `iterator`, Hookdeck `pagination.next`, Convoy `data.pagination`), in file order, so an
    importer can tell a page of a paginated export from the whole history.
    """

    records: list[tuple[int | None, Any]] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)


def iter_json_records(text: str, path: str) -> Iterator[tuple[int | None, Any]]:
    """(line, record) for JSON Lines, a JSON array, or a list response like {"data": [...]}.

    Parsing errors (a truncated file, a stray comma) name the line and column.
    """
    yield from read_json_export(text, path).records


def read_json_export(text: str, path: str) -> JsonExport:
    """Parse JSON Lines, one document, or documents one after the other (`gh api --paginate`).

    A document is an array of records, an array of pages (`gh api --paginate --slurp`) or a list
    response; each page's envelope goes to `JsonExport.pages`.
    """
    stripped = text.lstrip()
    if not stripped:
        raise InputError("the file is empty", file=path)
    offset = len(text) - len(stripped)
    if stripped[0] == "[" or (stripped[0] == "{" and _is_single_document(text)):
        export = JsonExport()
        located: list[tuple[int | None, Any]] = []  # (offset, record)
        for start, document in _documents(text, path):
            _collect(text, start, document, located, export.pages, path)
        export.records = _offsets_to_lines(text, located)
        return export
    decoder = json.JSONDecoder()
    export = JsonExport()
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
        export.records.append((number, record))
    return export


def _documents(text: str, path: str) -> list[tuple[int, Any]]:
    """(offset, document): one document, or several written one after another (gh --paginate)."""
    try:
        return [(len(text) - len(text.lstrip()), json.loads(text))]
    except RecursionError:
        raise InputError(TOO_DEEP, file=path, line=1) from None
    except json.JSONDecodeError as exc:
        if not exc.msg.startswith("Extra data"):
            _load_document(text, path)  # raises with the located reason
            raise  # pragma: no cover - _load_document always raises here
    decoder = json.JSONDecoder()
    documents: list[tuple[int, Any]] = []
    ws = re.compile(r"\s*")
    pos = 0
    while True:
        skip = ws.match(text, pos)
        pos = skip.end() if skip else pos
        if pos >= len(text):
            return documents
        try:
            document, end = decoder.raw_decode(text, pos)
        except RecursionError:
            raise InputError(TOO_DEEP, file=path, line=text.count("\n", 0, pos) + 1) from None
        except json.JSONDecodeError as exc:
            reason = "the JSON ends early (is the file truncated?)" if exc.pos >= len(text.rstrip()) else exc.msg
            raise InputError(f"invalid JSON: {reason}", file=path, line=exc.lineno, column=exc.colno) from exc
        if not isinstance(document, (list, dict)):
            line = text.count("\n", 0, pos) + 1
            raise InputError("expected JSON arrays or objects one after another", file=path, line=line)
        documents.append((pos, document))
        pos = end


def _collect(text: str, start: int, document: Any, located: list[tuple[int | None, Any]],
             pages: list[dict[str, Any]], path: str) -> None:
    """Append (offset, record) for every record of one document, and its page envelope."""
    if isinstance(document, list):
        offsets = _element_offsets(text, start, len(document))
        if document and all(isinstance(item, list) for item in document):  # an array of pages (--slurp)
            for item_start, page in zip(offsets, document, strict=True):
                if item_start is None:
                    located.extend((None, record) for record in page)
                else:
                    _collect(text, item_start, page, located, pages, path)
            return
        located.extend(zip(offsets, document, strict=True))
        return
    items, envelope = _envelope(document, path)
    pages.append(envelope)
    if items is document:
        located.append((start, document))
        return
    keys = "|".join(ENVELOPE_KEYS)
    match = re.compile(rf'"(?:{keys})"\s*:\s*\[').search(text, start)
    offsets = _element_offsets(text, match.end() - 1, len(items)) if match else [None] * len(items)
    located.extend(zip(offsets, items, strict=True))


def _envelope(document: Any, path: str) -> tuple[Any, dict[str, Any]]:
    """(records, envelope without them) of a list response; a lone record is its own list."""
    if not isinstance(document, dict):
        raise InputError("expected a JSON array or object of delivery attempts", file=path, line=1)
    for key in ENVELOPE_KEYS:
        value = document.get(key)
        if isinstance(value, list):
            return value, {k: v for k, v in document.items() if k != key}
        if isinstance(value, dict):
            for inner in ENVELOPE_KEYS:
                if isinstance(value.get(inner), list):
                    rest = {k: v for k, v in value.items() if k != inner}
                    return list(value[inner]), {**{k: v for k, v in document.items() if k != key}, key: rest}
    return document, {}


def _offsets_to_lines(text: str, located: list[tuple[int | None, Any]]) -> list[tuple[int | None, Any]]:
    """Offsets (ascending) to line numbers, counting newlines once over the text."""
    result: list[tuple[int | None, Any]] = []
    line, last = 1, 0
    for offset, record in located:
        if offset is None:
            result.append((None, record))
            continue
        line += text.count("\n", last, offset)
        last = offset
        result.append((line, record))
    return result


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


def _element_offsets(text: str, array_start: int, count: int) -> list[int | None]:
    """Offset where each element of the array starting at `array_start` begins."""
    decoder = json.JSONDecoder()
    offsets: list[int | None] = []
    pos = array_start + 1
    ws = re.compile(r"[\s,]*")
    while len(offsets) < count:
        skip = ws.match(text, pos)
        assert skip is not None
        pos = skip.end()
        offsets.append(pos)
        try:
            _, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            offsets.extend([None] * (count - len(offsets)))
            break
    return offsets
