"""Payload versions: which versions of a type are in flight, and what changed between them.

*In flight*: more than one payload version of one event type was delivered in the window. We give
the share of each version and the endpoints whose latest delivery still used an older version
(with the version their subscription pins, when subscriptions are known): the list Product Ops
needs before retiring the old one.

*Breaking change*: the result of `schema_diff` between two versions of a type, as a finding: fail
when a change can break a consumer's parser, pass when every change is additive. A release moves
many types from one version to the next at once, so `version_change_findings` gives one finding
per move (old version to new), listing every type it affects and what each basis (catalog
schemas, logged payloads) saw, rather than one near-identical finding per type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnostics.analyzers.event_stats import VersionUse
from diagnostics.findings import Finding, Severity, Status
from diagnostics.schema_diff import Change, ShapeDiff
from diagnostics.subscriptions import Subscription

SOURCE = "analyzers.payload_versions"


def version_key(version: str) -> tuple[Any, ...]:
    """Natural order: v2 < v10, 2024-01-01 < 2024-06-01."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version) if part)


def order_versions(versions: Iterable[str], known_order: Sequence[str] = ()) -> list[str]:
    """Versions oldest first. The catalog's order wins for the versions it lists; the others come
    before them in natural order (a version the catalog does not list is most often a retired one)."""
    present = set(versions)
    listed = [v for v in known_order if v in present]
    rest = sorted(present - set(listed), key=version_key)
    return rest + listed


def versions_in_flight(
    uses: Sequence[VersionUse],
    *,
    catalog_order: Mapping[str, Sequence[str]] | None = None,
    subscriptions: Sequence[Subscription] = (),
    window: str = "",
) -> list[Finding]:
    """One finding per event type delivered in more than one payload version."""
    by_type: dict[str, list[VersionUse]] = {}
    for use in uses:
        by_type.setdefault(use.event_type, []).append(use)
    pins = {(s.endpoint, s.event_type): s.payload_version for s in subscriptions if s.payload_version}
    findings = []
    for event_type, rows in sorted(by_type.items()):
        totals: dict[str, int] = {}
        for use in rows:
            totals[use.version] = totals.get(use.version, 0) + use.deliveries
        if len(totals) < 2:
            continue
        ordered = order_versions(totals, (catalog_order or {}).get(event_type, ()))
        newest = ordered[-1]
        all_deliveries = sum(totals.values())
        latest_by_endpoint: dict[str, VersionUse] = {}
        for use in rows:
            current = latest_by_endpoint.get(use.endpoint)
            if current is None or (use.last_seen, version_key(use.version)) > (current.last_seen,
                                                                               version_key(current.version)):
                latest_by_endpoint[use.endpoint] = use
        behind = sorted(
            (u for u in latest_by_endpoint.values() if u.version != newest),
            key=lambda u: (version_key(u.version), u.endpoint),
        )
        shares = ", ".join(f"{v} {totals[v] * 100 / all_deliveries:.0f}%" for v in ordered)
        evidence: list[tuple[str, Any]] = [("event type", event_type), ("window", window)] if window else [
            ("event type", event_type)]
        for v in ordered:
            endpoints = len({u.endpoint for u in rows if u.version == v})
            evidence.append((f"version {v}", f"{totals[v]:,} deliveries ({totals[v] * 100 / all_deliveries:.1f}%), "
                                             f"{endpoints} endpoints"))
        evidence.append(("newest version", newest))
        evidence.append(("endpoints still on an older version", len(behind)))
        mismatched = sorted(e for e, u in latest_by_endpoint.items()
                            if pins.get((e, event_type)) not in (None, u.version))
        if pins:
            evidence.append(("endpoints receiving another version than they pin", ", ".join(mismatched) or "none"))
        samples = [
            {"endpoint": u.endpoint, "latest_version": u.version, "deliveries": u.deliveries,
             "last_seen": u.last_seen.isoformat() if u.last_seen else "",
             "pinned_version": pins.get((u.endpoint, event_type), "")}
            for u in behind
        ]
        findings.append(Finding(
            code="payload-versions-in-flight", status=Status.WARN, severity=Severity.LOW,
            title=f"{event_type}: {len(ordered)} payload versions in flight ({shares})",
            summary=(
                f"{event_type} was delivered in {len(ordered)} payload versions; "
                + (f"{len(behind)} endpoint{'s' if len(behind) != 1 else ''} still received "
                   f"{', '.join(ordered[:-1])} most recently." if behind else
                   f"every endpoint's latest delivery used {newest}, but older versions were still sent.")
            ),
            subject=event_type, evidence=evidence, samples=samples, sample_total=len(samples), source=SOURCE,
        ))
    return findings


def versions_summary(uses: Sequence[VersionUse], in_flight: Sequence[Finding]) -> Finding:
    """The pass (or not-applicable) verdict when no type has several versions in flight."""
    types = {u.event_type for u in uses}
    if not uses:
        return Finding(
            code="payload-versions-in-flight", status=Status.NOT_APPLICABLE, severity=Severity.INFO,
            title="The log records no payload versions",
            summary="No attempt carried a payload_version, so versions in flight cannot be told.",
            evidence=[("attempts with a payload version", 0)], source=SOURCE,
        )
    return Finding(
        code="payload-versions-in-flight", status=Status.PASS, severity=Severity.INFO,
        title="One payload version per event type",
        summary=f"Each of the {len(types)} versioned event types was delivered in a single version.",
        evidence=[("versioned event types", len(types)), ("types with several versions", len(in_flight))],
        source=SOURCE,
    )


def change_finding(event_type: str, diff: ShapeDiff, *, basis: str) -> Finding | None:
    """The verdict on one type's change from `diff.old_label` to `diff.new_label` (None if identical)."""
    findings = version_change_findings([TypeChange(event_type, diff, basis)])
    return findings[0] if findings else None


@dataclass(frozen=True)
class TypeChange:
    """What one event type's move from one version to the next changed, and what showed it."""

    event_type: str
    diff: ShapeDiff
    basis: str  # "catalog schemas", "logged payloads"
    sampled: str = ""  # for logged payloads: how many of each version were compared


def version_change_findings(changes: Sequence[TypeChange]) -> list[Finding]:
    """One finding per payload change (a move from one version to the next), in first-seen order."""
    moves: dict[tuple[str, str], list[TypeChange]] = {}
    for change in changes:
        if change.diff.changes:
            moves.setdefault((change.diff.old_label, change.diff.new_label), []).append(change)
    return [_version_change(old, new, members) for (old, new), members in moves.items()]


def _distinct(changes: Iterable[Change]) -> list[Change]:
    """The same field changed the same way in several types (or seen by both bases) counts once."""
    seen: dict[tuple[str, str], Change] = {}
    for change in changes:
        seen.setdefault((change.kind, change.path), change)
    return list(seen.values())


def _version_change(old: str, new: str, members: Sequence[TypeChange]) -> Finding:
    types = sorted({m.event_type for m in members})
    bases = list(dict.fromkeys(m.basis for m in members))
    all_changes = [c for m in members for c in m.diff.changes]
    breaking = _distinct(c for c in all_changes if c.breaking)
    additive = _distinct(c for c in all_changes if not c.breaking)
    broken_types = sorted({m.event_type for m in members if m.diff.breaking})
    evidence: list[tuple[str, Any]] = [
        ("compared", f"{old} → {new}"), ("basis", "; ".join(bases)),
        ("event types affected", len(types)), ("event types", ", ".join(types)),
        ("breaking changes", len(breaking)), ("additive changes", len(additive)),
    ]
    kinds: dict[str, int] = {}
    for change in breaking:
        kinds[change.kind] = kinds.get(change.kind, 0) + 1
    evidence += [(f"breaking: {kind}", count) for kind, count in sorted(kinds.items())]
    if breaking and broken_types != types:
        evidence.append(("event types with a breaking change", ", ".join(broken_types)))
    rows = [{"event_type": m.event_type, "basis": m.basis, **({"sampled": m.sampled} if m.sampled else {}),
             **c.to_row()} for m in members for c in m.diff.changes]
    samples = sorted(rows, key=lambda r: (not r["breaking"], r["event_type"], r["basis"]))  # breaking ones shown first
    where = types[0] if len(types) == 1 else f"{old} → {new}"
    across = "" if len(types) == 1 else f" across {len(types)} event types"
    subject = ", ".join(types)
    if not breaking:
        return Finding(
            code="breaking-payload-change", status=Status.PASS, severity=Severity.INFO,
            title=f"{where}: only additive changes{across}" + (f" from {old} to {new}" if len(types) == 1 else ""),
            summary=f"{len(additive)} additive change{'s' if len(additive) != 1 else ''}, e.g. {additive[0].detail}.",
            subject=subject, evidence=evidence, samples=samples, sample_total=len(samples), source=SOURCE,
        )
    first = breaking[0].detail
    more = len(breaking) - 1
    return Finding(
        code="breaking-payload-change", status=Status.FAIL, severity=Severity.HIGH,
        title=f"{where}: {len(breaking)} breaking change{'s' if len(breaking) != 1 else ''}{across}"
              + (f" from {old} to {new}" if len(types) == 1 else ""),
        summary=f"{first[0].upper()}{first[1:]}"
                + (f", and {more} more breaking change{'s' if more != 1 else ''}" if more else "")
                + (f", in {len(broken_types)} event types ({', '.join(broken_types[:5])}"
                   f"{' …' if len(broken_types) > 5 else ''})." if len(types) > 1 else "."),
        subject=subject, evidence=evidence, samples=samples, sample_total=len(samples), source=SOURCE,
    )


def unmatched_types_finding(
    only_old: Sequence[str], only_new: Sequence[str], *, old_label: str, new_label: str, from_schemas: bool
) -> Finding | None:
    """Event types present on one side only: removed types break consumers (schemas); with samples
    a missing side only means there is nothing to compare."""
    if not only_old and not only_new:
        return None
    rows = [{"event_type": t, "present_in": old_label, "missing_from": new_label} for t in only_old]
    rows += [{"event_type": t, "present_in": new_label, "missing_from": old_label} for t in only_new]
    evidence = [(f"only in {old_label}", len(only_old)), (f"only in {new_label}", len(only_new))]
    if from_schemas and only_old:
        return Finding(
            code="breaking-payload-change", status=Status.FAIL, severity=Severity.HIGH,
            title=f"{len(only_old)} event type{'s' if len(only_old) != 1 else ''} removed in {new_label}",
            summary=f"{', '.join(only_old[:5])}{' …' if len(only_old) > 5 else ''} exist in {old_label} "
                    f"but not in {new_label}: subscribers to them will stop receiving events.",
            subject="event types", evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
        )
    return Finding(
        code="breaking-payload-change", status=Status.NOT_APPLICABLE, severity=Severity.INFO,
        title=f"{len(rows)} event type{'s' if len(rows) != 1 else ''} could not be compared",
        summary=f"These event types have {'schemas' if from_schemas else 'samples'} on one side only.",
        subject="event types", evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    )
