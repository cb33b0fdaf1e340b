"""out-of-order-delivery finds the planted resources; without payloads it cannot check (error)."""

from __future__ import annotations

import json
from collections.abc import Callable

from diagnostics.analyzers import ordering
from diagnostics.findings import Status
from tests.analyzers.conftest import Planted, problems


def test_finds_exactly_the_planted_resources(planted: Planted) -> None:
    pairs = {(r["endpoint"], r["resource"]) for r in ordering.inversions(planted.analysis)}
    assert pairs == planted.log.truth.out_of_order
    [finding] = problems(ordering.analyze(planted.analysis))
    assert finding.samples[0]["earlier_type"] == "subscription.created"
    assert finding.samples[0]["later_type"] == "subscription.updated"


def _payload(event: str, resource: str, created: str) -> dict:
    return {"payload": json.dumps({"id": event, "created_at": created, "data": {"object": {"id": resource}}})}


def test_older_payload_shape_and_in_order_delivery(tiny: Callable) -> None:
    rows = [
        ("a", "e1", 0, 200, _payload("e1", "r1", "2026-03-02T00:00:00Z")),
        ("a", "e2", 1, 200, _payload("e2", "r1", "2026-03-02T00:00:30Z")),
    ]
    assert [f.status for f in ordering.analyze(tiny(rows))] == [Status.PASS]
    swapped = [("a", "e1", 2, 200, rows[0][4]), rows[1]]
    [finding] = ordering.analyze(tiny(swapped))
    assert finding.status is Status.WARN and finding.evidence_dict()["resources"] == "r1"


def test_without_payloads_the_check_is_an_error_not_a_pass(tiny: Callable) -> None:
    [finding] = ordering.analyze(tiny([("a", "e1", 0, 200)]))
    assert finding.status is Status.ERROR


def test_invalid_payloads_are_skipped_not_fatal(tiny: Callable) -> None:
    rows = [("a", "e1", 0, 200, {"payload": "{not json"}), ("a", "e2", 1, 200, {"payload": "[1, 2"})]
    assert [f.status for f in ordering.analyze(tiny(rows))] == [Status.PASS]
