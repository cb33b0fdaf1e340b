"""Shared plumbing of the platform importers: read the export, map each record, stage the rows.

Each importer also reads what the export's page envelopes say about themselves (`ExportReader`):
a page of a paginated list (Svix `done: false`, Hookdeck `pagination.next`, Convoy
`has_next_page`) is not the whole history, and the `partial-export` analyzer says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import duckdb

from diagnostics.errors import InputError
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES, decode_utf8, read_bytes, read_json_export
from diagnostics.logs.schema import Stage
from diagnostics.logs.staging import stage_records

RecordMapper = Callable[[Mapping[str, Any], str], dict[str, Any]]
# The page envelopes of the file, in order -> {"partial": True, "next": cursor, "rerun": what to run}, or None.
ExportReader = Callable[[Sequence[Mapping[str, Any]]], dict[str, Any] | None]


def stage_platform_export(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    mapper: RecordMapper,
    platform: str,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    read_pages: ExportReader | None = None,
) -> Stage:
    """Parse a JSON export and stage each record as mapped by `mapper(record, path)`."""
    text = decode_utf8(read_bytes(path, max_bytes), path)
    export = read_json_export(text, path)

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        for line, record in export.records:
            if not isinstance(record, Mapping):
                raise InputError(f"each {platform} record must be a JSON object", file=path, line=line)
            yield line, mapper(record, path)

    stage = stage_records(conn, rows(), path)
    facts = read_pages(export.pages) if read_pages and export.pages else None
    return replace(stage, platform=platform.lower(), export=facts)


def first_present(record: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None


def ids_json(**ids: Any) -> str | None:
    """The platform's own ids (the ones its API calls take), as compact JSON; None when none is set."""
    present = {k: v for k, v in ids.items() if v is not None and v != ""}
    return json.dumps(present, separators=(",", ":"), sort_keys=True) if present else None


def headers_json(headers: Any) -> str | None:
    """A header object as compact JSON (names as sent); None when absent or empty."""
    if not isinstance(headers, Mapping) or not headers:
        return None
    return json.dumps(dict(headers), separators=(",", ":"), ensure_ascii=False)
