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

from diagnostics.errors import InputError
from diagnostics.findings import Finding, Status, sort_findings
from diagnostics.neutralize import csv_cell
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
    "markdown": ("Download Markdown report", "text/markdown", "md"),
    "json": ("Download JSON", "application/json", "json"),
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def plain(text: Any, limit: int = 200) -> str:
    """Customer text made inert for widgets that render Markdown (labels, alerts)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", truncate(text, limit).replace("\n", " "))


FIELD_LABELS = {
    "--secret": "Signing secret",
    "--url": "URL",
    "--scheme": "Scheme",
    "--header": "Captured request",
    "--id": "message id",
    "--samples": "Samples",
    "--profile": "Sender profile",
    "--endpoint": "Endpoint",
    "--since": "Days",
    "--until": "Days",
    "--map": "Column mapping",
    "--table": "SQL table",
    "--query": "SQL query",
    "--concurrency": "Concurrency",
}
"""The page field for each command-line flag the library's messages name."""
_STDIN_HINT = re.compile(r" \(or --[a-z-]+ - to read it from stdin\)")
_FLAG = re.compile(r"(?<![\w-])(pass |with )?(--[a-z][a-z-]*)(?: -(?![\w-]))?")  # "--token -": the field


def for_page(exc: BaseException, labels: Mapping[str, str] | None = None) -> str:
    """The message worded for the page: the page's field names instead of command-line flags."""
    names = {**FIELD_LABELS, **(labels or {})}

    def label(match: re.Match[str]) -> str:
        verb = {"pass ": "fill in ", "with ": "in "}.get(match.group(1) or "", "")
        return f"{verb}'{names.get(match.group(2), match.group(2).lstrip('-'))}'"

    if isinstance(exc, InputError):
        field = names.get(exc.field, exc.field.lstrip("-")) if exc.field else None
        exc = InputError(_FLAG.sub(label, _STDIN_HINT.sub("", exc.message)), file=exc.file, line=exc.line,
                         column=exc.column, field=field)
        return str(exc)
    return _FLAG.sub(label, _STDIN_HINT.sub("", str(exc)))


def show_error(exc: BaseException, prefix: str = "", labels: Mapping[str, str] | None = None) -> None:
    """An InputError (or any expected failure) as a clear message, never a traceback, worded for the page."""
    st.error(plain(f"{prefix}{for_page(exc, labels)}", 1000), icon=":material/block:")


def counts_line(findings: Iterable[Finding]) -> str:
    counts: dict[Status, int] = {}
    for finding in findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
    parts = [f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in STATUS_LABELS if counts.get(s)]
    return ", ".join(parts) if parts else "no findings"


def _table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows as text cells, so mixed types never break Arrow and nothing renders as markup."""
    return pd.DataFrame([{str(k): truncate(v, 300) for k, v in row.items()} for row in rows])


def spreadsheet_safe(data: Any) -> pd.DataFrame:
    """A table whose text cells cannot become formulas: the dataframe toolbar's "Download as CSV"
    writes cells as they are, and a customer's `=HYPERLINK(...)` would run in the agent's
    spreadsheet. Text starting with = + - @, a tab or CR gets a leading quote (OWASP)."""
    frame = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(csv_cell)
    frame.columns = [csv_cell(str(name)) for name in frame.columns]
    return frame


def show_dataframe(data: Any, **options: Any) -> None:
    """Every table on every page goes through here (a test checks that no page calls st.dataframe)."""
    st.dataframe(spreadsheet_safe(data), **options)


def show_finding(finding: Finding, *, expanded: bool = False) -> None:
    label = f"{finding.severity.value.upper()} · {plain(finding.title, 160)}  ({finding.code})"
    with st.expander(label, expanded=expanded, icon=STATUS_ICONS[finding.status]):
        st.text(truncate(finding.summary, 2000))
        if finding.subject:
            st.caption("Subject")
            st.text(truncate(finding.subject, 300))
        if finding.evidence:
            st.caption("Evidence")
            show_dataframe(_table({"fact": k, "value": v} for k, v in finding.evidence), hide_index=True)
        if finding.samples:
            st.caption(f"Samples ({len(finding.samples)} shown of {finding.sample_total})")
            show_dataframe(_table(finding.samples), hide_index=True)
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


def show_reply(reports: Mapping[str, str], *, key: str) -> None:
    """The customer reply to paste (plain text, or its Markdown variant) and the internal notes.

    st.code gives each a copy button. Runs stored before the split only have the full Markdown.
    """
    if "reply" not in reports:
        if "markdown" in reports:
            st.caption("Reply to paste into the ticket")
            st.code(reports["markdown"], language="markdown", wrap_lines=True)
        return
    st.caption("Reply to paste into the ticket (for the customer)")
    variant = st.radio("Reply format", ["Plain text", "Markdown"], horizontal=True, key=f"{key}-reply-format",
                       label_visibility="collapsed")
    if variant == "Markdown" and "reply_markdown" in reports:
        st.code(reports["reply_markdown"], language="markdown", wrap_lines=True)
    else:
        st.code(reports["reply"], language=None, wrap_lines=True)
    if "notes" in reports:
        with st.expander("Internal notes (for support, not for the customer)"):
            st.code(reports["notes"], language="markdown", wrap_lines=True)


def show_tables(tables: Mapping[str, list[dict[str, Any]]]) -> None:
    for name, rows in tables.items():
        if rows:
            st.caption(name.replace("_", " ").capitalize())
            show_dataframe(_table(rows), hide_index=True)
