"""Where the analyzers' SQL runs: one `Engine` per place the delivery attempts can live.

The analyzers write their SQL once, in DuckDB's dialect (the embedded default), restricted to the
portable subset listed in ARCHITECTURE.md; an engine compiles it to its own dialect with sqlglot
(cached per statement) and runs it where the data is. Every engine exposes the same relation
`attempts` with the canonical columns plus `seq` (a unique tie-breaker per row), builds derived
tables with `materialize`, returns only small result sets with `rows`/`value`, and writes a large
result (the per-endpoint detail) straight to a file with `export`, so the rows never pass through
Python.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

SOURCE_DIALECT = "duckdb"
DETAILS_SUFFIXES = (".parquet", ".csv")


def check_details_path(path: str) -> str:
    """Refuse a `--details` path that cannot be written, before any work is done; return its suffix."""
    from pathlib import Path

    from diagnostics.errors import InputError

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in DETAILS_SUFFIXES:
        raise InputError(f"details file must end in .parquet or .csv, not {suffix or '(none)'}", field="--details")
    if not target.parent.is_dir():
        raise InputError(f"folder {str(target.parent)!r} does not exist", file=path, field="--details")
    if target.is_dir():
        raise InputError("is a folder, not a file", file=path, field="--details")
    return suffix


@lru_cache(maxsize=512)
def transpile(sql: str, dialect: str) -> str:
    """`sql` (DuckDB dialect) in `dialect`, with the per-dialect rewrites of `dialects.py` applied;
    identity for DuckDB itself."""
    if dialect == SOURCE_DIALECT:
        return sql
    import sqlglot  # only engines other than DuckDB pay for the import

    from diagnostics.engines.dialects import rewrite

    tree = rewrite(sqlglot.parse_one(sql, read=SOURCE_DIALECT), dialect)
    return tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)


class Engine(ABC):
    """Runs analyzer SQL over `attempts` in one place (DuckDB, PostgreSQL, Spark)."""

    name: ClassVar[str]
    dialect: ClassVar[str]
    table: str = "attempts"

    def compile(self, sql: str) -> str:
        return transpile(sql, self.dialect)

    @abstractmethod
    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of a compiled query (small results only)."""

    @abstractmethod
    def materialize(self, name: str, select: str) -> None:
        """Create (or replace) the temporary table `name` from a SELECT in the source dialect."""

    @abstractmethod
    def export(self, select: str, path: str) -> int:
        """Write a SELECT's rows to `path` (.parquet or .csv) where they are; return the row count."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release the connection or session."""

    def rows(self, sql: str) -> list[dict[str, Any]]:
        names, data = self.fetch(self.compile(sql))
        return [dict(zip(names, row, strict=True)) for row in data]

    def value(self, sql: str) -> Any:
        _, data = self.fetch(self.compile(sql))
        return data[0][0] if data else None

    def columns(self) -> Sequence[str]:
        """The columns of `attempts` (optional canonical columns may be absent in old sources)."""
        names, _ = self.fetch(self.compile(f"SELECT * FROM {self.table} LIMIT 0"))
        return names
