"""Issue 14, injection into outputs: customer text is inert in Markdown, terminal text, CSV and JSON.

Properties over generated hostile strings (the invariant: no live link, image, HTML, heading,
table or code; no control character; no formula) and the issue's cases end to end with real
loopback endpoints and the CLI.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from diagnostics.cli import main
from diagnostics.findings import Finding, Outcome, Severity, Status
from diagnostics.neutralize import csv_cell, json_text, md_cell, md_text, terminal_text
from diagnostics.report import render, render_json, render_markdown, render_text

# A renderer as permissive as a ticket system: raw HTML allowed, tables on.
TICKET_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")
LIVE_TOKENS = {"link_open", "image", "html_inline", "html_block", "heading_open", "table_open", "code_inline",
               "fence", "code_block", "bullet_list_open", "ordered_list_open", "blockquote_open", "hr"}
BARE_LINK = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|[\w.+-]@[\w-])")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

HOSTILE = [
    "[Click to fix](https://evil.example/phish) ![p](https://evil.example/pixel.png)",
    "<img src=x onerror=alert(1)> <https://evil.example> <script>alert(1)</script>",
    "# Heading\n| a | b |\n| --- | --- |\n| c | d |",
    "- list\n1. one\n> quote\n```\ncode\n```\n    indented",
    "[ref]: https://evil.example\n[ref]",
    "\\[escaped\\](https://evil.example) `code` www.evil.example user@evil.example",
    "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b2J\u202eevil\u2066",
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from([*"[]()!<>#|-*_`\\~=+@:/.&;\n\r\t x1wW", "https://", "www.", "\x1b", "![a](", "1. "]),
             max_size=40).map("".join),
    st.text(max_size=60),
)


def live_tokens(markdown: str) -> set[str]:
    found: set[str] = set()
    stack = list(TICKET_MARKDOWN.parse(markdown))
    while stack:
        token = stack.pop()
        found.add(token.type)
        stack.extend(token.children or [])
    return found & LIVE_TOKENS


@settings(max_examples=400, deadline=None)
@given(text=hostile_text)
def test_property_customer_text_in_markdown_is_inert(text: str) -> None:
    for neutral in (md_text(text), md_cell(text)):
        assert live_tokens(neutral) == set(), neutral
        assert live_tokens(f"| a | b |\n| --- | --- |\n| x | {md_cell(text)} |") <= {"table_open"}
        assert not BARE_LINK.search(neutral), neutral
        assert not CONTROL.search(neutral)
        assert "\n" not in neutral and "\r" not in neutral


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60))
def test_property_markdown_shows_the_customer_text_as_it_was(text: str) -> None:
    """Neutralizing is faithful: rendered, the paragraph reads as the original text."""
    rendered = TICKET_MARKDOWN.render(f"x {md_text(text)}")
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert " ".join(shown.split()) == " ".join(f"x {text}".split())


@settings(max_examples=300, deadline=None)
@given(text=hostile_text)
def test_property_terminal_text_has_no_control_character(text: str) -> None:
    shown = terminal_text(text)
    assert not CONTROL.search(shown) and "\n" not in shown and "\r" not in shown


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=20))
def test_property_no_csv_cell_is_a_formula(text: str) -> None:
    assert not str(csv_cell(text)).startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_cell(-2) == -2 and csv_cell(None) is None


@settings(max_examples=200, deadline=None)
@given(text=hostile_text)
def test_property_json_stays_valid_and_carries_no_raw_control(text: str) -> None:
    rendered = json_text(json.dumps({"v": text}, ensure_ascii=False))
    assert json.loads(rendered) == {"v": text}
    assert not CONTROL.search(rendered)


def hostile_outcome(text: str) -> Outcome:
    finding = Finding(code="http-error-status", status=Status.FAIL, severity=Severity.HIGH,
                      title=f"The endpoint answers 500 {text}", summary=f"It said: {text}", subject=text,
                      evidence=(("Reason", text), (text, "label")), samples=({"body": text},), sample_total=1)
    return Outcome(subject=text, findings=[finding], tables={"rows": [{"endpoint": text, "n": 1}]})


@pytest.mark.parametrize("text", HOSTILE)
def test_every_format_neutralizes_the_same_hostile_outcome(text: str) -> None:
    outcome = hostile_outcome(text)
    markdown = render_markdown(outcome)
    assert not any("evil.example" in (t.attrGet("href") or t.attrGet("src") or "")
                   for t in _all_tokens(markdown))
    assert "<script" not in markdown and "<img" not in markdown
    assert not CONTROL.search(render_text(outcome).replace("\n", ""))
    assert json.loads(render_json(outcome))["subject"] == text
    assert "<script" not in render(outcome, "html")


def _all_tokens(markdown: str) -> list:
    tokens, stack = [], list(TICKET_MARKDOWN.parse(markdown))
    while stack:
        token = stack.pop()
        tokens.append(token)
        stack.extend(token.children or [])
    return tokens


# --- End to end: hostile endpoints, the CLI ---------------------------------------------------


@contextmanager
def raw_endpoint(response: bytes) -> Iterator[str]:
    """A loopback server that answers every request with these exact bytes (status line included)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    head, _, rest = data.partition(b"\r\n\r\n")
                    length = re.search(rb"(?i)content-length: *(\d+)", head)
                    need = int(length.group(1)) if length else 0
                    while len(rest) < need:
                        rest += conn.recv(65536)
                    conn.sendall(response)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()


def http_response(status_line: bytes, body: bytes) -> bytes:
    return (status_line + b"\r\nContent-Type: text/plain\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n" + body)


def probe_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main(["probe", "--timeout", "1", "--quiet", "--samples", "1", "--allow", "127.0.0.1/32", *argv])
    return capsys.readouterr().out


@pytest.fixture(autouse=True)
def no_env_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIAGNOSTICS_ALLOW", raising=False)
    monkeypatch.delenv("DIAGNOSTICS_CONFIG", raising=False)


def test_a_markdown_reply_carries_no_live_link_from_a_reason_phrase(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: the reason phrase became a live link and a tracking pixel."""
    phrase = b"[Click to fix](https://evil.example/phish) ![p](https://evil.example/pixel.png)"
    with raw_endpoint(http_response(b"HTTP/1.1 500 " + phrase, b"nope")) as base:
        out = probe_cli(capsys, f"{base}/hook", "--format", "markdown")
    assert "Click to fix" in out
    assert not any("evil.example" in (t.attrGet("href") or t.attrGet("src") or "") for t in _all_tokens(out))


def test_text_output_shows_control_characters_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: ESC and BEL from a hostile endpoint rewrote the agent's terminal."""
    body = b"\x1b]0;pwned\x07\x1b[2J\x1b[31mgotcha\xc2\x9b2J"
    with raw_endpoint(http_response(b"HTTP/1.1 500 Oops\x9b", body)) as base:
        out = probe_cli(capsys, f"{base}/hook", "--format", "text")
    assert "gotcha" in out and "\\x1b" in out
    assert not CONTROL.search(out.replace("\n", ""))


def test_log_endpoint_ids_are_escaped_in_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.csv"
    rows = ["event_id,endpoint,attempted_at,status_code"]
    rows += [f"evt_{n},\"ep\x1b[2J\x07evil\",2026-03-02T00:{n:02d}:00Z,500" for n in range(30)]
    log.write_text("\n".join(rows) + "\n")
    main(["analyze", str(log), "--format", "text"])
    out = capsys.readouterr().out
    assert "ep\\x1b[2J\\x07evil" in out
    assert not CONTROL.search(out.replace("\n", ""))


def test_sweep_csv_neutralizes_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: =HYPERLINK, +SUM, -2+3 and @SUM(1) went into the spreadsheet as formulas."""
    formulas = ['=HYPERLINK("https://evil.example","x")', "+SUM(1,2)", "-2+3", "@SUM(1)"]
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(formulas) + "\n")
    assert main(["probe", "--quiet", "--urls-file", str(urls), "--format", "csv"]) == 1
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["url"] for r in rows] == ["'" + f for f in formulas]
    for row in rows:
        assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
