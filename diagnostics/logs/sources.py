"""Where delivery logs come from: files (any supported format) and SQL databases.

A source string is a SQLAlchemy URL (`postgresql+psycopg://...`, `sqlite:///...`) or a file
path. Files are staged by their importer; a database is read with one SELECT built by SQLAlchemy
with the column mapping applied and the endpoint and time-window filters pushed down into its
WHERE clause, so only the rows asked for cross the wire. Rows travel to DuckDB in Arrow batches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from diagnostics.errors import InputError
from diagnostics.logs import canonical, convoy, github, hookdeck, svix
from diagnostics.logs.detect import FORMATS, detect_format, unrecognized_json
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES, check_file
from diagnostics.logs.schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS, Stage
from diagnostics.logs.staging import stage_name
from diagnostics.net.databases import OPERATOR, DatabasePolicy, create_checked_engine

if TYPE_CHECKING:  # SQLAlchemy is imported only when a database is read (it costs 0.2 s at start-up)
    import sqlalchemy as sa

URL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
FETCH_BATCH = 50_000
PLATFORM_STAGERS = {"svix": svix.stage, "hookdeck": hookdeck.stage, "convoy": convoy.stage, "github": github.stage}


def is_database_url(source: str) -> bool:
    return bool(URL_PATTERN.match(source)) and not source.startswith("file://")


def stage_file(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    source_format: str = "auto",
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Stage:
    """Stage one file with the importer its format calls for."""
    if source_format not in FORMATS:
        raise InputError(f"unknown source format {source_format!r}; known: {', '.join(FORMATS)}",
                         field="--source-format")
    check_file(path, max_bytes)
    detected, container = detect_format(path)
    fmt = detected if source_format == "auto" else source_format
    if fmt in PLATFORM_STAGERS:
        if mapping:
            raise InputError(f"--map applies to canonical files and databases, not to {fmt} exports", field="--map")
        if container != "json":
            raise InputError(f"a {fmt} export is JSON, but this file looks like {container}", file=path)
        return PLATFORM_STAGERS[fmt](conn, path, max_bytes)
    if container == "parquet":
        return canonical.stage_parquet(conn, path, mapping, max_bytes)
    if container == "json":
        if source_format == "auto" and not mapping and (why := unrecognized_json(path)):
            raise InputError(why, file=path)
        return canonical.stage_json(conn, path, mapping, max_bytes)
    return canonical.stage_csv(conn, path, mapping, max_bytes)


def build_sql_select(
    engine: sa.Engine,
    *,
    table: str | None,
    query: str | None,
    mapping: Mapping[str, str] | None,
    endpoint: str | None,
    since: datetime | None,
    until: datetime | None,
) -> sa.Select[Any]:
    """SELECT <mapped columns> FROM <table or (query)> WHERE <filters>, with bound parameters."""
    import sqlalchemy as sa

    if bool(table) == bool(query):
        raise InputError("a database source needs exactly one of --table or --query", field="--table")
    mapping = canonical.validate_mapping(mapping)
    if table:
        schema, _, name = table.rpartition(".")
        try:
            columns = [c["name"] for c in sa.inspect(engine).get_columns(name, schema=schema or None)]
        except sa.exc.NoSuchTableError as exc:
            raise InputError(f"the database has no table {table!r}", field="--table") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise InputError(f"cannot read the database: {_first_line(exc)}", field="--table") from exc
        from_clause: Any = sa.table(name, *[sa.column(c) for c in columns], schema=schema or None)
    else:
        probe = sa.text(f"SELECT * FROM ({query}) AS q WHERE 1 = 0")
        try:
            with engine.connect() as conn:
                columns = list(conn.execute(probe).keys())
        except sa.exc.SQLAlchemyError as exc:
            raise InputError(f"the query failed: {_first_line(exc)}", field="--query") from exc
        from_clause = sa.text(query).columns(*[sa.column(c) for c in columns]).subquery("q")  # type: ignore[arg-type]
    source_of = {canon: mapping.get(canon, canon) for canon in CANONICAL_COLUMNS}
    missing = [f"{canon} (column {src!r})" for canon, src in source_of.items() if canon in REQUIRED_COLUMNS and src
               not in columns]
    if missing:
        raise InputError(f"the source lacks required column(s) {', '.join(missing)}; map them with --map",
                         field=missing[0].split()[0])
    bad_map = [f"{c}={s}" for c, s in mapping.items() if s not in columns]
    if bad_map:
        raise InputError(f"--map {', '.join(bad_map)}: no such column", field="--map")
    cols = from_clause.c
    selected = [cols[src].label(canon) for canon, src in source_of.items() if src in columns]
    stmt = sa.select(*selected).select_from(from_clause)
    if endpoint:
        stmt = stmt.where(cols[source_of["endpoint"]] == endpoint)
    if since:
        stmt = stmt.where(cols[source_of["attempted_at"]] >= since)
    if until:
        stmt = stmt.where(cols[source_of["attempted_at"]] < until)
    return stmt


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]


def stage_database(
    conn: duckdb.DuckDBPyConnection,
    url: str,
    *,
    table: str | None,
    query: str | None,
    mapping: Mapping[str, str] | None,
    endpoint: str | None,
    since: datetime | None,
    until: datetime | None,
    executed: list[str] | None = None,
    policy: DatabasePolicy = OPERATOR,
) -> Stage:
    """Run the pushed-down SELECT and stage its rows; `executed` receives the SQL sent.

    `policy` says where the URL came from (`net/databases.py`): a case's or the app's URL must
    pass the address policy before anything is sent.
    """
    import pyarrow as pa  # with SQLAlchemy: only a database source pays for them
    import sqlalchemy as sa

    engine = create_checked_engine(url, policy)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        stmt = build_sql_select(
            engine, table=table, query=query, mapping=mapping, endpoint=endpoint, since=since, until=until
        )
        if executed is not None:
            executed.append(str(stmt.compile(engine)))
        name = stage_name("sql")
        created = False
        line = 0
        with engine.connect() as db:
            result = db.execution_options(stream_results=True).execute(stmt)
            keys = list(result.keys())
            while batch := result.fetchmany(FETCH_BATCH):
                arrays = {k: pa.array([_plain(r[i]) for r in batch]) for i, k in enumerate(keys)}
                arrays["_line"] = pa.array(range(line + 1, line + 1 + len(batch)), type=pa.int64())
                line += len(batch)
                conn.register(f"{name}_batch", pa.table(arrays))
                verb = f"INSERT INTO {name}" if created else f"CREATE TEMP TABLE {name} AS"
                conn.execute(f"{verb} SELECT * FROM {name}_batch")
                conn.unregister(f"{name}_batch")
                created = True
            if not created:
                empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {k}" for k in keys)
                conn.execute(f"CREATE TEMP TABLE {name} AS SELECT {empty}, CAST(NULL AS BIGINT) AS _line LIMIT 0")
    except sa.exc.SQLAlchemyError as exc:
        raise InputError(f"cannot read the database: {_first_line(exc)}", file=shown) from exc
    finally:
        engine.dispose()
    return Stage(name=name, file=shown)


def _plain(value: Any) -> Any:
    """Database values Arrow takes as they are; everything else (Decimal, UUID) as text."""
    if value is None or isinstance(value, (str, int, float, bool, datetime)):
        return value
    return str(value)
