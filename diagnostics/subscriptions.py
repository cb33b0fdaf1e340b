"""Subscriptions: which endpoint subscribes to which event types, and the payload version it pins.

Sources:

* CSV with a header holding at least `endpoint,event_type` (optional `payload_version`); an
  `event_type` cell may list several types separated by `;` or `|`;
* JSON or YAML: a list of `{endpoint, event_type | event_types | filter_types, payload_version?}`
  (also under a top-level `subscriptions:` key), or a mapping `endpoint -> [event types]`;
* a SQLAlchemy URL (`postgresql+psycopg://…`, `sqlite:///…`) with a table (default
  `subscriptions`) or a SELECT, and an optional mapping of canonical column -> source column.

An event type may be a pattern (`*`, `invoice.*`): it matches by shell-style wildcard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from diagnostics.documents import load_document
from diagnostics.errors import InputError
from diagnostics.logs.files import read_capped
from diagnostics.logs.sources import is_database_url
from diagnostics.net.databases import parse_database_url

COLUMNS = ("endpoint", "event_type", "payload_version")
ENDPOINT_KEYS = ("endpoint", "endpoint_id", "endpointId", "url")
TYPE_KEYS = ("event_type", "event_types", "eventTypes", "filter_types", "filterTypes", "events")
VERSION_KEYS = ("payload_version", "version", "api_version", "apiVersion")
MAX_FILE_BYTES = 50_000_000
DEFAULT_TABLE = "subscriptions"


@dataclass(frozen=True)
class Subscription:
    """One endpoint subscribed to one event type (or pattern) at one payload version."""

    endpoint: str
    event_type: str
    payload_version: str | None = None
    source: str = ""

    @property
    def is_pattern(self) -> bool:
        return any(ch in self.event_type for ch in "*?[")

    def matches(self, event_type: str) -> bool:
        return fnmatchcase(event_type, self.event_type) if self.is_pattern else event_type == self.event_type


def subscribers(subscriptions: Iterable[Subscription], event_type: str) -> set[str]:
    """Endpoints subscribed to `event_type`, directly or through a pattern."""
    return {s.endpoint for s in subscriptions if s.matches(event_type)}


def load_subscriptions(
    source: str | Path,
    *,
    table: str | None = None,
    query: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> list[Subscription]:
    """Read subscriptions from a CSV/JSON/YAML file or a database; duplicates are dropped."""
    text = str(source)
    if is_database_url(text):
        rows = _from_database(text, table=table, query=query, mapping=mapping)
    else:
        rows = _from_file(Path(text))
    unique: dict[tuple[str, str, str | None], Subscription] = {}
    for sub in rows:
        unique.setdefault((sub.endpoint, sub.event_type, sub.payload_version), sub)
    return list(unique.values())


def _split_types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.replace("|", ";").split(";") if t.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    return []


def _version(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _from_file(path: Path) -> list[Subscription]:
    try:
        raw = read_capped(str(path), MAX_FILE_BYTES, "subscriptions file").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("subscriptions file is not UTF-8 text", file=str(path)) from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _from_csv(path, raw)
    if suffix in (".json", ".yaml", ".yml"):
        return _from_document(path, raw)
    raise InputError("subscriptions must be a .csv, .json, .yaml file or a database URL", file=str(path))


def _from_csv(path: Path, raw: str) -> list[Subscription]:
    reader = csv.reader(io.StringIO(raw))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration as exc:
        raise InputError("subscriptions file is empty", file=str(path)) from exc
    for needed in ("endpoint", "event_type"):
        if needed not in header:
            raise InputError(f"the header lacks the column {needed!r} (found: {', '.join(header)})", file=str(path),
                             line=1, field=needed)
    idx = {name: header.index(name) for name in COLUMNS if name in header}
    out: list[Subscription] = []
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} cells, found {len(row)}", file=str(path), line=line_no)
        endpoint = row[idx["endpoint"]].strip()
        if not endpoint:
            raise InputError("endpoint is empty", file=str(path), line=line_no, column=idx["endpoint"] + 1,
                             field="endpoint")
        types = _split_types(row[idx["event_type"]])
        if not types:
            raise InputError("event_type is empty", file=str(path), line=line_no, column=idx["event_type"] + 1,
                             field="event_type")
        version = _version(row[idx["payload_version"]]) if "payload_version" in idx else None
        out.extend(Subscription(endpoint, t, version, f"{path.name}:{line_no}") for t in types)
    return out


def _first(entry: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in entry:
            return entry[key]
    return None


def _from_document(path: Path, raw: str) -> list[Subscription]:
    data = load_document(raw, str(path))
    if isinstance(data, Mapping) and "subscriptions" in data:
        data = data["subscriptions"]
    if isinstance(data, Mapping):  # endpoint -> [types]
        data = [{"endpoint": k, "event_types": v} for k, v in data.items()]
    if not isinstance(data, list):
        raise InputError("expected a list of subscriptions (or a mapping endpoint -> event types)", file=str(path))
    out: list[Subscription] = []
    for index, entry in enumerate(data):
        label = f"entry {index}"
        if not isinstance(entry, Mapping):
            raise InputError(f"{label}: expected an object with endpoint and event_type", file=str(path))
        endpoint = _first(entry, ENDPOINT_KEYS)
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise InputError(f"{label}: endpoint is missing or empty", file=str(path), field="endpoint")
        types = _split_types(_first(entry, TYPE_KEYS))
        if not types:
            raise InputError(f"{label} ({endpoint}): event_type is missing or empty", file=str(path),
                             field="event_type")
        version = _version(_first(entry, VERSION_KEYS))
        out.extend(Subscription(endpoint.strip(), t, version, f"{path.name} {label}") for t in types)
    return out


def _require_columns(available: set[str], mapping: Mapping[str, str]) -> None:
    for canon in ("endpoint", "event_type"):
        if mapping.get(canon, canon) not in available:
            raise InputError(f"the subscriptions source lacks a column for {canon!r} "
                             f"(found: {', '.join(sorted(available))})", field=canon)


def _from_database(
    url: str, *, table: str | None, query: str | None, mapping: Mapping[str, str] | None
) -> list[Subscription]:
    """One SELECT of the mapped columns; only the three columns cross the wire."""
    mapping = dict(mapping or {})
    unknown = set(mapping) - set(COLUMNS)
    if unknown:
        raise InputError(f"unknown subscription column(s) in the mapping: {', '.join(sorted(unknown))}",
                         field="mapping")
    if table and query:
        raise InputError("give a table or a query for the subscriptions database, not both", field="table")
    try:
        engine = sa.create_engine(parse_database_url(url, field="subscriptions"))
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise InputError(f"cannot use database URL: {exc}", field="subscriptions") from exc
    try:
        with engine.connect() as conn:
            if query:  # the user's SELECT runs as given; its columns are mapped here
                result = conn.execute(sa.text(query))
                available = set(result.keys())
                _require_columns(available, mapping)
                rows = [
                    {canon: row.get(mapping.get(canon, canon)) for canon in COLUMNS}
                    for row in result.mappings().all()
                ]
            else:
                schema, _, name = (table or DEFAULT_TABLE).rpartition(".")
                source = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
                available = {c.name for c in source.columns}
                _require_columns(available, mapping)
                columns = [source.c[mapping.get(c, c)].label(c) for c in COLUMNS if mapping.get(c, c) in available]
                rows = [dict(row) for row in conn.execute(sa.select(*columns)).mappings().all()]
    except sa.exc.NoSuchTableError as exc:
        raise InputError(f"table {exc} not found in the subscriptions database", field="table") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise InputError(f"subscriptions database query failed: {str(exc).splitlines()[0]}",
                         field="subscriptions") from exc
    finally:
        engine.dispose()
    out = []
    for row in rows:
        endpoint = str(row["endpoint"] or "").strip()
        for t in _split_types(row["event_type"] or ""):
            if endpoint:
                out.append(Subscription(endpoint, t, _version(row.get("payload_version")), "database"))
    return out
