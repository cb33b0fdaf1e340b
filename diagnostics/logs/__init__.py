"""Delivery logs: load attempts from files or databases into the canonical attempt table.

`load_attempts` is the one entry point the CLI, the app and the pipeline use. It stages each
source with its importer (canonical CSV/JSONL/Parquet, Svix, Hookdeck, Convoy, GitHub, or a SQL
database), then `schema.finalize` validates and types all rows into one DuckDB table.

Importing this package is cheap on purpose: DuckDB and Arrow load on the first `load_attempts`
(or the first use of `AttemptTable`), so a command that only reads a capped file through
`logs.files` (`verify`, `schemes`, `probe --urls-file`) does not pay ~0.25 s for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from diagnostics.errors import InputError
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.net.databases import OPERATOR, DatabasePolicy

if TYPE_CHECKING:
    from diagnostics.logs.schema import AttemptTable, ImportProblem

__all__ = ["AttemptTable", "ImportProblem", "load_attempts", "parse_mapping"]

_FROM_SCHEMA = ("AttemptTable", "ImportProblem")


def __getattr__(name: str) -> Any:
    """`AttemptTable` and `ImportProblem` from `logs.schema`, imported on first use (PEP 562)."""
    if name in _FROM_SCHEMA:
        from diagnostics.logs import schema

        return getattr(schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_attempts(
    sources: Sequence[str],
    *,
    source_format: str = "auto",
    mapping: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    table: str | None = None,
    query: str | None = None,
    naive_is_utc: bool = False,
    strict: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    memory_limit: str | None = None,
    database_policy: DatabasePolicy = OPERATOR,
) -> AttemptTable:
    """Load delivery attempts from files and/or database URLs into one canonical table.

    Args:
        sources: file paths or SQLAlchemy URLs.
        source_format: auto (detect per file), canonical, svix, hookdeck, convoy or github.
        mapping: canonical column -> source column, for canonical files and databases.
        endpoint, since, until: filters; pushed into the SQL of a database source.
        table, query: for database sources, the table to read or a SELECT to wrap.
        naive_is_utc: read timestamps without offset as UTC instead of refusing them.
        strict: any unmappable row is an error instead of a reported problem.
        max_file_bytes: files larger than this are refused.
        database_policy: where database URLs came from (`net/databases.py`); the operator's by default.

    Raises InputError naming file, line and column when a source cannot be used.
    """
    from diagnostics.logs.preflight import check_log_file
    from diagnostics.logs.schema import connect, finalize
    from diagnostics.logs.sources import is_database_url, stage_database, stage_file

    if not sources:
        raise InputError("no delivery-log source given (a file path or a database URL)")
    if since and until and since >= until:
        raise InputError("--since must be before --until", field="--since")
    conn = connect(memory_limit)
    stages = []
    executed: list[str] = []
    try:
        for source in sources:
            if is_database_url(source):
                stages.append(
                    stage_database(
                        conn, source, table=table, query=query, mapping=mapping,
                        endpoint=endpoint, since=since, until=until, executed=executed, policy=database_policy,
                    )
                )
            else:
                check_log_file(source, max_file_bytes)
                stages.append(stage_file(conn, source, source_format, mapping, max_file_bytes))
        attempts = finalize(
            conn, stages, endpoint=endpoint, since=since, until=until, naive_is_utc=naive_is_utc, strict=strict
        )
    except BaseException:
        conn.close()
        raise
    attempts.source_queries = executed
    return attempts


def parse_mapping(text: str | None) -> dict[str, str]:
    """`attempted_at=created,endpoint=webhook_id` -> {"attempted_at": "created", ...}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        canon, sep, src = part.partition("=")
        if not sep or not canon.strip() or not src.strip():
            raise InputError(f"--map entry {part.strip()!r} is not canonical=source", field="--map")
        mapping[canon.strip()] = src.strip()
    return mapping
