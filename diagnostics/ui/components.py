"""Shared renderers: findings grouped by status and severity, report downloads, messages.

Customer-controlled text (titles built from URLs, summaries quoting bodies, evidence values,
samples) is shown through `st.text`, `st.code` and dataframes, or escaped before it reaches a
Markdown-rendering widget (expander labels, alerts). Only our own playbook Markdown is rendered
as Markdown, and never with unsafe_allow_html.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from diagnostics.findings import Finding, Status, sort_findings
from diagnostics.playbooks import playbook_for
from diagnostics.report import truncate

STATUS_LABELS = {
    Status.FAIL: "Failing",
    Status.ERROR: "Could not check",
    Status.WARN: "Warnings",
    Status.PASS: "Passing",
    Status.NOT_APPLICABLE: "Not applicable",
}
STATUS_ICONS = {
    Status.FAIL: ":material/error:",
    Status.ERROR: ":material/help:",
    Status.WARN: ":material/warning:",
    Status.PASS: ":material/check_circle:",
    Status.NOT_APPLICABLE: ":material/remove_circle:",
}
REPORT_FILES = {
    "html": ("Download HTML report", "text/html", "html"),
    "markdown": ("Download Markdown reply", "text/markdown", "md"),
    "json": ("Download JSON", "application/json", "json"),
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def plain(text: Any, limit: int = 200) -> str:
    """Customer text made inert for widgets that render Markdown (labels, alerts)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", truncate(text, limit).replace("\n", " "))


def show_error(exc: BaseException, prefix: str = "") -> None:
    """An InputError (or any expected failure) as a clear message, never a traceback."""
    st.error(plain(f"{prefix}{exc}", 1000), icon=":material/block:")


def counts_line(findings: Iterable[Finding]) -> str:
    counts: dict[Status, int] = {}
    for finding in findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
    parts = [f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in STATUS_LABELS if counts.get(s)]
    return ", ".join(parts) if parts else "no findings"


def _table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows as text cells, so mixed types never break Arrow and nothing renders as markup."""
    return pd.DataFrame([{str(k): truncate(v, 300) for k, v in row.items()} for row in rows])


def show_finding(finding: Finding, *, expanded: bool = False) -> None:
    label = f"{finding.severity.value.upper()} · {plain(finding.title, 160)}  ({finding.code})"
    with st.expander(label, expanded=expanded, icon=STATUS_ICONS[finding.status]):
        st.text(truncate(finding.summary, 2000))
        if finding.subject:
            st.caption("Subject")
            st.text(truncate(finding.subject, 300))
        if finding.evidence:
            st.caption("Evidence")
            st.dataframe(_table({"fact": k, "value": v} for k, v in finding.evidence), hide_index=True)
        if finding.samples:
            st.caption(f"Samples ({len(finding.samples)} shown of {finding.sample_total})")
            st.dataframe(_table(finding.samples), hide_index=True)
        playbook = playbook_for(finding)
        if playbook is not None and finding.status in (Status.FAIL, Status.WARN, Status.ERROR):
            fix, meaning, confirm, escalate = st.tabs(["The fix", "What it means", "How to confirm", "Escalate"])
            fix.markdown(playbook.fix)
            meaning.markdown(playbook.meaning)
            confirm.markdown(playbook.confirm)
            escalate.markdown(playbook.escalate)


def show_findings(findings: Iterable[Finding]) -> None:
    """Findings grouped by status (failing first), most severe first inside each group."""
    ordered = sort_findings(findings)
    if not ordered:
        st.info("No findings.")
        return
    st.markdown(f"**{counts_line(ordered)}**")
    for status, label in STATUS_LABELS.items():
        group = [f for f in ordered if f.status is status]
        if not group:
            continue
        st.subheader(f"{label} ({len(group)})")
        for finding in group:
            show_finding(finding, expanded=status is Status.FAIL and len(group) <= 3)


def download_buttons(reports: Mapping[str, str], basename: str, *, key: str) -> None:
    """The three downloads side by side: HTML report, Markdown reply, JSON."""
    columns = st.columns(len(REPORT_FILES))
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", basename).strip("-") or "report"
    for column, (fmt, (label, mime, ext)) in zip(columns, REPORT_FILES.items(), strict=True):
        if fmt in reports:
            column.download_button(
                label, reports[fmt].encode("utf-8"), file_name=f"{safe_name}.{ext}", mime=mime,
                key=f"{key}-{fmt}", on_click="ignore",
            )


def show_reply(reports: Mapping[str, str]) -> None:
    """The Markdown reply as copyable text (st.code has a copy button)."""
    if "markdown" in reports:
        st.caption("Reply to paste into the ticket")
        st.code(reports["markdown"], language="markdown", wrap_lines=True)


def show_tables(tables: Mapping[str, list[dict[str, Any]]]) -> None:
    for name, rows in tables.items():
        if rows:
            st.caption(name.replace("_", " ").capitalize())
            st.dataframe(_table(rows), hide_index=True)
