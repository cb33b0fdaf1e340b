"""The timestamp window and the classification of a skew."""

from __future__ import annotations

import pytest

from diagnostics.signatures.timestamps import judge

NOW = 1_700_000_000.0


def test_within_window_both_ways() -> None:
    assert judge(NOW - 299, "x", NOW, 300).within
    assert judge(NOW + 299, "x", NOW, 300).within


def test_past_only_window_accepts_future() -> None:
    assert judge(NOW + 5000, "x", NOW, 300, window="past").within
    assert not judge(NOW - 301, "x", NOW, 300, window="past").within


@pytest.mark.parametrize(
    ("ts", "raw", "unit", "cause"),
    [
        (NOW * 1000, str(int(NOW * 1000)), "s", "milliseconds"),
        (NOW / 1000 / 1000, str(int(NOW)), "ms", "seconds-for-milliseconds"),
        (NOW - 5 * 3600 - 60, "x", "s", "timezone"),
        (NOW + 3600, "x", "s", "timezone"),
        (NOW + 1000, "x", "s", "clock-behind"),
        (NOW - 10 * 86400, "x", "s", "replay"),
        (NOW - 1800, "x", "s", "delay"),
    ],
)
def test_classification(ts: float, raw: str, unit: str, cause: str) -> None:
    judgment = judge(ts, raw, NOW, 300, unit=unit)
    assert not judgment.within and judgment.cause == cause and judgment.explanation


def test_date_header_skew() -> None:
    judgment = judge(NOW - 3600, "x", NOW, 300, date_header="Tue, 14 Nov 2023 22:13:20 GMT")
    assert judgment.date_skew_s == pytest.approx(3600.0)
