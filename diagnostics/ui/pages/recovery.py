"""Recovery: what one endpoint missed and how safe each resend is, the customer's own records
reconciled against our log, and a paced resend (dry run first) recorded in the open case.

Results are kept in the session with the inputs that produced them and shown only while those
inputs stand: a new log, endpoint, window or profile never leaves another plan on screen.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.logs import AttemptTable
from diagnostics.pipeline.case import LogSource, choose_log_endpoint, keep_upload, render_reports
from diagnostics.profiles import all_profiles
from diagnostics.recovery.casework import case_folder, resend_plan
from diagnostics.recovery.categories import CATEGORIES, SAFE_BY_DEFAULT
from diagnostics.recovery.exports import EXPORT_FORMATS, render_export
from diagnostics.recovery.received import event_id_pattern, read_received
from diagnostics.recovery.reconcile import MISSED
from diagnostics.recovery.run import plan_outcome, reconcile_outcome, shareable_source
from diagnostics.report import ReportContext
from diagnostics.ui import logview, state
from diagnostics.ui.components import (
    download_buttons,
    plain,
    show_error,
    show_findings,
    show_reply,
    show_tables,
)
from diagnostics.ui.logsource import choose_log_source

PLAN_KEY = "recovery-result"
RECONCILE_KEY = "recovery-reconciliation"
EXPORT_FILES = {"ids": "txt", "csv": "csv", "svix": "json", "github": "json"}
LABELS = {"--export": "Exports", "--to": "Send to", "--categories": "Categories", "--rate": "Resends per second"}


def _default_endpoint(attempts: AttemptTable, endpoints: list[str]) -> int:
    """The open case's endpoint in the log (by id or logged URL), else the first."""
    case = state.current_case()
    if case is None:
        return 0
    try:
        named, _notes = choose_log_endpoint(attempts, None, case.endpoint_url)
    except InputError:
        return 0
    return endpoints.index(named) if named in endpoints else 0


def _window(attempts: AttemptTable) -> tuple[datetime | None, datetime | None]:
    start, end = attempts.window()
    if start is None or end is None:
        return None, None
    picked = st.date_input("Events first sent on these days", value=(start.date(), end.date()),
                           min_value=start.date(), max_value=end.date(), key="recovery-days")
    if isinstance(picked, tuple) and len(picked) == 2:
        return (datetime.combine(picked[0], time.min, UTC),
                datetime.combine(picked[1], time.min, UTC) + timedelta(days=1))
    return None, None


def _plan_form(attempts: AttemptTable, log_key: str) -> tuple[tuple[Any, ...], bool]:
    config = state.config()
    endpoints = logview.facets(attempts)["endpoint"]
    profiles = [p.name for p in all_profiles(config.ours)]
    case = state.current_case()
    with st.form("recovery-plan-form"):
        endpoint = st.selectbox("Endpoint", endpoints, index=_default_endpoint(attempts, endpoints),
                                key="recovery-endpoint")
        since, until = _window(attempts)
        preferred = case.profile if case is not None and case.profile in profiles else config.ours.name
        profile = st.selectbox("Judge with sender profile", profiles,
                               index=profiles.index(preferred) if preferred in profiles else 0, key="recovery-profile")
        submitted = st.form_submit_button("Plan the recovery", key="recovery-plan", type="primary")
    return (log_key, endpoint, since, until, profile), submitted


def _make_plan(attempts: AttemptTable, source: LogSource, inputs: tuple[Any, ...],
               only: set[str] | None = None) -> dict[str, Any]:
    _key, endpoint, since, until, profile_name = inputs
    profile = state.config().profile(profile_name)
    with logview.CONNECTION_LOCK:  # the plan's temp tables live on the shared connection
        plan, outcome = plan_outcome(attempts, profile, endpoint, since=since, until=until, only=only)
    plan.sources = [shareable_source(str(source.path))] if source.path is not None else []
    outcome.metrics["plan"]["sources"] = plan.sources
    case = state.current_case()
    context = ReportContext(ticket=case.ticket if case else "", customer=case.customer if case else "",
                            profile_label=profile.label, endpoint=endpoint)
    return {"inputs": inputs, "plan": plan, "outcome": outcome, "reports": render_reports(outcome, context),
            "only": only is not None}


def _show_plan(result: dict[str, Any]) -> None:
    plan, outcome = result["plan"], result["outcome"]
    if result["only"]:
        st.info("This plan holds only the events the customer's records show as missed.")
    columns = st.columns(len(CATEGORIES) + 1)
    for column, category in zip(columns, CATEGORIES, strict=False):
        column.metric(category.replace("_", " "), f"{plan.totals[category]:,}")
    columns[-1].metric("delivered", f"{plan.delivered:,}")
    show_findings(outcome.findings)
    with st.expander("Plan tables: totals, retry-budget countdown, events"):
        show_tables(outcome.tables)
    st.subheader("Reply and downloads")
    show_reply(result["reports"], key="recovery-reply")
    download_buttons(result["reports"], f"recovery-{plan.endpoint}", key="recovery-report")
    _exports(plan)


def _exports(plan: Any) -> None:
    """The platform replay files for the events safe to resend (never_reached, rejected)."""
    st.caption("Exports for the platform's own replay (events never reached or rejected)")
    folder = case_folder(state.config(), getattr(state.current_case(), "id", None))
    folder.mkdir(parents=True, exist_ok=True)
    columns = st.columns(len(EXPORT_FORMATS))
    for column, fmt in zip(columns, EXPORT_FORMATS, strict=True):
        ext = EXPORT_FILES.get(fmt, "txt")
        try:
            text, summary = render_export(plan, fmt, str(folder / f"export.{ext}"), SAFE_BY_DEFAULT, plan.sources)
        except InputError as exc:
            column.caption(plain(f"{fmt}: {exc.message}", 200))
            continue
        column.download_button(f"{fmt} ({summary['events']:,} events)", text.encode("utf-8"),
                               file_name=f"replay-{plan.endpoint}-{fmt}.{ext}", key=f"recovery-export-{fmt}",
                               on_click="ignore")


def _reconcile(attempts: AttemptTable, source: LogSource, result: dict[str, Any]) -> None:
    st.subheader("Reconcile with the customer's records")
    st.caption("Their received list: event ids one per line, a CSV or JSON Lines with an id column, "
               "or a pasted application log.")
    config = state.config()
    with st.form("recovery-reconcile-form"):
        upload = st.file_uploader("The customer's received list", key="recovery-received")
        submitted = st.form_submit_button("Reconcile", key="recovery-reconcile")
    if submitted:
        st.session_state.pop(RECONCILE_KEY, None)
        if upload is None:
            st.error("Choose the customer's file first.")
            return
        _key, endpoint, since, until, profile_name = result["inputs"]
        try:
            path = keep_upload(config, upload.name, upload.getvalue())
            svix = "svix" in attempts.formats.values()  # Svix exports carry msg_ ids, not evt_ ones
            pattern = event_id_pattern(config.get("sender", "event_id_pattern"), svix)
            receipts = read_received(str(path), pattern=pattern)
            with logview.CONNECTION_LOCK:
                outcome = reconcile_outcome(attempts, config.profile(profile_name), endpoint, receipts,
                                            since=since, until=until)
        except InputError as exc:
            show_error(exc, "Not reconciled: ", LABELS)
            return
        st.session_state[RECONCILE_KEY] = {"inputs": result["inputs"], "outcome": outcome, "file": upload.name}
    kept = st.session_state.get(RECONCILE_KEY)
    if not kept or kept["inputs"] != result["inputs"]:
        return
    st.caption(plain(f"Reconciled with {kept['file']}", 200))
    show_findings(kept["outcome"].findings)
    with st.expander("Reconciliation tables"):
        show_tables(kept["outcome"].tables)
    missed = {e["event_id"] for e in kept["outcome"].metrics["reconciliation"]["events"] if e["category"] == MISSED}
    if missed and st.button(f"Plan only the {len(missed):,} events they miss", key="recovery-plan-missed"):
        st.session_state[PLAN_KEY] = _make_plan(attempts, source, result["inputs"], only=missed)
        st.rerun()


def _resend(source: LogSource, result: dict[str, Any]) -> None:
    st.subheader("Resend")
    case = state.current_case()
    if case is None:
        st.info("Open a case (Triage or Cases) to resend for real: every send is recorded in the case. "
                "A dry run works without one.")
    with st.form("recovery-resend-form"):
        to = st.text_input("Send to", value=case.endpoint_url if case else "", key="recovery-to")
        categories = st.multiselect("Categories", list(CATEGORIES), default=list(SAFE_BY_DEFAULT),
                                    key="recovery-categories",
                                    help="ambiguous events may have been processed (they need the customer's "
                                    "dedupe); pending events race the automatic retry")
        rate = st.number_input("Resends per second (0: the endpoint's own pace)", min_value=0.0, value=0.0,
                               key="recovery-rate")
        secret = st.text_input("Signing secret (this resend only; empty: the one given on Triage)",
                               type="password", key="recovery-secret")
        dry_run = st.checkbox("Dry run (count what would be sent, send nothing)", value=True, key="recovery-dry")
        submitted = st.form_submit_button("Resend through the guard", key="recovery-send")
    if not submitted:
        return
    plan = result["outcome"].metrics["plan"]
    bar = st.progress(0.0, text="Resending…") if not dry_run else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / max(total, 1), text=f"{done:,} of {total:,} sent")

    log = [str(source.path)] if source.path is not None else [source.url or ""]
    try:
        run, outcome = resend_plan(state.config(), state.store(), case.id if case else None, plan, to.strip(),
                                   secret=secret or state.secret(), categories=categories, rate=rate or None,
                                   dry_run=dry_run, progress=progress, log=log)
    except InputError as exc:
        show_error(exc, "Nothing sent: ", LABELS)
        return
    if bar is not None:
        bar.empty()
    show_findings(outcome.findings)
    show_tables(outcome.tables)
    if run.sends and case is not None:
        st.success(plain(f"{run.delivered:,} of {len(run.sends):,} sends answered 2xx; every send is recorded in "
                         f"case #{case.id}", 300))


def main() -> None:
    st.title("Recovery")
    st.caption("What the customer missed on one endpoint, how safe each resend is, and the resend itself.")
    source = choose_log_source("recovery")
    if source is None:
        st.caption("Choose or upload a delivery log.")
        return
    try:
        log_key = state.source_key(source)
        attempts = state.load_log(log_key, source)
    except (InputError, OSError) as exc:
        show_error(exc, "The delivery log could not be read: ")
        return
    st.caption(plain(attempts.subject(), 300))
    inputs, submitted = _plan_form(attempts, log_key)
    if submitted:
        st.session_state.pop(PLAN_KEY, None)
        try:
            st.session_state[PLAN_KEY] = _make_plan(attempts, source, inputs)
        except InputError as exc:
            show_error(exc, "No plan: ", LABELS)
            return
    result = st.session_state.get(PLAN_KEY)
    if not result or result["inputs"] != inputs:
        st.caption("Choose the endpoint and the days, then plan the recovery.")
        return
    _show_plan(result)
    _reconcile(attempts, source, result)
    _resend(source, result)


if __name__ == "__main__":
    main()
