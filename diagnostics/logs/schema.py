"""The canonical delivery-attempt table (DESIGN.md) and the one place rows are validated.

Importers only bring a source's rows into DuckDB under canonical column names (any types, plus
`_file` and `_line`); `finalize` turns those staged rows into the typed `attempts` table:
timestamps normalized to UTC, status codes checked, error and trigger values mapped, attempt
numbers filled in when the source has none. Rows that cannot be mapped are kept out and
reported (file, line, reason); a timestamp whose meaning would be a guess stops the import.
The table is built with one CREATE TABLE AS statement, so it exists whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

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

if TYPE_CHECKING:  # pandas is imported only where a frame is asked for (0.3 s at start-up)
    import pandas as pd

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
    # Optional, for acting on an attempt through its platform (ARCHITECTURE.md, canonical table):
    "attempt_id": "VARCHAR",  # the platform's id of this attempt (Svix atmpt_..., Convoy uid)
    "native_ids": "VARCHAR",  # JSON: the platform's other ids (GitHub numeric delivery id, Hookdeck bulk_retry_id)
    "response_headers": "VARCHAR",  # JSON object of the response headers, where the export has them
    "remote_address": "VARCHAR",  # the IP address the sender dialled
    "throttled_at": "TIMESTAMPTZ",  # when the sender held the delivery back (GitHub)
}
OPTIONAL_COLUMNS = ("attempt_id", "native_ids", "response_headers", "remote_address", "throttled_at")
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
MAX_URL_CHARS = 2000
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
    """Loaded delivery attempts: a DuckDB relation named `attempts` plus what the import saw.

    The relation is a table for text, JSON and database sources, and a view reading the file in
    place for Parquet (`materialized` False), so ten million attempts need no copy in memory.
    Either way it has the canonical columns plus `seq` (source index << 40 | line), the
    tie-breaker for rows with the same time. Analyzers run SQL against `conn` and `name`; callers
    that need rows take small frames with `to_pandas(limit)`. `problems` holds up to MAX_PROBLEMS
    unmappable rows, `problem_total` counts them all. `source_queries` records the SQL sent to a database source.
    """

    conn: duckdb.DuckDBPyConnection
    name: str = TABLE
    sources: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    problem_total: int = 0
    source_queries: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    materialized: bool = True  # False: a view reading the Parquet file(s) in place
    cached_rows: int | None = None  # the row count known from the import (the table is never changed)
    formats: dict[str, str] = field(default_factory=dict)  # source -> the importer that read it
    exports: list[dict[str, Any]] = field(default_factory=list)  # per platform file: its pagination facts

    @property
    def row_count(self) -> int:
        if self.cached_rows is None:
            self.cached_rows = int(scalar(self.conn, f"SELECT count(*) FROM {self.name}"))
        return self.cached_rows

    def __len__(self) -> int:
        return self.row_count

    def materialize(self) -> None:
        """Copy an in-place Parquet view into memory, under the same name (for many small queries).

        The file is no longer read afterwards. Does nothing when the rows are already in memory.
        """
        if self.materialized:
            return
        self.conn.execute(f"CREATE TABLE main._{self.name}_loaded AS SELECT * FROM {self.name}")
        self.conn.execute(f"DROP VIEW {self.name}")
        self.conn.execute(f"ALTER TABLE main._{self.name}_loaded RENAME TO {self.name}")
        self.materialized = True

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
    conn.execute("SET enable_progress_bar = false")
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


_GLOB_ESCAPES = {"[": "[[]", "*": "[*]", "?": "[?]"}


def file_literal(path: str) -> str:
    """A file name as a DuckDB string literal that names that one file: DuckDB's readers expand
    `*`, `?` and `[...]`, so `log[1].csv` would read `log1.csv`; each is escaped as a one-character
    class. A path is a path; reading several files is never something a name does on its own."""
    return sql_literal("".join(_GLOB_ESCAPES.get(ch, ch) for ch in path))


@dataclass(frozen=True)
class Stage:
    """A staged source: a DuckDB table or view with canonical column names, `_file` and `_line`."""

    name: str
    file: str
    kind: str = "TABLE"  # or "VIEW" when the source is read in place
    explain: Callable[[duckdb.Error], InputError] | None = None  # turns a read error into a message
    in_place: bool = False  # a typed file (Parquet) cheap enough to read again for every query
    source_columns: tuple[str, ...] = ()  # the file's own header, when the stage keeps only mapped columns
    platform: str = "canonical"  # the importer that read it (svix, hookdeck, convoy, github) or canonical
    export: Mapping[str, Any] | None = None  # what a platform export says about itself (pagination)


def _column_types(conn: duckdb.DuckDBPyConnection, stage: Stage) -> dict[str, str]:
    rel = conn.sql(f"SELECT * FROM {stage.name} LIMIT 0")
    return {c: str(t).upper() for c, t in zip(rel.columns, rel.types, strict=True)}


def _text(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def _timestamp_exprs(col: str, ctype: str, naive_is_utc: bool) -> tuple[str, str, str]:
    """(raw, kind, value) expressions for attempted_at of a given source type.

    `raw` and `kind` (the vocabulary of timestamps.classify_sql, 'ok' for typed values) belong to
    the inner select; `value` reads their columns `_ts` and `_ts_kind` one level above.
    """
    null_or_ok = f"CASE WHEN {col} IS NULL THEN 'null' ELSE 'ok' END"
    text = f"CAST({col} AS VARCHAR)"
    if "TIME ZONE" in ctype or ctype == "TIMESTAMPTZ":
        return col, null_or_ok, "_ts"
    if ctype.startswith("TIMESTAMP") or ctype == "DATE":
        # A typed column without zone (Parquet, a database): the schema says UTC.
        return col, null_or_ok, "CAST(_ts AS TIMESTAMPTZ)"
    if ctype in NUMERIC_TYPES or ctype.startswith("DECIMAL"):
        n = "CAST(_ts AS DOUBLE)"
        cases = " ".join(
            f"WHEN {n} >= {lo} AND {n} < {hi} THEN to_timestamp({n} / {d})" for _u, lo, hi, d in EPOCH_UNITS
        )
        kind = (
            f"CASE WHEN {col} IS NULL THEN 'null' WHEN CAST({col} AS DOUBLE) < {EPOCH_UNITS[0][1]} THEN 'small_number' "
            f"WHEN CAST({col} AS DOUBLE) >= {EPOCH_UNITS[-1][2]} THEN 'unrecognized' ELSE 'ok' END"
        )
        return col, kind, f"CASE {cases} ELSE NULL END"
    return f"trim({text})", classify_sql(text), normalize_sql("_ts", naive_is_utc=naive_is_utc, kind="_ts_kind")


def _normalized_select(conn: duckdb.DuckDBPyConnection, stage: Stage, file_index: int, naive_is_utc: bool) -> str:
    """SELECT of the canonical typed columns plus what the checks need, for one stage.

    Two levels: the inner one trims each raw value once and classifies the timestamp, the outer
    one types the values from those columns, so no expression runs twice per row.
    """
    types = _column_types(conn, stage)
    missing = [c for c in REQUIRED_COLUMNS if c not in types]
    if missing:
        header = list(stage.source_columns) or [c for c in types if not c.startswith("_")]
        hint = ""
        if len(header) == 1 and any(d in header[0] for d in (";", "\t", "|", ",", ":")):
            hint = f"; the header is one column {header[0][:60]!r}: is the file delimited by another character?"
        elif header:
            hint = f"; map them with --map ({missing[0]}=<your column>)"
        raise InputError(
            f"missing required column(s) {', '.join(missing)} (found: {', '.join(header)[:200]}){hint}",
            file=stage.file,
            line=1,
            field=missing[0],
        )

    def raw(name: str) -> str:
        if name not in types:
            return "CAST(NULL AS VARCHAR)"
        if stage.in_place and types[name] == "VARCHAR":
            return f"NULLIF({quote(name)}, '')"  # typed text: no trimming pass on every read
        return _text(quote(name))

    def number(name: str) -> str:
        """Typed numbers pass through (Parquet, databases); text is trimmed and parsed above."""
        ctype = types.get(name, "")
        return quote(name) if ctype in NUMERIC_TYPES or ctype.startswith("DECIMAL") else raw(name)

    ts_raw, ts_kind, ts_value = _timestamp_exprs(quote("attempted_at"), types["attempted_at"], naive_is_utc)
    synonyms = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in TRIGGER_SYNONYMS.items())
    inner = f"""
        SELECT {raw('event_id')} AS event_id, {raw('event_type')} AS event_type, {raw('endpoint')} AS endpoint,
               {raw('url')} AS url, {number('attempt')} AS _attempt, {ts_raw} AS _ts,
               {ts_kind} AS _ts_kind, {number('status_code')} AS _status, {raw('error')} AS _error,
               {number('duration_ms')} AS _duration, lower({raw('trigger')}) AS _trigger,
               left({raw('response_body')}, {MAX_BODY_CHARS}) AS response_body, {raw('payload')} AS payload,
               {raw('payload_version')} AS payload_version, {raw('attempt_id')} AS attempt_id,
               {raw('native_ids')} AS native_ids, {raw('response_headers')} AS response_headers,
               {raw('remote_address')} AS remote_address, {raw('throttled_at')} AS _throttled,
               (CAST({file_index} AS BIGINT) << {LINE_BITS}) + CAST(_line AS BIGINT) AS seq,
               CAST(_line AS BIGINT) AS _line
        FROM {stage.name}"""
    ambiguous_kinds = "'slash', 'small_number'" + ("" if naive_is_utc else ", 'naive'")
    typed = f"""
        SELECT event_id, event_type, endpoint, url,
               TRY_CAST(TRY_CAST(_attempt AS DOUBLE) AS INTEGER) AS attempt,
               {ts_value} AS attempted_at,
               TRY_CAST(TRY_CAST(_status AS DOUBLE) AS INTEGER) AS status_code,
               {error_kind_sql('_error')} AS error,
               TRY_CAST(_duration AS DOUBLE) AS duration_ms,
               coalesce(CASE _trigger {synonyms} ELSE NULL END, 'auto') AS trigger,
               response_body, payload, payload_version, attempt_id, native_ids, response_headers,
               remote_address, TRY_CAST(_throttled AS TIMESTAMPTZ) AS throttled_at, seq, _ts, _ts_kind, _status
        FROM ({inner})"""
    # Problems are worded here, per source, so raw values never travel (or get stored) as text.
    return f"""
        SELECT {', '.join(CANONICAL_COLUMNS)}, seq, {_PROBLEM} AS _problem,
               _ts_kind IN ({ambiguous_kinds}) AS _ambiguous
        FROM ({typed})"""


_PROBLEM = (
    "CASE WHEN event_id IS NULL THEN 'event_id is empty' "
    "WHEN endpoint IS NULL THEN 'endpoint is empty' "
    "WHEN _ts_kind = 'null' THEN 'attempted_at is empty' "
    "WHEN _ts_kind = 'naive' AND attempted_at IS NULL THEN 'attempted_at ' || CAST(_ts AS VARCHAR) || "
    + sql_literal(" " + AMBIGUOUS_NAIVE)
    + " WHEN _ts_kind = 'slash' THEN 'attempted_at ' || CAST(_ts AS VARCHAR) || " + sql_literal(" " + AMBIGUOUS_SLASH)
    + " WHEN _ts_kind = 'small_number' THEN 'attempted_at ' || CAST(_ts AS VARCHAR) || "
    + sql_literal(" " + AMBIGUOUS_NUMBER)
    + " WHEN attempted_at IS NULL THEN 'attempted_at ' || left(CAST(_ts AS VARCHAR), 40) || "
    + sql_literal(" " + UNRECOGNIZED)
    + " WHEN _status IS NOT NULL AND status_code IS NULL THEN 'status_code ' || left(CAST(_status AS VARCHAR), 20) "
    "|| ' is not a number'"
    " WHEN status_code < 100 OR status_code > 599 THEN 'status_code ' || status_code || ' is outside 100-599'"
    " ELSE NULL END"
)
_CAPPED_URL = f"left(url, {MAX_URL_CHARS})"
LINE_BITS = 40  # seq = source index << LINE_BITS | line: the tie-breaker that also locates a row
# Parquet logs up to this many rows are copied into memory while they are checked (1M attempts:
# 0.6 s for the check and the copy together, instead of 0.1 s for a check of the file in place
# followed by a 0.4-0.6 s copy, or about 0.6 s more spent by the analyzers reading the file in
# place); larger ones stay in place, so memory stays bounded by DuckDB's own spilling.
KEEP_IN_PLACE_ABOVE_ROWS = 20_000_000


def _source_rows(conn: duckdb.DuckDBPyConnection, stages: Sequence[Stage]) -> int:
    """Rows of in-place stages before any filter: a count over Parquet reads only its metadata."""
    return sum(int(scalar(conn, f"SELECT count(*) FROM {stage.name}") or 0) for stage in stages)


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
    """Validate staged rows and build the `attempts` table (one pass over each source).

    Raises InputError for an ambiguous timestamp (naming file, line and column), when `strict`
    and any row is unmappable, or when no row at all could be mapped. On any error the table is
    dropped: nothing is half-imported.
    """
    if not stages:
        raise InputError("no delivery-log source given")
    union = " UNION ALL ".join(_normalized_select(conn, stage, i, naive_is_utc) for i, stage in enumerate(stages))
    # Filters keep unmappable rows (their time or endpoint is unknown) so they are still reported.
    # They are literals, not parameters: a view (the in-place Parquet table) cannot hold parameters.
    where = ["TRUE"]
    if endpoint:
        where.append(f"(endpoint = {sql_literal(endpoint)} OR endpoint IS NULL)")
    if since:
        where.append(f"(attempted_at >= TIMESTAMPTZ {sql_literal(since.isoformat())} OR attempted_at IS NULL)")
    if until:
        where.append(f"(attempted_at < TIMESTAMPTZ {sql_literal(until.isoformat())} OR attempted_at IS NULL)")
    # Parquet stays in place (every query reads the file, filters pushed into the scan) only when it
    # is too large to hold in memory; a smaller one is typed into a table in the same pass as the
    # checks, since the analyzers scan it about ten times and a scan of the copy skips the decode.
    in_place = all(stage.in_place for stage in stages) and _source_rows(conn, stages) > KEEP_IN_PLACE_ABOVE_ROWS
    columns = ", ".join([*CANONICAL_COLUMNS, "seq"])
    rows_sql = f"SELECT * FROM ({union}) WHERE {' AND '.join(where)}"
    try:
        try:
            if in_place:
                # Parquet: validate in one scan, then let every query read the file in place (filters are
                # pushed into the scan) instead of holding a copy in memory.
                conn.execute(f"CREATE OR REPLACE TEMP VIEW _all AS SELECT * REPLACE ({_CAPPED_URL} AS url) "
                             f"FROM ({rows_sql}) AS r")
                checks = _checks(conn, "_all", stages, naive_is_utc=naive_is_utc, strict=strict)
                kind = "TABLE" if checks.missing_attempts else "TEMP VIEW"
                conn.execute(f"CREATE OR REPLACE {kind} {TABLE} AS SELECT {columns} FROM _all WHERE _problem IS NULL")
            else:
                # Text and JSON sources are parsed once, into the table, and checked there.
                conn.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {rows_sql}")
                # The few overlong URLs are cut here rather than in the copy: `left` on every URL
                # was a tenth of importing 5M attempts, `strlen` (bytes) is free.
                conn.execute(f"UPDATE {TABLE} SET url = {_CAPPED_URL} WHERE strlen(url) > {MAX_URL_CHARS}")
                checks = _checks(conn, TABLE, stages, naive_is_utc=naive_is_utc, strict=strict)
                if checks.problem_total:
                    conn.execute(f"DELETE FROM {TABLE} WHERE _problem IS NOT NULL")
                conn.execute(f"ALTER TABLE {TABLE} DROP COLUMN _problem")
                conn.execute(f"ALTER TABLE {TABLE} DROP COLUMN _ambiguous")
            if checks.missing_attempts:
                _number_attempts(conn)
        except duckdb.Error as exc:
            raise _read_error(exc, stages) from exc
        materialized = not in_place or checks.missing_attempts
        table = AttemptTable(conn=conn, sources=[s.file for s in stages], problems=checks.problems,
                             problem_total=checks.problem_total, materialized=materialized,
                             cached_rows=checks.rows - checks.problem_total,
                             formats={s.file: s.platform for s in stages},
                             exports=[{"source": s.file, "platform": s.platform, **s.export}
                                      for s in stages if s.export])
    except BaseException:
        _drop_relation(conn, TABLE)
        conn.execute("DROP VIEW IF EXISTS _all")
        for stage in stages:
            conn.execute(f"DROP {stage.kind} IF EXISTS {stage.name}")
        raise
    if table.materialized:
        conn.execute("DROP VIEW IF EXISTS _all")
        for stage in stages:
            conn.execute(f"DROP {stage.kind} IF EXISTS {stage.name}")
    table.filters = {"endpoint": endpoint, "since": since, "until": until}
    if table.row_count == 0 and table.problem_total and not (endpoint or since or until):
        raise InputError(f"no row could be imported; first problem: {table.problems[0]}", file=table.problems[0].file)
    return table


def _read_error(exc: duckdb.Error, stages: Sequence[Stage]) -> InputError:
    """A source failed while being read in place: the stage that names it explains why."""
    text = str(exc)
    named = [s for s in stages if s.file in text] or list(stages)
    for stage in named:
        if stage.explain is not None:
            return stage.explain(exc)
    return InputError(f"cannot read the source: {text.splitlines()[0][:200]}", file=named[0].file)


@dataclass(frozen=True)
class _Checks:
    rows: int
    problems: list[ImportProblem]
    problem_total: int
    missing_attempts: bool


def _checks(
    conn: duckdb.DuckDBPyConnection, relation: str, stages: Sequence[Stage], *, naive_is_utc: bool, strict: bool
) -> _Checks:
    """One pass over the staged rows: ambiguous timestamps stop the import, problems are counted."""

    def where(seq: int) -> tuple[str, int]:
        return stages[seq >> LINE_BITS].file, seq & ((1 << LINE_BITS) - 1)

    row = first_row(
        conn,
        "SELECT min(seq) FILTER (WHERE _ambiguous), count(_problem), "
        f"count(*) FILTER (WHERE attempt IS NULL AND _problem IS NULL), count(*) FROM {relation}",
    )
    first_ambiguous, problem_total, missing_attempts, rows = row if row else (None, 0, 0, 0)
    if first_ambiguous is not None:
        reason = scalar(conn, f"SELECT _problem FROM {relation} WHERE seq = ?", [first_ambiguous])
        file, line = where(first_ambiguous)
        raise InputError(str(reason), file=file, line=line, column="attempted_at")
    problems = []
    if problem_total:
        problems = [
            ImportProblem(*where(seq), reason=reason)
            for seq, reason in conn.execute(
                f"SELECT seq, _problem FROM {relation} WHERE _problem IS NOT NULL ORDER BY seq LIMIT {MAX_PROBLEMS}"
            ).fetchall()
        ]
    if strict and problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise InputError(f"{problem_total} row(s) could not be imported: {listed}", file=problems[0].file)
    return _Checks(rows=int(rows), problems=problems, problem_total=int(problem_total),
                   missing_attempts=bool(missing_attempts))


def _number_attempts(conn: duckdb.DuckDBPyConnection) -> None:
    """Sources without attempt numbers (Svix): number each event's attempts per endpoint in time order.

    The table is rebuilt with the numbers rather than updated through a join on `seq`: `seq` is a
    location (file and line), and every record of a one-line JSON export shares line 1, which made
    the join quadratic (20,000 records took 7 s).
    """
    conn.execute(
        f"""CREATE OR REPLACE TABLE {TABLE} AS
            SELECT * REPLACE (coalesce(attempt, CAST(row_number() OVER (PARTITION BY endpoint, event_id
                                                    ORDER BY attempted_at, seq) AS INTEGER)) AS attempt)
            FROM {TABLE}"""
    )


def _drop_relation(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a table or view of that name, whichever it is."""
    is_view = scalar(conn, "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name])
    conn.execute(f"DROP {'VIEW' if is_view else 'TABLE'} IF EXISTS {name}")


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
