"""The customer's own record of what they received, in the forms they actually send.

`read_received` turns a file into receipts (event id -> how many times they recorded it):
- JSON Lines, a JSON array or a `{"data": [...]}` list with an id field (ID_COLUMNS, any case,
  top level or inside a `headers` object, or the field named by `--id-column`);
- CSV (comma, semicolon or tab) whose header names an id column;
- a list of ids, one per line (every non-blank line a single token);
- anything else is a pasted application log: each line is one receipt of every event id of our
  format (`event_id_pattern`) it mentions. JSON logs without an id field are read the same way.
A file from which no id can be read is an InputError naming the file. Reading is bounded by the
customer's file, never by the delivery log.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from diagnostics.errors import InputError
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES, decode_utf8, iter_json_records, read_bytes

ID_COLUMNS = ("id", "event_id", "webhook_id", "webhook-id", "svix-id", "x-github-delivery")
DEFAULT_EVENT_ID_PATTERN = r"evt_[A-Za-z0-9]+"
SVIX_EVENT_ID_PATTERN = r"msg_[A-Za-z0-9]+"
MAX_ID_CHARS = 200


@dataclass
class Received:
    """What the customer says they received: receipts per event id, and how we read the file."""

    receipts: Counter[str]
    form: str  # ids, csv, jsonl, application-log
    lines: int
    id_column: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"form": self.form, "lines": self.lines, "ids": len(self.receipts),
                "receipts": sum(self.receipts.values()), "id_column": self.id_column}


def id_regex(pattern: str) -> re.Pattern[str]:
    """The event-id pattern, never matching inside a longer word."""
    try:
        return re.compile(rf"(?<![A-Za-z0-9_])(?:{pattern})(?![A-Za-z0-9_])")
    except re.error as exc:
        raise InputError(f"invalid event_id_pattern {pattern!r}: {exc}", file="diagnostics.toml",
                         field="event_id_pattern") from exc


def read_received(path: str, *, pattern: str = DEFAULT_EVENT_ID_PATTERN, id_column: str | None = None,
                  max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Received:
    text = decode_utf8(read_bytes(path, max_bytes), path)
    if not text.strip():
        raise InputError("the received-ids file is empty", file=path)
    regex = id_regex(pattern)
    lines = [line for line in text.splitlines() if line.strip()]
    received = (_json(text, path, id_column) if text.lstrip()[:1] in "[{" else None) \
        or _csv(text, path, id_column) or _id_list(lines, id_column)
    if received is None:
        if id_column:
            raise InputError(f"no column or field named {id_column!r}", file=path, field="--id-column")
        receipts: Counter[str] = Counter()
        for line in lines:
            receipts.update(set(regex.findall(line)))
        received = Received(receipts=receipts, form="application-log", lines=len(lines))
    if not received.receipts:
        raise InputError(f"no recognizable event id (a column {', '.join(ID_COLUMNS)}, one id per line, or ids "
                         f"matching {pattern})", file=path)
    return received


def _pick(keys: list[str], id_column: str | None) -> str | None:
    lowered = {k.strip().lower(): k for k in keys}
    wanted = (id_column.lower(),) if id_column else ID_COLUMNS
    return next((lowered[w] for w in wanted if w in lowered), None)


def _clean(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text[:MAX_ID_CHARS] if text else None


def _json(text: str, path: str, id_column: str | None) -> Received | None:
    try:
        records = [r for _line, r in iter_json_records(text, path)]
    except InputError:
        return None  # not JSON after all: a pasted log that starts with a brace
    receipts: Counter[str] = Counter()
    column = None
    for record in records:
        if not isinstance(record, dict):
            continue
        holder = record
        key = _pick(list(record), id_column)
        if key is None and isinstance(record.get("headers"), dict):
            holder, key = record["headers"], _pick(list(record["headers"]), id_column)
        value = _clean(holder.get(key)) if key else None
        if value:
            receipts[value] += 1
            column = column or key
    return Received(receipts=receipts, form="jsonl", lines=len(records), id_column=column) if receipts else None


def _csv(text: str, path: str, id_column: str | None) -> Received | None:
    header = text.lstrip("\ufeff").splitlines()[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    if header.count(delimiter) == 0 and not _pick([header], id_column):
        return None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        names = next(reader)
        key = _pick(names, id_column)
        if key is None:
            return None
        index = names.index(key)
        receipts: Counter[str] = Counter()
        rows = 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            rows += 1
            value = _clean(row[index]) if index < len(row) else None
            if value:
                receipts[value] += 1
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", file=path, line=reader.line_num) from exc
    return Received(receipts=receipts, form="csv", lines=rows, id_column=key.strip())


ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def _id_list(lines: list[str], id_column: str | None) -> Received | None:
    """One id per line: every line a single id-like token, and at least one with a digit (a list
    of words is not a list of ids)."""
    tokens = [line.strip() for line in lines]
    if id_column or not tokens or not any(any(ch.isdigit() for ch in t) for t in tokens):
        return None
    if any(len(t) > MAX_ID_CHARS or not ID_TOKEN.fullmatch(t) for t in tokens):
        return None
    return Received(receipts=Counter(tokens), form="ids", lines=len(tokens))


def event_id_pattern(config_pattern: str | None, sources_are_svix: bool) -> str:
    """Our event-id format: the configured one, else Svix's `msg_` ids for a Svix export, else `evt_`."""
    if config_pattern:
        return config_pattern
    return SVIX_EVENT_ID_PATTERN if sources_are_svix else DEFAULT_EVENT_ID_PATTERN

