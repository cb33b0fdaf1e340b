"""`--engine database`: the analyzers run inside PostgreSQL; only aggregates come back.

The source is read with the project's database handling (`logs.sources.build_sql_select`: the
table or query, `--map`, and the endpoint and time filters in its WHERE clause); its rows are
typed once into a temporary table (`source.canonical_select`), and every derived table of the
analysis is a temporary table of the same session, dropped with it. SQL is compiled to the
"postgres" dialect (`dialects.py` rewrites what sqlglot gets wrong, with a few pg_temp
functions). Text sorts by the database's collation: a database that does not use "C" may break
ties between endpoint names in another order than DuckDB.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import sqlalchemy as sa

from diagnostics.config import Config
from diagnostics.engines.base import Engine
from diagnostics.engines.dialects import POSTGRES_FUNCTIONS
from diagnostics.engines.source import canonical_select, check_columns, kind_of, naive_times_sql
from diagnostics.errors import InputError
from diagnostics.logs.sources import build_sql_select, is_database_url
from diagnostics.net.databases import OPERATOR, DatabasePolicy, create_checked_engine

EXPORT_BATCH = 50_000


def plain(value: Any) -> Any:
    """Database numbers as DuckDB gives them: whole numerics (sum of bigint) as int, others float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value


class PostgresEngine(Engine):
    name: ClassVar[str] = "database"
    dialect: ClassVar[str] = "postgres"
    table = "_wd_attempts"

    def __init__(self, engine: sa.Engine, shown: str) -> None:
        self.sa_engine = engine
        self.shown = shown
        self.conn = engine.connect()
        # The driver's own connection: statements without parameters, so '%' in SQL is just '%'.
        self.raw = self.conn.connection.driver_connection
        self.excluded = 0
        self.rows_total = 0
        self.source_queries: list[str] = []
        self.execute("SET TIME ZONE 'UTC'")
        for ddl in POSTGRES_FUNCTIONS:
            self.execute(ddl)

    def execute(self, sql: str) -> Any:
        return self.raw.execute(sql)

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self.execute(sql)
        return [d.name for d in cursor.description], [tuple(plain(v) for v in row) for row in cursor.fetchall()]

    def materialize(self, name: str, select: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.execute(f"CREATE TEMP TABLE {name} AS {self.compile(select)}")
        self.execute(f"ANALYZE {name}")

    def export(self, select: str, path: str) -> int:
        suffix = Path(path).suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise InputError(f"details file must end in .parquet or .csv, not {suffix or '(none)'}", file=path)
        tmp = Path(f"{path}.tmp")
        result = self.raw.cursor(name="wd_export")  # server-side: the rows stream in batches
        result.execute(self.compile(select))
        names = [d.name for d in result.description]
        written = 0
        if suffix == ".csv":
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh)
                out.writerow(names)
                while batch := result.fetchmany(EXPORT_BATCH):
                    out.writerows([_csv(v) for v in row] for row in batch)
                    written += len(batch)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            writer: pq.ParquetWriter | None = None
            try:
                while batch := result.fetchmany(EXPORT_BATCH):
                    table = pa.table({n: [plain(r[i]) for r in batch] for i, n in enumerate(names)})
                    writer = writer or pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table.cast(writer.schema))
                    written += len(batch)
                if writer is None:
                    pq.write_table(pa.table({n: pa.array([], pa.string()) for n in names}), tmp)
            finally:
                if writer is not None:
                    writer.close()
        tmp.replace(path)
        return written

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            self.sa_engine.dispose()

    def subject(self) -> str:
        row = self.rows(f"SELECT count(*) AS n, min(attempted_at) AS s, max(attempted_at) AS e FROM {self.table}")[0]
        if not row["n"]:
            return f"{self.shown} (no attempts)"
        return f"{self.shown}: {row['n']:,} attempts, {row['s']:%Y-%m-%d %H:%M} to {row['e']:%Y-%m-%d %H:%M} UTC"

    def _type_name(self, oid: int) -> str:
        return str(self.value(f"SELECT format_type({int(oid)}, NULL)") or "text")

    def import_metrics(self) -> dict[str, Any]:
        """What reached the analysis, as the embedded path reports its import."""
        return {"sources": [self.shown], "rows": self.rows_total - self.excluded, "problem_total": self.excluded,
                "problems": [], "source_queries": self.source_queries}

    def load(self, stmt: sa.Select[Any]) -> None:
        """Type the pushed-down SELECT's rows into the canonical temporary table, in the database."""
        compiled = str(stmt.compile(self.sa_engine, compile_kwargs={"literal_binds": True}))
        self.source_queries.append(compiled)
        self.execute(f"CREATE TEMP VIEW _wd_source AS {compiled}")
        probe = self.execute("SELECT * FROM _wd_source LIMIT 0")
        types = {d.name: self._type_name(d.type_code) for d in probe.description}
        kinds = {name: kind_of(t) for name, t in types.items()}
        check_columns(kinds, self.shown)
        naive = naive_times_sql("_wd_source", kinds)
        if naive:
            value = self.value(naive)
            if value is not None:
                raise InputError(f"attempted_at {str(value)[:40]!r} has no UTC offset; store times as timestamptz "
                                 "or with an offset (Z, +02:00)", file=self.shown, column="attempted_at")
        select = canonical_select("_wd_source", kinds, seq="row_number() OVER ()", trim=True)
        self.execute(f"CREATE TEMP TABLE {self.table} AS {self.compile(select)}")
        self.execute(f"ANALYZE {self.table}")
        self.rows_total = int(self.value("SELECT count(*) FROM _wd_source") or 0)
        self.excluded = self.rows_total - int(self.value(f"SELECT count(*) FROM {self.table}") or 0)


def _csv(value: Any) -> Any:
    value = plain(value)
    return value.isoformat() if isinstance(value, datetime) else value


def open_engine(sources: Sequence[str], *, config: Config, mapping: Any = None, endpoint: str | None = None,
                since: datetime | None = None, until: datetime | None = None, table: str | None = None,
                query: str | None = None, database_policy: DatabasePolicy = OPERATOR) -> PostgresEngine:
    """Connect to the one PostgreSQL source and build the canonical attempts table inside it.

    `database_policy` says where the URL came from (`net/databases.py`): a case's or the app's URL
    passes the address policy before anything is sent."""
    del config  # nothing to configure beyond the URL
    urls = [s for s in sources if is_database_url(s)]
    if len(urls) != 1 or len(sources) != 1:
        raise InputError("--engine database analyzes one database URL (postgresql://...) at a time", field="--engine")
    engine = create_checked_engine(urls[0], database_policy)
    shown = engine.url.render_as_string(hide_password=True)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise InputError(f"--engine database runs inside PostgreSQL, not {engine.dialect.name}; use --engine duckdb "
                         "to read the rows", file=shown, field="--engine")
    try:
        stmt = build_sql_select(engine, table=table, query=query, mapping=mapping, endpoint=endpoint, since=since,
                                until=until)
        pg = PostgresEngine(engine, shown)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise InputError(f"cannot read the database: {_first_line(exc)}", file=shown) from exc
    except BaseException:
        engine.dispose()
        raise
    try:
        pg.load(stmt)
    except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
        pg.close()
        raise InputError(f"cannot read the database: {_first_line(exc)}", file=shown) from exc
    except BaseException:
        pg.close()
        raise
    if pg.rows_total - pg.excluded == 0:
        pg.close()
        raise InputError("no delivery attempts to analyze (check the filters: --endpoint, --since, --until)",
                         file=shown)
    return pg


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
