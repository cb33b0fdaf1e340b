"""A reconciliation as findings (one summary, one per non-empty category) and report tables.

The summary `reconcile-comparison` takes the status and severity of the worst category finding, so it
leads every report (codes sort within a status and severity); every event is in
`metrics.reconciliation`.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import fmt_time
from diagnostics.findings import MAX_SAMPLES, SEVERITY_ORDER, STATUS_ORDER, Finding, Severity, Status
from diagnostics.recovery.plan import at
from diagnostics.recovery.reconcile import (
    DELIVERED_NOT_RECORDED,
    DUPLICATED,
    MISSED,
    PROCESSED_BUT_FAILED_HERE,
    RECONCILE_CATEGORIES,
    RECORDED_ONCE,
    UNKNOWN_TO_US,
    Reconciliation,
)
from diagnostics.recovery.verdicts import capped_table
from diagnostics.wording import agree, counted, these

SOURCE = "recovery.reconcile"
MEANING = {
    MISSED: "never delivered here and not in their records: resend",
    DELIVERED_NOT_RECORDED: "2xx here, no record there: their processing failed after answering, or wrong place",
    PROCESSED_BUT_FAILED_HERE: "in their records, failed here: the answer was lost or late (a retry duplicates it)",
    DUPLICATED: "recorded more than once there: their handler is not idempotent",
    UNKNOWN_TO_US: "listed by them, not an event of this endpoint in our log",
    RECORDED_ONCE: "delivered and recorded once: nothing to do",
}


def event_row(e: dict[str, Any]) -> dict[str, Any]:
    row = {"event_id": e["event_id"], "category": e["category"], "their_records": e["receipts"]}
    if e["category"] != UNKNOWN_TO_US:
        row.update(our_result="2xx" if e["delivered"] else "failed", event_type=e["event_type"],
                   attempts=e["attempts"], first_attempt=fmt_time(at(e["first_at"])),
                   last_attempt=fmt_time(at(e["last_at"])))
    if e.get("pending"):
        row["note"] = "pending: still being retried"
    return row


def _finding(r: Reconciliation, category: str, events: list[dict[str, Any]]) -> Finding:
    n = len(events)
    ep = r.endpoint
    evidence: list[tuple[str, Any]] = [("events", n), ("meaning", MEANING[category])]
    if category == MISSED:
        pending = sum(1 for e in events if e.get("pending"))
        spec = dict(code="reconcile-missed", status=Status.FAIL, severity=Severity.HIGH,
                    title=f"{counted(n, 'event')} to {ep} {agree(n, 'was', 'were')} never received: "
                    f"resend {agree(n, 'it', 'them')}",
                    summary=f"Our log has no 2xx for {these(n, 'event')} and the customer has no record of "
                    f"{agree(n, 'it', 'them')}. "
                    f"{pending} of them are still being retried automatically; resend the others "
                    "(replay-plan --from-reconciliation plans exactly these).")
        evidence.append(("still being retried", pending))
    elif category == DELIVERED_NOT_RECORDED:
        spec = dict(code="reconcile-delivered-not-recorded", status=Status.WARN, severity=Severity.MEDIUM,
                    title=f"{counted(n, 'event')} got a 2xx from {ep} but {agree(n, 'is', 'are')} not in the "
                    "customer's records",
                    summary=f"Their endpoint answered 2xx to {these(n, 'event')}, yet their records do not list them: "
                    "their processing failed after answering, or the records come from another place. Resending "
                    "is safe only if they dedupe on the event id.")
    elif category == PROCESSED_BUT_FAILED_HERE:
        spec = dict(code="reconcile-processed-but-failed", status=Status.FAIL, severity=Severity.HIGH,
                    title=f"{counted(n, 'event')} {agree(n, 'was', 'were')} processed by the customer but failed here",
                    summary=f"The customer recorded {these(n, 'event')}, but no attempt got a 2xx in our log "
                    "(typically "
                    "a timeout after they processed it). Each retry delivers it again: they should answer 2xx "
                    "before processing and dedupe on the event id.")
    elif category == DUPLICATED:
        again = sum(1 for e in events if not e["delivered"])
        spec = dict(code="reconcile-duplicated", status=Status.FAIL, severity=Severity.HIGH,
                    title=f"{counted(n, 'event')} {agree(n, 'was', 'were')} recorded more than once by the customer",
                    summary=f"The customer's records list {these(n, 'event')} more than once "
                    f"(up to {max(e['receipts'] for e in events)} times): their handler is not idempotent. "
                    f"{again} of them also failed here, so retries will repeat them again.")
        evidence.append(("failed here as well", again))
    else:
        spec = dict(code="reconcile-unknown-ids", status=Status.WARN, severity=Severity.LOW,
                    title=f"{counted(n, 'id')} in the customer's records "
                    f"{agree(n, 'is not an event', 'are not events')} of {ep} in our log",
                    summary=f"{these(n, 'id').capitalize()} {agree(n, 'does', 'do')} not belong to this endpoint in "
                    "our log: another environment, "
                    "another endpoint, or not ours.")
    return Finding(subject=ep, evidence=tuple(evidence), samples=tuple(event_row(e) for e in events[:MAX_SAMPLES]),
                   sample_total=n, source=SOURCE, **spec)  # type: ignore[arg-type]


def reconcile_findings(r: Reconciliation) -> list[Finding]:
    findings = []
    for category in RECONCILE_CATEGORIES:
        events = [e for e in r.events if e["category"] == category]
        if events:
            findings.append(_finding(r, category, events))
    worst = min(findings, key=lambda f: (STATUS_ORDER[f.status], SEVERITY_ORDER[f.severity]), default=None)
    status, severity = (worst.status, worst.severity) if worst else (Status.PASS, Severity.INFO)
    judged = sum(r.totals.values()) - r.totals[UNKNOWN_TO_US]
    parts = ", ".join(f"{r.totals[c]} {c.replace('_', ' ')}" for c in RECONCILE_CATEGORIES)
    title = (f"Our log and the customer's records disagree on {sum(r.totals[c] for c in RECONCILE_CATEGORIES)} "
             f"events: {parts}" if findings
             else f"Our log and the customer's records agree on all {counted(judged, 'event')}")
    evidence = [(c.replace("_", " "), r.totals[c]) for c in (*RECONCILE_CATEGORIES, RECORDED_ONCE)]
    evidence += [("their ids read", r.received["ids"]), ("read as", r.received["form"]),
                 ("their ids outside the window", r.outside_window)]
    summary = Finding(code="reconcile-comparison", status=status, severity=severity, title=title,
                      summary=f"{counted(judged, 'event')} of {r.endpoint} in the window compared with "
                      f"{counted(r.received['ids'], 'id')} "
                      f"from the customer's {r.received['form']} file.", subject=r.endpoint,
                      evidence=tuple(evidence), source=SOURCE)
    return [summary, *findings]


def reconcile_tables(r: Reconciliation) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {
        "Reconciliation: totals": [{"category": c, "events": r.totals[c], "meaning": MEANING[c]}
                                   for c in (*RECONCILE_CATEGORIES, RECORDED_ONCE)],
    }
    tables.update(capped_table("Reconciliation: events", r.events, event_row))
    return tables
