"""Recovery runs: load the endpoint's attempts (the only I/O), build the plan, return one Outcome.

The CLI's `replay-plan`, the app and Python callers share `replay_plan` (sources) and
`plan_outcome` (attempts already loaded). The endpoint filter is pushed down to the source; the
window is applied by the plan itself (events first sent in the window, judged on all their
attempts), so attempts outside the window still count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from diagnostics.config import Config, load_config
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, sort_findings
from diagnostics.logs import AttemptTable, load_attempts
from diagnostics.logs.sources import is_database_url
from diagnostics.profiles import SenderProfile
from diagnostics.recovery.categories import SAFE_BY_DEFAULT
from diagnostics.recovery.countdown import countdown
from diagnostics.recovery.exports import export_all
from diagnostics.recovery.plan import Plan, build_plan
from diagnostics.recovery.verdicts import plan_findings, plan_tables


def plan_outcome(attempts: AttemptTable, profile: SenderProfile, endpoint: str, *,
                 since: datetime | None = None, until: datetime | None = None) -> tuple[Plan, Outcome]:
    """The plan of `endpoint` in loaded attempts, and the Outcome that reports it."""
    if since and until and since >= until:
        raise InputError("--since must be before --until", field="--since")
    engine = DuckDBEngine(attempts.conn, attempts.name)
    plan = build_plan(engine, profile, endpoint, table=attempts.name, since=since, until=until)
    countdown(engine, profile, plan, table=attempts.name)
    outcome = Outcome(
        subject=f"replay plan for endpoint {endpoint} ({attempts.subject()})",
        findings=sort_findings(plan_findings(plan, profile)),
        metrics={"plan": plan.to_json(), "profile": profile.name},
        tables=plan_tables(plan, profile),
        kind="recovery-plan",
    )
    return plan, outcome


def replay_plan(
    sources: Sequence[str] = (),
    *,
    endpoint: str,
    config: Config | None = None,
    profile: SenderProfile | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    source_format: str = "auto",
    mapping: Mapping[str, str] | None = None,
    table: str | None = None,
    query: str | None = None,
    naive_is_utc: bool = False,
    strict: bool = False,
    exports: Sequence[tuple[str, str]] = (),
    export_categories: Sequence[str] = SAFE_BY_DEFAULT,
) -> Outcome:
    """Load the endpoint's attempts, plan the recovery, write the requested exports."""
    config = config or load_config()
    chosen = profile if isinstance(profile, SenderProfile) else config.profile(profile)
    if not endpoint:
        raise InputError("give the endpoint to plan for", field="--endpoint")
    if not sources:
        url = config.get("logs", "url") or ""
        if not url:
            raise InputError("give a delivery-log file or database URL (or set [logs] url in diagnostics.toml)")
        sources = [url]
    if not query and any(is_database_url(s) for s in sources):
        table = table or config.get("logs", "table") or None
    attempts = load_attempts(list(sources), source_format=source_format, mapping=mapping, endpoint=endpoint,
                             table=table, query=query, naive_is_utc=naive_is_utc, strict=strict)
    try:
        if attempts.row_count == 0:
            raise InputError(f"no delivery attempts for endpoint {endpoint!r} in the log", field="--endpoint")
        plan, outcome = plan_outcome(attempts, chosen, endpoint, since=since, until=until)
    finally:
        attempts.conn.close()
    written = export_all(plan, exports, export_categories, sources)
    if written:
        outcome.metrics["exports"] = written
    return outcome
