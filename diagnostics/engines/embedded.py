"""The embedded default: DuckDB, in process, over the loaded `AttemptTable` (a table or a view
over a Parquet file read in place). Spills to disk past its memory limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import duckdb

from diagnostics.engines.base import Engine
from diagnostics.errors import InputError
from diagnostics.logs.schema import sql_literal


class DuckDBEngine(Engine):
    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection, table: str = "attempts") -> None:
        self.conn = conn
        self.table = table

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self.conn.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def materialize(self, name: str, select: str) -> None:
        self.conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {self.compile(select)}")

    def export(self, select: str, path: str) -> int:
        suffix = Path(path).suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise InputError(f"details file must end in .parquet or .csv, not {suffix or '(none)'}", file=path)
        fmt = "(FORMAT parquet)" if suffix == ".parquet" else "(FORMAT csv, HEADER true)"
        tmp = f"{path}.tmp"
        written = self.conn.execute(f"COPY ({self.compile(select)}) TO {sql_literal(tmp)} {fmt}").fetchone()
        Path(tmp).replace(path)
        return int(written[0]) if written else 0
