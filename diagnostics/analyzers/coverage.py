"""Event coverage: catalog versus what was sent versus what endpoints subscribe to.

Pure functions over the catalog's names, the per-type counts from the log (or, without a log, the
event types seen in payload samples) and the subscriptions. They answer Product Ops' first
questions: which catalogued types never fire, which fire without being documented, which
subscriptions never receive anything, and which resources lack a lifecycle event that their
siblings have (the gap that makes customers poll).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from diagnostics.analyzers.event_stats import UNTYPED, TypeStats
from diagnostics.catalog import Catalog, action_of
from diagnostics.findings import Finding, Severity, Status
from diagnostics.subscriptions import Subscription, subscribers

SOURCE = "analyzers.coverage"

# Lifecycle stages by the action word that signals them. "Deleted" includes terminal states
# (closed, archived, cancelled): the event a consumer needs to stop tracking the object.
LIFECYCLE: dict[str, frozenset[str]] = {
    "created": frozenset({"created", "create", "opened", "added", "published", "registered", "purchased"}),
    "updated": frozenset({"updated", "update", "edited", "changed", "modified"}),
    "deleted": frozenset({"deleted", "delete", "removed", "destroyed", "closed", "archived", "cancelled",
                          "canceled", "withdrawn"}),
}


@dataclass(frozen=True)
class Observed:
    """What fired: per-type stats from the log, or the types seen in samples when there is no log."""

    basis: str  # "delivery log" or "payload samples"
    types: Mapping[str, TypeStats] = field(default_factory=dict)
    sample_counts: Mapping[str, int] = field(default_factory=dict)
    sample_sizes: Mapping[str, float] = field(default_factory=dict)  # median bytes per type, samples only
    pairs: Mapping[tuple[str, str], int] = field(default_factory=dict)
    window: str = ""

    def count(self, event_type: str) -> int:
        if self.types:
            stats = self.types.get(event_type)
            return stats.deliveries if stats else 0
        return self.sample_counts.get(event_type, 0)

    @property
    def names(self) -> set[str]:
        return set(self.types or self.sample_counts) - {UNTYPED}

    @property
    def noun(self) -> str:
        return "deliveries" if self.basis == "delivery log" else "samples"

    @property
    def noun_one(self) -> str:
        return "delivery" if self.basis == "delivery log" else "sample"


def _examined(observed: Observed) -> str:
    return f"{observed.basis}{' ' + observed.window if observed.window else ''}"


def never_sent(catalog: Catalog, observed: Observed, subscriptions: Sequence[Subscription] = ()) -> Finding:
    """Catalogued event types with no delivery (or sample) at all."""
    missing = [name for name in catalog.names if observed.count(name) == 0]
    evidence = [
        ("basis", _examined(observed)),
        ("catalogued event types", len(catalog)),
        (f"types with {observed.noun}", len(catalog) - len(missing)),
        ("types never seen", len(missing)),
    ]
    if not missing:
        return Finding(
            code="event-type-never-sent", status=Status.PASS, severity=Severity.INFO,
            title="Every catalogued event type was sent",
            summary=f"All {len(catalog)} catalogued event types appear in the {observed.basis}.",
            subject=str(catalog.path), evidence=evidence, source=SOURCE,
        )
    rows = []
    for name in missing:
        et = catalog.event_types[name]
        subs = subscribers(subscriptions, name) if subscriptions else set()
        rows.append({"event_type": name, "resource": et.resource, "endpoints_subscribed": len(subs)})
    rows.sort(key=lambda r: (-r["endpoints_subscribed"], r["event_type"]))
    subscribed_missing = sum(1 for r in rows if r["endpoints_subscribed"])
    if subscriptions:
        evidence.append(("never-seen types that endpoints subscribe to", subscribed_missing))
    return Finding(
        code="event-type-never-sent", status=Status.WARN, severity=Severity.MEDIUM,
        title=f"{len(missing)} catalogued event type{'s' if len(missing) != 1 else ''} never sent",
        summary=(
            f"{len(missing)} of {len(catalog)} catalogued event types have no {observed.noun_one}"
            f" in the {observed.basis}"
            + (f"; {subscribed_missing} of them have subscribers waiting." if subscribed_missing else ".")
        ),
        subject=str(catalog.path), evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    )


def uncatalogued(catalog: Catalog, observed: Observed) -> Finding:
    """Event types that were sent but are missing from the catalog."""
    extra = sorted(observed.names - set(catalog.names))
    evidence = [("basis", _examined(observed)), ("event types seen", len(observed.names)),
                ("not in the catalog", len(extra))]
    if not extra:
        return Finding(
            code="event-type-uncatalogued", status=Status.PASS, severity=Severity.INFO,
            title="Every event type sent is in the catalog",
            summary=f"All {len(observed.names)} event types in the {observed.basis} are catalogued.",
            subject=str(catalog.path), evidence=evidence, source=SOURCE,
        )
    rows = [{"event_type": name, observed.noun: observed.count(name)} for name in extra]
    rows.sort(key=lambda r: (-r[observed.noun], r["event_type"]))
    total = sum(r[observed.noun] for r in rows)
    evidence.append((f"{observed.noun} of uncatalogued types", total))
    return Finding(
        code="event-type-uncatalogued", status=Status.FAIL, severity=Severity.HIGH,
        title=f"{len(extra)} event type{'s' if len(extra) != 1 else ''} sent but not in the catalog",
        summary=(
            f"{len(extra)} event type{'s' if len(extra) != 1 else ''} ({total:,} {observed.noun}) reached customers "
            "without a catalog entry, "
            f"so there is no documented schema for them; the most frequent is {rows[0]['event_type']!r}."
        ),
        subject=str(catalog.path), evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    )


def subscribed_never_delivered(
    catalog: Catalog | None, subscriptions: Sequence[Subscription], observed: Observed
) -> Finding:
    """Explicit subscriptions (not patterns) whose endpoint received no event of that type."""
    explicit = [s for s in subscriptions if not s.is_pattern]
    evidence: list[tuple[str, Any]] = [("basis", _examined(observed)), ("subscriptions", len(subscriptions)),
                                       ("explicit (non-pattern) subscriptions", len(explicit))]
    rows = []
    for sub in explicit:
        if observed.pairs.get((sub.endpoint, sub.event_type), 0):
            continue
        if catalog is not None and sub.event_type not in catalog:
            reason = "not in the catalog (a typo, or a retired type)"
        elif observed.count(sub.event_type):
            reason = f"sent {observed.count(sub.event_type):,} times, to other endpoints only"
        else:
            reason = "never sent to any endpoint in the window"
        rows.append({"endpoint": sub.endpoint, "event_type": sub.event_type,
                     "payload_version": sub.payload_version or "", "reason": reason})
    rows.sort(key=lambda r: (r["reason"], r["endpoint"], r["event_type"]))
    evidence.append(("subscriptions that received nothing", len(rows)))
    endpoints = sorted({r["endpoint"] for r in rows})
    if not rows:
        return Finding(
            code="subscribed-never-delivered", status=Status.PASS, severity=Severity.INFO,
            title="Every subscription received its events",
            summary=f"Each of the {len(explicit)} explicit subscriptions received at least one delivery.",
            subject=_examined(observed), evidence=evidence, source=SOURCE,
        )
    evidence.append(("endpoints affected", len(endpoints)))
    return Finding(
        code="subscribed-never-delivered", status=Status.WARN, severity=Severity.MEDIUM,
        title=f"{len(rows)} subscription{'s' if len(rows) != 1 else ''} never received an event",
        summary=(
            f"{len(rows)} of {len(explicit)} subscriptions across {len(endpoints)} endpoint"
            f"{'s' if len(endpoints) != 1 else ''} received no delivery of the subscribed type in the window."
        ),
        subject=_examined(observed), evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    )


def lifecycle_stages(actions: Iterable[str]) -> set[str]:
    """Which lifecycle stages (created/updated/deleted) a set of action words covers."""
    words = {a.lower() for a in actions}
    return {stage for stage, synonyms in LIFECYCLE.items() if words & synonyms}


def resources_without_events(catalog: Catalog) -> Finding:
    """Resources with two lifecycle stages that lack a third one their siblings have.

    The siblings are the resources with at least two stages; a stage is expected when at least
    half of them have it. Resources with a single event (`push`, `ping`) are not judged: they are
    notifications, not mirrored objects.
    """
    stages_by_resource = {
        resource: lifecycle_stages(action_of(et.name) for et in types)
        for resource, types in catalog.resources().items()
    }
    lifecycle_resources = {r: s for r, s in stages_by_resource.items() if s}
    siblings = {r: s for r, s in lifecycle_resources.items() if len(s) >= 2}
    expected = {
        stage for stage in LIFECYCLE
        if siblings and sum(1 for s in siblings.values() if stage in s) * 2 >= len(siblings)
    }
    rows = []
    for resource, stages in siblings.items():
        lacking = sorted(expected - stages, key=list(LIFECYCLE).index)
        if lacking:
            names = [et.name for et in catalog.resources()[resource]]
            rows.append({"resource": resource, "has": ", ".join(s for s in LIFECYCLE if s in stages),
                         "lacks": ", ".join(lacking), "event_types": ", ".join(names[:8])})
    evidence = [("resources in the catalog", len(stages_by_resource)),
                ("resources with lifecycle events", len(lifecycle_resources)),
                ("resources with two or more stages", len(siblings)),
                ("stages most of those have", ", ".join(s for s in LIFECYCLE if s in expected) or "none"),
                ("resources lacking one", len(rows))]
    if not rows:
        return Finding(
            code="resource-without-events", status=Status.PASS, severity=Severity.INFO,
            title="Resources have complete lifecycle events",
            summary="No resource with lifecycle events lacks a stage its siblings have.",
            subject=str(catalog.path), evidence=evidence, source=SOURCE,
        )
    first = rows[0]
    return Finding(
        code="resource-without-events", status=Status.WARN, severity=Severity.LOW,
        title=f"{len(rows)} resource{'s lack' if len(rows) != 1 else ' lacks'} a lifecycle event",
        summary=(
            f"{len(rows)} resource{'s have' if len(rows) != 1 else ' has'} some lifecycle events but not all that "
            "their siblings have "
            f"(e.g. {first['resource']!r} has {first['has']} but no {first['lacks']} event), "
            "so customers must poll to notice that change."
        ),
        subject=str(catalog.path), evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    )


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def coverage_matrix(
    catalog: Catalog,
    observed: Observed | None,
    subscriptions: Sequence[Subscription] = (),
    *,
    design: Mapping[str, str] | None = None,
    violations: Mapping[str, int] | None = None,
    versions_sent: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """One row per event type (catalogued, sent or subscribed): the coverage matrix."""
    names = set(catalog.names)
    if observed is not None:
        names |= observed.names
    names |= {s.event_type for s in subscriptions if not s.is_pattern}
    rows = []
    for name in sorted(names):
        et = catalog.event_types.get(name)
        stats = observed.types.get(name) if observed is not None else None
        row: dict[str, Any] = {
            "event_type": name,
            "resource": et.resource if et else "",
            "in_catalog": "yes" if et else "no",
            "catalog_versions": ", ".join(v for v in (et.version_names if et else ()) if v != "current"),
            "sent": observed.count(name) if observed is not None else "",
            "endpoints_subscribed": len(subscribers(subscriptions, name)) if subscriptions else "",
        }
        if observed is not None and observed.types:
            row["endpoints_reached"] = stats.endpoints if stats else 0
            row["success_rate"] = _pct(stats.success_rate) if stats else ""
            row["p95_ms"] = _num(stats.p95_ms) if stats else ""
            row["median_payload_bytes"] = _num(stats.median_payload_bytes) if stats else ""
        elif observed is not None:
            row["median_payload_bytes"] = _num(observed.sample_sizes.get(name))
        if versions_sent is not None:
            row["versions_sent"] = ", ".join(versions_sent.get(name, ()))
        if design is not None:
            row["payload_design"] = design.get(name, "")
        if violations is not None:
            row["schema_violations"] = violations.get(name, 0) if name in (design or {}) or violations.get(name) else ""
        rows.append(row)
    return rows
