"""Reports: golden Markdown reply, self-contained escaped HTML, JSON shape, text output."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagnostics.findings import Finding, Outcome, Severity, Status
from diagnostics.playbooks import load_playbooks
from diagnostics.report import ReportContext, render_html, render_json, render_markdown, render_text

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


def test_markdown_reply_matches_golden_file(playbooks: dict) -> None:
    text = render_markdown(outcome(), CONTEXT, playbooks)
    golden = FIXTURES / "reply_redirect.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


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
