"""Database sources: a real PostgreSQL table (and SQLite) read with mapping, filters pushed down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.logs.generate import generate_log
from diagnostics.pipeline.logs import analyze_logs

# Our delivery-attempt table uses other column names: the mapping fixes that.
MAPPING = {"endpoint": "webhook_id", "attempted_at": "created", "status_code": "http_status"}
SINCE = datetime(2026, 3, 2, 20, tzinfo=UTC)
UNTIL = datetime(2026, 3, 3, 8, tzinfo=UTC)


def _frame() -> pd.DataFrame:
    frame = generate_log(seed=11, attempts=12_000).table.to_pandas()
    frame = frame[frame["endpoint"].isin(["ep_outage", "ep_dupes", "ep_dupes_mirror", "ep_healthy_1"])]
    return frame.rename(columns={v: k for k, v in {"webhook_id": "endpoint", "created": "attempted_at",
                                                    "http_status": "status_code"}.items()})


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


def _fill(url: str, frame: pd.DataFrame) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS delivery_attempts"))
    postgres = url.startswith("postgresql")
    # PostgreSQL gets a real timestamptz column; SQLite keeps the ISO text (and caps bound variables).
    frame.to_sql("delivery_attempts", engine, index=False, method="multi" if postgres else None, chunksize=2000,
                 dtype={"created": sa.DateTime(timezone=True)} if postgres else None)
    engine.dispose()


@pytest.fixture(scope="module")
def pg(postgres_url: str, frame: pd.DataFrame) -> str:
    _fill(postgres_url, frame)
    return postgres_url


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent to any database while the test runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.Engine, "before_cursor_execute", record)


@pytest.mark.postgres
def test_filters_are_pushed_down_into_postgres(pg: str, frame: pd.DataFrame, statements: list[str]) -> None:
    table = load_attempts([pg], table="delivery_attempts", mapping=MAPPING, endpoint="ep_outage",
                          since=SINCE, until=UNTIL)
    selects = [s for s in statements if "FROM delivery_attempts" in s and "webhook_id AS endpoint" in s]
    assert len(selects) == 1
    where = selects[0].split("WHERE", 1)[1]
    assert "webhook_id = " in where and "created >= " in where and "created < " in where
    expected = frame[(frame["webhook_id"] == "ep_outage") & (frame["created"] >= SINCE) & (frame["created"] < UNTIL)]
    assert table.row_count == len(expected) > 0  # only the matching rows crossed the wire
    assert table.source_queries and "WHERE" in table.source_queries[0]
    assert table.problem_total == 0
    assert "postgres" in table.sources[0] and "127.0.0.1" in table.sources[0]


@pytest.mark.postgres
def test_query_source_is_wrapped_and_filtered(pg: str, statements: list[str]) -> None:
    query = "SELECT * FROM delivery_attempts WHERE trigger = 'auto'"
    table = load_attempts([pg], query=query, mapping=MAPPING, endpoint="ep_dupes")
    sent = [s for s in statements if "trigger = 'auto'" in s and "webhook_id =" in s]
    assert sent, statements
    frame = table.to_pandas()
    assert set(frame["endpoint"]) == {"ep_dupes"} and set(frame["trigger"]) == {"auto"}


@pytest.mark.postgres
def test_postgres_and_file_give_the_same_findings(pg: str, frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "same.parquet"
    canonical_names = {"webhook_id": "endpoint", "created": "attempted_at", "http_status": "status_code"}
    frame.rename(columns=canonical_names).to_parquet(path)
    from_db = analyze_logs([pg], table="delivery_attempts", mapping=MAPPING)
    from_file = analyze_logs([str(path)])

    def key(outcome: Any) -> list[tuple[Any, ...]]:
        return sorted((f.code, f.status.value, f.evidence) for f in outcome.findings if f.status.value != "pass")

    assert key(from_db) == key(from_file)
    assert {f.code for f in from_db.findings if f.status.value != "pass"} >= {"outage-window", "duplicate-deliveries"}


@pytest.mark.postgres
def test_database_problems_are_input_errors(pg: str) -> None:
    with pytest.raises(InputError, match="no table 'nope'"):
        load_attempts([pg], table="nope", mapping=MAPPING)
    with pytest.raises(InputError, match="lacks required column"):
        load_attempts([pg], table="delivery_attempts")
    with pytest.raises(InputError, match="exactly one of --table or --query"):
        load_attempts([pg], mapping=MAPPING)
    with pytest.raises(InputError, match="the query failed"):
        load_attempts([pg], query="SELECT * FROM missing_table", mapping=MAPPING)


def test_sqlite_source_works_the_same_way(tmp_path: Path, frame: pd.DataFrame, statements: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    small = frame[frame["webhook_id"] == "ep_outage"].copy()
    small["created"] = small["created"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # SQLite keeps text
    _fill(url, small)
    table = load_attempts([url], table="delivery_attempts", mapping=MAPPING, endpoint="ep_outage")
    assert table.row_count == len(small)
    assert any("webhook_id = ?" in s for s in statements)


def test_unusable_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a usable database URL"):
        load_attempts(["nosuchdialect://x/y"], table="t")
