"""Customer text made inert for each format it enters: Markdown, terminal text, CSV, JSON.

Reason phrases, response bodies, headers, endpoint ids and URLs come from the customer (or from a
hostile endpoint) and end up in a ticket reply, an agent's terminal and spreadsheets. Each format
has its own way to turn text into action, so each has its own function here; HTML needs none
(Jinja2 autoescape, see report.py).
- Markdown (`md_text`, `md_cell`): no link, image, autolink, raw HTML, heading, list, table or
  code from customer text, and it reads as it was. `[ ] | * ~`, backslash, backtick and an
  underscore at a word's edge are backslash-escaped (no link or image can open, no cell can end,
  no emphasis eats a character), `& < >` become entities (no HTML, no `<autolink>`), line breaks become spaces
  and a leading block marker is escaped (a value never starts a heading, list, quote or fence),
  and the `:` of `scheme://`, the dot of `www.` and `@` are escaped so no GFM linkifier sees a
  URL or an e-mail address. An underscore inside a word (`ep_123`) is left alone: inert, readable.
- Terminal (`terminal_text`): control characters (C0 but tab, DEL, C1, bidi overrides, line
  separators) shown as escapes: a hostile endpoint cannot move the cursor, retitle the window,
  ring the bell or reorder what the agent reads.
- CSV (`csv_cell`): OWASP's rule against formula injection: a cell starting with `= + - @`, tab
  or CR gets a leading apostrophe, so a spreadsheet shows it as text.
- JSON (`json_text`): C1 and bidi controls, which JSON may carry raw, written as \\u escapes.
"""

from __future__ import annotations

import re
from typing import Any

MAX_MD_CHARS = 1000
MAX_MD_CELL_CHARS = 120

# Characters a terminal acts on: C0 but tab and newline handled by the caller, DEL, C1, bidi and
# line/paragraph separators (U+2028/2029), zero-width joiners are harmless and kept.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b", "\x07": "\\x07", "\x00": "\\x00"}

_MD_PUNCTUATION = re.compile(r"([\\`\[\]|*~])")
_MD_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # `ep_123` stays readable
_MD_URL_SCHEME = re.compile(r"(?<=[A-Za-z0-9])://")
_MD_WWW = re.compile(r"(?i)\b(www)\.")
_MD_LINE_START = re.compile(r"^([-+=*#~_]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def truncate(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(value: Any) -> str:
    """Text safe to print on a terminal: every control character shown as an escape."""
    return _CONTROL.sub(_escape_control, "" if value is None else str(value))


def md_text(value: Any, limit: int = MAX_MD_CHARS) -> str:
    """Customer text inside Markdown prose: rendered as the literal text, never as markup."""
    text = _LINE_BREAKS.sub(" ", truncate(value, limit)).lstrip()  # no indented code block
    text = _CONTROL.sub(_escape_control, text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    text = _MD_EDGE_UNDERSCORE.sub(r"\\_", text)
    text = _MD_URL_SCHEME.sub(r"\\://", text)
    text = _MD_WWW.sub(r"\1\\.", text)
    text = text.replace("@", "\\@")
    # A value at the start of a line must not open a list or a setext heading.
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" if m.group(1).isdigit() else "\\" + m.group(1), text,
                              count=1)


def md_cell(value: Any) -> str:
    """Customer text inside a Markdown table cell (pipes and line breaks already neutralized)."""
    return md_text(value, MAX_MD_CELL_CHARS)


def csv_cell(value: Any) -> Any:
    """A CSV/spreadsheet cell that cannot be a formula; numbers and other non-text stay as they are."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


def json_text(rendered: str) -> str:
    """Serialized JSON with the controls JSON allows raw written as \\u escapes (still valid JSON)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", rendered)
