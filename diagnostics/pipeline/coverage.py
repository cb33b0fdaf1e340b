"""Coverage runs: catalog x subscriptions x delivery log (or payload samples) -> findings and matrix.

`run_coverage` loads everything once up front (catalog, subscriptions, the log through
`diagnostics.logs.load_attempts` with the window pushed down, payload samples), aggregates the log
in SQL (`analyzers.event_stats`), then hands plain data to the pure analyzers: coverage, payload
design, schema conformance, versions in flight and breaking changes between versions (catalog
schemas, and logged payloads of each version). `payload_diff` compares two schemas, catalogs or
sample folders directly.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from diagnostics.analyzers.coverage import (
    Observed,
    coverage_matrix,
    never_sent,
    resources_without_events,
    subscribed_never_delivered,
    uncatalogued,
)
from diagnostics.analyzers.event_stats import LogStats, collect_log_stats
from diagnostics.analyzers.event_stats_source import collect_source_stats
from diagnostics.analyzers.payload_design import TypeDesign, judge_types, thin_payload_finding
from diagnostics.analyzers.payload_schema import PayloadObservation, check_payloads
from diagnostics.analyzers.payload_versions import (
    TypeChange,
    change_finding,
    order_versions,
    unmatched_types_finding,
    version_change_findings,
    versions_in_flight,
    versions_summary,
)
from diagnostics.catalog import Catalog, load_catalog, load_schema_file, looks_like_schema, read_document
from diagnostics.errors import InputError
from diagnostics.findings import Finding, Outcome, Severity, Status, sort_findings
from diagnostics.logs import load_attempts
from diagnostics.logs.sources import is_database_url
from diagnostics.logs.timestamps import parse_user_time
from diagnostics.net.databases import parse_database_url
from diagnostics.payloads import PayloadSample, group_by_type, load_payload_samples
from diagnostics.schema_diff import SchemaShaper, Shape, ShapeDiff, diff_shapes, shape_of_samples
from diagnostics.subscriptions import Subscription, load_subscriptions

SOURCE = "pipeline.coverage"
MIN_SAMPLES_PER_VERSION = 3  # fewer logged payloads of a version say too little about its shape


def _window_text(stats: LogStats) -> str:
    start, end = stats.window
    if start is None or end is None:
        return "(no attempts)"
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"


def _relabel_samples(samples: list[PayloadSample], catalog: Catalog) -> list[PayloadSample]:
    """Prefer a catalogued name when the folder layout allows several (`repository_dispatch` rather
    than `repository_dispatch.<custom action>`)."""
    out = []
    for sample in samples:
        folder = Path(sample.source).parent.name
        if sample.event_type and sample.event_type not in catalog and folder in catalog:
            sample = replace(sample, event_type=folder)
        out.append(sample)
    return out


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError, RecursionError):  # a payload too deep to judge is no sample
        return None


def _catalog_version_changes(catalog: Catalog) -> list[TypeChange]:
    """Diff consecutive catalog versions of every type that has several schemas."""
    diffs = []
    shaper = SchemaShaper()
    for et in catalog:
        versions = [v for v in et.versions if v.schema is not None]
        for old, new in itertools.pairwise(versions):
            old_shape = shaper.shape(old.schema, catalog.resolver())  # type: ignore[arg-type]
            new_shape = shaper.shape(new.schema, catalog.resolver())  # type: ignore[arg-type]
            diffs.append(TypeChange(et.name, ShapeDiff(old.name, new.name, tuple(diff_shapes(old_shape, new_shape))),
                                    basis="catalog schemas"))
    return diffs


def _logged_version_changes(stats: LogStats, catalog: Catalog) -> list[TypeChange]:
    """Diff the logged payloads of consecutive versions of each type delivered in several versions."""
    by_type: dict[str, dict[str, list[Any]]] = {}
    for logged in stats.payloads:
        if logged.version is None:
            continue
        payload = _parsed(logged.payload)
        if payload is not None:
            by_type.setdefault(logged.event_type, {}).setdefault(logged.version, []).append(payload)
    changes = []
    for event_type, versions in sorted(by_type.items()):
        usable = {v: p for v, p in versions.items() if len(p) >= MIN_SAMPLES_PER_VERSION}
        et = catalog.event_types.get(event_type)
        ordered = order_versions(usable, et.version_names if et else ())
        for old, new in itertools.pairwise(ordered):
            diff = ShapeDiff(old, new, tuple(diff_shapes(shape_of_samples(usable[old]), shape_of_samples(usable[new]),
                                                          from_samples=True)))
            changes.append(TypeChange(event_type, diff, basis="logged payloads",
                                      sampled=f"{len(usable[old])} and {len(usable[new])}"))
    return changes


def run_coverage(
    *,
    catalog: str | Path,
    subscriptions: str | Path | None = None,
    logs: Sequence[str] = (),
    payloads: str | Path | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    log_options: Mapping[str, Any] | None = None,
    pushdown: bool = True,
) -> Outcome:
    """Event coverage, payload design and payload versions for one catalog.

    Args:
        catalog: catalog file (YAML/JSON) or folder of JSON Schemas.
        subscriptions: CSV/JSON/YAML file or database URL of endpoint subscriptions.
        logs: delivery-log files or database URLs (read with `diagnostics.logs.load_attempts`).
        payloads: folder of sample payload JSON files.
        since, until: the window (datetime, ISO 8601 or epoch text: `parse_user_time`), pushed down to the
            log source.
        log_options: extra keyword arguments for `load_attempts` (source_format, mapping, table, query).
        pushdown: with a single database URL in `logs`, run the aggregates inside that database
            (`analyzers.event_stats_source`) instead of importing the rows first.

    Raises InputError (exit 2) when an input is unusable.
    """
    start = parse_user_time(since, "--since") if since is not None else None
    end = parse_user_time(until, "--until") if until is not None else None
    cat = load_catalog(catalog)
    subs: list[Subscription] = load_subscriptions(subscriptions) if subscriptions else []
    stats, aggregated_in, source_queries = _log_stats(logs, start, end, dict(log_options or {}), pushdown)
    samples = _relabel_samples(load_payload_samples(payloads), cat) if payloads else []
    sample_groups = group_by_type(samples)

    observed: Observed | None = None
    if stats is not None:
        observed = Observed("delivery log", types=stats.types, pairs=stats.pairs, window=_window_text(stats))
    elif samples:
        observed = Observed("payload samples", sample_counts={t: len(s) for t, s in sample_groups.items()},
                            sample_sizes={t: statistics.median(x.size_bytes for x in s)
                                          for t, s in sample_groups.items()},
                            window=str(payloads))
    findings = [resources_without_events(cat), *_coverage_findings(cat, observed, subs)]
    payload_findings, designs, violations = _payload_findings(cat, stats, samples)
    findings += payload_findings
    versions_sent: dict[str, list[str]] | None = None
    changes = _catalog_version_changes(cat)
    if stats is not None:
        version_findings, versions_sent = _version_findings(cat, stats, subs)
        findings += version_findings
        changes += _logged_version_changes(stats, cat)
    findings += version_change_findings(changes)

    matrix = coverage_matrix(
        cat, observed, subs,
        design={t: d.label for t, d in designs.items()} if designs else None,
        violations=violations,
        versions_sent=versions_sent,
    )
    metrics: dict[str, Any] = {
        "catalog": str(catalog),
        "catalogued_types": len(cat),
        "resources": len(cat.resources()),
        "subscriptions": len(subs),
        "basis": observed.basis if observed else "catalog only",
    }
    if stats is not None:
        metrics.update(attempts=stats.total_attempts, window=_window_text(stats),
                       types_sent=len(stats.types), deliveries=sum(t.deliveries for t in stats.types.values()),
                       aggregated_in=aggregated_in)
        if source_queries:
            metrics["source_queries"] = source_queries
    if samples:
        metrics.update(payload_samples=len(samples), sample_types=len(sample_groups))
    metrics["per_type"] = {row["event_type"]: {k: v for k, v in row.items() if k != "event_type"} for row in matrix}
    subject = f"event coverage of {Path(catalog).name}"
    if observed is not None:
        subject += f" against the {observed.basis}" + (f" {observed.window}" if observed.window else "")
    return Outcome(subject=subject, findings=sort_findings(findings), metrics=metrics,
                   tables={"coverage": matrix}, kind="coverage")


def _log_stats(
    logs: Sequence[str], start: datetime | None, end: datetime | None, options: dict[str, Any], pushdown: bool
) -> tuple[LogStats | None, str, list[str]]:
    """The log's aggregates, where they were computed, and the SQL sent to a database source."""
    if not logs:
        return None, "", []
    if pushdown and len(logs) == 1 and is_database_url(logs[0]):
        # One database: aggregate inside it; only aggregates and the payload sample come back.
        executed: list[str] = []
        parse_database_url(logs[0])  # a malformed URL is a one-line InputError, not a ValueError
        stats = collect_source_stats(logs[0], table=options.get("table"), query=options.get("query"),
                                     mapping=options.get("mapping"), since=start, until=end, executed=executed)
        return stats, "the source database", executed
    attempts = load_attempts(list(logs), since=start, until=end, **options)
    try:
        stats = collect_log_stats(attempts)
    finally:
        attempts.conn.close()
    return stats, "DuckDB (after a filtered import)", list(attempts.source_queries)


def _coverage_findings(catalog: Catalog, observed: Observed | None, subs: Sequence[Subscription]) -> list[Finding]:
    if observed is None:
        return [Finding(
            code="event-type-never-sent", status=Status.NOT_APPLICABLE, severity=Severity.INFO,
            title="No delivery log or payload samples to compare with the catalog",
            summary="Give --log or --payloads to see which catalogued types were sent.", source=SOURCE,
        )]
    findings = [never_sent(catalog, observed, subs), uncatalogued(catalog, observed)]
    if subs:
        findings.append(subscribed_never_delivered(catalog, subs, observed))
    return findings


def _payload_findings(
    catalog: Catalog, stats: LogStats | None, samples: Sequence[PayloadSample]
) -> tuple[list[Finding], dict[str, TypeDesign], dict[str, int] | None]:
    """Design and schema judgments over the logged payload sample plus the sample files."""
    observations: list[PayloadObservation] = []
    payloads_by_type: dict[str, list[Any]] = {}
    for logged in stats.payloads if stats is not None else ():
        observations.append(PayloadObservation(logged.event_type, logged.payload, logged.event_id,
                                               logged.version, logged.attempted_at, is_text=True))
        parsed = _parsed(logged.payload)
        if parsed is not None:
            payloads_by_type.setdefault(logged.event_type, []).append(parsed)
    for sample in samples:
        if sample.event_type:
            observations.append(PayloadObservation(sample.event_type, sample.payload, sample.source, sample.version))
            payloads_by_type.setdefault(sample.event_type, []).append(sample.payload)
    designs = judge_types(payloads_by_type)
    if not observations:
        return [], designs, None
    basis = " and ".join(b for b, on in (("delivery log", stats is not None), ("payload samples", bool(samples))) if on)
    sampled_from = sum(stats.payload_groups.values()) if stats is not None else None
    violation, violations = check_payloads(catalog, observations, basis=basis, sampled_from=sampled_from)
    return [thin_payload_finding(designs, basis=basis), violation], designs, violations


def _version_findings(
    catalog: Catalog, stats: LogStats, subs: Sequence[Subscription]
) -> tuple[list[Finding], dict[str, list[str]]]:
    """Versions in flight and the versions sent per type."""
    order = {et.name: list(et.version_names) for et in catalog}
    in_flight = versions_in_flight(stats.versions, catalog_order=order, subscriptions=subs,
                                   window=_window_text(stats))
    findings = in_flight or [versions_summary(stats.versions, in_flight)]
    sent: dict[str, set[str]] = {}
    for use in stats.versions:
        sent.setdefault(use.event_type, set()).add(use.version)
    versions_sent = {t: order_versions(v, order.get(t, ())) for t, v in sent.items()}
    return findings, versions_sent


# --- payload-diff ----------------------------------------------------------------------------------


def _catalog_shapes(catalog: Catalog) -> dict[str, Shape | None]:
    """The newest schema's shape of every catalogued type (None: the type has no schema)."""
    out: dict[str, Shape | None] = {}
    shaper = SchemaShaper()  # shared: the catalog's types reuse the same components
    for et in catalog:
        latest = et.latest
        out[et.name] = shaper.shape(latest.schema, catalog.resolver()) if latest and latest.schema else None
    return out


def _side(path: str | Path) -> tuple[dict[str, Shape | None], bool]:
    """Shapes per event type of one side, and whether they come from samples (True) or schemas."""
    p = Path(path)
    if not p.exists():
        raise InputError("not found (expected a schema file, a catalog, or a folder of payloads)", file=str(p))
    if p.is_dir():
        files = [f for f in p.rglob("*.json") if f.name != "index.json"]
        if any(f.name.endswith(".schema.json") for f in files) or any(
            looks_like_schema(read_document(f)) for f in files[:20]
        ):
            return _catalog_shapes(load_catalog(p)), False
        groups = group_by_type(load_payload_samples(p))
        return {t: shape_of_samples([s.payload for s in group]) for t, group in groups.items()}, True
    document = read_document(p)
    if isinstance(document, Mapping) and "event_types" in document:
        return _catalog_shapes(load_catalog(p)), False
    if looks_like_schema(document):
        schema, resolver = load_schema_file(p)
        return {"": SchemaShaper().shape(schema, resolver)}, False
    return {"": shape_of_samples([document])}, True


def payload_diff(old: str | Path, new: str | Path) -> Outcome:
    """Compare two payload versions: schema files, catalogs or sample folders (mixed is allowed)."""
    old_label, new_label = Path(old).name or str(old), Path(new).name or str(new)
    if old_label == new_label:
        old_label, new_label = str(old), str(new)
    old_shapes, old_samples = _side(old)
    new_shapes, new_samples = _side(new)
    from_samples = old_samples or new_samples
    if set(old_shapes) == {""} and len(new_shapes) == 1:
        old_shapes = {next(iter(new_shapes)): old_shapes[""]}
    if set(new_shapes) == {""} and len(old_shapes) == 1:
        new_shapes = {next(iter(old_shapes)): new_shapes[""]}
    findings: list[Finding] = []
    rows: list[dict[str, Any]] = []
    unchanged = []
    without_schema = []
    for event_type in sorted(set(old_shapes) & set(new_shapes)):
        old_shape, new_shape = old_shapes[event_type], new_shapes[event_type]
        if old_shape is None or new_shape is None:
            without_schema.append(event_type)
            continue
        diff = ShapeDiff(old_label, new_label, tuple(diff_shapes(old_shape, new_shape, from_samples=from_samples)))
        name = event_type or "payload"
        finding = change_finding(name, diff, basis="sample payloads" if from_samples else "JSON Schemas")
        if finding is None:
            unchanged.append(name)
            continue
        findings.append(finding)
        rows += [{"event_type": name, **change.to_row()} for change in diff.changes]
    unmatched = unmatched_types_finding(
        sorted(set(old_shapes) - set(new_shapes)), sorted(set(new_shapes) - set(old_shapes)),
        old_label=old_label, new_label=new_label, from_schemas=not from_samples,
    )
    if unmatched is not None:
        findings.append(unmatched)
    if unchanged:
        findings.append(Finding(
            code="breaking-payload-change", status=Status.PASS, severity=Severity.INFO,
            title=f"{len(unchanged)} event type{'s' if len(unchanged) != 1 else ''} unchanged",
            summary=f"No difference in shape between {old_label} and {new_label} for these types.",
            subject="event types", evidence=[("unchanged", ", ".join(unchanged[:30]))],
            samples=[{"event_type": t} for t in unchanged], sample_total=len(unchanged), source=SOURCE,
        ))
    if without_schema:
        findings.append(Finding(
            code="breaking-payload-change", status=Status.NOT_APPLICABLE, severity=Severity.INFO,
            title=f"{len(without_schema)} event type{'s' if len(without_schema) != 1 else ''} without a schema",
            summary="These event types are catalogued on both sides, but at least one side has no schema to compare.",
            subject="event types without a schema", evidence=[("event types", ", ".join(without_schema[:30]))],
            samples=[{"event_type": t} for t in without_schema], sample_total=len(without_schema), source=SOURCE,
        ))
    breaking = [f for f in findings if f.status is Status.FAIL]
    metrics = {
        "old": str(old), "new": str(new), "basis": "sample payloads" if from_samples else "JSON Schemas",
        "types_compared": len(set(old_shapes) & set(new_shapes)) - len(without_schema),
        "types_with_breaking_changes": len(breaking),
        "breaking_changes": sum(1 for r in rows if r["breaking"]), "additive_changes": sum(
            1 for r in rows if not r["breaking"]),
    }
    return Outcome(subject=f"payload changes from {old_label} to {new_label}", findings=sort_findings(findings),
                   metrics=metrics, tables={"changes": rows}, kind="payload-diff")
