"""Payload design: is a payload complete enough to act on, or a "thin" notification of ids and URLs?

A thin payload forces every consumer to call the API back for the object's state, which costs
them latency, rate limit and a race with later changes. We judge each payload by its leaf fields
outside the envelope (`id`, `type`, `created_at`, ... at the top level): *reference* fields are
identifiers and links by name (`id`, `*_id`, `url`, `*_url`, `href`, `node_id`); *state* fields are
everything else that holds a value. A payload is thin when it carries at least one reference and at
most two state values. An event type is thin when most of its payloads are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.payload_design"
MAX_STATE_FIELDS_WHEN_THIN = 2
EXAMPLE_CHARS = 300
ENVELOPE_KEYS = frozenset({
    "id", "type", "event", "event_type", "eventType", "action", "object", "created", "created_at", "createdAt",
    "timestamp", "occurred_at", "api_version", "apiVersion", "version", "payload_version", "livemode",
    "webhook_id", "delivery_id", "attempt", "pending_webhooks", "request",
})
_REFERENCE = re.compile(
    r"^(id|uuid|guid|node_id|href|url|uri|link|self|.+_(id|ids|url|uri|href|link))$|^.+(Id|Ids|Url|Uri|Href)$"
)


@dataclass(frozen=True)
class PayloadAssessment:
    """Counts behind the verdict on one payload."""

    reference_fields: int
    state_fields: int

    @property
    def leaf_fields(self) -> int:
        return self.reference_fields + self.state_fields

    @property
    def reference_share(self) -> float:
        return self.reference_fields / self.leaf_fields if self.leaf_fields else 0.0

    @property
    def thin(self) -> bool:
        return self.reference_fields >= 1 and self.state_fields <= MAX_STATE_FIELDS_WHEN_THIN


def is_reference_key(key: str) -> bool:
    return bool(_REFERENCE.match(key))


def assess_payload(payload: Any) -> PayloadAssessment:
    """Count reference and state leaves outside the top-level envelope (nulls and empties carry nothing)."""
    refs = 0
    state = 0

    def visit(value: Any, key: str, top: bool) -> None:
        nonlocal refs, state
        if top and key in ENVELOPE_KEYS:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                visit(v, str(k), False)
        elif isinstance(value, list):
            for item in value:
                visit(item, key, False)
        elif value is None or value == "":
            return
        elif is_reference_key(key):
            refs += 1
        else:
            state += 1

    if isinstance(payload, Mapping):
        for key, value in payload.items():
            visit(value, str(key), True)
    return PayloadAssessment(reference_fields=refs, state_fields=state)


@dataclass(frozen=True)
class TypeDesign:
    """The verdict on one event type from its payloads."""

    event_type: str
    payloads: int
    thin_payloads: int
    median_reference_share: float
    median_state_fields: float
    example: str

    @property
    def thin(self) -> bool:
        return self.thin_payloads * 2 > self.payloads

    @property
    def label(self) -> str:
        return "thin" if self.thin else "full"


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _example(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def judge_types(payloads_by_type: Mapping[str, Sequence[Any]]) -> dict[str, TypeDesign]:
    """Assess every payload and give each event type its verdict (the example is a thin payload if any)."""
    out: dict[str, TypeDesign] = {}
    for event_type, payloads in sorted(payloads_by_type.items()):
        if not payloads:
            continue
        assessed = [assess_payload(p) for p in payloads]
        thin_examples = [p for p, a in zip(payloads, assessed, strict=True) if a.thin]
        out[event_type] = TypeDesign(
            event_type=event_type,
            payloads=len(payloads),
            thin_payloads=len(thin_examples),
            median_reference_share=_median([a.reference_share for a in assessed]),
            median_state_fields=_median([a.state_fields for a in assessed]),
            example=_example(thin_examples[0] if thin_examples else payloads[0]),
        )
    return out


def thin_payload_finding(designs: Mapping[str, TypeDesign], *, basis: str) -> Finding:
    """One finding over all types: which are thin, with the numbers and an example payload each."""
    thin = [d for d in designs.values() if d.thin]
    total_payloads = sum(d.payloads for d in designs.values())
    evidence = [("basis", basis), ("event types judged", len(designs)), ("payloads judged", total_payloads),
                ("thin event types", len(thin))]
    if not designs:
        return Finding(
            code="thin-payload", status=Status.NOT_APPLICABLE, severity=Severity.INFO,
            title="No payloads to judge",
            summary="Neither the delivery log nor a payload folder held any payload bodies.",
            subject=basis, evidence=evidence, source=SOURCE,
        )
    if not thin:
        return Finding(
            code="thin-payload", status=Status.PASS, severity=Severity.INFO,
            title="Payloads carry the object's state",
            summary=f"None of the {len(designs)} event types sends ids-and-links-only payloads.",
            subject=basis, evidence=evidence, source=SOURCE,
        )
    rows = [
        {"event_type": d.event_type, "payloads": d.payloads, "thin_payloads": d.thin_payloads,
         "reference_share": f"{d.median_reference_share * 100:.0f}%", "state_fields": d.median_state_fields,
         "example": d.example}
        for d in sorted(thin, key=lambda d: (-d.payloads, d.event_type))
    ]
    return Finding(
        code="thin-payload", status=Status.WARN, severity=Severity.MEDIUM,
        title=f"{len(thin)} event type{'s send' if len(thin) != 1 else ' sends'} thin payloads",
        summary=(
            f"{len(thin)} of {len(designs)} event types {'send' if len(thin) != 1 else 'sends'} mostly identifiers "
            "and links "
            f"(e.g. {rows[0]['event_type']!r}: {rows[0]['reference_share']} references, "
            f"{rows[0]['state_fields']:g} state fields), so consumers must call the API back for the object."
        ),
        subject=basis, evidence=evidence, samples=rows, sample_total=len(rows), source=SOURCE,
    )
