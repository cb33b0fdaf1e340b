"""A replay plan as findings (one summary, one per non-empty category) and report tables.

The summary `recovery-plan` carries the totals and the countdown in its evidence; it has the
status and severity of the worst category finding, so (codes sort within a status and severity)
it leads every report. Category findings carry the advice for their events and up to 20 samples;
every event is in `metrics.plan` and in the exports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from diagnostics.analyzers.base import fmt_time
from diagnostics.findings import MAX_SAMPLES, Finding, Severity, Status
from diagnostics.profiles import SenderProfile
from diagnostics.recovery.categories import ADVICE, AMBIGUOUS, CATEGORIES, NEVER_REACHED, PENDING, REJECTED
from diagnostics.recovery.plan import Plan, at
from diagnostics.wording import agree, counted, these

SOURCE = "recovery.plan"
MAX_TABLE_ROWS = 200


def window_words(plan: Plan) -> str:
    if plan.since and plan.until:
        return f"first sent {fmt_time(plan.since)} to {fmt_time(plan.until)}"
    if plan.since:
        return f"first sent from {fmt_time(plan.since)}"
    if plan.until:
        return f"first sent before {fmt_time(plan.until)}"
    return "in the whole log"


def countdown_lines(plan: Plan, profile: SenderProfile) -> list[tuple[str, Any]]:
    """The retry-budget countdown as label/value pairs (evidence and the report table)."""
    c = plan.countdown
    lines: list[tuple[str, Any]] = [("pending events", c.get("pending", 0))]
    if c.get("pending"):
        lines += [
            ("next automatic attempt (nominal schedule)", fmt_time(c.get("next_retry_at"))),
            ("oldest pending event", c.get("oldest_pending_event_id")),
            ("oldest pending event runs out of retries", fmt_time(c.get("oldest_pending_exhausted_at"))),
            ("last pending event runs out of retries", fmt_time(c.get("last_pending_exhausted_at"))),
        ]
    lines.append(("auto-disable rule", c.get("rule", "")))
    if c.get("streak_started_at") is not None:
        lines.append(("failing since", f"{fmt_time(c['streak_started_at'])} ({c.get('streak_attempts', 0)} "
                      "failed attempts in a row)"))
    if plan.disable_at is not None:
        verb = "would already have been disabled at" if c.get("already_disabled") else "disables at"
        lines.append(("auto-disable", f"{verb} {fmt_time(plan.disable_at)}"))
        lines.append(("events at risk", c.get("events_at_risk", 0)))
    elif profile.disable_rule is not None:
        lines.append(("auto-disable", "not on course (no failure streak the rule acts on)"))
    return lines


def plan_findings(plan: Plan, profile: SenderProfile) -> list[Finding]:
    findings = [_summary(plan, profile)]
    for category in CATEGORIES:
        events = [e for e in plan.events if e["category"] == category]
        if events:
            findings.append(_category(plan, profile, category, events))
    return findings


def _status(plan: Plan) -> tuple[Status, Severity]:
    if any(plan.totals[c] for c in (NEVER_REACHED, AMBIGUOUS, REJECTED)):
        return Status.FAIL, Severity.HIGH
    if plan.totals[PENDING]:
        return Status.WARN, Severity.MEDIUM
    return Status.PASS, Severity.INFO


def _summary(plan: Plan, profile: SenderProfile) -> Finding:
    status, severity = _status(plan)
    total = len(plan.events)
    parts = ", ".join(f"{plan.totals[c]} {c.replace('_', ' ')}" for c in CATEGORIES)
    if total:
        title = (f"{counted(total, 'event')} to {plan.endpoint} {agree(total, 'has', 'have')} no successful "
                 f"delivery: {parts}")
        summary = (f"Of the events {window_words(plan)}, {plan.delivered} were delivered and {total} never got a "
                   f"2xx. Each is classified by how safe a resend is under the {profile.label} profile; the "
                   "full list is in the JSON output (metrics.plan) and in --export files.")
    else:
        title = f"Every event to {plan.endpoint} was delivered"
        summary = f"All {counted(plan.delivered, 'event')} {window_words(plan)} got a 2xx: there is nothing to resend."
    evidence = [(f"{c.replace('_', ' ')}", plan.totals[c]) for c in CATEGORIES]
    evidence += [("delivered (not listed)", plan.delivered), ("window", window_words(plan)),
                 ("sender profile", profile.label)]
    evidence += countdown_lines(plan, profile)
    return Finding(code="recovery-plan", status=status, severity=severity, title=title, summary=summary,
                   subject=plan.endpoint, evidence=tuple(evidence), source=SOURCE)


def _samples(events: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(event_row(e) for e in events[:MAX_SAMPLES])


def event_row(e: dict[str, Any]) -> dict[str, Any]:
    """One event as a report row (times in words, the evidence line last)."""
    row = {
        "event_id": e["event_id"],
        "category": e["category"],
        "event_type": e["event_type"],
        "attempts": e["attempts"],
        "first_attempt": fmt_time(at(e["first_at"])),
        "last_attempt": fmt_time(at(e["last_at"])),
        "last_result": e["status_code"] if e["status_code"] is not None else e["error"],
    }
    if e["category"] == PENDING:
        row["next_retry"] = fmt_time(at(e.get("next_retry_at")))
        row["retries_run_out"] = fmt_time(at(e.get("retries_exhausted_at")))
    row["evidence"] = e["evidence"]
    return row


def _category(plan: Plan, profile: SenderProfile, category: str, events: list[dict[str, Any]]) -> Finding:
    n = len(events)
    first, last = plan.span(category)
    common: list[tuple[str, Any]] = [("events", n), ("first sent", fmt_time(first)), ("last attempt", fmt_time(last)),
                                     ("what to do", ADVICE[category])]
    if category == NEVER_REACHED:
        kinds = Counter(e["error"] or "no response" for e in events)
        finding = dict(
            code="replay-never-reached", status=Status.FAIL, severity=Severity.HIGH,
            title=f"{counted(n, 'event')} never reached {plan.endpoint}: safe to resend",
            summary=f"No attempt of {these(n, 'event')} reached the endpoint's server (the latest failed with "
            f"{_counts(kinds)}), so the customer cannot have processed them. Resend them once the endpoint is "
            "reachable.",
            evidence=(*common, ("latest failure", _counts(kinds))),
        )
    elif category == AMBIGUOUS:
        kinds = Counter(e["error"] or "no response" for e in events)
        finding = dict(
            code="replay-ambiguous", status=Status.FAIL, severity=Severity.HIGH,
            title=f"{counted(n, 'event')} to {plan.endpoint} may have been processed: resend only with dedupe",
            summary=f"The latest attempt of each of {these(n, 'event')} sent the request and lost the answer "
            f"({_counts(kinds)}); the customer may already have processed them. Resend only if their handler "
            "skips an event id it has already seen: the event id (the same on every retry and resend) is the "
            "key to dedupe on.",
            evidence=(*common, ("latest failure", _counts(kinds)), ("dedupe key", "the event id")),
        )
    elif category == REJECTED:
        statuses = Counter(f"HTTP {e['status_code']}" for e in events)
        finding = dict(
            code="replay-rejected", status=Status.FAIL, severity=Severity.HIGH,
            title=f"{counted(n, 'event')} {agree(n, 'was', 'were')} rejected by {plan.endpoint} ({_counts(statuses)})",
            summary=f"The endpoint answered the latest attempt of {these(n, 'event')} with a non-2xx status "
            f"({_counts(statuses)}). A resend will fail the same way until the customer fixes what makes their "
            "server refuse them; resend after the fix.",
            evidence=(*common, ("latest status", _counts(statuses))),
        )
    else:
        c = plan.countdown
        finding = dict(
            code="replay-pending", status=Status.WARN, severity=Severity.MEDIUM,
            title=f"{counted(n, 'event')} to {plan.endpoint} {agree(n, 'is', 'are')} still being retried",
            summary=f"{these(n, 'event').capitalize()} {agree(n, 'has', 'have')} automatic retries left under the "
            f"{profile.label} schedule "
            f"({profile.retry_note or 'no automatic retries'}). The next automatic attempt is due "
            f"{fmt_time(c.get('next_retry_at'))}; the oldest runs out of retries "
            f"{fmt_time(c.get('oldest_pending_exhausted_at'))}. A resend now races the retry.",
            evidence=(*common, *countdown_lines(plan, profile)[1:]),
        )
    return Finding(subject=plan.endpoint, samples=_samples(events), sample_total=n, source=SOURCE,
                   **finding)  # type: ignore[arg-type]


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def plan_tables(plan: Plan, profile: SenderProfile) -> dict[str, list[dict[str, Any]]]:
    """Totals first, then the countdown, then the events (capped; every event is in metrics.plan)."""
    tables: dict[str, list[dict[str, Any]]] = {
        "Recovery plan: totals": [{"category": c, "events": plan.totals[c], "resend": ADVICE[c]} for c in CATEGORIES],
        "Retry budget countdown": [{"item": k, "value": _text(v)} for k, v in countdown_lines(plan, profile)],
    }
    tables.update(capped_table("Recovery plan: events", plan.events, event_row))
    return tables


def capped_table(name: str, events: list[dict[str, Any]],
                 row: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The first MAX_TABLE_ROWS events as a report table, its name saying when more exist (none: no table)."""
    if not events:
        return {}
    shown = events[:MAX_TABLE_ROWS]
    more = f" (first {len(shown)} of {len(events)})" if len(shown) < len(events) else ""
    return {name + more: [row(e) for e in shown]}


def _text(value: Any) -> Any:
    return fmt_time(value) if isinstance(value, datetime) else value
