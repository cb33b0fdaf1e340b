"""Bad files (tests/support/bad_files.py, the table the app's uploads also run through) get one
clear line (file, line, column) through the library and through `python -m diagnostics analyze`
(no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from tests.support.bad_files import BAD_FILE_IDS, BAD_FILES, GOOD_CSV, one_line_json

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=BAD_FILE_IDS)
def test_unbindable_files_are_one_clear_input_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError) as info:
        load_attempts([str(path)])
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_good_file_still_loads(tmp_path: Path) -> None:
    attempts = load_attempts([str(_write(tmp_path, "good.csv", GOOD_CSV.encode()))])
    assert attempts.row_count == 1
    attempts.conn.close()


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=BAD_FILE_IDS)
def test_analyze_prints_one_line_and_exits_2(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = _write(tmp_path, name, data)
    result = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", str(path)], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and name in result.stderr


def test_a_one_line_json_export_numbers_each_events_attempts(tmp_path: Path) -> None:
    # Every record of a one-line export sits on line 1: attempts are still numbered per event in time order
    records = json.loads(one_line_json(3000))
    for i, record in enumerate(records):
        record["event_id"] = f"evt_{i % 1000}"
        record["attempted_at"] = f"2026-03-02T1{i // 1000}:00:00Z"
    path = _write(tmp_path, "export.json", json.dumps(records).encode())
    attempts = load_attempts([str(path)])
    numbers = attempts.conn.execute(
        "SELECT event_id, list(attempt ORDER BY attempted_at) FROM attempts GROUP BY event_id").fetchall()
    assert len(numbers) == 1000 and {tuple(n) for _, n in numbers} == {(1, 2, 3)}
    attempts.conn.close()
