"""Canonical delivery logs: CSV, JSON Lines / JSON and Parquet with the DESIGN.md columns.

Gzip-compressed files work as they are. Other column names are mapped with `mapping`
(canonical name -> source name, the CLI's `--map attempted_at=created,endpoint=webhook_id`).
CSV and Parquet are read by DuckDB in place (fast path); when DuckDB rejects a CSV, its error is
turned into a message naming the file, line and column.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter
from collections.abc import Mapping

import duckdb

from diagnostics.errors import InputError
from diagnostics.logs.files import (
    DEFAULT_MAX_FILE_BYTES,
    check_file,
    decode_utf8,
    first_line,
    is_gzip,
    iter_json_records,
    locate_bad_utf8,
    read_bytes,
)
from diagnostics.logs.schema import CANONICAL_COLUMNS, Stage, file_literal, quote, sql_literal
from diagnostics.logs.staging import stage_name, stage_records

DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 10_000


def validate_mapping(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """canonical -> source; canonical names must be real columns."""
    result = dict(mapping or {})
    unknown = [k for k in result if k not in CANONICAL_COLUMNS]
    if unknown:
        raise InputError(
            f"--map names unknown canonical column(s) {', '.join(unknown)}; known: {', '.join(CANONICAL_COLUMNS)}",
            field="--map",
        )
    return result


def _renames(header: list[str], mapping: dict[str, str], path: str) -> dict[str, str]:
    """source column -> canonical name, for the columns we keep."""
    missing = [f"{canon}={src}" for canon, src in mapping.items() if src not in header]
    if missing:
        raise InputError(
            f"--map {', '.join(missing)}: no such column (the file has {', '.join(header)[:200]})",
            file=path,
            line=1,
        )
    taken = set(mapping)
    renames = {src: canon for canon, src in mapping.items()}
    for name in header:
        if name in CANONICAL_COLUMNS and name not in taken and name not in renames:
            renames[name] = name
    return renames


def sniff_delimiter(header: str) -> str:
    """The delimiter that splits the header into the most fields (comma when tied)."""
    return max(DELIMITERS, key=lambda d: (header.count(d), d == ","))


def stage_csv(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Stage:
    check_file(path, max_bytes)
    mapping = validate_mapping(mapping)
    header_line = first_line(path)
    if not header_line.strip():
        raise InputError("the first line is empty; expected a header row with column names", file=path, line=1)
    header = read_header(header_line, path)
    delimiter = sniff_delimiter(header_line)
    renames = _renames(header, mapping, path)
    columns = "{" + ", ".join(f"{sql_literal(h)}: 'VARCHAR'" for h in header) + "}"
    selected = ", ".join(f"{quote(src)} AS {quote(canon)}" for src, canon in renames.items())
    if not has_rows_after_header(path):
        raise InputError("the file has a header but no rows", file=path, line=2)
    name = stage_name("csv")
    # A view: DuckDB reads the file once, inside the statement that builds the attempt table
    # (row_number() OVER () streams). Its errors surface there and are explained by `explain`.
    conn.execute(
        f"""CREATE TEMP VIEW {name} AS
        SELECT {selected or 'NULL AS _none'}, CAST(row_number() OVER () AS BIGINT) + 1 AS _line
        FROM read_csv({file_literal(path)}, columns = {columns}, delim = {sql_literal(delimiter)},
                      quote = '"', escape = '"', header = true, auto_detect = false,
                      strict_mode = true, null_padding = false)"""
    )
    return Stage(name=name, file=path, kind="VIEW", source_columns=tuple(header),
                 explain=lambda exc: _csv_error(exc, path, delimiter, len(header)))


def read_header(header_line: str, path: str) -> list[str]:
    """The header's column names: CR-only line endings, too many columns and repeated names are
    refused in one line each (counted in one pass: a header of 250k names must not take minutes)."""
    if "\r" in header_line:
        raise InputError("the file uses CR-only line endings (old Mac style); save it with LF or CRLF line "
                         "endings", file=path, line=1)
    delimiter = sniff_delimiter(header_line)
    if header_line.count(delimiter) >= MAX_COLUMNS:
        raise InputError(f"the header has more than {MAX_COLUMNS:,} columns; a delivery log has a few dozen",
                         file=path, line=1)
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(header_line), delimiter=delimiter))]
    except csv.Error as exc:
        raise InputError(f"the header row cannot be read as CSV ({exc})", file=path, line=1) from None
    counts = Counter(header)
    dupes = sorted(name for name, count in counts.items() if count > 1)
    if dupes:
        shown = ", ".join(repr(d) for d in dupes[:10]) + (f" and {len(dupes) - 10:,} more" if len(dupes) > 10 else "")
        raise InputError(f"the header repeats column(s) {shown}", file=path, line=1)
    return header


def has_rows_after_header(path: str) -> bool:
    """Whether anything but blank lines follows the header (gzip-aware, reads a few lines)."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        fh.readline(1 << 20)
        for _ in range(1000):
            line = fh.readline(1 << 20)
            if not line:
                return False
            if line.strip():
                return True
    return True


def _csv_error(exc: duckdb.Error, path: str, delimiter: str, expected: int) -> InputError:
    """DuckDB's CSV error, reworded: what is wrong, on which line and column."""
    text = str(exc)
    line_match = re.search(r"Line: (\d+)", text)
    line = int(line_match.group(1)) if line_match else None
    if "unicode" in text.lower() or "utf-8" in text.lower():
        located = locate_bad_utf8(path)
        if located:
            return InputError("the file is not UTF-8 text; export it as UTF-8", file=path, line=located[0],
                              column=located[1])
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if counts:
        found = int(counts.group(2))
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        return InputError(
            f"expected {expected} fields separated by {shown} (as in the header) but found {found}; "
            "is this row written with a different delimiter?",
            file=path,
            line=line,
            column=min(found, expected) + 1 if found < expected else expected + 1,
        )
    if "unterminated quote" in text.lower():
        return InputError("a quoted value is never closed (is the file truncated?)", file=path, line=line)
    reason = next((ln for ln in text.splitlines()[1:] if ln.strip() and not ln.startswith("Original Line")), text)
    return InputError(f"cannot read the CSV: {reason.strip()[:200]}", file=path, line=line)


def stage_parquet(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Stage:
    """A view over the Parquet file: DuckDB reads it in place, filters pushed into the scan."""
    check_file(path, max_bytes)
    mapping = validate_mapping(mapping)
    try:
        rel = conn.sql(f"SELECT * FROM read_parquet({file_literal(path)}) LIMIT 0")
    except duckdb.Error as exc:
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0][:160]})", file=path) from exc
    renames = _renames(list(rel.columns), mapping, path)
    selected = ", ".join(f"{quote(src)} AS {quote(canon)}" for src, canon in renames.items())
    name = stage_name("parquet")
    conn.execute(
        f"""CREATE TEMP VIEW {name} AS SELECT {selected or 'NULL AS _none'}, file_row_number + 1 AS _line
        FROM read_parquet({file_literal(path)}, file_row_number = true)"""
    )
    return Stage(name=name, file=path, kind="VIEW", source_columns=tuple(rel.columns), in_place=True)


def stage_json(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Stage:
    """Canonical JSON Lines (or a JSON array of canonical objects)."""
    mapping = validate_mapping(mapping)
    text = decode_utf8(read_bytes(path, max_bytes), path)
    renames = {src: canon for canon, src in mapping.items()}

    def rows():  # type: ignore[no-untyped-def]
        for line, record in iter_json_records(text, path):
            if not isinstance(record, dict):
                raise InputError("each record must be a JSON object", file=path, line=line)
            yield line, {renames.get(k, k): v for k, v in record.items()}

    return stage_records(conn, rows(), path)
