"""The replay-plan categories: how safe it is to resend an event that never got a 2xx.

An event that still has automatic retries left under the sender profile is `pending`, whatever
its last error (a resend now races the retry). Otherwise its latest attempt decides:
- a response with a non-2xx status: `rejected` (a resend helps only after their fix);
- an error that proves the request never reached their server (DNS, connection refused, TLS,
  blocked address): `never_reached` (resending is safe);
- anything else (timeout, connection reset, protocol error, an unclassified error): `ambiguous`.
  The request may have been processed; a reset cannot show whether the request had been sent,
  so only the errors that prove "not reached" are safe.
"""

from __future__ import annotations

from diagnostics.error_kinds import ErrorKind
from diagnostics.logs.schema import sql_literal

NEVER_REACHED = "never_reached"
AMBIGUOUS = "ambiguous"
REJECTED = "rejected"
PENDING = "pending"
CATEGORIES = (NEVER_REACHED, AMBIGUOUS, REJECTED, PENDING)
# Sent by default by `redeliver` and written by default by `--export`: no duplicate, no race.
SAFE_BY_DEFAULT = (NEVER_REACHED, REJECTED)
# Error kinds (error_kinds.py) that happen before any byte of the request reaches the server.
NOT_REACHED_ERRORS = (ErrorKind.DNS, ErrorKind.CONNECTION_REFUSED, ErrorKind.TLS, ErrorKind.BLOCKED)

ADVICE: dict[str, str] = {
    NEVER_REACHED: "safe to resend: no attempt reached their server",
    AMBIGUOUS: "resend only if they dedupe on the event id: the request may have been processed",
    REJECTED: "resend after their fix: their server answered with an error status",
    PENDING: "wait: the sender still retries it; a resend now races the next retry",
}


def category_sql(used: str, max_attempts: int, status: str, error: str) -> str:
    """SQL CASE giving the category from the automatic attempts used and the latest attempt."""
    reached = ", ".join(sql_literal(e) for e in NOT_REACHED_ERRORS)
    return (
        f"CASE WHEN {used} >= 1 AND {used} < {int(max_attempts)} THEN '{PENDING}' "
        f"WHEN {status} IS NOT NULL THEN '{REJECTED}' "
        f"WHEN {error} IN ({reached}) THEN '{NEVER_REACHED}' "
        f"ELSE '{AMBIGUOUS}' END"
    )


def parse_categories(text: str | None, default: tuple[str, ...] = SAFE_BY_DEFAULT) -> tuple[str, ...]:
    """`never_reached,rejected` -> a tuple in plan order; unknown names are an InputError."""
    from diagnostics.errors import InputError

    if not text:
        return default
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return CATEGORIES
    unknown = [n for n in names if n not in CATEGORIES]
    if unknown or not names:
        raise InputError(f"unknown categories {', '.join(unknown) or '(none)'}; known: {', '.join(CATEGORIES)}, all",
                         field="--categories")
    return tuple(c for c in CATEGORIES if c in names)
