"""Schema conformance: which field, how often, since when; versions; unparseable payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diagnostics.analyzers.payload_schema import PayloadObservation, check_payloads
from diagnostics.catalog import load_catalog
from diagnostics.findings import Status
from diagnostics.payloads import load_payload_samples
from tests.support.shared import GITHUB_WEBHOOKS as GITHUB

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "coverage"
T0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FIXTURES / "catalog.yaml")


def invoice(amount: object = 100, **extra: object) -> dict:
    return {"id": "evt", "type": "invoice.paid",
            "data": {"id": "in_1", "amount": amount, "currency": "eur", "status": "paid", **extra}}


def test_violations_are_counted_per_field_with_first_and_last_seen(catalog) -> None:
    observations = [
        PayloadObservation("invoice.paid", invoice(), "evt_1", "v2", T0),
        PayloadObservation("invoice.paid", invoice("1.00"), "evt_2", "v2", T0 + timedelta(hours=2)),
        PayloadObservation("invoice.paid", invoice("2.00"), "evt_3", "v2", T0 + timedelta(hours=5)),
        PayloadObservation("invoice.paid", {"id": "evt", "type": "invoice.paid", "data": {"id": "x", "amount": 1,
                                                                                           "currency": "eur"}},
                           "evt_4", "v2", T0 + timedelta(hours=1)),
    ]
    finding, per_type = check_payloads(catalog, observations, basis="test")
    assert finding.status is Status.FAIL and per_type == {"invoice.paid": 3}
    rows = {(r["field"], r["problem"]): r for r in finding.samples}
    amount = rows[("data.amount", "wrong type")]
    assert amount["payloads"] == 2 and amount["of"] == 4
    assert amount["first_seen"] == (T0 + timedelta(hours=2)).isoformat()
    assert amount["last_seen"] == (T0 + timedelta(hours=5)).isoformat()
    assert rows[("data.status", "missing required field")]["example"] == "evt_4"


def test_versions_pick_their_schema_and_unknown_versions_are_reported(catalog) -> None:
    with_memo = invoice(memo="hello")
    ok, _ = check_payloads(catalog, [PayloadObservation("invoice.paid", with_memo, "e1", "v1")], basis="t")
    assert ok.status is Status.PASS
    unknown, _ = check_payloads(catalog, [PayloadObservation("invoice.paid", with_memo, "e1", "v7"),
                                          PayloadObservation("invoice.paid", with_memo, "e2", "v1")], basis="t")
    assert unknown.evidence_dict()["invoice.paid: version 'v7' not in the catalog"] == "1 payloads, not checked"


def test_text_payloads_are_parsed_and_bad_json_is_a_violation(catalog) -> None:
    observations = [PayloadObservation("invoice.paid", json.dumps(invoice()), "e1", "v2", is_text=True),
                    PayloadObservation("invoice.paid", "{not json", "e2", "v2", is_text=True)]
    finding, _ = check_payloads(catalog, observations, basis="t")
    assert [(r["field"], r["problem"], r["example"]) for r in finding.samples] == [("(payload)", "not JSON", "e2")]


def test_nothing_checkable_is_not_applicable(catalog) -> None:
    finding, _ = check_payloads(catalog, [PayloadObservation("customer.deleted", {}, "e", None)], basis="t")
    assert finding.status is Status.NOT_APPLICABLE


@pytest.mark.skipif(not GITHUB.is_dir(), reason="GitHub webhook data not present")
def test_github_examples_against_github_schemas() -> None:
    catalog = load_catalog(GITHUB / "payload-schemas" / "api.github.com")
    samples = load_payload_samples(GITHUB / "payload-examples" / "api.github.com")
    observations = [PayloadObservation(s.event_type, s.payload, s.source) for s in samples if s.event_type]
    finding, per_type = check_payloads(catalog, observations, basis="github examples")
    # Checked by hand: the gh-pages example sends "environment_url": "", which matches both
    # branches of the schema's oneOf (an empty-string enum and a string with format uri).
    assert per_type == {"deployment_status.created": 1}
    row = finding.samples[0]
    assert (row["field"], row["example"]) == ("deployment_status.environment_url",
                                              "deployment_status/gh-pages.payload.json")
    ghes = load_payload_samples(GITHUB / "payload-examples" / "ghes-35")
    finding, _ = check_payloads(catalog, [PayloadObservation(s.event_type, s.payload, s.source) for s in ghes
                                          if s.event_type == "issues.opened"], basis="ghes-35")
    problems = {(r["event_type"], r["field"], r["problem"]) for r in finding.samples}
    assert ("issues.opened", "issue.reactions", "missing required field") in problems
    assert ("issues.opened", "enterprise", "field not in the schema") in problems
