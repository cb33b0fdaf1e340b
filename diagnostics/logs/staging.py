"""Bringing parsed rows into DuckDB as a stage: canonical column names, `_line`, nothing typed yet.

Platform importers build plain dicts in Python (their exports are JSON); this turns them into one
Arrow table, so DuckDB receives the rows in a single hand-off instead of row by row.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from diagnostics.logs.schema import CANONICAL_COLUMNS, Stage

_counter = itertools.count()


def stage_name(prefix: str = "stage") -> str:
    return f"_{prefix}_{next(_counter)}"


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _encodable(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    return _encodable(str(value))


def _encodable(text: str) -> str:
    """Text Arrow can hold: JSON may spell lone surrogates (`"\\ud800"`), which no UTF-8 string
    can carry; they are kept visible as `\\ud800` instead of failing the whole import."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def stage_records(
    conn: duckdb.DuckDBPyConnection, rows: Iterable[tuple[int | None, Mapping[str, Any]]], file: str
) -> Stage:
    """Stage (line, canonical dict) pairs; every value travels as text and `finalize` types it."""
    import pyarrow as pa  # here, not at the top: a Parquet or CSV log never pays for Arrow and NumPy (~0.1 s)

    columns: dict[str, list[str | None]] = {name: [] for name in CANONICAL_COLUMNS}
    lines: list[int | None] = []
    for line, row in rows:
        lines.append(line)
        for name, values in columns.items():
            values.append(_as_text(row.get(name)))
    present = {name: values for name, values in columns.items() if any(v is not None for v in values) or not lines}
    for required in ("event_id", "endpoint", "attempted_at"):
        present.setdefault(required, columns[required])
    arrays = {name: pa.array(values, type=pa.string()) for name, values in present.items()}
    arrays["_line"] = pa.array(lines, type=pa.int64())
    table = pa.table(arrays)
    name = stage_name()
    conn.register(f"{name}_arrow", table)
    conn.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    conn.unregister(f"{name}_arrow")
    return Stage(name=name, file=file)
