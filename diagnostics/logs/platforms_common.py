"""Shared plumbing of the platform importers: read the export, map each record, stage the rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import duckdb

from diagnostics.errors import InputError
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES, decode_utf8, iter_json_records, read_bytes
from diagnostics.logs.schema import Stage
from diagnostics.logs.staging import stage_records

RecordMapper = Callable[[Mapping[str, Any], str], dict[str, Any]]


def stage_platform_export(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    mapper: RecordMapper,
    platform: str,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Stage:
    """Parse a JSON export and stage each record as mapped by `mapper(record, path)`."""
    text = decode_utf8(read_bytes(path, max_bytes), path)

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        for line, record in iter_json_records(text, path):
            if not isinstance(record, Mapping):
                raise InputError(f"each {platform} record must be a JSON object", file=path, line=line)
            yield line, mapper(record, path)

    return stage_records(conn, rows(), path)


def first_present(record: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None
