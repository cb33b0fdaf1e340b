"""Putting a generated log into PostgreSQL as a user's table would be: typed columns, loaded by COPY."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

PG_TYPES = {"string": "text", "int64": "bigint", "double": "double precision", "timestamp[us, tz=UTC]": "timestamptz"}


def copy_to_postgres(url: str, name: str, table: pa.Table) -> None:
    """(Re)create table `name` with the Arrow table's columns and COPY its rows in."""
    columns = ", ".join(f'"{f.name}" {PG_TYPES.get(str(f.type), "text")}' for f in table.schema)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE TABLE "{name}" ({columns})')
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f'COPY "{name}" FROM STDIN') as copy:
                for batch in table.to_batches(50_000):
                    for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                        copy.write_row(row)
    finally:
        engine.dispose()
