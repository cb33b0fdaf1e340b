"""The timestamp window, judged apart from the signature (F12).

A valid signature with a stale timestamp is a different problem from a wrong signature, with a
different fix, so it is judged separately and the skew is classified: milliseconds where
seconds belong, a whole-hour timezone offset, a clock behind, a replayed or queued request.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class TimeJudgment:
    """The verdict on a signed timestamp.

    Attributes:
        within: True inside the window, False outside it.
        skew_s: now minus the timestamp, in seconds (positive: the timestamp is in the past).
        tolerance_s: the window used.
        window: "both" or "past" (past-only schemes accept future timestamps).
        cause: "milliseconds", "seconds-for-milliseconds", "timezone", "clock-behind", "replay",
            "delay", or "" when within the window.
        explanation: the cause in words.
        date_skew_s: the HTTP Date header minus the timestamp, when a Date header was given.
    """

    within: bool
    skew_s: float
    tolerance_s: float
    window: str
    cause: str = ""
    explanation: str = ""
    date_skew_s: float | None = None


def judge(
    timestamp_s: float,
    raw: str,
    now: float,
    tolerance_s: float,
    window: str = "both",
    unit: str = "s",
    date_header: str | None = None,
) -> TimeJudgment:
    """Is the timestamp inside the window, and if not, the most likely reason why."""
    skew = now - timestamp_s
    date_skew = _date_skew(date_header, timestamp_s)
    too_old = skew > tolerance_s
    too_new = -skew > tolerance_s and window == "both"
    if not (too_old or too_new):
        return TimeJudgment(True, skew, tolerance_s, window, date_skew_s=date_skew)
    cause, text = _classify(skew, raw, now, tolerance_s, unit)
    return TimeJudgment(False, skew, tolerance_s, window, cause, text, date_skew)


def _classify(skew: float, raw: str, now: float, tolerance_s: float, unit: str) -> tuple[str, str]:
    digits = raw.strip().lstrip("-")
    if unit == "s" and digits.isdigit() and len(digits) >= 13:
        return "milliseconds", (
            f"the timestamp {raw} has {len(digits)} digits: it is in milliseconds where the scheme expects seconds"
        )
    if unit == "ms" and digits.isdigit() and len(digits) <= 10:
        return "seconds-for-milliseconds", (
            f"the timestamp {raw} has {len(digits)} digits: it is in seconds where the scheme expects milliseconds"
        )
    hours = round(abs(skew) / HOUR)
    if 1 <= hours <= 14 and abs(abs(skew) - hours * HOUR) <= tolerance_s:
        direction = "behind" if skew > 0 else "ahead of"
        return "timezone", (
            f"the timestamp is {hours} h {direction} now, within the tolerance of a whole number of hours: "
            "a local time written as if it were UTC (a timezone bug)"
        )
    if skew < 0:
        return "clock-behind", (
            f"the timestamp is {_duration(-skew)} in the future: the receiving server's clock is behind "
            "(or the sender's ahead); check NTP on the receiver"
        )
    if skew > DAY:
        return "replay", (
            f"the timestamp is {_duration(skew)} old: an old request replayed (a saved fixture, a manual resend "
            "with the original timestamp); a saved request checked later must be judged at the time it arrived"
        )
    return "delay", (
        f"the timestamp is {_duration(skew)} old: the request was queued or retried with its original timestamp, "
        "or the receiver's clock is ahead"
    )


def _date_skew(date_header: str | None, timestamp_s: float) -> float | None:
    if not date_header:
        return None
    from email.utils import parsedate_to_datetime  # only a request with a Date header pays for email+socket

    try:
        return parsedate_to_datetime(date_header).timestamp() - timestamp_s
    except (TypeError, ValueError, IndexError):
        return None


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * HOUR:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * DAY:
        return f"{seconds / HOUR:.1f} h"
    return f"{seconds / DAY:.1f} days"
