"""Recovery runs: load the endpoint's attempts (the only I/O), judge them, return one Outcome.

The CLI's `replay-plan` and `reconcile`, the app and Python callers share `replay_plan` and
`reconcile_received` (sources) and `plan_outcome` / `reconcile_outcome` (attempts already
loaded). The endpoint filter is pushed down to the source; the window is applied by the plan
itself (events first sent in the window, judged on all their attempts), so attempts outside the
window still count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from diagnostics.config import Config, load_config
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, sort_findings
from diagnostics.logs import AttemptTable, load_attempts
from diagnostics.logs.detect import detect_format
from diagnostics.logs.sources import is_database_url
from diagnostics.profiles import SenderProfile
from diagnostics.recovery.categories import SAFE_BY_DEFAULT
from diagnostics.recovery.countdown import countdown
from diagnostics.recovery.exports import export_all
from diagnostics.recovery.jsonfiles import read_metrics_object
from diagnostics.recovery.plan import Plan, build_plan, judge_plan
from diagnostics.recovery.received import Received, event_id_pattern, read_received
from diagnostics.recovery.reconcile import MISSED, reconcile
from diagnostics.recovery.reconcile_verdicts import reconcile_findings, reconcile_tables
from diagnostics.recovery.verdicts import plan_findings, plan_tables


def _check_window(since: datetime | None, until: datetime | None) -> None:
    if since and until and since >= until:
        raise InputError("--since must be before --until", field="--since")


def _plan(attempts: AttemptTable, profile: SenderProfile, endpoint: str, since: datetime | None,
          until: datetime | None) -> tuple[DuckDBEngine, Plan]:
    _check_window(since, until)
    engine = DuckDBEngine(attempts.conn, attempts.name)
    plan = build_plan(engine, profile, endpoint, table=attempts.name, since=since, until=until)
    countdown(engine, profile, plan, table=attempts.name)
    return engine, plan


def plan_outcome(attempts: AttemptTable, profile: SenderProfile, endpoint: str, *,
                 since: datetime | None = None, until: datetime | None = None,
                 only: set[str] | None = None) -> tuple[Plan, Outcome]:
    """The plan of `endpoint` in loaded attempts (restricted to the ids in `only`), and its Outcome."""
    _engine, plan = _plan(attempts, profile, endpoint, since, until)
    if only is not None:
        plan.restrict(only)
    outcome = Outcome(
        subject=f"replay plan for endpoint {endpoint} ({attempts.subject()})",
        findings=sort_findings(plan_findings(plan, profile)),
        metrics={"plan": plan.to_json(), "profile": profile.name},
        tables=plan_tables(plan, profile),
        kind="recovery-plan",
    )
    return plan, outcome


def reconcile_outcome(attempts: AttemptTable, profile: SenderProfile, endpoint: str, received: Received, *,
                      since: datetime | None = None, until: datetime | None = None) -> Outcome:
    """Our log of `endpoint` against the customer's receipts, as an Outcome."""
    _check_window(since, until)
    engine = DuckDBEngine(attempts.conn, attempts.name)
    judge_plan(engine, profile, endpoint, table=attempts.name, since=since, until=until)  # no event list needed
    result = reconcile(engine, endpoint, received, since=since, until=until, table=attempts.name)
    return Outcome(
        subject=f"reconciliation of endpoint {endpoint} ({attempts.subject()}) with the customer's records",
        findings=sort_findings(reconcile_findings(result)),
        metrics={"reconciliation": result.to_json(), "profile": profile.name},
        tables=reconcile_tables(result),
        kind="reconciliation",
    )


def _load(sources: Sequence[str], config: Config, endpoint: str, **options: Any) -> AttemptTable:
    """The endpoint's attempts from files or database URLs (default: [logs] url)."""
    if not endpoint:
        raise InputError("give the endpoint", field="--endpoint")
    if not sources:
        url = config.get("logs", "url") or ""
        if not url:
            raise InputError("give a delivery-log file or database URL (or set [logs] url in diagnostics.toml)")
        sources = [url]
    if not options.get("query") and any(is_database_url(s) for s in sources):
        options["table"] = options.get("table") or config.get("logs", "table") or None
    attempts = load_attempts(list(sources), endpoint=endpoint, **options)
    if attempts.row_count == 0:
        attempts.conn.close()
        raise InputError(f"no delivery attempts for endpoint {endpoint!r} in the log", field="--endpoint")
    return attempts


def shareable_source(source: str) -> str:
    """A source as the plan may keep it: a file's absolute path, a database URL without its password."""
    if not is_database_url(source):
        return str(Path(source).resolve())
    from sqlalchemy.engine import make_url

    return make_url(source).render_as_string(hide_password=True)


def missed_ids(path: str, endpoint: str) -> set[str]:
    """The `missed` event ids of a reconciliation JSON (the `reconcile --format json` output or its
    `metrics.reconciliation`); one for another endpoint is refused."""
    found = read_metrics_object(path, "reconciliation", "reconciliation")
    if found.get("endpoint") != endpoint:
        raise InputError(f"the reconciliation is for endpoint {found.get('endpoint')!r}, not {endpoint!r}", file=path,
                         field="--from-reconciliation")
    return {e["event_id"] for e in found["events"] if isinstance(e, dict) and e.get("category") == MISSED}


def replay_plan(
    sources: Sequence[str] = (),
    *,
    endpoint: str,
    config: Config | None = None,
    profile: SenderProfile | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    exports: Sequence[tuple[str, str]] = (),
    export_categories: Sequence[str] = SAFE_BY_DEFAULT,
    from_reconciliation: str | None = None,
    **options: Any,
) -> Outcome:
    """Load the endpoint's attempts, plan the recovery, write the requested exports.

    `options` go to `load_attempts` (source_format, mapping, table, query, naive_is_utc, strict).
    With `from_reconciliation`, only the events the customer really misses are planned (and
    exported whatever their category, pending excepted unless asked for).
    """
    config = config or load_config()
    chosen = profile if isinstance(profile, SenderProfile) else config.profile(profile)
    only = missed_ids(from_reconciliation, endpoint) if from_reconciliation else None
    attempts = _load(sources, config, endpoint, **options)
    try:
        plan, outcome = plan_outcome(attempts, chosen, endpoint, since=since, until=until, only=only)
    finally:
        attempts.conn.close()
    plan.sources = [shareable_source(s) for s in sources]
    outcome.metrics["plan"]["sources"] = plan.sources
    if from_reconciliation:
        outcome.metrics["plan"]["from_reconciliation"] = from_reconciliation
    written = export_all(plan, exports, export_categories, sources)
    if written:
        outcome.metrics["exports"] = written
    return outcome


def reconcile_received(
    sources: Sequence[str] = (),
    *,
    endpoint: str,
    received: str,
    config: Config | None = None,
    profile: SenderProfile | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    id_column: str | None = None,
    **options: Any,
) -> Outcome:
    """Read the customer's received file, load the endpoint's attempts, reconcile the two."""
    config = config or load_config()
    chosen = profile if isinstance(profile, SenderProfile) else config.profile(profile)
    svix = any(not is_database_url(s) and Path(s).is_file() and detect_format(s)[0] == "svix" for s in sources)
    pattern = event_id_pattern(config.get("sender", "event_id_pattern"), svix)
    receipts = read_received(received, pattern=pattern, id_column=id_column)
    attempts = _load(sources, config, endpoint, **options)
    try:
        return reconcile_outcome(attempts, chosen, endpoint, receipts, since=since, until=until)
    finally:
        attempts.conn.close()


__all__ = ["plan_outcome", "reconcile_outcome", "reconcile_received", "replay_plan"]
