"""Reports: one Outcome rendered as a ticket reply (Markdown), a self-contained HTML page,
JSON, or terminal text; and, for a case, the split the agent pastes and keeps: a short customer
reply (plain text, with a Markdown variant) and internal notes (evidence, formulas, fingerprints,
everything the customer should not read).

Templates live in `reports/`. HTML uses Jinja2 autoescape, and playbook Markdown is rendered
with raw HTML disabled, so customer-controlled text (URLs, bodies, headers) can never become
markup. Long customer text is truncated before it reaches any template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from diagnostics.findings import Finding, Outcome, Status, sort_findings
from diagnostics.neutralize import json_text, md_cell, md_text, terminal_text
from diagnostics.playbooks import Playbook, load_playbooks

if TYPE_CHECKING:
    import jinja2
    from markdown_it import MarkdownIt

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "reports"
FORMATS = ("text", "json", "markdown", "html")
MAX_CELL_CHARS = 300
MAX_REPLY_ITEMS = 5  # the customer reply names the most important changes; the rest wait in the notes
REPLY_FORMATS = ("text", "markdown")


def truncate(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    """Built on first use: Markdown-it and Jinja2 load only for the formats that need them (~55 ms)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_to_html(text: str) -> Markup:
    """Render our own playbook Markdown; raw HTML inside it is escaped, not passed through."""
    return Markup(_markdown().render(text or ""))  # noqa: S704 (markdown-it escapes raw HTML: html=False)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FENCE = re.compile(r"^```[^\n]*\n.*?^```[ \t]*$\n?", re.S | re.M)


def plain_text(value: Any, limit: int = 1000) -> str:
    """Customer text inside the plain-text reply: control characters dropped, never HTML-escaped."""
    return _CONTROL.sub("", truncate(value, limit))


def strip_markdown(text: str) -> str:
    """Our playbook Markdown as prose that reads well pasted as plain text.

    Code fences are dropped (code belongs in the internal notes), inline code loses its
    backticks, emphasis loses its stars, headings their hashes; hard-wrapped lines inside a
    paragraph are joined so a ticket system wraps them itself.
    """
    text = _FENCE.sub("", text or "")
    text = text.replace("`", "")
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?m)^#{1,6}\s*", "", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if any(line.startswith(("- ", "* ")) for line in lines):
            paragraphs.append("\n".join("- " + line[2:] if line.startswith("* ") else line for line in lines))
        else:
            paragraphs.append(" ".join(lines))
    return "\n\n".join(p for p in paragraphs if p)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["truncate_text"] = truncate
    env.filters["markdown"] = markdown_to_html
    env.filters["md_cell"] = md_cell
    env.filters["md_text"] = md_text
    env.filters["plain_text"] = plain_text
    env.filters["strip_markdown"] = strip_markdown
    return env


@dataclass
class ReportContext:
    """Who the report is for: the case around the outcome (all optional)."""

    ticket: str = ""
    customer: str = ""
    profile_label: str = ""
    endpoint: str = ""
    """The customer's endpoint as the customer knows it (URL or endpoint id), named in the reply."""
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _entries(findings: Iterable[Finding], playbooks: dict[str, Playbook]) -> list[dict[str, Any]]:
    return [{"finding": f, "playbook": playbooks.get(f.code)} for f in sort_findings(findings)]


def _context(
    outcome: Outcome, context: ReportContext | None, playbooks: dict[str, Playbook] | None
) -> dict[str, Any]:
    playbooks = load_playbooks() if playbooks is None else playbooks
    entries = _entries(outcome.findings, playbooks)
    problems = [e for e in entries if e["finding"].status in (Status.FAIL, Status.WARN)]
    errors = [e for e in entries if e["finding"].status is Status.ERROR]
    passes = [e for e in entries if e["finding"].status is Status.PASS]
    counts = {s.value: sum(1 for e in entries if e["finding"].status is s) for s in Status}
    return {
        "outcome": outcome,
        "ctx": context or ReportContext(),
        "entries": entries,
        "problems": problems,
        "errors": errors,
        "passes": passes,
        "counts": counts,
        "tables": {name: rows for name, rows in outcome.tables.items() if rows},
    }


def _is_customer_problem(entry: Mapping[str, Any]) -> bool:
    playbook = entry["playbook"]
    return entry["finding"].status in (Status.FAIL, Status.WARN) and (playbook is None
                                                                       or playbook.audience == "customer")


def _carried_over(outcome: Outcome) -> list[Finding]:
    """Problems an earlier run found that this run could not check again: still open for the customer."""
    rows = outcome.metrics.get("carried_over") or []
    return [Finding.from_dict(row) for row in rows if isinstance(row, Mapping)]


def _split_context(
    outcome: Outcome, context: ReportContext | None, playbooks: dict[str, Playbook] | None
) -> dict[str, Any]:
    """What the customer reply and the internal notes share: who reads what."""
    playbooks = load_playbooks() if playbooks is None else playbooks
    data = _context(outcome, context, playbooks)
    customer = [e for e in data["entries"] if _is_customer_problem(e)]
    carried = _entries(_carried_over(outcome), playbooks)
    data.update(
        customer=customer[:MAX_REPLY_ITEMS],
        customer_more=len(customer) - MAX_REPLY_ITEMS if len(customer) > MAX_REPLY_ITEMS else 0,
        carried=[e for e in carried if _is_customer_problem(e)],
        carried_all=carried,
        internal=[e for e in data["entries"] if not _is_customer_problem(e)
                  and e["finding"].status in (Status.FAIL, Status.WARN, Status.ERROR)],
        warnings=[str(w) for w in outcome.metrics.get("reply_warnings") or []],
    )
    return data


def render_reply(
    outcome: Outcome,
    context: ReportContext | None = None,
    playbooks: dict[str, Playbook] | None = None,
    *,
    fmt: str = "text",
) -> str:
    """The short reply the customer reads: what is wrong, what to change, how to confirm it is fixed.

    Plain text by default (reads well pasted anywhere, customer text shown as written), or its
    Markdown variant. Internal detail (evidence, formulas, fingerprints, checks that could not run,
    findings meant for us) stays in `render_notes`.
    """
    if fmt not in REPLY_FORMATS:
        raise ValueError(f"unknown reply format {fmt!r}")
    template = "customer_reply.txt.j2" if fmt == "text" else "customer_reply.md.j2"
    text = _environment().get_template(template).render(**_split_context(outcome, context, playbooks))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_notes(
    outcome: Outcome, context: ReportContext | None = None, playbooks: dict[str, Playbook] | None = None
) -> str:
    """The agent's internal notes for the case: every finding with its evidence, what did not run."""
    text = _environment().get_template("internal_notes.md.j2").render(**_split_context(outcome, context, playbooks))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_markdown(
    outcome: Outcome, context: ReportContext | None = None, playbooks: dict[str, Playbook] | None = None
) -> str:
    """The reply an agent pastes into the ticket: plain language, the fix first."""
    return _environment().get_template("reply.md.j2").render(**_context(outcome, context, playbooks))


def render_html(
    outcome: Outcome, context: ReportContext | None = None, playbooks: dict[str, Playbook] | None = None
) -> str:
    """A self-contained HTML report: inline CSS, no scripts, no external assets."""
    return _environment().get_template("report.html.j2").render(**_context(outcome, context, playbooks))


def render_json(outcome: Outcome) -> str:
    data = outcome.to_dict()
    if outcome.tables:
        data["metrics"] = {**data["metrics"], "tables": outcome.tables}
    return json_text(json.dumps(data, indent=2, default=str, ensure_ascii=False)) + "\n"


_STATUS_MARK = {
    Status.FAIL: "FAIL",
    Status.ERROR: "ERROR",
    Status.WARN: "WARN",
    Status.PASS: "PASS",
    Status.NOT_APPLICABLE: "N/A",
}


def render_text(outcome: Outcome) -> str:
    """Terminal output: one block per finding, then the tables; control characters shown escaped."""
    t = terminal_text
    lines = [f"Subject: {t(outcome.subject)}"]
    choice = outcome.metrics.get("profile_choice")
    if choice:
        lines.append(f"Judged by: the {t(choice['label'])} sender profile ({t(choice['reason'])})")
    lines.append("")
    for finding in sort_findings(outcome.findings):
        lines.append(f"[{_STATUS_MARK[finding.status]}] {t(finding.title)}  ({finding.code}, {finding.severity.value})")
        if finding.summary:
            lines.append(f"    {t(finding.summary)}")
        for label, value in finding.evidence:
            lines.append(f"    - {t(label)}: {truncate(t(value), 200)}")
        if finding.sample_total:
            lines.append(f"    samples: {len(finding.samples)} shown of {finding.sample_total}")
        lines.append("")
    for name, rows in outcome.tables.items():
        if not rows:
            continue
        lines.append(f"{name}:")
        columns = list(rows[0].keys())
        cells = [{c: truncate(t(r.get(c)) if r.get(c) is not None else None, 40) for c in columns} for r in rows]
        widths = {c: max(len(t(c)), *(len(cell[c]) for cell in cells)) for c in columns}
        lines.append("  ".join(t(c).ljust(widths[c]) for c in columns))
        for cell in cells:
            lines.append("  ".join(cell[c].ljust(widths[c]) for c in columns))
        lines.append("")
    if not outcome.findings and not outcome.tables:
        lines.append("No findings.")
    return "\n".join(lines).rstrip() + "\n"


def render(outcome: Outcome, fmt: str, context: ReportContext | None = None) -> str:
    if fmt == "json":
        return render_json(outcome)
    if fmt == "markdown":
        return render_markdown(outcome, context)
    if fmt == "html":
        return render_html(outcome, context)
    return render_text(outcome)
