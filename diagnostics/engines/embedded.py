"""The embedded default: DuckDB, in process, over the loaded `AttemptTable` (a table or a view
over a Parquet file read in place). Spills to disk past its memory limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from diagnostics.engines.base import Engine, check_details_path
from diagnostics.errors import InputError
from diagnostics.logs.schema import quote, sql_literal

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _with_datetimes(row: tuple[Any, ...], zoned: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in zoned:
        if values[i] is not None:
            values[i] = _EPOCH + timedelta(microseconds=values[i])
    return tuple(values)


class DuckDBEngine(Engine):
    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection, table: str = "attempts") -> None:
        self.conn = conn
        self.table = table

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Rows of a SELECT. Zoned timestamps come back as epoch microseconds, turned into UTC
        datetimes here: DuckDB's own conversion goes through zoneinfo per value and took 80% of
        fetching a replay plan's 43,000 events."""
        relation = self.conn.sql(sql)
        if relation is None:
            return [], []
        names = list(relation.columns)
        zoned = [i for i, kind in enumerate(relation.types) if str(kind) == "TIMESTAMP WITH TIME ZONE"]
        if not zoned:
            return names, relation.fetchall()
        columns = ", ".join(f"epoch_us({quote(n)})" if i in zoned else quote(n) for i, n in enumerate(names))
        data = relation.project(columns).fetchall()
        return names, [_with_datetimes(row, zoned) for row in data]

    def materialize(self, name: str, select: str) -> None:
        self.conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {self.compile(select)}")

    def export(self, select: str, path: str) -> int:
        suffix = check_details_path(path)
        fmt = "(FORMAT parquet)" if suffix == ".parquet" else "(FORMAT csv, HEADER true)"
        tmp = Path(f"{path}.tmp")  # written whole, then renamed: never a half-written details file
        try:
            written = self.conn.execute(f"COPY ({self.compile(select)}) TO {sql_literal(str(tmp))} {fmt}").fetchone()
            tmp.replace(path)
        except (duckdb.IOException, OSError) as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write the details file: {str(exc).splitlines()[0]}", file=path,
                             field="--details") from None
        return int(written[0]) if written else 0
