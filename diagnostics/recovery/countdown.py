"""The retry-budget countdown and the auto-disable projection of one endpoint.

Read from PLAN_TABLE (the undelivered events, already judged) and the endpoint's attempts:
- the pending events: the next automatic attempt, when the oldest pending event runs out of
  retries, when the last one does;
- the failure streak: the attempts after the endpoint's last 2xx (by time, then log order);
- `disable_at` under the profile's rule (profiles.DisableRule):
  failing_for H: streak start + H hours;
  consecutive_failures N: the time of the streak's Nth failure, or, when the streak is shorter,
  of the scheduled retry of a pending event that would be the Nth (all retries failing, no new
  events: a lower bound on the time left);
  retries_exhausted: the last attempt of the first event that exhausted its retries, else the
  earliest time a pending event runs out of retries;
- the events at risk: undelivered events whose last attempt is at or after the streak start
  (as `analyzers/disable_risk` counts them), or the pending events when there is no streak.
`already` says the disable time is at or before the endpoint's last attempt in the log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics.analyzers.base import OK
from diagnostics.engines.base import Engine
from diagnostics.logs.schema import sql_literal
from diagnostics.profiles import SenderProfile
from diagnostics.recovery.categories import PENDING
from diagnostics.recovery.plan import PLAN_TABLE, Plan
from diagnostics.recovery.schedule import SCHEDULE_TABLE

STREAK_TABLE = "_plan_streak"


def countdown(engine: Engine, profile: SenderProfile, plan: Plan, *, table: str = "attempts") -> dict[str, Any]:
    """Fill `plan.countdown` (and so `plan.disable_at`) and return it."""
    ep = sql_literal(plan.endpoint)
    pending = engine.rows(
        f"""SELECT count(*) AS n, min(next_retry_at) AS next_retry_at, max(retries_exhausted_at) AS last_exhausted_at
            FROM {PLAN_TABLE} WHERE category = '{PENDING}'"""
    )[0]
    result: dict[str, Any] = {"pending": int(pending["n"] or 0), "rule": _rule_words(profile)}
    if result["pending"]:
        oldest = engine.rows(
            f"""SELECT event_id, first_at, retries_exhausted_at FROM {PLAN_TABLE} WHERE category = '{PENDING}'
                ORDER BY first_at, event_id LIMIT 1"""
        )[0]
        result.update(
            next_retry_at=pending["next_retry_at"],
            oldest_pending_event_id=oldest["event_id"],
            oldest_pending_first_at=oldest["first_at"],
            oldest_pending_exhausted_at=oldest["retries_exhausted_at"],
            last_pending_exhausted_at=pending["last_exhausted_at"],
        )
    engine.materialize(
        STREAK_TABLE,
        f"""WITH o AS (
                SELECT attempted_at, {OK} AS ok,
                       row_number() OVER (ORDER BY attempted_at, seq) AS rn
                FROM {table} WHERE endpoint = {ep}
            ), last_ok AS (SELECT coalesce(max(rn) FILTER (WHERE ok), 0) AS rn FROM o)
            SELECT o.attempted_at, o.rn - last_ok.rn AS pos FROM o, last_ok WHERE o.rn > last_ok.rn""",
    )
    streak = engine.rows(f"SELECT count(*) AS n, min(attempted_at) AS started FROM {STREAK_TABLE}")[0]
    result["streak_attempts"] = int(streak["n"] or 0)
    result["streak_started_at"] = streak["started"]
    disable_at = _disable_at(engine, profile, result)
    if disable_at is not None:
        result["disable_at"] = disable_at
        result["already_disabled"] = plan.as_of is not None and disable_at <= plan.as_of
    if streak["started"] is not None:
        at_risk = engine.value(
            f"SELECT count(*) FROM {PLAN_TABLE} WHERE last_at >= CAST({sql_literal(_iso(streak['started']))} "
            "AS TIMESTAMPTZ)"
        )
    else:
        at_risk = result["pending"]
    result["events_at_risk"] = int(at_risk or 0)
    plan.countdown = result
    return result


def _disable_at(engine: Engine, profile: SenderProfile, state: dict[str, Any]) -> datetime | None:
    rule = profile.disable_rule
    if rule is None:
        return None
    if rule.kind == "failing_for" and rule.hours:
        started = state["streak_started_at"]
        return None if started is None else started + timedelta(hours=float(rule.hours))
    if rule.kind == "consecutive_failures" and rule.count:
        count = int(rule.count)
        if state["streak_attempts"] >= count:
            return engine.value(f"SELECT attempted_at FROM {STREAK_TABLE} WHERE pos = {count}")
        needed = count - state["streak_attempts"]
        return engine.value(
            f"""SELECT to_timestamp(t) FROM (
                    SELECT epoch(p.last_auto_at) + later.offset_s - now_at.offset_s AS t
                    FROM {PLAN_TABLE} AS p
                    JOIN {SCHEDULE_TABLE} AS now_at ON now_at.n = p.auto_used
                    JOIN {SCHEDULE_TABLE} AS later ON later.n > p.auto_used
                    WHERE p.category = '{PENDING}') AS future
                ORDER BY t LIMIT 1 OFFSET {needed - 1}"""
        )
    if rule.kind == "retries_exhausted":
        exhausted = engine.value(
            f"""SELECT min(last_auto_at) FROM {PLAN_TABLE}
                WHERE auto_used >= {profile.max_attempts}"""
        )
        if exhausted is not None:
            return exhausted
        if not state["pending"]:
            return None
        return engine.value(f"SELECT min(retries_exhausted_at) FROM {PLAN_TABLE} WHERE category = '{PENDING}'")
    return None


def _rule_words(profile: SenderProfile) -> str:
    rule = profile.disable_rule
    if rule is None:
        return f"{profile.label} never disables an endpoint"
    return rule.description or rule.kind


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
