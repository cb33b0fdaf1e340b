"""Coverage (Product Ops): the event catalog against what was sent and subscribed, payload design
and version findings, with the coverage matrix and a chart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.pipeline.case import keep_upload, render_reports
from diagnostics.pipeline.coverage import run_coverage
from diagnostics.report import ReportContext
from diagnostics.ui import state
from diagnostics.ui.charts import coverage_chart
from diagnostics.ui.components import download_buttons, show_error, show_findings, show_tables

MAX_CATALOG_BYTES = 5 * 1024 * 1024


@st.cache_resource(max_entries=4, show_spinner="Computing coverage…")
def _coverage(catalog: str, subscriptions: str | None, log: str | None, _stamp: str) -> Outcome:
    """Coverage for one (catalog, subscriptions, log) triple; `_stamp` changes when a file does."""
    return run_coverage(catalog=catalog, subscriptions=subscriptions, logs=[log] if log else [])


def _stamp(*paths: str | None) -> str:
    parts = []
    for path in paths:
        if path:
            stat = Path(path).stat()
            parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _saved_upload(label: str, key: str, types: list[str]) -> str | None:
    """An uploaded catalog or subscriptions file, kept in the workspace (None until one is given)."""
    upload = st.file_uploader(label, type=types, key=key)
    if upload is None:
        return None
    return str(keep_upload(state.config(), upload.name, upload.getvalue(), max_bytes=MAX_CATALOG_BYTES))


def main() -> None:
    st.title("Event coverage and payloads")
    st.caption("Which catalogued events are sent, subscribed and delivered; payload design and versions.")
    demo = state.demo()
    try:
        catalog_choices = ["Upload a catalog"]
        if demo is not None and demo.catalog_path is not None:
            catalog_choices.insert(0, "Demo event catalog")
        catalog_choice = st.radio("Event catalog", catalog_choices, horizontal=True, key="coverage-catalog-choice")
        if catalog_choice == "Demo event catalog":
            assert demo is not None
            catalog = str(demo.catalog_path)
        else:
            catalog = _saved_upload("Catalog (YAML or JSON)", "coverage-catalog", ["yaml", "yml", "json"])
        subscriptions = _saved_upload("Subscriptions (optional: CSV, JSON or YAML)", "coverage-subs",
                                      ["csv", "json", "yaml", "yml"])
    except InputError as exc:
        show_error(exc, "The file was not used: ")
        return
    log = None
    if demo is not None and st.checkbox("Compare with the demo delivery log", value=True, key="coverage-log"):
        log = str(demo.log_path)
    if not catalog:
        st.info("Choose or upload an event catalog.")
        return
    try:
        outcome = _coverage(catalog, subscriptions, log, _stamp(catalog, subscriptions, log))
    except InputError as exc:
        show_error(exc, "Coverage could not be computed: ")
        return
    matrix = outcome.tables.get("coverage") or []
    left, middle, right = st.columns(3)
    left.metric("Catalogued types", outcome.metrics.get("catalogued_types", 0))
    middle.metric("Types sent", outcome.metrics.get("types_sent", 0))
    right.metric("Deliveries", f"{outcome.metrics.get('deliveries', 0):,}")
    if matrix:
        st.subheader("Deliveries per event type")
        st.altair_chart(coverage_chart(matrix), width="stretch")
    st.subheader("Coverage matrix")
    show_tables({"coverage": matrix})
    reports = render_reports(outcome, ReportContext(profile_label="Product Ops review"))
    download_buttons(reports, "coverage", key="coverage-dl")
    st.subheader("Findings")
    show_findings(outcome.findings)
    show_tables({k: v for k, v in outcome.tables.items() if k != "coverage"})


if __name__ == "__main__":
    main()
