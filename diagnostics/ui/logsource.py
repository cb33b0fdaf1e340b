"""Choosing the delivery log a page works on: the open case's log, the demo log, the configured
SQL source, or an upload (kept in the workspace once it reads as a log).

Shared by the Delivery log and Recovery pages; `key` keeps each page's widgets and its last
upload apart (`<key>-choice`, `<key>-upload`, `<key>-source`).
"""

from __future__ import annotations

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.logs import parse_mapping
from diagnostics.pipeline.case import LogSource, accept_log_upload
from diagnostics.ui import state
from diagnostics.ui.components import show_error

DEMO_LOG = "Demo delivery log (all endpoints)"
UPLOAD = "Upload a file"
COLUMN_MAPPING = "Column mapping"


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
    choice = st.selectbox("Delivery log", list(options), key=f"{key}-choice")
    if options[choice] is not None:
        return options[choice]
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
