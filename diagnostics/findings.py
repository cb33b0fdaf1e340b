"""The Finding: the one currency every check, analyzer and debugger produces.

A finding is a verdict on one subject with the facts behind it. Producers build findings with a
literal `code="..."` keyword so the catalog of codes can be read from the source; the playbook
for each code lives in `playbooks/<code>.md` and `tests/test_playbooks.py` enforces the pairing
both ways.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_SAMPLES = 20
CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Status(StrEnum):
    """The verdict. "Could not check" is ERROR, never FAIL."""

    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.NOT_APPLICABLE: 4}
SEVERITY_ORDER = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}


def _freeze_value(value: Any) -> Any:
    """Evidence values are shown to people: keep scalars, turn the rest into text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Finding:
    """A verdict on one subject, with the evidence and sample rows that support it.

    Attributes:
        code: stable kebab-case slug; `playbooks/<code>.md` explains it.
        status: fail, warn, pass, not_applicable or error.
        severity: critical, high, medium, low or info.
        title: customer-safe, says what is wrong.
        summary: one to three sentences with the numbers.
        subject: what was examined (URL, endpoint id, log window).
        evidence: ordered label -> value pairs.
        samples: up to MAX_SAMPLES offending rows.
        sample_total: how many offending rows there were in all.
        source: the check or analyzer that produced it.
    """

    code: str
    status: Status
    severity: Severity
    title: str
    summary: str
    subject: str = ""
    evidence: tuple[tuple[str, Any], ...] = ()
    samples: tuple[Mapping[str, Any], ...] = ()
    sample_total: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        if not CODE_PATTERN.match(self.code):
            raise ValueError(f"finding code {self.code!r} is not kebab-case")
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "severity", Severity(self.severity))
        evidence = self.evidence.items() if isinstance(self.evidence, Mapping) else self.evidence
        object.__setattr__(self, "evidence", tuple((str(k), _freeze_value(v)) for k, v in evidence))
        samples = tuple(dict(s) for s in self.samples)
        object.__setattr__(self, "sample_total", max(self.sample_total, len(samples)))
        object.__setattr__(self, "samples", samples[:MAX_SAMPLES])

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def evidence_dict(self) -> dict[str, Any]:
        return dict(self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status.value,
            "severity": self.severity.value,
            "title": self.title,
            "summary": self.summary,
            "subject": self.subject,
            "evidence": [{"label": k, "value": v} for k, v in self.evidence],
            "samples": [_jsonable(s) for s in self.samples],
            "sample_total": self.sample_total,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        evidence = data.get("evidence") or []
        if isinstance(evidence, Mapping):
            pairs: Sequence[tuple[str, Any]] = list(evidence.items())
        else:
            pairs = [(e["label"], e["value"]) for e in evidence]
        return cls(
            code=data["code"],
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            title=data["title"],
            summary=data.get("summary", ""),
            subject=data.get("subject", ""),
            evidence=tuple(pairs),
            samples=tuple(data.get("samples") or ()),
            sample_total=int(data.get("sample_total") or 0),
            source=data.get("source", ""),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Failures first, then errors, warnings, passes; within a status, most severe first."""
    return sorted(findings, key=lambda f: (STATUS_ORDER[f.status], SEVERITY_ORDER[f.severity], f.code))


def any_failed(findings: Iterable[Finding]) -> bool:
    return any(f.failed for f in findings)


def fingerprint_secret(secret: str | bytes) -> str:
    """What we show instead of a secret: its first 4 characters and a SHA-256 prefix.

    Enough for a person to compare with their dashboard, not enough to reuse it.
    """
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hashlib.sha256(raw).hexdigest()[:8]
    text = raw.decode("utf-8", "replace")
    head = text[:4] if len(text) >= 12 else text[:2]
    return f"{head}… (sha256 {digest}, {len(raw)} bytes)"


@dataclass
class Outcome:
    """What a command produces: the subject examined, findings, and metrics/tables.

    `metrics` is free-form JSON-able data (per-endpoint stats, coverage matrix); `tables` are
    named lists of rows that text/Markdown/HTML renderers show as tables.
    """

    subject: str
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    kind: str = "diagnosis"

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "findings": [f.to_dict() for f in sort_findings(self.findings)],
            "metrics": _jsonable(self.metrics),
        }

    @property
    def exit_code(self) -> int:
        return 1 if any_failed(self.findings) else 0
