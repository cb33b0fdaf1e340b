"""Versions in flight and change verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from diagnostics.analyzers.event_stats import VersionUse
from diagnostics.analyzers.payload_versions import (
    TypeChange,
    change_finding,
    order_versions,
    unmatched_types_finding,
    version_change_findings,
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


def test_one_finding_per_version_move_listing_the_types_it_affects() -> None:
    # Given a release removing `memo` from three types (seen in the catalog and in the log), then an additive one
    removed = diff_samples([{"a": 1, "memo": "x"}], [{"a": 1}], old_label="v1", new_label="v2")
    added = diff_samples([{"a": 1}], [{"a": 1, "tax": 2}], old_label="v2", new_label="v3")
    changes = [TypeChange(t, removed, "catalog schemas") for t in ("order.paid", "invoice.paid", "refund.made")]
    changes += [TypeChange("invoice.paid", removed, "logged payloads", sampled="5 and 7"),
                TypeChange("invoice.paid", added, "catalog schemas"),
                TypeChange("invoice.void", diff_samples([{"a": 1}], [{"a": 2}]), "catalog schemas")]
    # When they are judged
    release, later = version_change_findings(changes)
    # Then the release is one failing finding naming its three types and one distinct breaking change
    evidence = release.evidence_dict()
    assert release.status is Status.FAIL and release.subject == "invoice.paid, order.paid, refund.made"
    assert release.title == "v1 → v2: 1 breaking change across 3 event types"
    assert (evidence["breaking changes"], evidence["event types affected"]) == (1, 3)
    assert evidence["basis"] == "catalog schemas; logged payloads"
    assert release.summary == "`memo` (string) was removed, in 3 event types (invoice.paid, order.paid, refund.made)."
    assert {(r["event_type"], r["basis"], r.get("sampled", "")) for r in release.samples} == {
        ("order.paid", "catalog schemas", ""), ("invoice.paid", "catalog schemas", ""),
        ("refund.made", "catalog schemas", ""), ("invoice.paid", "logged payloads", "5 and 7")}
    # and the additive move passes on its own, for its one type; the unchanged type makes no finding
    assert later.status is Status.PASS and later.title == "invoice.paid: only additive changes from v2 to v3"


def test_unmatched_types() -> None:
    removed = unmatched_types_finding(["a.deleted"], [], old_label="v1", new_label="v2", from_schemas=True)
    assert removed.status is Status.FAIL
    samples = unmatched_types_finding(["a.deleted"], ["b.created"], old_label="o", new_label="n", from_schemas=False)
    assert samples.status is Status.NOT_APPLICABLE and samples.sample_total == 2
    assert unmatched_types_finding([], [], old_label="o", new_label="n", from_schemas=True) is None
