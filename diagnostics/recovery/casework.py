"""Recovery inside a case (the app's Recovery page): the plan kept in the case's folder, the
resend run from it, every send recorded in the case store.

The plan is written under `<workspace>/recovery/case-<id>/`, named by what it covers (endpoint,
window, categories of origin), so a second resend of the same plan finds the same send ledger
beside it and skips what already got a 2xx, across page reloads and server restarts. When the
run ends, each send (event id, time, answer) is copied into the case's redeliveries in one
transaction, where the Cases page shows it with the agent's one-off redeliveries.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from diagnostics.cases import CaseStore
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.recovery.categories import SAFE_BY_DEFAULT
from diagnostics.recovery.exports import write_whole
from diagnostics.recovery.redeliver import Progress, RedeliverRun, redeliver
from diagnostics.recovery.redeliver_report import run_outcome

RESEND_MODE = "resend"  # the case store's redelivery mode for sends of a recovery plan


def case_folder(config: Config, case_id: int | None) -> Path:
    """Where a case's recovery files live (plans and their send ledgers); `None`: no case open."""
    name = f"case-{int(case_id)}" if case_id is not None else "no-case"
    return config.workspace / "recovery" / name


def plan_file_name(plan: dict[str, Any]) -> str:
    """A stable name for a plan: the same endpoint, window and events give the same file (and ledger)."""
    endpoint = re.sub(r"[^A-Za-z0-9_-]+", "_", str(plan.get("endpoint", "endpoint")))[:60].strip("_") or "endpoint"
    identity = json.dumps([plan.get("endpoint"), plan.get("since"), plan.get("until"),
                           sorted(e["event_id"] for e in plan.get("events", []))], sort_keys=True)
    return f"{endpoint}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}.plan.json"


def keep_plan(config: Config, case_id: int | None, plan: dict[str, Any]) -> Path:
    """Write `metrics.plan` where a resend reads it; written whole, so a reader never sees half."""
    folder = case_folder(config, case_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / plan_file_name(plan)
    write_whole(str(path), json.dumps({"metrics": {"plan": plan}}, indent=1, default=str) + "\n")
    return path


def resend_plan(
    config: Config,
    store: CaseStore,
    case_id: int | None,
    plan: dict[str, Any],
    to: str,
    *,
    secret: str | None,
    categories: Sequence[str] = SAFE_BY_DEFAULT,
    rate: float | None = None,
    dry_run: bool = True,
    progress: Progress | None = None,
    log: Sequence[str] = (),
) -> tuple[RedeliverRun, Outcome]:
    """Resend (or, dry, count) a plan's events to `to` and record every send in the case.

    A real resend needs an open case: what was sent, when, and the answer belong to it. The
    secret signs this run only; it is passed to the store as text to redact, never stored.
    `log` is where the payloads are read (default: the plan's sources).
    """
    if not dry_run and case_id is None:
        raise InputError("open a case first: every resend is recorded in the case", field="case")
    path = keep_plan(config, case_id, plan)
    run = redeliver(str(path), to, config=config, secret=secret, categories=categories, rate=rate,
                    dry_run=dry_run, progress=progress, log=log)
    if run.sends and case_id is not None:
        store.record_redeliveries(case_id, [_redelivery(send, to) for send in run.sends],
                                  forbidden=[secret] if secret else [])
    return run, run_outcome(run)


def _redelivery(send: dict[str, Any], to: str) -> dict[str, Any]:
    sent_at = send.get("sent_at")
    return {
        "mode": RESEND_MODE, "url": to, "event_id": send["event_id"], "status_code": send.get("status_code"),
        "error": send.get("error"), "duration_ms": send.get("duration_ms"),
        "sent_at": datetime.fromisoformat(sent_at.replace("Z", "+00:00")) if sent_at else None,
    }


__all__ = ["RESEND_MODE", "case_folder", "keep_plan", "plan_file_name", "resend_plan"]
