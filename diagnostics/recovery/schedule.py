"""The sender profile's retry schedule as a SQL table, so the budget left is a join, not a loop.

Row `n` (1-based automatic attempt number, 1 .. max_attempts) holds `offset_s` (seconds from the
first attempt to attempt n, nominal: platforms add jitter the log cannot predict), `delay_s` (the
wait after attempt n before the next one; null after the last) and `remaining_s` (the time from
attempt n to the last scheduled attempt). After automatic attempt n at time L the next attempt is
due at L + delay_s and the event runs out of retries at L + remaining_s.
"""

from __future__ import annotations

from diagnostics.profiles import SenderProfile

SCHEDULE_TABLE = "_retry_schedule"


def schedule_select(profile: SenderProfile) -> str:
    """A SELECT of the schedule rows (portable: UNION ALL of literal rows)."""
    delays = [float(d) for d in profile.retry_schedule_s]
    rows = []
    offset = 0.0
    for n in range(1, profile.max_attempts + 1):
        delay = delays[n - 1] if n <= len(delays) else None
        remaining = sum(delays[n - 1:])
        rows.append(
            f"SELECT {n} AS n, CAST({offset!r} AS DOUBLE) AS offset_s, "
            f"CAST({'NULL' if delay is None else repr(delay)} AS DOUBLE) AS delay_s, "
            f"CAST({remaining!r} AS DOUBLE) AS remaining_s"
        )
        offset += delay or 0.0
    return " UNION ALL ".join(rows)
