"""Payload schema conformance: do payloads validate against their type's schema in the catalog?

Each payload is validated with the catalog's compiled validator for its (type, version). Every
error is reduced to the field it concerns (`issue.reactions` for a missing required property,
the unexpected key for `additionalProperties`, the deepest branch for anyOf/oneOf) and a short
rule, then counted per (type, version, field, rule) with the first and last time it was seen,
so the finding says which field breaks, how often, and since when.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from diagnostics.catalog import Catalog
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.payload_schema"
MAX_ERRORS_PER_PAYLOAD = 25


@dataclass(frozen=True)
class PayloadObservation:
    """One payload to check: parsed already (samples) or as logged text (parsed here)."""

    event_type: str
    payload: Any
    source: str
    version: str | None = None
    seen_at: datetime | None = None
    is_text: bool = False


@dataclass
class _Tally:
    payloads: set[str]
    first_seen: datetime | None
    last_seen: datetime | None
    example: str
    message: str


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += "[]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def describe_error(error: ValidationError) -> tuple[str, str, str]:
    """(field path, rule, message) for one validation error, descending into anyOf/oneOf."""
    while error.context:
        deeper = best_match(error.context)
        if deeper is None or deeper is error:
            break
        error = deeper
    base = _path(error.absolute_path)
    rule = str(error.validator)
    if rule == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        # jsonschema reports each missing property as its own error, named in the message.
        name = next((p for p in missing if error.message.startswith(repr(p))), missing[0] if missing else "?")
        return (f"{base}.{name}" if base else name), "missing required field", error.message
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        name = extra[0] if extra else "?"
        return (f"{base}.{name}" if base else name), "field not in the schema", error.message
    labels = {"type": "wrong type", "enum": "value not allowed", "const": "value not allowed",
              "oneOf": "matches none or several of the allowed shapes", "anyOf": "matches none of the allowed shapes",
              "format": "wrong format", "pattern": "does not match the pattern"}
    return base or "(payload)", labels.get(rule, f"fails {rule}"), error.message


def _as_payload(obs: PayloadObservation) -> tuple[Any, str | None]:
    if not obs.is_text:
        return obs.payload, None
    try:
        return json.loads(obs.payload), None
    except (json.JSONDecodeError, TypeError) as exc:
        return None, f"payload is not valid JSON: {exc}"


def check_payloads(
    catalog: Catalog,
    observations: Sequence[PayloadObservation],
    *,
    basis: str,
    sampled_from: int | None = None,
) -> tuple[Finding, dict[str, int]]:
    """Validate every payload that has a schema; returns the finding and violations per event type."""
    tallies: dict[tuple[str, str, str, str], _Tally] = {}
    checked = 0
    bad_payloads: dict[str, set[str]] = {}
    unknown_versions: dict[tuple[str, str], int] = {}
    for obs in observations:
        et = catalog.event_types.get(obs.event_type)
        if et is None or not et.versions:
            continue
        version = et.version(obs.version)
        if version is None:
            unknown_versions[(obs.event_type, obs.version or "")] = (
                unknown_versions.get((obs.event_type, obs.version or ""), 0) + 1
            )
            continue
        validator = catalog.validator(obs.event_type, obs.version)
        if validator is None:
            continue
        checked += 1
        payload, parse_error = _as_payload(obs)
        if parse_error is not None:
            problems = [("(payload)", "not JSON", parse_error)]
        else:
            problems = []
            for error in validator.iter_errors(payload):
                problems.append(describe_error(error))
                if len(problems) >= MAX_ERRORS_PER_PAYLOAD:
                    break
        for field_path, rule, message in problems:
            key = (obs.event_type, version.name, field_path, rule)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(set(), obs.seen_at, obs.seen_at, obs.source, message)
            tally.payloads.add(obs.source)
            if obs.seen_at is not None:
                tally.first_seen = min(filter(None, (tally.first_seen, obs.seen_at)))
                tally.last_seen = max(filter(None, (tally.last_seen, obs.seen_at)))
        if problems:
            bad_payloads.setdefault(obs.event_type, set()).add(obs.source)
    checked_by_type: dict[str, int] = {}
    for obs in observations:
        checked_by_type[obs.event_type] = checked_by_type.get(obs.event_type, 0) + 1
    per_type = {t: len(s) for t, s in bad_payloads.items()}
    evidence: list[tuple[str, Any]] = [("basis", basis), ("payloads checked against a schema", checked)]
    if sampled_from is not None and sampled_from > len(observations):
        evidence.append(("sampled from", f"{sampled_from:,} logged payloads (an even spread per type and version)"))
    for (etype, ver), count in sorted(unknown_versions.items()):
        evidence.append((f"{etype}: version {ver or '(none)'!r} not in the catalog", f"{count} payloads, not checked"))
    if checked == 0:
        return Finding(
            code="payload-schema-violation", status=Status.NOT_APPLICABLE, severity=Severity.INFO,
            title="No payloads could be checked against a schema",
            summary="No payload belonged to a catalogued event type with a schema for its version.",
            subject=basis, evidence=evidence, source=SOURCE,
        ), {}
    if not tallies:
        return Finding(
            code="payload-schema-violation", status=Status.PASS, severity=Severity.INFO,
            title="Payloads match their schemas",
            summary=f"All {checked:,} payloads checked validate against their event type's schema.",
            subject=basis, evidence=evidence, source=SOURCE,
        ), per_type
    rows = []
    for (etype, ver, field_path, rule), tally in tallies.items():
        rows.append({
            "event_type": etype, "version": "" if ver == "current" else ver, "field": field_path, "problem": rule,
            "payloads": len(tally.payloads), "of": checked_by_type.get(etype, 0),
            "first_seen": tally.first_seen.isoformat() if tally.first_seen else "",
            "last_seen": tally.last_seen.isoformat() if tally.last_seen else "",
            "example": tally.example, "message": tally.message[:200],
        })
    rows.sort(key=lambda r: (-r["payloads"], r["event_type"], r["field"]))
    bad_total = sum(per_type.values())
    evidence += [("payloads with a violation", bad_total), ("event types affected", len(per_type)),
                 ("distinct field problems", len(rows))]
    top = rows[0]
    return Finding(
        code="payload-schema-violation", status=Status.FAIL, severity=Severity.HIGH,
        title=(f"{bad_total:,} payload{'s do' if bad_total != 1 else ' does'} not match the documented schema"),
        summary=(
            f"{bad_total:,} of {checked:,} payloads across {len(per_type)} "
            f"event type{'s' if len(per_type) != 1 else ''} fail their schema; most often "
            f"{top['event_type']} field `{top['field']}` ({top['problem']}, "
            f"{top['payloads']} payload{'s' if top['payloads'] != 1 else ''}"
            + (f", since {top['first_seen'][:19]}" if top["first_seen"] else "") + ")."
        ),
        subject=basis, evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    ), per_type
