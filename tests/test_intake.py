"""Ticket intake on a corpus of realistic tickets (prose, forwarded e-mails, pasted requests, logs and
stack traces, English, German, French and Spanish), each with the extraction an agent expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.intake import SYMPTOMS, read_ticket
from diagnostics.pipeline.case import CapturedRequest

ROOT = Path(__file__).resolve().parents[1]
TICKETS = ROOT / "tests" / "fixtures" / "tickets"


def _ticket(name: str) -> str:
    return (TICKETS / name).read_text(encoding="utf-8")


def test_stripe_signature_ticket_with_a_pasted_request() -> None:
    intake = read_ticket(_ticket("stripe_signature_node.txt"))
    assert intake.urls == ["https://api.acme-shop.io/webhooks/stripe"]
    assert [(e["id"], e["platform"]) for e in intake.event_ids] == [
        ("evt_1PqR2sT3uVwXyZ0aBcDeFgHi", "stripe"), ("evt_1PqR2sT3uVwXyZ0aBcDeFgHj", "stripe")]
    # 09:40 CET is 08:40 UTC, and the signed timestamp of the pasted request says the same
    assert [(t.text, t.iso, t.timezone, t.question) for t in intake.times] == [
        ("2026-03-02 at 09:40 CET", "2026-03-02T08:40:00Z", "CET", None),
        ("Stripe-Signature: 1772440800", "2026-03-02T08:40:00Z", "UTC", None)]
    assert intake.status_codes == [400]
    assert intake.errors[0].startswith("StripeSignatureVerificationError: No signatures found matching")
    assert intake.headers["Stripe-Signature"].startswith("t=1772440800,v1=5257a869")
    assert intake.frameworks == ["Express", "Node.js"] and intake.platform == "stripe"
    assert intake.symptoms == ["signature_failing"] and intake.event_types == ["invoice.paid"]
    assert [c["check"] for c in intake.proposed_checks] == ["probe", "signature", "logs"]
    # the pasted request parses as the Triage page's captured request, body bytes exact
    captured = CapturedRequest.parse(intake.request or "")
    assert captured.method == "POST" and captured.path == "/webhooks/stripe"
    assert captured.body == (b'{"id":"evt_1PqR2sT3uVwXyZ0aBcDeFgHi","type":"invoice.paid",'
                             b'"data":{"object":{"id":"in_1"}}}')
    assert intake.case_fields() == {"ticket": "ZD-20417", "endpoint_url": "https://api.acme-shop.io/webhooks/stripe",
                                    "profile": "stripe", "captured": intake.request}


def test_forwarded_german_email_with_a_python_traceback() -> None:
    intake = read_ticket(_ticket("svix_forwarded_german.txt"))
    assert intake.urls == ["https://hooks.logistik-nord.de/api/v2/events"]
    assert intake.event_ids == [{"id": "msg_2Tq9Hb3xYpLk7WcQe1Rz8uN4", "platform": "svix", "from": "text"}]
    relative, logged = intake.times
    assert relative.text == "um 23:30" and relative.iso is None and "gestern" in (relative.question or "")
    # no zone written: the e-mail's Date header (+0100) is assumed, and the agent is asked to confirm
    assert (logged.iso, logged.timezone) == ("2026-03-02T21:58:10Z", "+01:00") and "Confirm" in (logged.question or "")
    assert any(e.startswith("requests.exceptions.ReadTimeout:") for e in intake.errors)
    assert any(e.startswith("upstream timed out (110: Connection timed out)") for e in intake.errors)
    assert "Zeitüberschreitung" in intake.errors
    assert intake.frameworks == ["Django", "Python", "nginx"] and intake.platform == "svix"
    assert intake.symptoms == ["not_receiving", "timeouts", "disabled_endpoint"]
    assert intake.endpoint_ids == ["ep_2Tq9GmV7kLr1s"] and intake.request is None
    assert intake.case_fields() == {"endpoint_url": "https://hooks.logistik-nord.de/api/v2/events",
                                    "profile": "svix", "log_endpoint": "ep_2Tq9GmV7kLr1s"}
    assert [c["check"] for c in intake.proposed_checks] == ["probe", "logs"]


def test_github_duplicates_with_an_ambiguous_date_and_quoted_headers() -> None:
    intake = read_ticket(_ticket("github_duplicates_rails.txt"))
    assert intake.event_ids == [{"id": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "platform": "github",
                                 "from": "header X-GitHub-Delivery"}]
    [when] = intake.times
    assert when.text == "03/04/2026 at 2:15pm EST" and when.iso == "2026-03-04T19:15:00Z"
    assert "day/month or month/day" in (when.question or "")
    assert intake.status_codes == [200, 502] and intake.errors == ["failed to connect"]
    assert intake.headers["X-GitHub-Event"] == "push" and "X-Hub-Signature-256" in intake.headers
    assert intake.request is None  # header lines in prose without a body are no request to verify
    assert intake.frameworks == ["Ruby on Rails", "Ruby"] and intake.platform == "github"
    assert intake.symptoms == ["duplicates", "marked_failed_but_processed"]
    assert intake.ticket_ref == "SUP-8812"


def test_hookdeck_marked_failed_with_a_go_panic_and_an_ambiguous_zone() -> None:
    intake = read_ticket(_ticket("hookdeck_marked_failed_go.txt"))
    assert [(e["id"], e["platform"]) for e in intake.event_ids] == [
        ("evt_LJ8QdrHWf3Dyc4UR1n", "hookdeck"), ("evt_LJ8QdrHWf3Dyc4UR2p", "hookdeck")]
    ist, logged = intake.times
    assert ist.iso is None and "today" in (ist.question or "") and "several time zones" in (ist.question or "")
    assert logged.text == "2026/03/05 04:35:12" and "which time zone" in (logged.question or "")
    assert intake.status_codes == [504]
    assert intake.errors == ["panic: runtime error: invalid memory address or nil pointer dereference",
                             "context deadline exceeded"]
    assert intake.frameworks == ["Go", "API Gateway"]
    assert intake.symptoms == ["timeouts", "marked_failed_but_processed"]
    assert intake.case_fields()["profile"] == "hookdeck"


def test_missing_event_type_in_english_and_spanish() -> None:
    intake = read_ticket(_ticket("missing_event_type_laravel_es.txt"))
    assert intake.symptoms == ["not_receiving", "missing_event_type"]
    assert intake.event_types == ["customer.subscription.deleted", "invoice.paid", "customer.created"]
    assert intake.frameworks == ["Laravel", "PHP"] and intake.status_codes == [200]
    assert [t.text for t in intake.times] == ["1 Mar 2026"] and "which hours" in (intake.times[0].question or "")
    coverage = next(c for c in intake.proposed_checks if c["check"] == "coverage")
    assert "customer.subscription.deleted" in coverage["why"]


def test_shopify_duplicates_in_french() -> None:
    intake = read_ticket(_ticket("shopify_duplicates_french.txt"))
    assert [e["id"] for e in intake.event_ids] == ["b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                                                   "98880550-7158-44d4-b7cd-2c97c8a091b5"]
    assert {e["platform"] for e in intake.event_ids} == {"shopify"} and intake.platform == "shopify"
    assert intake.symptoms == ["duplicates", "signature_failing"] and intake.status_codes == [401]
    assert intake.headers["X-Shopify-Topic"] == "orders/create"
    assert "Can the customer paste one failing request exactly as received (headers and raw body)?" in intake.questions


@pytest.mark.parametrize("name", sorted(p.name for p in TICKETS.glob("*.txt")))
def test_every_ticket_uses_the_fixed_vocabulary_and_is_json(name: str) -> None:
    data = read_ticket(_ticket(name)).to_dict()
    assert set(data["symptoms"]) <= set(SYMPTOMS)
    assert {"urls", "event_ids", "times", "status_codes", "errors", "headers", "symptoms",
            "proposed_checks"} <= set(data)
    json.dumps(data)


def test_an_empty_ticket_is_an_input_error() -> None:
    with pytest.raises(InputError, match="empty"):
        read_ticket("  \n ")
