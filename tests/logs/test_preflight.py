"""Files DuckDB could not bind get one clear line (file, line, column) before it reads them,
through the library and through `python -m diagnostics analyze` (no traceback)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts

ROOT = Path(__file__).resolve().parents[2]
GOOD = "event_id,endpoint,attempted_at,status_code\nevt_1,ep_1,2026-03-02T10:00:00Z,200\n"
PROSE = "Dear support,\nour webhooks stopped arriving yesterday. Can you help?\nThanks, Bob\n"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


BAD_FILES = [
    ("prose.csv", PROSE.encode(), "line 1, column 2: the first line is not a header of column names"),
    ("prose.csv.gz", gzip.compress(PROSE.encode()), "column 2 has no name"),
    ("blank-column.csv", b"event_id,,attempted_at\ne1,x,2026-03-02T10:00:00Z\n", "column 2 has no name"),
    ("utf16.csv", GOOD.encode("utf-16"), "line 1: the file is UTF-16 text; save or export it as UTF-8"),
    ("utf16-no-bom.csv", GOOD.encode("utf-16-le"), "UTF-16"),
    ("duplicate.csv", b"event_id,event_id,attempted_at\ne1,e2,2026-03-02T10:00:00Z\n", "repeats column(s) 'event_id'"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_unbindable_files_are_one_clear_input_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError) as info:
        load_attempts([str(path)])
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_good_file_still_loads(tmp_path: Path) -> None:
    attempts = load_attempts([str(_write(tmp_path, "good.csv", GOOD.encode()))])
    assert attempts.row_count == 1
    attempts.conn.close()


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES[:4], ids=[b[0] for b in BAD_FILES[:4]])
def test_analyze_prints_one_line_and_exits_2(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = _write(tmp_path, name, data)
    result = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", str(path)], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr
