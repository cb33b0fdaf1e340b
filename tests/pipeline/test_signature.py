"""The signature ticket end to end: a captured request in, the reply an agent pastes out.

Golden files pin the whole Markdown reply for the two most common signature tickets, with the
real playbooks, so a change to their wording is a reviewed change. Regenerate with
UPDATE_GOLDEN=1 after checking the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagnostics.findings import Status
from diagnostics.pipeline.signature import debug_signature
from diagnostics.report import ReportContext, render_html, render_markdown

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
# Standard Webhooks' published vector (signatures.md V1).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"test": 2432232314}'
HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
NOW = 1614265330 + 12
CONTEXT = ReportContext(ticket="SUP-42", customer="Acme", generated_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_reply_for_a_reserialized_body_matches_golden_file() -> None:
    parsed_and_dumped = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    outcome = debug_signature(parsed_and_dumped, HEADERS, [SECRET], now=NOW)
    assert [f.code for f in outcome.findings if f.status is Status.FAIL] == ["signature-body-reserialized"]
    text = render_markdown(outcome, CONTEXT)
    assert SECRET not in text and SECRET[6:] not in text
    check_golden("reply_signature_reserialized.md", text)


def test_reply_for_a_wrong_secret_matches_golden_file() -> None:
    wrong = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    outcome = debug_signature(BODY, HEADERS, [wrong], now=NOW)
    assert "signature-no-match" in {f.code for f in outcome.findings}
    text = render_markdown(outcome, CONTEXT)
    assert wrong not in text
    check_golden("reply_signature_wrong_secret.md", text)


@pytest.mark.parametrize("secret", [SECRET])
def test_html_report_of_a_signature_run_never_shows_the_secret(secret: str) -> None:
    outcome = debug_signature(BODY, HEADERS, [secret, "whsec_" + "Zm9v" * 8], now=NOW)
    html = render_html(outcome, CONTEXT)
    assert secret not in html and secret[6:] not in html
    assert "signature-valid" in html
