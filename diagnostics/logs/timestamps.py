"""Timestamps in delivery logs: mixed formats normalized to UTC, ambiguity refused.

Exports mix ISO 8601 with offsets, epoch seconds and epoch milliseconds, sometimes in one
column. Each value is classified on its own: ISO text with an offset (or `Z`) is converted to
UTC; a bare number is read by its magnitude (seconds, milliseconds, microseconds or
nanoseconds since 1970, each range covering 1973 to 2286 without overlap). A value whose meaning
would be a guess is an error, not a silent choice: ISO text without an offset (which time zone?),
a day/month date such as `03/04/2026`, or a number too small to place.

The same rules exist twice on purpose: `parse_timestamp` for single values in Python (flags,
JSON importers) and `classify_sql`/`normalize_sql` for whole columns inside DuckDB, where the
bulk of rows is converted without a Python loop. Tests check that both agree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from diagnostics.errors import InputError

# Epoch magnitudes: [lower, upper) for each unit, with the divisor to seconds.
EPOCH_UNITS: tuple[tuple[str, float, float, float], ...] = (
    ("seconds", 1e8, 1e11, 1.0),
    ("milliseconds", 1e11, 1e14, 1e3),
    ("microseconds", 1e14, 1e17, 1e6),
    ("nanoseconds", 1e17, 1e20, 1e9),
)

ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s?(Z|z|UTC|[+-]\d{2}(:?\d{2})?)$"
ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"
NUMBER = r"^\d{1,20}(\.\d+)?$"
SLASH_DATE = r"^\d{1,2}/\d{1,2}/\d{2,4}"

_ISO_WITH_OFFSET = re.compile(ISO_WITH_OFFSET)
_ISO_NAIVE = re.compile(ISO_NAIVE)
_NUMBER = re.compile(NUMBER)
_SLASH_DATE = re.compile(SLASH_DATE)

AMBIGUOUS_NAIVE = "has no UTC offset, so its time zone is ambiguous (add Z or +00:00, or declare naive times UTC)"
AMBIGUOUS_SLASH = "is a day/month date whose order is ambiguous (use ISO 8601, e.g. 2026-03-04T10:00:00Z)"
AMBIGUOUS_NUMBER = "is a number too small to read as epoch seconds or milliseconds"
UNRECOGNIZED = "is not a recognized timestamp (ISO 8601 with offset, or epoch seconds/milliseconds)"
UNRECOGNIZED_USER_TIME = "is not an ISO 8601 time or epoch seconds (e.g. 2026-03-01T00:00:00Z or 1772323200)"


class AmbiguousTimestamp(ValueError):
    """The value could mean more than one instant; the reason says why."""


def parse_timestamp(value: object, *, naive_is_utc: bool = False) -> datetime:
    """One value -> an aware UTC datetime, by the rules in the module docstring.

    Raises AmbiguousTimestamp for values that would need a guess and ValueError for values
    that are not timestamps at all.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            if not naive_is_utc:
                raise AmbiguousTimestamp(f"{value.isoformat()!r} {AMBIGUOUS_NAIVE}")
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} {UNRECOGNIZED}")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value), repr(value))
    text = str(value).strip()
    if _NUMBER.match(text):
        return _from_epoch(float(text), repr(text))
    if _ISO_WITH_OFFSET.match(text):
        normalized = re.sub(r"\s?(Z|z|UTC)$", "+00:00", text).replace(" ", "T", 1)
        normalized = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", normalized)
        normalized = re.sub(r"([+-]\d{2})$", r"\1:00", normalized)
        return _fromiso(normalized, text).astimezone(UTC)
    if _ISO_NAIVE.match(text):
        if not naive_is_utc:
            raise AmbiguousTimestamp(f"{text!r} {AMBIGUOUS_NAIVE}")
        return _fromiso(text.replace(" ", "T", 1), text).replace(tzinfo=UTC)
    if _SLASH_DATE.match(text):
        raise AmbiguousTimestamp(f"{text!r} {AMBIGUOUS_SLASH}")
    raise ValueError(f"{text[:40]!r} {UNRECOGNIZED}")


def _fromiso(text: str, original: str) -> datetime:
    # Python's fromisoformat takes at most 6 fractional digits: cut nanoseconds to microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{original[:40]!r} {UNRECOGNIZED}") from exc


def _from_epoch(number: float, shown: str) -> datetime:
    for _unit, low, high, divisor in EPOCH_UNITS:
        if low <= number < high:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=number / divisor)
    if number < EPOCH_UNITS[0][1]:
        raise AmbiguousTimestamp(f"{shown} {AMBIGUOUS_NUMBER}")
    raise ValueError(f"{shown} {UNRECOGNIZED}")


def parse_user_time(value: str | datetime, what: str) -> datetime:
    """A --since/--until value (every command's one parser): ISO 8601 or epoch text, or a datetime
    from a Python caller; naive dates are read as UTC because the user typed them."""
    try:
        return parse_timestamp(value, naive_is_utc=True)
    except AmbiguousTimestamp as exc:
        raise InputError(str(exc), field=what) from exc
    except ValueError as exc:
        raise InputError(f"{str(value)[:40]!r} {UNRECOGNIZED_USER_TIME}", field=what) from exc


def classify_sql(column: str) -> str:
    """DuckDB expression naming the rule that applies to a text column's value.

    One of: 'null', 'iso', 'naive', 'slash', 'epoch', 'small_number', 'unrecognized'.
    """
    v = f"trim({column})"
    return (
        f"CASE WHEN {column} IS NULL OR {v} = '' THEN 'null' "
        f"WHEN regexp_matches({v}, '{NUMBER}') THEN "
        f"  CASE WHEN TRY_CAST({v} AS DOUBLE) < {EPOCH_UNITS[0][1]} THEN 'small_number' "
        f"       WHEN TRY_CAST({v} AS DOUBLE) >= {EPOCH_UNITS[-1][2]} THEN 'unrecognized' ELSE 'epoch' END "
        f"WHEN regexp_matches({v}, '{ISO_WITH_OFFSET}') THEN 'iso' "
        f"WHEN regexp_matches({v}, '{ISO_NAIVE}') THEN 'naive' "
        f"WHEN regexp_matches({v}, '{SLASH_DATE}') THEN 'slash' "
        "ELSE 'unrecognized' END"
    )


def normalize_sql(column: str, *, naive_is_utc: bool = False, kind: str | None = None) -> str:
    """DuckDB expression turning a text column into TIMESTAMPTZ (UTC), NULL where unreadable.

    `kind` names a column (or expression) already holding `classify_sql` of the same value, so
    the classification is not computed twice; pair them to report why a value became NULL.
    The connection must run with TimeZone=UTC (schema.connect) so naive values read as UTC.
    """
    v = f"trim({column})"
    kind = kind or classify_sql(column)
    n = f"TRY_CAST({v} AS DOUBLE)"
    epoch_cases = " ".join(
        f"WHEN {n} >= {low} AND {n} < {high} THEN to_timestamp({n} / {divisor})"
        for _u, low, high, divisor in EPOCH_UNITS
    )
    naive = f"TRY_CAST(TRY_CAST({v} AS TIMESTAMP) AS TIMESTAMPTZ)" if naive_is_utc else "NULL"
    return (
        f"CASE {kind} "
        f"WHEN 'epoch' THEN CASE {epoch_cases} ELSE NULL END "
        f"WHEN 'iso' THEN TRY_CAST(replace({v}, 'z', 'Z') AS TIMESTAMPTZ) "
        f"WHEN 'naive' THEN {naive} "
        "ELSE NULL END"
    )
