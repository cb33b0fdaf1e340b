"""The embedded default: DuckDB, in process, over the loaded `AttemptTable` (a table or a view
over a Parquet file read in place). Spills to disk past its memory limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import duckdb

from diagnostics.engines.base import Engine, check_details_path
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
