"""Issue 14, input that broke the readers: each ends in a one-line InputError naming the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.logs.canonical import MAX_COLUMNS
from diagnostics.logs.files import read_capped

DEPTH = 100_000
RECORD = '{"event_id": "e1", "endpoint": "ep", "attempted_at": "2026-03-02T00:00:00Z"'


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_attempts([str(path)])
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return info.value


@pytest.mark.parametrize("shape", ["log-line", "array", "payload-gz"])
def test_deeply_nested_json_is_a_one_line_error(tmp_path: Path, shape: str) -> None:
    """The issue's case: deeply nested JSON ended in RecursionError."""
    nested = "[" * DEPTH + "]" * DEPTH
    if shape == "log-line":
        path = tmp_path / "log.jsonl"
        path.write_text(f"{RECORD}}}\n{RECORD}, \"payload\": {nested}}}\n")
    elif shape == "array":
        path = tmp_path / "log.json"
        path.write_text(nested)
    else:
        path = tmp_path / "log.jsonl.gz"
        path.write_bytes(gzip.compress(f"{RECORD}, \"payload\": {nested}}}\n".encode()))
    error = refused(path)
    assert "nested too deeply" in str(error)
    if shape == "log-line":
        assert error.line == 2


def test_cr_only_line_endings_are_named(tmp_path: Path) -> None:
    """The issue's case: a CSV with CR-only line endings ended in _csv.Error."""
    path = tmp_path / "log.csv"
    path.write_bytes(b"event_id,endpoint,attempted_at\re1,ep,2026-03-02T00:00:00Z\re2,ep,2026-03-02T00:01:00Z\r")
    assert "CR-only line endings" in str(refused(path))


def test_a_header_of_a_million_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n1\n")
    assert f"more than {MAX_COLUMNS:,} columns" in str(refused(path))


def test_many_duplicate_column_names_are_counted_in_one_pass(tmp_path: Path) -> None:
    """The issue's case: 250k duplicate names ran for minutes (quadratic); now one line, few names shown."""
    names = [f"c{i % 4000}" for i in range(MAX_COLUMNS - 10)]
    path = tmp_path / "dupes.csv"
    path.write_text(",".join(["event_id", "endpoint", "attempted_at", *names]) + "\n" + "1," * 9 + "1\n")
    message = str(refused(path))
    assert "repeats column(s) 'c0'" in message and "more" in message and len(message) < 400


def test_a_quoted_header_that_csv_cannot_read_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text('event_id,"endpoint' + "x" * 200_000 + '",attempted_at\n1,2,3\n')
    refused(path)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_are_not_read_as_logs(device: str) -> None:
    with pytest.raises(InputError, match=r"not a regular file|empty"):
        load_attempts([device])


def test_read_capped_never_reads_more_than_the_cap() -> None:
    with pytest.raises(InputError, match="larger than 1,024 bytes"):
        read_capped("/dev/zero", 1024, "body file")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".json"]))
def test_property_any_bytes_end_in_rows_or_a_one_line_input_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    """A bounded fuzz of the readers: whatever the bytes, a table or an InputError, nothing else."""
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        table = load_attempts([str(path)])
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        table.conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=3000))
def test_property_nesting_of_any_depth_is_read_or_refused_in_one_line(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "nested.jsonl"
    path.write_text(f'{RECORD}, "payload": {"[" * depth}{"]" * depth}}}\n')
    try:
        load_attempts([str(path)]).conn.close()
    except InputError as exc:
        assert "\n" not in str(exc)


def test_a_gzip_bomb_is_refused_while_streaming(tmp_path: Path) -> None:
    """The issue's case: 1 MB of gzip was inflated in memory to 1.16 GB before the limit refused
    it. Inflating is now counted a chunk at a time, so memory stays near one chunk."""
    import tracemalloc

    from diagnostics.logs.files import INFLATE_CHUNK, read_bytes

    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b" " * (128 * INFLATE_CHUNK), compresslevel=9))
    assert path.stat().st_size < INFLATE_CHUNK
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="inflates to more than") as info:
            read_bytes(str(path), max_bytes=64 * INFLATE_CHUNK)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < 8 * INFLATE_CHUNK  # a few chunks of buffers, never the 64 MB the limit allows


@pytest.mark.parametrize("name", ["log[1].csv", "log*.csv", "log?.csv"])
def test_a_file_name_is_a_path_never_a_glob(tmp_path: Path, name: str) -> None:
    """The issue's case: `analyze 'log[1].csv'` read log1.csv, and 'log*.csv' three files."""
    header = "event_id,endpoint,attempted_at,status_code\n"
    (tmp_path / "log1.csv").write_text(header + "decoy,ep_decoy,2026-03-02T00:00:00Z,500\n")
    (tmp_path / "log2.csv").write_text(header + "decoy2,ep_decoy,2026-03-02T00:00:00Z,500\n")
    target = tmp_path / name
    target.write_text(header + "evt_real,ep_real,2026-03-02T00:00:00Z,200\n")
    attempts = load_attempts([str(target)])
    rows = attempts.conn.execute(f"SELECT event_id, endpoint FROM {attempts.name}").fetchall()  # noqa: S608 - our table name
    assert rows == [("evt_real", "ep_real")]
