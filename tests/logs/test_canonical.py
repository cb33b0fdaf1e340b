"""Canonical CSV / JSONL / Parquet (gzip too) import, column mapping, and bad files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts, parse_mapping
from diagnostics.logs.generate import generate_log

HEADER = "event_id,event_type,endpoint,attempted_at,status_code,error,duration_ms\n"


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    log = generate_log(seed=3, attempts=12_000)
    folder = tmp_path_factory.mktemp("canonical")
    return {fmt: log.write(folder / f"log.{fmt}") for fmt in ("csv", "csv.gz", "jsonl", "jsonl.gz", "parquet")}


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "jsonl", "jsonl.gz", "parquet"])
def test_every_container_imports_the_same_rows(small_log: dict[str, Path], fmt: str) -> None:
    reference = load_attempts([str(small_log["parquet"])]).to_pandas()
    table = load_attempts([str(small_log[fmt])])
    frame = table.to_pandas()
    assert table.problem_total == 0
    assert len(frame) == len(reference) == 12_000
    for column in ("event_id", "endpoint", "attempt", "status_code", "error", "trigger", "payload"):
        assert _values(frame[column]) == _values(reference[column]), column
    assert (frame["attempted_at"] == reference["attempted_at"]).all()


def _values(series: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in series.tolist()]


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def test_mixed_timestamp_formats_in_one_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mixed.csv",
        HEADER + "e1,a,ep,2026-01-05T10:00:00Z,200,,10\ne2,a,ep,1767607260,200,,10\ne3,a,ep,1767607320000,200,,10\n"
        "e4,a,ep,2026-01-05T12:03:00+02:00,200,,10\n",
    )
    times = load_attempts([path]).to_pandas()["attempted_at"].dt.strftime("%H:%M").tolist()
    assert times == ["10:00", "10:01", "10:02", "10:03"]


def test_ambiguous_timestamp_stops_the_import_naming_line_and_column(tmp_path: Path) -> None:
    rows = "e1,a,ep,2026-01-05T10:00:00Z,200,,10\ne2,a,ep,2026-01-05 10:01:00,200,,10\n"
    path = write(tmp_path, "naive.csv", HEADER + rows)
    with pytest.raises(InputError) as info:
        load_attempts([path])
    message = str(info.value)
    assert "naive.csv" in message and "line 3" in message and "attempted_at" in message and "ambiguous" in message
    assert load_attempts([path], naive_is_utc=True).row_count == 2


def test_unmappable_rows_are_reported_with_line_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rows.csv",
        HEADER + "e1,a,ep,2026-01-05T10:00:00Z,200,,10\n,a,ep,2026-01-05T10:00:00Z,200,,10\n"
        "e3,a,ep,2026-01-05T10:00:00Z,abc,,10\ne4,a,ep,2026-01-05T10:00:00Z,700,,10\n",
    )
    table = load_attempts([path])
    assert table.row_count == 1
    assert [(p.line, p.reason.split()[0]) for p in table.problems] == [(3, "event_id"), (4, "status_code"),
                                                                      (5, "status_code")]
    assert "outside 100-599" in table.problems[2].reason
    with pytest.raises(InputError, match="3 row"):
        load_attempts([path], strict=True)


def test_null_status_and_error_text_are_normalized(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", HEADER + "e1,a,ep,2026-01-05T10:00:00Z,,request timed out,15000\n"
                 "e1,a,ep,2026-01-05T10:00:05Z,200,,10\n")
    frame = load_attempts([path]).to_pandas()
    assert frame["error"].tolist()[0] == "timeout"
    assert frame["attempt"].tolist() == [1, 2]  # filled in from time order when the source has none


def test_column_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "other.csv", "id,hook,created,code\ne1,wh_1,2026-01-05T10:00:00Z,204\n")
    mapping = parse_mapping("event_id=id,endpoint=hook,attempted_at=created,status_code=code")
    frame = load_attempts([path], mapping=mapping).to_pandas()
    assert frame[["event_id", "endpoint", "status_code"]].values.tolist() == [["e1", "wh_1", 204]]
    with pytest.raises(InputError, match="no such column"):
        load_attempts([path], mapping={"event_id": "nope", "endpoint": "hook", "attempted_at": "created"})
    with pytest.raises(InputError, match="unknown canonical"):
        load_attempts([path], mapping={"evt": "id"})
    with pytest.raises(InputError, match="canonical=source"):
        parse_mapping("event_id")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_filters_apply_to_files(small_log: dict[str, Path], fmt: str) -> None:
    from datetime import UTC, datetime

    table = load_attempts([str(small_log[fmt])], endpoint="ep_outage",
                          since=datetime(2026, 3, 2, 22, tzinfo=UTC), until=datetime(2026, 3, 3, 6, tzinfo=UTC))
    frame = table.to_pandas()
    assert set(frame["endpoint"]) == {"ep_outage"}
    assert frame["attempted_at"].min().hour >= 22 and frame["attempted_at"].max() < datetime(2026, 3, 3, 6, tzinfo=UTC)
    assert table.materialized  # a small Parquet file is typed into memory while it is checked
    assert table.row_count == len(frame)


# Bad files: each message names the file, the line and (where there is one) the column.

def test_truncated_json(tmp_path: Path) -> None:
    rows = [{"event_id": f"e{i}", "endpoint": "ep", "attempted_at": "2026-01-05T10:00:00Z"} for i in range(3)]
    text = json.dumps(rows, indent=1)
    path = write(tmp_path, "cut.json", text[: len(text) // 2])
    with pytest.raises(InputError) as info:
        load_attempts([path])
    assert "cut.json" in str(info.value) and "line" in str(info.value) and "column" in str(info.value)
    assert "truncated" in str(info.value)


def test_broken_json_line(tmp_path: Path) -> None:
    good = json.dumps({"event_id": "e1", "endpoint": "ep", "attempted_at": "2026-01-05T10:00:00Z"})
    path = write(tmp_path, "bad.jsonl", good + "\n" + good + "\n" + '{"event_id": "e3", "endpoint": }' + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl, line 3, column 32: invalid JSON"):
        load_attempts([path])


def test_row_with_another_delimiter(tmp_path: Path) -> None:
    rows = "e1,a,ep,2026-01-05T10:00:00Z,200,,10\ne2;a;ep;2026-01-05T10:00:00Z;200;;10\n"
    path = write(tmp_path, "delim.csv", HEADER + rows)
    with pytest.raises(InputError) as info:
        load_attempts([path])
    assert "delim.csv, line 3, column 2" in str(info.value) and "delimiter" in str(info.value)


def test_whole_file_with_semicolons_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "semi.csv", HEADER.replace(",", ";") + "e1;a;ep;2026-01-05T10:00:00Z;200;;10\n")
    assert load_attempts([path]).row_count == 1


def test_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path, "cols.csv", "event_id,attempted_at\ne1,2026-01-05T10:00:00Z\n")
    with pytest.raises(InputError, match=r"cols.csv, line 1, field 'endpoint': missing required column") as info:
        load_attempts([path])
    assert "(found: event_id, attempted_at)" in str(info.value)
    assert "--map (endpoint=<your column>)" in str(info.value)


def test_header_in_one_column_hints_at_the_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "tabs.csv", "event_id:endpoint:attempted_at\ne1:ep:2026\n")
    with pytest.raises(InputError, match="missing required column") as info:
        load_attempts([path])
    assert "is the file delimited by another character?" in str(info.value)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    rows = b"e1,a,ep,2026-01-05T10:00:00Z,200,,10\ne2,caf\xe9,ep,x,1,,1\n"
    path = write(tmp_path, "latin.csv", HEADER.encode() + rows)
    with pytest.raises(InputError, match=r"latin.csv, line 3, column 7: the file is not UTF-8"):
        load_attempts([path])
    jpath = write(tmp_path, "latin.jsonl", b'{"event_id": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"latin.jsonl, line 1, column 18: the file is not UTF-8"):
        load_attempts([jpath])


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        load_attempts([write(tmp_path, "empty.csv", "")])
    with pytest.raises(InputError, match=r"header\.csv, line 2: the file has a header but no rows"):
        load_attempts([write(tmp_path, "header.csv", HEADER)])


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:  # a sparse 2 GB file: no disk space used, nothing read
        fh.truncate(2 * 1000**3 + 1)
    with pytest.raises(InputError, match=r"huge.csv: the file is 2.00 GB, over the 1.07 GB limit"):
        load_attempts([str(path)])


def test_gzip_bomb_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"[" + b" " * 200_000)
    with pytest.raises(InputError, match="inflates to more than"):
        load_attempts([str(path)], max_file_bytes=100_000)


def test_nothing_is_half_imported(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", HEADER + "e1,a,ep,2026-01-05T10:00:00Z,200,,10\n")
    bad = write(tmp_path, "bad.csv", HEADER + "e1,a,ep,2026-01-05 10:00:00,200,,10\n")
    with pytest.raises(InputError, match=r"bad\.csv"):
        load_attempts([good, bad])
    # The same call with the problem fixed imports both files whole, in one table.
    assert load_attempts([good, bad], naive_is_utc=True).row_count == 2


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_attempts([str(tmp_path / "nope.csv")])
    with pytest.raises(InputError, match="is a folder"):
        load_attempts([str(tmp_path)])


def test_large_parquet_stays_in_place_and_can_be_materialized(
    small_log: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from diagnostics.logs import schema

    copy = tmp_path / "copy.parquet"
    shutil.copy(small_log["parquet"], copy)
    monkeypatch.setattr(schema, "KEEP_IN_PLACE_ABOVE_ROWS", 11_999)  # "large": above the threshold
    table = load_attempts([str(copy)])
    assert not table.materialized  # a view reading the file
    before = table.to_pandas(5)
    table.materialize()
    copy.unlink()  # the rows now live in memory
    assert table.materialized and table.row_count == 12_000
    assert table.to_pandas(5)["event_id"].tolist() == before["event_id"].tolist()


@pytest.mark.parametrize("in_place", [False, True])
def test_overlong_urls_are_cut_to_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_place: bool) -> None:
    """A URL beyond MAX_URL_CHARS characters is cut to it (multi-byte characters counted as one),
    whether the Parquet file is copied into memory or read in place; others are left whole."""
    from diagnostics.logs import schema

    long_url = "https://example.com/" + "é" * 3000
    frame = pd.DataFrame({
        "event_id": ["evt_1", "evt_2"], "endpoint": ["ep", "ep"],
        "url": [long_url, "https://example.com/in"],
        "attempted_at": pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"]),
        "status_code": [200, 200], "attempt": [1, 1],
    })
    path = tmp_path / "long.parquet"
    frame.to_parquet(path)
    if in_place:
        monkeypatch.setattr(schema, "KEEP_IN_PLACE_ABOVE_ROWS", 0)
    table = load_attempts([str(path)])
    assert table.materialized is not in_place
    urls = dict(zip(*(table.to_pandas()[c].tolist() for c in ("event_id", "url")), strict=True))
    assert urls == {"evt_1": long_url[: schema.MAX_URL_CHARS], "evt_2": "https://example.com/in"}
