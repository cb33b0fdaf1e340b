"""Process-wide resources and per-session state for the app.

The configuration and the case store are opened once per server process (`st.cache_resource`);
the current case, the last run and the signing secret live in the session only. The secret is
never written anywhere: it stays in this session's memory and is passed to a run as an argument.
"""

from __future__ import annotations

import streamlit as st

from diagnostics.cases import CaseRecord, CaseStore
from diagnostics.config import Config, load_config
from diagnostics.demo import DemoWorkspace, load_demo
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.logs import AttemptTable, load_attempts
from diagnostics.pipeline.case import LogSource, sql_endpoints
from diagnostics.pipeline.logs import analyze_attempts
from diagnostics.ui import logview

CASE_KEY = "case_id"
RUN_KEY = "run_id"
SECRET_KEY = "secret"  # noqa: S105 (a session-state key, not a secret)
LANDED_KEY = "landed"


@st.cache_resource(show_spinner=False)
def config() -> Config:
    return load_config()


@st.cache_resource(show_spinner=False)
def _store(url: str) -> CaseStore:
    return CaseStore(url)


def store() -> CaseStore:
    return _store(config().database_url)


def source_key(source: LogSource) -> str:
    """Identity of a log source for the caches: a file's path, size and mtime, or the SQL target."""
    if source.path is not None:
        stat = source.path.stat()
        return f"file:{source.path}:{stat.st_size}:{stat.st_mtime_ns}:{source.endpoint or ''}"
    return f"sql:{source.url}:{source.table}:{source.endpoint or ''}"


@st.cache_resource(max_entries=3, show_spinner="Loading the delivery log…")
def load_log(key: str, _source: LogSource) -> AttemptTable:
    """Load a delivery log once per process (keyed by `source_key`); filters then query it in place."""
    if _source.path is not None:
        attempts = load_attempts([str(_source.path)], source_format=_source.source_format, endpoint=_source.endpoint)
    elif _source.url:
        attempts = load_attempts([_source.url], table=_source.table, endpoint=_source.endpoint)
    else:
        raise InputError("no delivery-log SQL source is configured ([logs] url)", field="logs.url")
    with logview.CONNECTION_LOCK:
        attempts.materialize()  # in memory once: every filter change queries these rows again
    return attempts


@st.cache_resource(max_entries=6, show_spinner="Analyzing the delivery log…")
def analyze_log(key: str, profile_name: str, _source: LogSource) -> Outcome:
    """The analysis of a loaded log under a profile, computed once per (log, profile)."""
    attempts = load_log(key, _source)
    with logview.CONNECTION_LOCK:  # the Delivery log page queries the same connection
        return analyze_attempts(attempts, config().profile(profile_name))


@st.cache_data(ttl=60, show_spinner=False)
def _sql_endpoints(url: str, table: str) -> list[str]:
    return sql_endpoints(config())


def sql_endpoint_choices() -> list[str]:
    """Endpoints of the configured SQL delivery-log table (cached for a minute)."""
    return _sql_endpoints(str(config().get("logs", "url") or ""), str(config().get("logs", "table") or ""))


def demo() -> DemoWorkspace | None:
    """The demo workspace, when `python -m diagnostics demo` built one in this workspace."""
    return load_demo(config())


def land_on_demo_case() -> None:
    """In demo mode, a session's first look at the landing page opens the demo case at its latest
    run: a new agent starts on a real case, not an empty form. Once per session, so closing the
    case then starts a blank one; outside demo mode nothing is opened."""
    if st.session_state.get(LANDED_KEY):
        return
    st.session_state[LANDED_KEY] = True
    workspace = demo()
    if workspace is None or workspace.example_case_id is None or current_case() is not None:
        return
    try:
        runs = store().list_runs(workspace.example_case_id)
    except InputError:  # the demo case was deleted: land on the empty form
        return
    open_case(workspace.example_case_id, runs[0].id if runs else None)


def is_demo_case(case: CaseRecord | None) -> bool:
    """Whether `case` is the demo workspace's example case (the one the demo secret belongs to)."""
    workspace = demo()
    return case is not None and workspace is not None and case.id == workspace.example_case_id


def current_case() -> CaseRecord | None:
    case_id = st.session_state.get(CASE_KEY)
    if case_id is None:
        return None
    try:
        return store().get_case(int(case_id))
    except InputError:  # the case was deleted in another session
        st.session_state.pop(CASE_KEY, None)
        return None


def open_case(case_id: int | None, run_id: int | None = None) -> None:
    """Make a case (and optionally one of its runs) the current one for every page."""
    if case_id is None:
        st.session_state.pop(CASE_KEY, None)
    else:
        st.session_state[CASE_KEY] = int(case_id)
    if run_id is None:
        st.session_state.pop(RUN_KEY, None)
    else:
        st.session_state[RUN_KEY] = int(run_id)


def drop_results_of_another_case(*keys: str) -> None:
    """A page's kept results belong to the case open when they were made: once another case is open
    (or none), they are stale and `keys` are dropped. `keep_results_for_open_case` marks them."""
    made_for = st.session_state.get(f"{keys[0]}:case", None)
    if keys[0] in st.session_state and made_for != st.session_state.get(CASE_KEY):
        for key in keys:
            st.session_state.pop(key, None)


def keep_results_for_open_case(key: str, value: object) -> None:
    """Keep a page's result under `key`, marked with the case open now."""
    st.session_state[key] = value
    st.session_state[f"{key}:case"] = st.session_state.get(CASE_KEY)


def current_run_id() -> int | None:
    value = st.session_state.get(RUN_KEY)
    return int(value) if value is not None else None


def secret() -> str | None:
    return st.session_state.get(SECRET_KEY) or None


def set_secret(value: str | None) -> None:
    if value:
        st.session_state[SECRET_KEY] = value
    else:
        st.session_state.pop(SECRET_KEY, None)
