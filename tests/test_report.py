"""Reports: golden Markdown reply, self-contained escaped HTML, JSON shape, text output."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagnostics.findings import Finding, Outcome, Severity, Status
from diagnostics.playbooks import load_playbooks
from diagnostics.report import (
    ReportContext,
    render_html,
    render_json,
    render_markdown,
    render_notes,
    render_reply,
    render_text,
)

FIXTURES = Path(__file__).parent / "fixtures" / "golden"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def playbooks() -> dict:
    return load_playbooks(FIXTURES / "playbooks")


def outcome(subject: str = "https://hooks.example.com/webhooks") -> Outcome:
    return Outcome(
        subject=subject,
        findings=[
            Finding(
                code="example-healthy",
                status=Status.PASS,
                severity=Severity.INFO,
                title="TLS certificate is valid",
                summary="Valid for 80 more days.",
            ),
            Finding(
                code="example-redirect",
                status=Status.FAIL,
                severity=Severity.MEDIUM,
                title="Endpoint answers with a redirect",
                summary="3 of 3 samples answered 301 Moved Permanently.",
                evidence=(("Location", "https://hooks.example.com/webhooks/"), ("Samples", 3)),
                samples=({"sample": 1, "status": 301},),
            ),
        ],
        metrics={"samples": 3},
        tables={"samples": [{"sample": 1, "status": 301, "total_ms": 41.5}]},
    )


CONTEXT = ReportContext(ticket="SUP-1234", customer="Acme", generated_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


def _check_golden(name: str, text: str) -> None:
    golden = FIXTURES / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_markdown_reply_matches_golden_file(playbooks: dict) -> None:
    _check_golden("reply_redirect.md", render_markdown(outcome(), CONTEXT, playbooks))


def test_markdown_reply_puts_the_fix_before_what_works(playbooks: dict) -> None:
    text = render_markdown(outcome(), CONTEXT, playbooks)
    assert text.index("What to change") < text.index("What is working")


def test_markdown_escapes_customer_html(playbooks: dict) -> None:
    text = render_markdown(outcome(subject=f"https://x.test/{HOSTILE}"), CONTEXT, playbooks)
    assert "<script>" not in text


def test_html_is_self_contained_and_escapes_customer_text(playbooks: dict) -> None:
    hostile = outcome(subject=f'https://x.test/"{HOSTILE}')
    hostile.findings.append(
        Finding(
            code="example-redirect",
            status=Status.WARN,
            severity=Severity.LOW,
            title="Body echoed",
            summary=HOSTILE,
            evidence=(("response body", HOSTILE),),
            samples=({"body": HOSTILE},),
        )
    )
    html = render_html(hostile, CONTEXT, playbooks)
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "http://" not in html.replace("http-equiv", "") and "src=" not in html
    assert "<style>" in html and "Update the webhook URL" in html
    assert 'data-code="example-redirect"' in html


def test_json_shape(playbooks: dict) -> None:
    data = json.loads(render_json(outcome()))
    assert set(data) == {"subject", "findings", "metrics"}
    assert data["findings"][0]["code"] == "example-redirect"
    assert data["metrics"]["tables"]["samples"][0]["status"] == 301


def test_text_lists_findings_and_tables() -> None:
    text = render_text(outcome())
    assert text.index("[FAIL] Endpoint answers with a redirect") < text.index("[PASS] TLS certificate is valid")
    assert "total_ms" in text


# --- the customer reply and the internal notes ------------------------------------------------

REPLY_CONTEXT = ReportContext(ticket="SUP-1234", customer="Acme", endpoint="https://hooks.example.com/webhooks",
                              generated_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


def test_plain_text_reply_matches_golden_file(playbooks: dict) -> None:
    _check_golden("customer_reply_redirect.txt", render_reply(outcome(), REPLY_CONTEXT, playbooks))


def test_reply_keeps_internal_detail_in_the_notes(playbooks: dict) -> None:
    reply = render_reply(outcome(), REPLY_CONTEXT, playbooks)
    notes = render_notes(outcome(), REPLY_CONTEXT, playbooks)
    # the customer reads what to change and how to confirm; the evidence table stays internal
    assert "Your endpoint redirects our requests" in reply and "How to confirm it is fixed" in reply
    assert "| Fact | Value |" not in reply and "example-redirect" not in reply
    # (the URL's autolink is neutralized in Markdown: `https\\://`)
    assert "| Location | https\\://hooks.example.com/webhooks/ |" in notes and "`example-redirect`" in notes


def test_plain_text_reply_shows_customer_text_as_written_and_markdown_escapes_it(playbooks: dict) -> None:
    context = ReportContext(endpoint=f"https://x.test/{HOSTILE}&a=1")
    text = render_reply(outcome(), context, playbooks)
    assert HOSTILE in text and "&lt;" not in text and "&amp;" not in text
    markdown = render_reply(outcome(), context, playbooks, fmt="markdown")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown


def test_reply_of_other_audiences_and_errors_goes_to_the_notes() -> None:
    findings = [
        Finding(code="fleet-incident", status=Status.FAIL, severity=Severity.HIGH, title="Fleet incident",
                summary="many hosts"),
        Finding(code="case-input-unusable", status=Status.ERROR, severity=Severity.MEDIUM,
                title="The signature check could not run", summary="secret fingerprint sha256:abcd"),
    ]
    reply = render_reply(Outcome(subject="s", findings=findings), REPLY_CONTEXT)
    notes = render_notes(Outcome(subject="s", findings=findings), REPLY_CONTEXT)
    assert "Fleet incident" not in reply and "sha256:abcd" not in reply and "could not run" not in reply
    assert "Fleet incident" in notes and "sha256:abcd" in notes


def _one_problem(code: str, title: str) -> Outcome:
    return Outcome(subject="https://hooks.example.com/in", findings=[
        Finding(code=code, status=Status.FAIL, severity=Severity.HIGH, title=title, summary="details",
                evidence=(("HMAC formula", "HMAC(secret, msg_id.ts.raw_body)"),
                          ("Secret", "sha256:0f1e2d3c")))])


@pytest.mark.parametrize("code", sorted(c for c, p in load_playbooks().items() if p.audience == "customer"))
def test_every_customer_playbook_gives_a_short_plain_reply(code: str) -> None:
    playbook = load_playbooks()[code]
    text = render_reply(_one_problem(code, playbook.title), REPLY_CONTEXT)
    assert len(text) < 1500, len(text)
    assert "```" not in text and "**" not in text and "`" not in text and not re.search(r"(?m)^#", text)
    assert "&lt;" not in text and "&gt;" not in text and "&amp;" not in text
    assert "msg_id.ts.raw_body" not in text and "sha256:0f1e2d3c" not in text  # evidence is internal
    assert len(render_reply(_one_problem(code, playbook.title), REPLY_CONTEXT, fmt="markdown")) < 1500


def test_reply_names_at_most_five_problems_and_counts_the_rest() -> None:
    codes = sorted(c for c, p in load_playbooks().items() if p.audience == "customer")[:8]
    findings = [Finding(code=c, status=Status.FAIL, severity=Severity.HIGH, title=f"Problem {c}", summary="")
                for c in codes]
    text = render_reply(Outcome(subject="s", findings=findings), REPLY_CONTEXT)
    assert "found 8 things to change" in text and text.count("Problem ") == 5
    assert "We also noticed 3 smaller points" in text
