"""The canonical `attempts` relation built where the data lives (PostgreSQL, Spark).

The embedded path types and checks rows in `logs.schema.finalize`; an engine that runs inside
another system cannot ship the rows to DuckDB first, so it builds the same typed relation there
from this one SELECT (DuckDB dialect, compiled like the analyzers' SQL): text trimmed and empty
text as NULL, numbers parsed, the error taxonomy and trigger synonyms of `logs.schema`, and times
in UTC. Rows that `finalize` would report as unmappable (no event id, endpoint or time, a status
outside 100-599) are left out and counted by the engine (`excluded_sql`).
"""

from __future__ import annotations

from collections.abc import Mapping

from diagnostics.errors import InputError
from diagnostics.logs.schema import CANONICAL_COLUMNS, MAX_BODY_CHARS, REQUIRED_COLUMNS, TRIGGER_SYNONYMS, sql_literal
from diagnostics.logs.taxonomy import error_kind_sql
from diagnostics.logs.timestamps import EPOCH_UNITS

# How a source column is typed, as far as the canonical relation cares.
TEXT, NUMBER, TIMESTAMP = "text", "number", "timestamp"
NUMERIC_COLUMNS = ("attempt", "status_code", "duration_ms")
OFFSET = "(Z|z|[+-][0-9][0-9](:?[0-9][0-9])?)$"  # a text time must say its UTC offset


def check_columns(kinds: Mapping[str, str], where: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in kinds]
    if missing:
        found = ", ".join(kinds) or "none"
        raise InputError(f"{where} lacks required column(s) {', '.join(missing)} (canonical columns found: {found}); "
                         "map them with --map", field=missing[0])


def _text(column: str, trim: bool) -> str:
    value = f"trim(CAST({column} AS VARCHAR))" if trim else f"CAST({column} AS VARCHAR)"
    return f"NULLIF({value}, '')"


def _number(column: str, kind: str, sql_type: str, trim: bool) -> str:
    if kind == NUMBER:
        return f"CAST({column} AS {sql_type})" if sql_type != "INTEGER" else f"CAST(round({column}) AS INTEGER)"
    text = _text(column, trim)
    return f"CAST(TRY_CAST({text} AS DOUBLE) AS {sql_type})" if sql_type != "INTEGER" else \
        f"CAST(round(TRY_CAST({text} AS DOUBLE)) AS INTEGER)"


def _timestamp(column: str, kind: str) -> str:
    if kind == TIMESTAMP:
        return f"CAST({column} AS TIMESTAMPTZ)"  # a zone-less time is UTC: the session's zone
    if kind == NUMBER:
        n = f"CAST({column} AS DOUBLE)"
        cases = " ".join(f"WHEN {n} >= {lo} AND {n} < {hi} THEN to_timestamp({n} / {d})"
                         for _u, lo, hi, d in EPOCH_UNITS)
        return f"CASE {cases} ELSE NULL END"
    text = f"trim(CAST({column} AS VARCHAR))"
    return f"CASE WHEN regexp_matches({text}, {sql_literal(OFFSET)}) THEN TRY_CAST({text} AS TIMESTAMPTZ) END"


def naive_times_sql(source: str, kinds: Mapping[str, str]) -> str | None:
    """A query for one text time without a UTC offset (refused, as the embedded path refuses it)."""
    if kinds.get("attempted_at") != TEXT:
        return None
    text = "trim(CAST(attempted_at AS VARCHAR))"
    return (f"SELECT {text} AS value FROM {source} WHERE attempted_at IS NOT NULL AND {text} <> '' "
            f"AND NOT regexp_matches({text}, {sql_literal(OFFSET)}) LIMIT 1")


def canonical_select(source: str, kinds: Mapping[str, str], *, seq: str, trim: bool) -> str:
    """SELECT of the canonical columns plus `seq` from `source` (canonical names, any types).

    `kinds` maps each canonical column present in the source to TEXT, NUMBER or TIMESTAMP; `seq`
    is the engine's expression for a unique tie-breaker per source row.
    """
    def text(name: str) -> str:
        return _text(name, trim) if name in kinds else "CAST(NULL AS VARCHAR)"

    error = text("error")
    synonyms = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in TRIGGER_SYNONYMS.items())
    typed = {
        "event_id": text("event_id"),
        "event_type": text("event_type"),
        "endpoint": text("endpoint"),
        "url": f"left({text('url')}, 2000)",
        "attempt": _number("attempt", kinds["attempt"], "INTEGER", trim) if "attempt" in kinds
        else "CAST(NULL AS INTEGER)",
        "attempted_at": _timestamp("attempted_at", kinds["attempted_at"]),
        "status_code": _number("status_code", kinds["status_code"], "INTEGER", trim) if "status_code" in kinds
        else "CAST(NULL AS INTEGER)",
        "error": f"CASE WHEN {error} IS NULL THEN NULL ELSE {error_kind_sql(error)} END" if "error" in kinds
        else "CAST(NULL AS VARCHAR)",
        "duration_ms": _number("duration_ms", kinds["duration_ms"], "DOUBLE", trim) if "duration_ms" in kinds
        else "CAST(NULL AS DOUBLE)",
        "trigger": f"coalesce(CASE lower({text('trigger')}) {synonyms} ELSE NULL END, 'auto')",
        "response_body": f"left({text('response_body')}, {MAX_BODY_CHARS})",
        "payload": text("payload"),
        "payload_version": text("payload_version"),
        # The optional columns the platform importers fill (logs.schema.OPTIONAL_COLUMNS).
        "attempt_id": text("attempt_id"),
        "native_ids": text("native_ids"),
        "response_headers": text("response_headers"),
        "remote_address": text("remote_address"),
        "throttled_at": _timestamp("throttled_at", kinds["throttled_at"]) if "throttled_at" in kinds
        else "CAST(NULL AS TIMESTAMPTZ)",
    }
    inner = ", ".join(f"{typed[c]} AS {c}" for c in CANONICAL_COLUMNS)
    columns = ", ".join(CANONICAL_COLUMNS)
    if "attempt" in kinds:
        numbered = f"{columns}, seq"
    else:  # sources without attempt numbers (as logs.schema._number_attempts): each event's attempts in time order
        numbered = ", ".join(c if c != "attempt" else
                             "CAST(row_number() OVER (PARTITION BY endpoint, event_id ORDER BY attempted_at, seq) "
                             "AS INTEGER) AS attempt" for c in CANONICAL_COLUMNS) + ", seq"
    return f"""SELECT {numbered} FROM (
            SELECT {inner}, {seq} AS seq FROM {source}
        ) AS typed
        WHERE event_id IS NOT NULL AND endpoint IS NOT NULL AND attempted_at IS NOT NULL
          AND (status_code IS NULL OR status_code BETWEEN 100 AND 599)"""


def kind_of(type_name: str) -> str:
    """TEXT, NUMBER or TIMESTAMP for a column type as PostgreSQL or Spark names it."""
    t = type_name.lower()
    if "timestamp" in t or t == "date":
        return TIMESTAMP
    if any(w in t for w in ("int", "double", "float", "real", "numeric", "decimal", "long", "short", "byte")):
        return NUMBER
    return TEXT
