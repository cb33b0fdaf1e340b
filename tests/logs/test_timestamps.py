"""Mixed timestamp formats become UTC; values whose meaning would be a guess are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.errors import InputError
from diagnostics.logs.timestamps import (
    AmbiguousTimestamp,
    classify_sql,
    normalize_sql,
    parse_timestamp,
    parse_user_time,
)

INSTANT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05T10:00:00Z",
        "2026-01-05T10:00:00+00:00",
        "2026-01-05 12:00:00+02:00",
        "2026-01-05T15:30:00+0530",
        "2026-01-05T05:00:00-05",
        "2026-01-05T10:00:00 UTC",
        "1767607200",
        "1767607200000",
        "1767607200000000",
        "1767607200.0",
    ],
)
def test_every_supported_format_means_the_same_instant(text: str) -> None:
    assert parse_timestamp(text) == INSTANT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-01-05 10:00:00", "no UTC offset"),
        ("2026-01-05", "no UTC offset"),
        ("03/04/2026 10:00", "day/month"),
        ("12345", "too small"),
    ],
)
def test_ambiguous_values_are_errors_not_guesses(text: str, reason: str) -> None:
    with pytest.raises(AmbiguousTimestamp, match=reason):
        parse_timestamp(text)


def test_naive_values_are_utc_only_when_declared() -> None:
    assert parse_timestamp("2026-01-05 10:00:00", naive_is_utc=True) == INSTANT


def test_nonsense_is_not_a_timestamp() -> None:
    with pytest.raises(ValueError, match="not a recognized timestamp"):
        parse_timestamp("yesterday")


def test_user_times_name_the_flag() -> None:
    assert parse_user_time("2026-01-05", "--since") == datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(InputError, match="--until"):
        parse_user_time("soon", "--until")


def _sql(values: list[str | None], naive_is_utc: bool = False) -> list[tuple[str, datetime | None]]:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = conn.execute(
        f"SELECT {classify_sql('v')}, {normalize_sql('v', naive_is_utc=naive_is_utc)} FROM t ORDER BY i"  # noqa: S608
    ).fetchall()
    return [(kind, value) for kind, value in rows]


def test_sql_classification_names_each_rule() -> None:
    values = ["2026-01-05T10:00:00Z", "1767607200", "2026-01-05 10:00", "3/4/2026", "12", "x", None]
    kinds = [k for k, _ in _sql(values)]
    assert kinds == ["iso", "epoch", "naive", "slash", "small_number", "unrecognized", "null"]


moments = st.datetimes(
    min_value=datetime(1975, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=(d.microsecond // 1000) * 1000))


@settings(max_examples=60, deadline=None)
@given(moment=moments, style=st.sampled_from(["iso_z", "iso_offset", "epoch_s", "epoch_ms"]))
def test_sql_and_python_agree(moment: datetime, style: str) -> None:
    if style == "iso_z":
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    elif style == "iso_offset":
        text = moment.astimezone().strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    elif style == "epoch_s":
        text = str(int(moment.timestamp()))
        moment = moment.replace(microsecond=0)
    else:
        text = str(round(moment.timestamp() * 1000))
    [(kind, value)] = _sql([text])
    assert value is not None, (kind, text)
    assert abs((value - moment).total_seconds()) < 1e-3
    assert abs((parse_timestamp(text) - moment).total_seconds()) < 1e-3
