"""Choosing the delivery log a page works on: the open case's log, the demo log, the configured
SQL source, an upload (kept in the workspace once it reads as a log), or a pull straight from
Svix, GitHub, Hookdeck or Convoy (`pipeline.pull`, the same connectors as `pull`).

Shared by the Delivery log and Recovery pages; `key` keeps each page's widgets and its last
upload apart (`<key>-choice`, `<key>-upload`, `<key>-mapping`, `<key>-source`, `<key>-pull-*`);
Triage renders the same mapping and pull fields inside its own form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.logs import parse_mapping
from diagnostics.pipeline.case import LogSource, accept_log_upload
from diagnostics.pipeline.pull import FIELD_FLAGS, PLATFORM_LABELS, PULL_SCOPES, PullRequest, pull_log
from diagnostics.platforms.settings import api_base_url
from diagnostics.ui import state
from diagnostics.ui.components import show_error

DEMO_LOG = "Demo delivery log (all endpoints)"
UPLOAD = "Upload a file"
PULL = "Pull from a platform"
COLUMN_MAPPING = "Column mapping"


def pull_platform(key: str) -> str:
    """The platform to pull from; outside the pull form, so its scope fields follow the choice."""
    return st.selectbox("Platform", list(PULL_SCOPES), format_func=PLATFORM_LABELS.__getitem__,
                        key=f"{key}-platform")


def pull_fields(key: str, platform: str) -> PullRequest:
    """The platform's scope, the API token (this pull only, never stored) and how far back."""
    config = state.config()
    days = st.number_input("Days back (0: everything the platform keeps)", min_value=0, max_value=90, value=7,
                           key=f"{key}-days")
    scope: dict[str, str] = {}
    key_pem: bytes | None = None
    fields = [spec for spec in PULL_SCOPES[platform] if not spec.key_file]
    for column, spec in zip(st.columns(len(fields)), fields, strict=True):
        scope[spec.argument] = column.text_input(spec.label, placeholder=spec.example,
                                                 key=f"{key}-{platform}-{spec.argument}")
    for spec in (spec for spec in PULL_SCOPES[platform] if spec.key_file):
        uploaded = st.file_uploader(f"{spec.label}: read for this pull only, never stored", type=["pem"],
                                    key=f"{key}-{platform}-{spec.argument}")
        key_pem = uploaded.getvalue() if uploaded is not None else None
    left, right = st.columns(2)
    token = left.text_input("API token (used for this pull only, never stored)", type="password",
                            key=f"{key}-token")
    base_url = right.text_input("API base URL (optional)", placeholder=api_base_url(config, platform),
                                key=f"{key}-{platform}-base-url")
    since = datetime.now(UTC) - timedelta(days=int(days)) if days else None
    return PullRequest(platform=platform, scope=scope, token=token, private_key_pem=key_pem, since=since,
                       base_url=base_url.strip() or None)


def run_pull(request: PullRequest, endpoint: str | None = None) -> LogSource:
    """The pull with its progress on the page; InputError worded by the caller."""
    bar = st.progress(0.0, text=f"Pulling from {PLATFORM_LABELS[request.platform]}…")

    def progress(pages: int, attempts: int) -> None:
        bar.progress(min(1.0, attempts / request.max_attempts), text=f"page {pages}: {attempts:,} attempts")

    try:
        source, result = pull_log(state.config(), request, endpoint=endpoint, progress=progress)
    finally:
        bar.empty()
    state_text = "complete" if result.done else "partial: the platform has more (the analysis says so)"
    st.success(f"Pulled {result.attempts:,} attempts in {result.pages} page(s) ({state_text}).",
               icon=":material/cloud_download:")
    return source


def _pulled(key: str) -> LogSource | None:
    """The pull form; the pulled log once the agent pressed Pull (kept for the session's reruns)."""
    platform = pull_platform(f"{key}-pull")
    with st.form(f"{key}-pull"):
        request = pull_fields(f"{key}-pull", platform)
        submitted = st.form_submit_button("Pull", type="primary", key=f"{key}-pull-run")
    if not submitted:
        return st.session_state.get(f"{key}-pulled")
    try:
        source = run_pull(request)
    except InputError as exc:
        st.session_state.pop(f"{key}-pulled", None)  # no earlier pull's log under this pull's error
        show_error(exc, "Nothing was pulled: ", FIELD_FLAGS)
        return None
    st.session_state[f"{key}-pulled"] = source
    return source


def column_mapping_field(key: str) -> str:
    """The field where a file naming its columns its own way is mapped to the canonical ones."""
    return st.text_input(
        f"{COLUMN_MAPPING} (optional, for a CSV, JSON Lines or Parquet file with its own column names)",
        key=key, placeholder="event_id=id, endpoint=webhook, attempted_at=created_at",
        help="canonical column = the file's column, comma-separated. Canonical columns: event_id, endpoint, "
             "attempted_at (required); status_code, error, duration_ms, attempt, event_type, url, payload.")


def upload_mapping(text: str) -> dict[str, str]:
    """The mapping typed on the page; a malformed entry raises InputError worded for the page."""
    try:
        return parse_mapping(text)
    except InputError as exc:
        raise InputError(exc.message.replace("--map entry", "entry") + " (for example event_id=id)",
                         field=COLUMN_MAPPING) from exc


def choose_log_source(key: str) -> LogSource | None:
    """The log the agent picked, or None (nothing chosen yet, or an upload that is not a log)."""
    config = state.config()
    case = state.current_case()
    demo = state.demo()
    options: dict[str, LogSource | None] = {}
    if case is not None and case.log_source:
        source = LogSource.from_description(case.log_source, config)
        if source is not None:
            options[f"Case #{case.id}: {case.log_source}"] = source
    if demo is not None:
        options[DEMO_LOG] = LogSource(path=demo.log_path)
    if config.get("logs", "url"):
        options["Configured SQL source"] = LogSource(url=config.get("logs", "url"), table=config.get("logs", "table"))
    options[UPLOAD] = None
    options[PULL] = None
    choice = st.selectbox("Delivery log", list(options), key=f"{key}-choice")
    if options[choice] is not None:
        return options[choice]
    if choice == PULL:
        return _pulled(key)
    upload = st.file_uploader("Delivery-log file (CSV, JSON Lines, Parquet, or a platform export)",
                              key=f"{key}-upload")
    mapping_text = column_mapping_field(f"{key}-mapping")
    if upload is None:
        return st.session_state.get(f"{key}-source")
    try:
        source = accept_log_upload(config, upload.name, upload.getvalue(), mapping=upload_mapping(mapping_text))
    except InputError as exc:
        st.session_state.pop(f"{key}-source", None)  # the earlier upload is not shown under this file's error
        show_error(exc, "The file was not loaded: ")
        return None
    st.session_state[f"{key}-source"] = source
    return source
