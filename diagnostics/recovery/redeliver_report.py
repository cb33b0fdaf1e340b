"""A resend run as one finding (`redeliver-run`) and report tables."""

from __future__ import annotations

from diagnostics.findings import MAX_SAMPLES, Finding, Outcome, Severity, Status
from diagnostics.recovery.redeliver import RedeliverRun
from diagnostics.wording import counted

SOURCE = "recovery.redeliver"


def run_outcome(run: RedeliverRun) -> Outcome:
    data = run.to_json()
    failed = [s for s in run.sends if not (s["status_code"] is not None and 200 <= s["status_code"] <= 299)]
    if run.dry_run:
        status, severity = Status.PASS, Severity.INFO
        title = f"Dry run: {counted(len(run.to_send), 'event')} would be resent to {run.to}"
    elif run.stopped or failed:
        status, severity = Status.FAIL, Severity.HIGH
        title = (f"Resend to {run.to} stopped: {run.stopped}" if run.stopped
                 else f"{len(failed)} of {len(run.sends)} resends to {run.to} failed")
    elif run.without_payload:
        status, severity = Status.WARN, Severity.MEDIUM
        title = (f"{counted(run.delivered, 'event')} resent to {run.to}; {len(run.without_payload)} could not be: "
                 f"no {run.needs} in the log")
    elif not run.to_send:
        status, severity = Status.PASS, Severity.INFO
        done = counted(len(run.already_delivered), "event")
        title = f"Nothing to resend to {run.to}: all {done} already answered 2xx"
    else:
        status, severity = Status.PASS, Severity.INFO
        title = f"{counted(run.delivered, 'event')} resent to {run.to}, each answered 2xx"
    summary = (f"{counted(run.selected, 'event')} of the plan in {', '.join(run.categories)}; "
               f"{len(run.already_delivered)} already had a 2xx from an earlier run (skipped), "
               f"{len(run.without_payload)} have no {run.needs} in the log. "
               f"Paced at {run.rate:g}/s with {run.concurrency} at a time; "
               + (f"{run.via} resent each event through its own API, signed with the customer's secret, so the "
                  f"resends show in {run.via}'s dashboard." if run.via else "every event keeps its own id."))
    evidence = (
        ("endpoint", run.endpoint), ("sent to", run.to), ("categories", ", ".join(run.categories)),
        ("selected", run.selected), ("already delivered (skipped)", len(run.already_delivered)),
        ("resent through", run.via or "directly (signed by us)"),
        *((("bulk call", f"{run.bulk['call']}, {counted(run.bulk['calls'], 'call')}"),
           ("other plan events in the recovered window", run.bulk["also_in_window"])) if run.bulk else ()),
        (f"without {run.needs} (not sent)", len(run.without_payload)),
        ("resent after an interrupted run", len(run.in_flight_before)),
        ("sent", len(run.sends)), ("answered 2xx", run.delivered), ("failed", len(failed)),
        ("not sent", data["not_sent"]), ("rate per second", run.rate), ("concurrency", run.concurrency),
        ("stopped", run.stopped or "no"), ("ledger", run.ledger),
    )
    finding = Finding(code="redeliver-run", status=status, severity=severity, title=title, summary=summary,
                      subject=run.endpoint, evidence=evidence, samples=tuple(failed[:MAX_SAMPLES]),
                      sample_total=len(failed), source=SOURCE)
    tables = {"Resend": [{"item": label, "value": value} for label, value in evidence]}
    if failed:
        tables["Failed resends"] = failed[:200]
    return Outcome(subject=f"resend of the plan for endpoint {run.endpoint} to {run.to}", findings=[finding],
                   metrics={"redeliver": data}, tables=tables, kind="redeliver")
