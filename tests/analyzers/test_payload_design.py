"""Thin-payload judgment: references versus state, per payload and per event type."""

from __future__ import annotations

import pytest

from diagnostics.analyzers.payload_design import (
    assess_payload,
    is_reference_key,
    judge_types,
    thin_payload_finding,
)
from diagnostics.findings import Status
from diagnostics.payloads import group_by_type, load_payload_samples
from tests.support.shared import GITHUB_EXAMPLES

THIN = {"id": "evt_1", "type": "payout.created", "created_at": "2026-03-02T00:00:00Z",
        "data": {"payout_id": "po_1", "url": "https://api.example.com/v1/payouts/po_1"}}
FULL = {"id": "evt_2", "type": "invoice.paid",
        "data": {"object": {"id": "in_1", "amount": 4200, "currency": "eur", "status": "paid", "customer": "cus_1"}}}


@pytest.mark.parametrize("key", ["id", "node_id", "customer_id", "html_url", "href", "userId", "avatarUrl"])
def test_reference_keys(key: str) -> None:
    assert is_reference_key(key)


@pytest.mark.parametrize("key", ["amount", "status", "identity", "url_count", "valid"])
def test_state_keys(key: str) -> None:
    assert not is_reference_key(key)


def test_thin_and_full_payloads() -> None:
    thin = assess_payload(THIN)
    assert (thin.reference_fields, thin.state_fields, thin.thin) == (2, 0, True)
    full = assess_payload(FULL)
    assert full.state_fields == 4 and full.reference_fields == 1 and not full.thin
    assert not assess_payload({"id": "evt", "type": "ping"}).thin  # no reference outside the envelope
    assert assess_payload({"data": {"id": "x", "note": None, "tags": []}}).thin  # nulls carry no state


def test_type_verdict_is_the_majority() -> None:
    designs = judge_types({"payout.created": [THIN, THIN, FULL], "invoice.paid": [FULL, THIN]})
    assert designs["payout.created"].thin and designs["payout.created"].thin_payloads == 2
    assert not designs["invoice.paid"].thin  # one of two is not a majority
    assert designs["payout.created"].example.startswith('{"id":"evt_1"')


def test_finding_lists_thin_types_with_an_example() -> None:
    finding = thin_payload_finding(judge_types({"payout.created": [THIN], "invoice.paid": [FULL]}), basis="log")
    assert finding.status is Status.WARN
    assert [r["event_type"] for r in finding.samples] == ["payout.created"]
    assert finding.samples[0]["reference_share"] == "100%"
    assert thin_payload_finding({}, basis="log").status is Status.NOT_APPLICABLE
    assert thin_payload_finding(judge_types({"invoice.paid": [FULL]}), basis="log").status is Status.PASS


@pytest.mark.skipif(not GITHUB_EXAMPLES.is_dir(), reason="GitHub webhook data not present")
def test_github_payloads_are_full() -> None:
    # GitHub sends whole objects (issue, repository, sender) with every event: nothing is thin.
    groups = group_by_type(load_payload_samples(GITHUB_EXAMPLES))
    designs = judge_types({t: [s.payload for s in group] for t, group in groups.items()})
    assert not [d.event_type for d in designs.values() if d.thin]
    assert designs["issues.opened"].median_state_fields > 50
