"""A delivery-log file's first line judged before DuckDB reads it.

Some files reach DuckDB in a shape its CSV reader cannot even bind: a ticket pasted into a .csv
("Dear support," makes a header whose second column has no name) or a file saved as UTF-16.
DuckDB reports those as an internal binder or conversion error with server paths; here they get
one line naming the file, the line and the column. The importers keep every other check.
"""

from __future__ import annotations

import csv
import gzip
import io

from diagnostics.errors import InputError
from diagnostics.logs.canonical import sniff_delimiter
from diagnostics.logs.detect import detect_container
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES, check_file, first_line, is_gzip

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEADER_EXAMPLE = "event_id,endpoint,attempted_at,status_code"


def _first_bytes(path: str, size: int = 4096) -> bytes:
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        return fh.read(size)


def _looks_utf16(head: bytes) -> bool:
    if head.startswith(UTF16_BOMS):
        return True
    odd, even = head[1:16:2], head[0:16:2]
    return len(head) >= 16 and odd.count(0) == 8 and even.count(0) == 0  # ASCII text as UTF-16LE


def check_log_file(path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
    """Raise InputError for a file DuckDB could not bind; do nothing for files it can read or
    that another check (columns, encoding) already explains. Size and existence come first."""
    check_file(path, max_bytes)
    try:
        head = _first_bytes(path)
        container = detect_container(path)
    except (OSError, EOFError):
        return  # missing, unreadable or damaged: the importer's own checks name it
    if container == "parquet":
        return
    if _looks_utf16(head):
        raise InputError("the file is UTF-16 text; save or export it as UTF-8", file=path, line=1)
    if container != "csv":
        return
    try:
        header_line = first_line(path)
    except InputError:
        return  # not UTF-8: the importer names the line and column
    if not header_line.strip():
        return
    try:
        header = next(csv.reader(io.StringIO(header_line), delimiter=sniff_delimiter(header_line)), [])
    except csv.Error:
        return  # CR-only line endings and the like: the CSV importer names them
    empty = [number for number, name in enumerate(header, start=1) if not name.strip()]
    if empty:
        shown = header_line[:60] + ("…" if len(header_line) > 60 else "")
        raise InputError(
            f"the first line is not a header of column names (column {empty[0]} has no name): {shown!r}; "
            f"a delivery log starts with its column names, such as {HEADER_EXAMPLE}",
            file=path, line=1, column=empty[0],
        )
