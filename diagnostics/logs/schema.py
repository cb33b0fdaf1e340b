"""The canonical delivery-attempt table (DESIGN.md) and the one place rows are validated.

Importers only bring a source's rows into DuckDB under canonical column names (any types, plus
`_file` and `_line`); `finalize` turns those staged rows into the typed `attempts` table:
timestamps normalized to UTC, status codes checked, error and trigger values mapped, attempt
numbers filled in when the source has none. Rows that cannot be mapped are kept out and
reported (file, line, reason); a timestamp whose meaning would be a guess stops the import.
The table is built with one CREATE TABLE AS statement, so it exists whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from diagnostics.errors import InputError
from diagnostics.logs.taxonomy import ERROR_KINDS, error_kind_sql
from diagnostics.logs.timestamps import (
    AMBIGUOUS_NAIVE,
    AMBIGUOUS_NUMBER,
    AMBIGUOUS_SLASH,
    EPOCH_UNITS,
    UNRECOGNIZED,
    classify_sql,
    normalize_sql,
)

# name -> DuckDB type, in DESIGN.md order.
CANONICAL_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "endpoint": "VARCHAR",
    "url": "VARCHAR",
    "attempt": "INTEGER",
    "attempted_at": "TIMESTAMPTZ",
    "status_code": "INTEGER",
    "error": "VARCHAR",
    "duration_ms": "DOUBLE",
    "trigger": "VARCHAR",
    "response_body": "VARCHAR",
    "payload": "VARCHAR",
    "payload_version": "VARCHAR",
}
REQUIRED_COLUMNS = ("event_id", "endpoint", "attempted_at")
TRIGGERS = ("auto", "manual", "replay")
TRIGGER_SYNONYMS: dict[str, str] = {
    "auto": "auto", "automatic": "auto", "scheduled": "auto", "initial": "auto", "retry": "auto", "0": "auto",
    "manual": "manual", "resend": "manual", "redelivery": "manual", "1": "manual",
    "replay": "replay", "bulk": "replay", "bulk_retry": "replay", "bulk_replay": "replay", "unpause": "replay",
    "recover": "replay",
}
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "UBIGINT", "UINTEGER")
MAX_BODY_CHARS = 2000
MAX_PROBLEMS = 50
TABLE = "attempts"


@dataclass(frozen=True)
class ImportProblem:
    """One row that could not be mapped, and why."""

    file: str
    line: int | None
    reason: str
    column: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line is not None else "")
        where += f", column {self.column}" if self.column else ""
        return f"{where}: {self.reason}"


@dataclass
class AttemptTable:
    """Loaded delivery attempts: a DuckDB table named `attempts` plus what the import saw.

    Analyzers run SQL against `conn` and `name`; callers that need rows take small frames with
    `to_pandas(limit)`. `problems` holds up to MAX_PROBLEMS unmappable rows, `problem_total`
    counts them all. `source_queries` records the SQL sent to a database source.
    """

    conn: duckdb.DuckDBPyConnection
    name: str = TABLE
    sources: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    problem_total: int = 0
    source_queries: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return int(scalar(self.conn, f"SELECT count(*) FROM {self.name}"))

    def __len__(self) -> int:
        return self.row_count

    def relation(self) -> duckdb.DuckDBPyRelation:
        return self.conn.table(self.name)

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """Rows in time order (the canonical columns only), at most `limit` of them."""
        cols = ", ".join(CANONICAL_COLUMNS)
        sql = f"SELECT {cols} FROM {self.name} ORDER BY attempted_at, seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.conn.sql(sql).to_arrow_table().to_pandas()

    def window(self) -> tuple[datetime | None, datetime | None]:
        row = first_row(self.conn, f"SELECT min(attempted_at), max(attempted_at) FROM {self.name}")
        return (row[0], row[1]) if row else (None, None)

    def subject(self) -> str:
        """The log window in words: what the findings are about."""
        start, end = self.window()
        names = ", ".join(self.sources) or "delivery log"
        if start is None or end is None:
            return f"{names} (no attempts)"
        return f"{names}: {self.row_count:,} attempts, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"


def connect(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB connection that reads and writes times in UTC."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        conn.execute(f"SET memory_limit = '{memory_limit}'")
    return conn


def first_row(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query, with the result fully consumed (DuckDB wants that before the next)."""
    rows = conn.execute(sql, params or []).fetchall()
    return tuple(rows[0]) if rows else None


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    row = first_row(conn, sql, params)
    return row[0] if row else None


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Stage:
    """A staged source: a DuckDB table or view with canonical column names, `_file` and `_line`."""

    name: str
    file: str
    kind: str = "TABLE"  # or "VIEW" when the source is read in place


def _column_types(conn: duckdb.DuckDBPyConnection, stage: Stage) -> dict[str, str]:
    rel = conn.sql(f"SELECT * FROM {stage.name} LIMIT 0")
    return {c: str(t).upper() for c, t in zip(rel.columns, rel.types, strict=True)}


def _text(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def _timestamp_exprs(col: str, ctype: str, naive_is_utc: bool) -> tuple[str, str]:
    """(value expression, classification expression) for attempted_at of a given source type."""
    if "TIME ZONE" in ctype or ctype == "TIMESTAMPTZ":
        return col, f"CASE WHEN {col} IS NULL THEN 'null' ELSE 'ok' END"
    if ctype.startswith("TIMESTAMP") or ctype == "DATE":
        # A typed column without zone (Parquet, a database): the schema says UTC.
        return f"CAST({col} AS TIMESTAMPTZ)", f"CASE WHEN {col} IS NULL THEN 'null' ELSE 'ok' END"
    if ctype in NUMERIC_TYPES or ctype.startswith("DECIMAL"):
        n = f"CAST({col} AS DOUBLE)"
        cases = " ".join(
            f"WHEN {n} >= {lo} AND {n} < {hi} THEN to_timestamp({n} / {d})" for _u, lo, hi, d in EPOCH_UNITS
        )
        cls = (
            f"CASE WHEN {col} IS NULL THEN 'null' WHEN {n} < {EPOCH_UNITS[0][1]} THEN 'small_number' "
            f"WHEN {n} >= {EPOCH_UNITS[-1][2]} THEN 'unrecognized' ELSE 'ok' END"
        )
        return f"CASE {cases} ELSE NULL END", cls
    text = f"CAST({col} AS VARCHAR)"
    return normalize_sql(text, naive_is_utc=naive_is_utc), classify_sql(text)


def _normalized_select(
    conn: duckdb.DuckDBPyConnection, stage: Stage, file_index: int, naive_is_utc: bool
) -> tuple[str, str]:
    """SELECT of canonical typed columns plus `_problem`/`_ambiguous`, and the attempted_at class."""
    types = _column_types(conn, stage)
    missing = [c for c in REQUIRED_COLUMNS if c not in types]
    if missing:
        header = [c for c in types if not c.startswith("_")]
        hint = ""
        if len(header) == 1 and any(d in header[0] for d in (";", "\t", "|", ",")):
            hint = f"; the header is one column {header[0][:60]!r}: is the file delimited by another character?"
        raise InputError(
            f"missing required column(s) {', '.join(missing)} (found: {', '.join(header)[:200]}){hint}",
            file=stage.file,
            line=1,
            field=missing[0],
        )

    def col(name: str) -> str | None:
        return quote(name) if name in types else None

    ts_value, ts_class = _timestamp_exprs(quote("attempted_at"), types["attempted_at"], naive_is_utc)
    status_raw = _text(col("status_code")) if col("status_code") else "NULL"
    status = f"TRY_CAST(TRY_CAST({status_raw} AS DOUBLE) AS INTEGER)"
    error_raw = _text(col("error")) if col("error") else "NULL"
    trigger_raw = f"lower({_text(col('trigger'))})" if col("trigger") else "NULL"
    synonyms = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in TRIGGER_SYNONYMS.items())

    def text_or_null(name: str, limit: int | None = None) -> str:
        c = col(name)
        if not c:
            return "CAST(NULL AS VARCHAR)"
        return f"left({_text(c)}, {limit})" if limit else _text(c)

    duration = f"TRY_CAST({_text(col('duration_ms'))} AS DOUBLE)" if col("duration_ms") else "CAST(NULL AS DOUBLE)"
    attempt = f"TRY_CAST(TRY_CAST({_text(col('attempt'))} AS DOUBLE) AS INTEGER)" if col("attempt") else "NULL"
    problem = (
        "CASE "
        f"WHEN {_text(quote('event_id'))} IS NULL THEN 'event_id is empty' "
        f"WHEN {_text(quote('endpoint'))} IS NULL THEN 'endpoint is empty' "
        f"WHEN {ts_class} = 'null' THEN 'attempted_at is empty' "
        + (
            ""
            if naive_is_utc
            else f"WHEN {ts_class} = 'naive' THEN 'attempted_at ' || {_text(quote('attempted_at'))} || "
            f"{sql_literal(' ' + AMBIGUOUS_NAIVE)} "
        )
        + f"WHEN {ts_class} = 'slash' THEN 'attempted_at ' || {_text(quote('attempted_at'))} || "
        f"{sql_literal(' ' + AMBIGUOUS_SLASH)} "
        f"WHEN {ts_class} = 'small_number' THEN 'attempted_at ' || {_text(quote('attempted_at'))} || "
        f"{sql_literal(' ' + AMBIGUOUS_NUMBER)} "
        f"WHEN {ts_class} = 'unrecognized' OR ({ts_value}) IS NULL THEN 'attempted_at ' || "
        f"left({_text(quote('attempted_at'))}, 40) || {sql_literal(' ' + UNRECOGNIZED)} "
        f"WHEN {status_raw} IS NOT NULL AND {status} IS NULL THEN 'status_code ' || left({status_raw}, 20) || "
        "' is not a number' "
        f"WHEN {status} IS NOT NULL AND ({status} < 100 OR {status} > 599) THEN 'status_code ' || {status} || "
        "' is outside 100-599' "
        "ELSE NULL END"
    )
    ambiguous_kinds = "'slash', 'small_number'" + ("" if naive_is_utc else ", 'naive'")
    ambiguous = f"({ts_class} IN ({ambiguous_kinds}))"
    select = f"""
        SELECT
            {_text(quote('event_id'))} AS event_id,
            {text_or_null('event_type')} AS event_type,
            {_text(quote('endpoint'))} AS endpoint,
            {text_or_null('url', 2000)} AS url,
            {attempt} AS attempt,
            {ts_value} AS attempted_at,
            {status} AS status_code,
            {error_kind_sql(error_raw)} AS error,
            {duration} AS duration_ms,
            coalesce(CASE {trigger_raw} {synonyms} ELSE NULL END, 'auto') AS trigger,
            {text_or_null('response_body', MAX_BODY_CHARS)} AS response_body,
            {text_or_null('payload')} AS payload,
            {text_or_null('payload_version')} AS payload_version,
            CAST({file_index} AS BIGINT) * 1099511627776 + CAST(_line AS BIGINT) AS seq,
            _line,
            {problem} AS _problem,
            {ambiguous} AS _ambiguous
        FROM {stage.name}"""
    return select, stage.file


def finalize(
    conn: duckdb.DuckDBPyConnection,
    stages: Sequence[Stage],
    *,
    endpoint: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    naive_is_utc: bool = False,
    strict: bool = False,
) -> AttemptTable:
    """Validate staged rows and build the `attempts` table in one statement.

    Raises InputError for an ambiguous timestamp (naming file, line and column), when `strict`
    and any row is unmappable, or when no row at all could be mapped.
    """
    if not stages:
        raise InputError("no delivery-log source given")
    parts = []
    for index, stage in enumerate(stages):
        select, file = _normalized_select(conn, stage, index, naive_is_utc)
        parts.append(f"SELECT *, {sql_literal(file)} AS _file FROM ({select})")
    union = " UNION ALL ".join(parts)
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _checked AS {union}")

    ambiguous = first_row(
        conn, "SELECT _file, _line, _problem FROM _checked WHERE _ambiguous ORDER BY _file, _line LIMIT 1"
    )
    if ambiguous:
        raise InputError(str(ambiguous[2]), file=ambiguous[0], line=_file_line(ambiguous[1]), column="attempted_at")
    problem_total = int(scalar(conn, "SELECT count(*) FROM _checked WHERE _problem IS NOT NULL"))
    problems = [
        ImportProblem(file=f, line=_file_line(line), reason=reason)
        for f, line, reason in conn.execute(
            f"SELECT _file, _line, _problem FROM _checked WHERE _problem IS NOT NULL ORDER BY _file, _line "
            f"LIMIT {MAX_PROBLEMS}"
        ).fetchall()
    ]
    if strict and problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise InputError(f"{problem_total} row(s) could not be imported: {listed}", file=problems[0].file)

    where = ["_problem IS NULL"]
    params: list[Any] = []
    if endpoint:
        where.append("endpoint = ?")
        params.append(endpoint)
    if since:
        where.append("attempted_at >= ?")
        params.append(since)
    if until:
        where.append("attempted_at < ?")
        params.append(until)
    cols = ", ".join(c for c in CANONICAL_COLUMNS if c != "attempt")
    conn.execute(
        f"""CREATE OR REPLACE TABLE {TABLE} AS
        SELECT {cols},
               coalesce(attempt, CAST(row_number() OVER (
                   PARTITION BY endpoint, event_id ORDER BY attempted_at, seq) AS INTEGER)) AS attempt,
               seq
        FROM _checked WHERE {' AND '.join(where)}""",
        params,
    )
    conn.execute("DROP VIEW _checked")
    for stage in stages:
        conn.execute(f"DROP {stage.kind} IF EXISTS {stage.name}")
    table = AttemptTable(
        conn=conn,
        sources=[s.file for s in stages],
        problems=problems,
        problem_total=problem_total,
        filters={"endpoint": endpoint, "since": since, "until": until},
    )
    if table.row_count == 0 and problem_total and not (endpoint or since or until):
        raise InputError(f"no row could be imported; first problem: {problems[0]}", file=problems[0].file)
    return table


def _file_line(line: Any) -> int | None:
    return None if line is None else int(line)


def empty_attempts_sql() -> str:
    """DDL of an empty canonical table: the typed shape every importer ends in."""
    cols = ", ".join(f"{name} {ctype}" for name, ctype in CANONICAL_COLUMNS.items())
    return f"CREATE TABLE {TABLE} ({cols}, seq BIGINT)"


__all__ = [
    "CANONICAL_COLUMNS",
    "ERROR_KINDS",
    "REQUIRED_COLUMNS",
    "TRIGGERS",
    "AttemptTable",
    "ImportProblem",
    "Stage",
    "connect",
    "finalize",
]
