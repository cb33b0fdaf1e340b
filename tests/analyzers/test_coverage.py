"""Coverage findings from the catalog, observed types and subscriptions (pure, hand-built inputs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.analyzers.coverage import (
    Observed,
    coverage_matrix,
    lifecycle_stages,
    never_sent,
    resources_without_events,
    subscribed_never_delivered,
    uncatalogued,
)
from diagnostics.analyzers.event_stats import TypeStats
from diagnostics.catalog import load_catalog
from diagnostics.findings import Status
from diagnostics.subscriptions import Subscription, load_subscriptions
from tests.support.shared import GITHUB_SCHEMAS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "coverage"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FIXTURES / "catalog.yaml")


def stats(event_type: str, deliveries: int, succeeded: int | None = None, endpoints: int = 1) -> TypeStats:
    return TypeStats(event_type, deliveries, deliveries, deliveries, endpoints,
                     deliveries if succeeded is None else succeeded, 120.0, 300.0, None, None)


SENT = {t: stats(t, n) for t, n in {"invoice.paid": 10, "invoice.created": 4, "customer.created": 2,
                                     "order.created": 1, "webhook.test": 3}.items()}


def test_never_sent_lists_catalogued_types_without_deliveries(catalog) -> None:
    subs = [Subscription("ep_1", "customer.deleted"), Subscription("ep_2", "customer.*")]
    finding = never_sent(catalog, Observed("delivery log", types=SENT), subs)
    assert finding.status is Status.WARN
    missing = {row["event_type"] for row in finding.samples}
    assert missing == set(catalog.names) - set(SENT)
    assert finding.samples[0] == {"event_type": "customer.deleted", "resource": "customer", "endpoints_subscribed": 2}
    assert finding.evidence_dict()["types never seen"] == len(missing)


def test_never_sent_passes_when_every_type_fired(catalog) -> None:
    everything = {t: stats(t, 1) for t in catalog.names}
    assert never_sent(catalog, Observed("delivery log", types=everything)).status is Status.PASS


def test_uncatalogued_counts_deliveries(catalog) -> None:
    finding = uncatalogued(catalog, Observed("delivery log", types=SENT))
    assert finding.status is Status.FAIL
    assert finding.samples == ({"event_type": "webhook.test", "deliveries": 3},)


def test_samples_basis_uses_sample_counts(catalog) -> None:
    observed = Observed("payload samples", sample_counts={"invoice.paid": 2, "x.y": 1})
    assert uncatalogued(catalog, observed).samples == ({"event_type": "x.y", "samples": 1},)
    assert "no sample in the payload samples" in never_sent(catalog, observed).summary


def test_subscribed_never_delivered_gives_the_reason(catalog) -> None:
    subs = [
        Subscription("ep_1", "invoice.paid"),  # delivered
        Subscription("ep_2", "invoice.paid"),  # sent, but only to ep_1
        Subscription("ep_2", "customer.deleted"),  # never sent
        Subscription("ep_3", "invoice.refund"),  # typo: not in the catalog
        Subscription("ep_3", "invoice.*"),  # patterns are not judged
    ]
    observed = Observed("delivery log", types=SENT, pairs={("ep_1", "invoice.paid"): 10})
    finding = subscribed_never_delivered(catalog, subs, observed)
    reasons = {(r["endpoint"], r["event_type"]): r["reason"] for r in finding.samples}
    assert set(reasons) == {("ep_2", "invoice.paid"), ("ep_2", "customer.deleted"), ("ep_3", "invoice.refund")}
    assert reasons[("ep_2", "invoice.paid")] == "sent 10 times, to other endpoints only"
    assert reasons[("ep_2", "customer.deleted")] == "never sent to any endpoint in the window"
    assert reasons[("ep_3", "invoice.refund")].startswith("not in the catalog")
    assert finding.evidence_dict()["endpoints affected"] == 2


def test_lifecycle_words() -> None:
    assert lifecycle_stages(["opened", "edited", "closed"]) == {"created", "updated", "deleted"}
    assert lifecycle_stages(["paid", "refunded"]) == set()


def test_resource_lacking_deleted_is_found(catalog) -> None:
    # customer has created/updated/deleted; order only created/updated (planted in catalog.yaml).
    finding = resources_without_events(catalog)
    assert finding.status is Status.WARN
    assert finding.samples == ({"resource": "order", "has": "created, updated", "lacks": "deleted",
                                "event_types": "order.created, order.updated"},)


@pytest.mark.skipif(not GITHUB_SCHEMAS.is_dir(), reason="GitHub webhook data not present")
def test_github_resources_without_events() -> None:
    # Checked by hand against the schema folder: GitHub has `package.published` and
    # `package.updated` but no package deletion event, and stars cannot be edited.
    finding = resources_without_events(load_catalog(GITHUB_SCHEMAS))
    lacking = {row["resource"]: row["lacks"] for row in finding.samples}
    assert lacking["package"] == "deleted" and lacking["registry_package"] == "deleted"
    assert lacking["star"] == "updated"
    assert "issues" not in lacking and "pull_request" not in lacking  # opened, edited, closed


def test_matrix_rows_cover_catalog_sent_and_subscribed(catalog) -> None:
    subs = load_subscriptions(FIXTURES / "subscriptions.csv")
    observed = Observed("delivery log", types={**SENT, "invoice.paid": stats("invoice.paid", 10, 9, 3)})
    rows = {r["event_type"]: r for r in coverage_matrix(catalog, observed, subs, design={"invoice.paid": "full"})}
    assert set(rows) == set(catalog.names) | {"webhook.test", "invoice.refunded"}
    paid = rows["invoice.paid"]
    assert paid["sent"] == 10 and paid["success_rate"] == "90.0%" and paid["endpoints_reached"] == 3
    assert paid["endpoints_subscribed"] == 4 and paid["catalog_versions"] == "v1, v2"
    assert paid["payload_design"] == "full" and paid["p95_ms"] == "120"
    assert rows["webhook.test"]["in_catalog"] == "no"
    assert rows["customer.deleted"]["sent"] == 0 and rows["customer.deleted"]["success_rate"] == ""
