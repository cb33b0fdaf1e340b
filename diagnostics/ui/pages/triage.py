"""Triage (the landing page): a new case from the ticket, one button that runs every check the
inputs allow, then the findings, the reply to paste and the three report downloads."""

from __future__ import annotations

import streamlit as st

from diagnostics.config import Config
from diagnostics.demo import DemoWorkspace
from diagnostics.errors import InputError
from diagnostics.intake import read_ticket
from diagnostics.pipeline.case import (
    CapturedRequest,
    Case,
    LogSource,
    accept_log_upload,
    run_case,
    skipped_parts,
)
from diagnostics.pipeline.pull import FIELD_FLAGS, PullRequest
from diagnostics.profiles import all_profiles
from diagnostics.sandbox import DEMO_SECRET
from diagnostics.ui import state
from diagnostics.ui.charts import phase_chart
from diagnostics.ui.components import (
    counts_line,
    download_buttons,
    plain,
    show_dataframe,
    show_error,
    show_findings,
    show_reply,
)
from diagnostics.ui.logsource import column_mapping_field, pull_fields, pull_platform, run_pull, upload_mapping

FIELD_LABELS = {"captured request": "Captured request", "delivery log endpoint": "Only this endpoint in the log",
                "ticket text": "Ticket text"}

LOG_CHOICES = ("No delivery log", "Upload a file", "Pull from a platform", "Configured SQL source",
               "Demo delivery log", "The case's delivery log")
NO_LOG, UPLOAD, PULL, SQL, DEMO, CASE_LOG = LOG_CHOICES
# Everything the form holds for one case: emptied when that case is closed.
FORM_KEYS = ("triage-ticket", "triage-customer", "triage-url", "triage-profile", "triage-secret", "triage-captured",
             "triage-log-choice", "triage-log-endpoint", "triage-mapping", "triage-pull-token", "triage-sql-endpoint",
             "triage-ticket-text", "triage-intake")


def _case_log(config: Config) -> LogSource | None:
    """The open case's stored delivery-log file (an earlier upload), to run again without uploading."""
    case = state.current_case()
    source = LogSource.from_description(case.log_source, config) if case is not None else None
    if source is None or source.path is None or not source.path.exists():
        return None
    demo = state.demo()
    return None if demo is not None and source.path == demo.log_path else source


def _log_choices(has_sql: bool, has_demo: bool, has_case_log: bool) -> list[str]:
    shown = {NO_LOG: True, UPLOAD: True, PULL: True, SQL: has_sql, DEMO: has_demo, CASE_LOG: has_case_log}
    return [c for c in LOG_CHOICES if shown[c]]


def _prefill(config: Config) -> None:
    """A reopened case fills the form once, its delivery-log choice too (the secret is never
    stored, so never prefilled); closing it empties the form again."""
    case = state.current_case()
    if case is None:
        if st.session_state.pop("triage-filled-for", None) is not None:
            for key in FORM_KEYS:  # the case was closed: a new case starts from a blank form
                st.session_state.pop(key, None)
        return
    if st.session_state.get("triage-filled-for") == case.id:
        return
    st.session_state["triage-filled-for"] = case.id
    st.session_state["triage-ticket"] = case.ticket
    st.session_state["triage-customer"] = case.customer
    st.session_state["triage-url"] = case.endpoint_url
    st.session_state["triage-profile"] = case.profile
    st.session_state["triage-captured"] = (
        CapturedRequest.from_record(case.captured_request).as_text() if case.captured_request else "")
    source = LogSource.from_description(case.log_source, config)
    demo = state.demo()
    choice, endpoint = NO_LOG, ""
    if source is not None:
        endpoint = source.endpoint or ""
        if source.url:
            choice = SQL
            st.session_state["triage-sql-endpoint"] = endpoint
        elif demo is not None and source.path == demo.log_path:
            choice = DEMO
        elif source.path is not None and source.path.exists():
            choice = CASE_LOG
    st.session_state["triage-log-choice"] = choice
    st.session_state["triage-log-endpoint"] = endpoint


def _build_case(log_choice: str, upload: object, log_endpoint: str, pull: PullRequest | None = None) -> Case:
    """The Case from the form; bad input raises InputError before anything is stored."""
    config = state.config()
    captured_text = st.session_state.get("triage-captured", "")
    captured = CapturedRequest.parse(captured_text) if captured_text.strip() else None
    endpoint = log_endpoint.strip() or None
    log_source: LogSource | None = None
    if log_choice == UPLOAD:
        if upload is None:
            raise InputError("choose a delivery-log file to upload, or pick 'No delivery log'", field="delivery log")
        log_source = accept_log_upload(config, upload.name, upload.getvalue(), endpoint=endpoint,  # type: ignore[attr-defined]
                                       mapping=upload_mapping(st.session_state.get("triage-mapping", "")))
    elif log_choice == PULL and pull is not None:
        log_source = run_pull(pull, endpoint)
    elif log_choice == SQL:
        log_source = LogSource(url=config.get("logs", "url"), table=config.get("logs", "table"), endpoint=endpoint)
    elif log_choice == DEMO:
        demo = state.demo()
        assert demo is not None
        log_source = LogSource(path=demo.log_path, endpoint=endpoint)
    elif log_choice == CASE_LOG:
        kept = _case_log(config)
        if kept is None:
            raise InputError("the case's delivery log is no longer in the workspace; upload it again",
                             field="Delivery log")
        log_source = LogSource(path=kept.path, source_format=kept.source_format, endpoint=endpoint)
    current = state.current_case()
    return Case(
        ticket=st.session_state.get("triage-ticket", "").strip(),
        customer=st.session_state.get("triage-customer", "").strip(),
        endpoint_url=st.session_state.get("triage-url", "").strip(),
        profile=st.session_state.get("triage-profile", "ours"),
        secret=st.session_state.get("triage-secret") or state.secret(),
        captured=captured,
        log_source=log_source,
        case_id=current.id if current else None,
    )


def _run(case: Case) -> None:
    config = state.config()
    st.session_state["triage-notes"] = [f"{kind} check skipped: {why}" for kind, why in skipped_parts(case).items()]
    with st.status("Running the checks…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(message: str, fraction: float) -> None:
            bar.progress(min(1.0, fraction), text=plain(message, 120))

        result = run_case(case, config, progress, store=state.store())
        status.update(label=f"Done: {counts_line(result.outcome.findings)}", state="complete", expanded=False)
    state.set_secret(case.secret)
    state.open_case(result.case_id, result.run_id)
    st.rerun()  # the sidebar and the results show the new case and run


def _results() -> None:
    run_id = state.current_run_id()
    if run_id is None:
        return
    try:
        run = state.store().get_run(run_id)
    except InputError:
        return
    case = state.store().get_case(run.case_id)
    st.divider()
    st.header(f"Case #{case.id} · run #{run.id}")
    st.caption(f"Checks run: {', '.join(run.kinds)} · secret used: {run.secret_fingerprint or 'none'}")
    for note in [*st.session_state.pop("triage-notes", []), *(run.metrics.get("reply_warnings") or [])]:
        st.warning(plain(note, 300))
    download_buttons(run.reports, f"{case.ticket or 'case'}-{case.id}-run-{run.id}", key=f"triage-dl-{run.id}")
    show_reply(run.reports, key=f"triage-{run.id}")
    probe = run.metrics.get("probe") or {}
    if probe.get("phases"):
        with st.expander("Probe phase timings against the timeout window"):
            st.altair_chart(phase_chart(probe["phases"], float(probe.get("timeout_ms") or 0)), width="stretch")
    show_findings(run.findings)


INTAKE_KEY = "triage-intake"
INTAKE_FIELDS = {"ticket": "triage-ticket", "endpoint_url": "triage-url", "profile": "triage-profile",
                 "captured": "triage-captured", "log_endpoint": "triage-log-endpoint"}


def _intake_panel() -> None:
    """Start from the customer's own words: paste the ticket, read what it says, fill the form."""
    with st.expander("Start from the ticket: paste the customer's message", expanded=state.current_case() is None):
        st.text_area("Ticket text (an e-mail, a chat, pasted logs); read here, never sent anywhere",
                     key="triage-ticket-text", height=160)
        if st.button("Read the ticket and fill in the form", key="triage-read"):
            try:
                intake = read_ticket(st.session_state.get("triage-ticket-text", ""))
            except InputError as exc:
                show_error(exc, "Nothing to read: ", FIELD_LABELS)
            else:
                for name, value in intake.case_fields().items():
                    st.session_state[INTAKE_FIELDS[name]] = value
                st.session_state[INTAKE_KEY] = intake.to_dict()
        found = st.session_state.get(INTAKE_KEY)
        if found:
            _show_intake(found)


def _show_intake(found: dict) -> None:
    """What the ticket says, as text and tables (customer text is never rendered as Markdown)."""
    st.caption("Symptoms")
    st.text(", ".join(found["symptoms"]) or "none recognised")
    rows = [{"found": "url", "value": u} for u in found["urls"]]
    rows += [{"found": f"event id ({e['platform']})", "value": e["id"]} for e in found["event_ids"]]
    rows += [{"found": "time", "value": f"{t['text']} = {t['iso'] or '?'}"} for t in found["times"]]
    rows += [{"found": "status", "value": str(c)} for c in found["status_codes"]]
    rows += [{"found": "error", "value": e} for e in found["errors"]]
    rows += [{"found": "header", "value": f"{k}: {v}"} for k, v in found["headers"].items()]
    rows += [{"found": "framework", "value": f} for f in found["frameworks"]]
    if rows:
        show_dataframe(rows, hide_index=True)
    if found["proposed_checks"]:
        st.caption("Checks this ticket allows")
        show_dataframe(found["proposed_checks"], hide_index=True)
    for question in found["questions"]:
        st.warning(plain(f"Ask the customer: {question}", 300), icon=":material/help:")
    filled = ", ".join(found["case"]) or "nothing"
    st.caption(plain(f"Filled in from the ticket: {filled}. Check them below before running.", 300))


def _demo_panel(demo: DemoWorkspace) -> None:
    """Demo mode: the demo case (where the landing page opens), its signing secret while it is the
    open case (a published test value of the local sandbox; never shown beside another case, where
    it could be pasted into a customer's run), and the sandbox endpoints."""
    current = state.current_case()
    on_demo_case = state.is_demo_case(current)
    with st.expander("Demo workspace: the example case, its signing secret and the sandbox endpoints",
                     expanded=current is None or on_demo_case):
        if on_demo_case:
            st.caption("This is the demo workspace's example case. Its signing secret, the sandbox's test value "
                       "(not a customer's): paste it into Signing secret to rerun the signature checks")
            st.code(DEMO_SECRET, language=None)
        elif demo.example_case_id is not None and st.button(
            "Open the demo case (its signing secret is shown with it)",
            type="primary" if current is None else "secondary", key="triage-open-demo",
        ):
            runs = state.store().list_runs(demo.example_case_id)
            state.set_secret(None)  # a secret held for another case never carries over
            st.session_state["triage-secret"] = ""
            state.open_case(demo.example_case_id, runs[0].id if runs else None)
            st.rerun()
        for label, url in demo.example_urls.items():
            st.text(f"{label}: {url}")


def main() -> None:
    st.title("Triage a ticket")
    st.caption("Fill in what the ticket tells you; every check the inputs allow runs with one click.")
    config = state.config()
    demo = state.demo()
    _prefill(config)
    current = state.current_case()
    if current is not None:
        st.info(plain(f"Runs are added to case #{current.id} ({current.ticket or 'no ticket'}). "
                      "Close it in the sidebar to start a new case.", 300), icon=":material/folder_open:")
    if demo is not None:
        _demo_panel(demo)

    _intake_panel()
    choices = _log_choices(bool(config.get("logs", "url")), demo is not None, _case_log(config) is not None)
    if st.session_state.get("triage-log-choice") not in choices:
        st.session_state["triage-log-choice"] = NO_LOG
    log_choice = st.radio("Delivery log", choices, horizontal=True, key="triage-log-choice")
    platform = pull_platform("triage-pull") if log_choice == PULL else ""
    # A form commits every field when the button is pressed: a secret typed then left with Tab is
    # never lost between the field's blur and the click.
    with st.form("triage-form", enter_to_submit=False, border=False):
        left, right = st.columns(2)
        left.text_input("Ticket reference", key="triage-ticket", placeholder="ZD-1042")
        right.text_input("Customer", key="triage-customer", placeholder="Acme Corp")
        st.text_input("Endpoint URL", key="triage-url", placeholder="https://hooks.example.com/webhooks")
        profiles = [p.name for p in all_profiles(config.ours)]
        left, right = st.columns(2)
        left.selectbox("Sender profile", profiles, key="triage-profile",
                       format_func=lambda name: f"{name} ({config.profile(name).label})")
        right.text_input("Signing secret (optional, used for this run only, never stored)", type="password",
                         key="triage-secret")
        st.text_area("Captured request (optional): headers, a blank line, then the body", key="triage-captured",
                     height=150)
        upload = None
        pull = None
        log_endpoint = ""
        if log_choice == PULL:
            pull = pull_fields("triage-pull", platform)
        if log_choice == UPLOAD:
            upload = st.file_uploader("Delivery-log file (CSV, JSON Lines, Parquet, or a platform export)",
                                      key="triage-upload")
            column_mapping_field("triage-mapping")
        if log_choice == SQL:
            try:
                endpoints = state.sql_endpoint_choices()
            except InputError as exc:
                show_error(exc, "The SQL source cannot be listed: ")
                endpoints = []
            log_endpoint = st.selectbox("Endpoint in the SQL source", ["", *endpoints], key="triage-sql-endpoint",
                                        format_func=lambda e: e or "(the endpoint whose URL is the case's)") or ""
        elif log_choice != NO_LOG:
            log_endpoint = st.text_input(
                "Only this endpoint in the log (optional)", key="triage-log-endpoint",
                placeholder="its endpoint id in the log; empty: the one whose logged URL is the Endpoint URL")
        submitted = st.form_submit_button("Run every check", type="primary", key="triage-run")
    if submitted:
        try:
            _run(_build_case(log_choice, upload, log_endpoint, pull))
        except InputError as exc:
            show_error(exc, "Nothing was run: ", {**FIELD_FLAGS, **FIELD_LABELS})
            if state.current_run_id() is not None:  # the earlier run's results are not these inputs'
                st.caption(f"The case's last run (#{state.current_run_id()}) is unchanged, on the Cases page.")
            return
    _results()


if __name__ == "__main__":
    main()
