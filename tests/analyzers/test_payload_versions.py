"""Versions in flight and change verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from diagnostics.analyzers.event_stats import VersionUse
from diagnostics.analyzers.payload_versions import (
    change_finding,
    order_versions,
    unmatched_types_finding,
    versions_in_flight,
    versions_summary,
)
from diagnostics.findings import Status
from diagnostics.schema_diff import diff_samples
from diagnostics.subscriptions import Subscription

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def use(endpoint: str, version: str, deliveries: int, hours: int, event_type: str = "invoice.paid") -> VersionUse:
    return VersionUse(event_type, version, endpoint, deliveries, T0, T0 + timedelta(hours=hours))


def test_natural_and_catalog_order() -> None:
    assert order_versions(["v10", "v2", "v1"]) == ["v1", "v2", "v10"]
    assert order_versions(["2025-06-01", "2024-11-15"]) == ["2024-11-15", "2025-06-01"]
    assert order_versions(["beta", "stable", "legacy"], ["beta", "stable"]) == ["legacy", "beta", "stable"]


def test_in_flight_share_and_endpoints_behind() -> None:
    uses = [
        use("ep_a", "v2", 30, 10),
        use("ep_b", "v1", 5, 2), use("ep_b", "v2", 5, 9),  # moved to v2: not behind
        use("ep_c", "v1", 10, 10),
        use("ep_z", "v1", 3, 1, event_type="order.created"),
    ]
    subs = [Subscription("ep_c", "invoice.paid", "v1")]
    findings = versions_in_flight(uses, subscriptions=subs)
    assert len(findings) == 1
    finding = findings[0]
    assert finding.status is Status.WARN and finding.subject == "invoice.paid"
    assert "v1 30%, v2 70%" in finding.title
    assert [(r["endpoint"], r["latest_version"], r["pinned_version"]) for r in finding.samples] == [
        ("ep_c", "v1", "v1")]
    assert finding.evidence_dict()["version v1"] == "15 deliveries (30.0%), 2 endpoints"
    assert finding.evidence_dict()["endpoints receiving another version than they pin"] == "none"


def test_pin_mismatch_is_named() -> None:
    uses = [use("ep_a", "v2", 3, 5), use("ep_b", "v1", 2, 6)]
    subs = [Subscription("ep_a", "invoice.paid", "v1"), Subscription("ep_b", "invoice.paid", "v1")]
    [finding] = versions_in_flight(uses, subscriptions=subs)
    assert finding.evidence_dict()["endpoints receiving another version than they pin"] == "ep_a"


def test_summary_when_nothing_is_in_flight() -> None:
    single = [use("ep_a", "v2", 3, 1)]
    assert versions_summary(single, versions_in_flight(single)).status is Status.PASS
    assert versions_summary([], []).status is Status.NOT_APPLICABLE


def test_change_verdicts() -> None:
    breaking = change_finding("invoice.paid", diff_samples([{"a": 1, "memo": "x"}], [{"a": 1}], old_label="v1",
                                                          new_label="v2"), basis="t")
    assert breaking.status is Status.FAIL and breaking.summary == "`memo` (string) was removed."
    additive = change_finding("invoice.paid", diff_samples([{"a": 1}], [{"a": 1, "tax": 2}]), basis="t")
    assert additive.status is Status.PASS and "only additive" in additive.title
    assert change_finding("invoice.paid", diff_samples([{"a": 1}], [{"a": 2}]), basis="t") is None


def test_unmatched_types() -> None:
    removed = unmatched_types_finding(["a.deleted"], [], old_label="v1", new_label="v2", from_schemas=True)
    assert removed.status is Status.FAIL
    samples = unmatched_types_finding(["a.deleted"], ["b.created"], old_label="o", new_label="n", from_schemas=False)
    assert samples.status is Status.NOT_APPLICABLE and samples.sample_total == 2
    assert unmatched_types_finding([], [], old_label="o", new_label="n", from_schemas=True) is None
