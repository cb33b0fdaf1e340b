"""Delivery log: search and filter the attempts, chart them over time and against the timeout,
read the findings, and redeliver an event (or a test event) through the guard into the case."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.logs import AttemptTable
from diagnostics.pipeline.case import redeliver
from diagnostics.profiles import all_profiles
from diagnostics.ui import logview, state
from diagnostics.ui.charts import attempts_chart, latency_chart
from diagnostics.ui.components import plain, show_dataframe, show_error, show_findings, show_tables
from diagnostics.ui.logsource import choose_log_source


def _filters(attempts: AttemptTable, key: str) -> logview.LogFilters:
    values = logview.facets(attempts)
    start, end = attempts.window()
    search = st.text_input("Search event id, URL, response or status code", key="logs-search")
    left, middle, right, last = st.columns(4)
    endpoints = left.multiselect("Endpoint", values["endpoint"], key="logs-endpoints")
    types = middle.multiselect("Event type", values["event_type"], key="logs-types")
    outcomes = right.multiselect("Outcome", list(logview.OUTCOMES), key="logs-outcomes")
    errors = last.multiselect("Error", values["error"], key="logs-errors")
    since = until = None
    if start is not None and end is not None:
        picked = st.date_input("Days", value=(start.date(), end.date()), min_value=start.date(),
                               max_value=end.date(), key=f"logs-days-{key}")
        if isinstance(picked, tuple) and len(picked) == 2:
            since = datetime.combine(picked[0], time.min, UTC)
            until = datetime.combine(picked[1], time.min, UTC) + timedelta(days=1)
    return logview.LogFilters(search=search, endpoints=tuple(endpoints), event_types=tuple(types),
                              outcomes=tuple(outcomes), errors=tuple(errors), since=since, until=until)


def _redeliver(attempts: AttemptTable) -> None:
    st.subheader("Redeliver")
    case = state.current_case()
    if case is None:
        st.info("Open a case (Triage or Cases) to redeliver: the answer is recorded in the case.")
        return
    with st.form("logs-redeliver"):
        event_id = st.text_input("Event id to replay (empty: send a test event)", key="logs-replay-event")
        url = st.text_input("Send to", value=case.endpoint_url, key="logs-replay-url")
        submitted = st.form_submit_button("Redeliver through the guard", key="logs-redeliver-send")
    if not submitted:
        return
    payload = None
    if event_id.strip():
        payload, _logged_url = logview.event_for_replay(attempts, event_id.strip())
        if payload is None:
            st.error(plain(f"No payload is logged for event {event_id}; send a test event instead.", 300))
            return
    try:
        record = redeliver(case.id, url, config=state.config(), store=state.store(), payload=payload,
                           event_id=event_id.strip() or None, secret=state.secret())
    except InputError as exc:
        show_error(exc, "Not sent: ")
        return
    answer = f"HTTP {record.status_code}" if record.status_code is not None else f"no answer ({record.error})"
    st.success(plain(f"{record.mode} of {record.event_id}: {answer} in {record.duration_ms or 0:.0f} ms; "
                     f"recorded in case #{case.id}", 300))
    if record.response_excerpt:
        st.text(record.response_excerpt[:1000])


def main() -> None:
    st.title("Delivery log")
    config = state.config()
    source = choose_log_source("logs")
    if source is None:
        st.caption("Choose or upload a delivery log.")
        return
    profiles = [p.name for p in all_profiles(config.ours)]
    profile_name = st.selectbox("Judge with sender profile", profiles, key="logs-profile")
    try:
        key = state.source_key(source)
        attempts = state.load_log(key, source)
        outcome = state.analyze_log(key, profile_name, source)
    except (InputError, OSError) as exc:
        show_error(exc, "The delivery log could not be read: ")
        return
    st.caption(plain(attempts.subject(), 300))
    filters = _filters(attempts, key)
    rows, total = logview.browse(attempts, filters)
    st.subheader(f"Attempts ({total:,} match)")
    show_dataframe(rows, hide_index=True, height=300)
    bucket = logview.suggested_bucket(attempts, filters)
    timeout_ms = config.profile(profile_name).timeout_s * 1000
    left, right = st.columns(2)
    left.caption(f"Attempts per {bucket} by outcome")
    left.altair_chart(attempts_chart(logview.attempt_series(attempts, filters, bucket)), width="stretch")
    right.caption(f"Response time per {bucket} (p50, p95) against the {timeout_ms / 1000:g} s timeout")
    right.altair_chart(latency_chart(logview.latency_series(attempts, filters, bucket), timeout_ms),
                       width="stretch")
    st.subheader("Findings (whole log)")
    show_findings(outcome.findings)
    with st.expander("Per-endpoint and per-event-type tables"):
        show_tables(outcome.tables)
    _redeliver(attempts)


if __name__ == "__main__":
    main()
