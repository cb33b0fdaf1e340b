"""A support case run end to end: every check its inputs allow, merged, rendered and kept.

A Case is what an agent knows from the ticket: reference, customer, endpoint URL, sender profile,
and optionally the signing secret (held in memory for the run, never stored), a captured request
and a delivery-log source. `run_case` plans which parts can run (probe, signature, logs), calls
the pipeline module of each, merges their Outcomes into one, renders the three reports and stores
the run. One part failing on bad input does not sink the others: its InputError becomes an
`error` finding ("could not check"), never a failure of the customer's endpoint.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import column, create_engine, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from diagnostics.cases import CaseRecord, CaseStore, RedeliveryRecord, RunRecord, open_store
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Finding, Outcome, Severity, Status, fingerprint_secret
from diagnostics.logs import AttemptTable, load_attempts
from diagnostics.logs.schema import sql_literal
from diagnostics.net.databases import DatabasePolicy
from diagnostics.pipeline.logs import analyze_attempts
from diagnostics.pipeline.probe import make_test_event, probe_endpoint, send_event
from diagnostics.pipeline.signature import debug_signature
from diagnostics.redaction import redact, redact_outcome
from diagnostics.report import ReportContext, render_html, render_json, render_markdown, render_notes, render_reply
from diagnostics.signatures import sign_headers

Progress = Callable[[str, float], None]
"""progress(message, fraction done in 0..1): how a run reports as it goes."""

MAX_CAPTURED_BODY = 1_000_000
MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # Streamlit's own upload cap; larger logs belong in the SQL source
REPORT_FORMATS = ("reply", "reply_markdown", "notes", "markdown", "html", "json")
PROBLEM_STATUSES = (Status.FAIL, Status.WARN, Status.ERROR)
ENFORCEMENT_CHECK = "probe:enforcement"
"""The probe's forgery test: it runs only when the secret is given, so it is its own check."""
ENFORCEMENT_CODES = frozenset({"signature-enforced", "signature-not-enforced", "signature-rejected"})
MAX_ENDPOINTS_NAMED = 8


@dataclass(frozen=True)
class CapturedRequest:
    """A webhook request as the customer's receiver saw it: headers and the exact body bytes."""

    headers: Mapping[str, str]
    body: bytes
    method: str = "POST"
    path: str = ""

    @classmethod
    def parse(cls, text: str) -> CapturedRequest:
        """Parse pasted text: an optional request line, `Name: value` header lines, a blank line, the body.

        The body keeps its exact bytes (signatures are computed over them); only the line ending
        of the separator is normalized.
        """
        if not text.strip():
            raise InputError("the captured request is empty; paste the headers, a blank line, then the body",
                             field="captured request")
        normalized = text.replace("\r\n", "\n")
        head, _, body = normalized.partition("\n\n")
        method, path = "POST", ""
        headers: dict[str, str] = {}
        for number, line in enumerate(head.split("\n"), start=1):
            if not line.strip():
                continue
            first = line.split(" ", 2)
            if number == 1 and len(first) >= 2 and first[0].isupper() and ":" not in first[0]:
                method, path = first[0], first[1]
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip() or " " in name.strip():
                raise InputError(f"expected 'Name: value', got {line[:60]!r}", field="captured request",
                                 line=number)
            headers[name.strip()] = value.strip()
        if not headers:
            raise InputError("no headers found before the blank line", field="captured request", line=1)
        raw = body.encode("utf-8")
        if len(raw) > MAX_CAPTURED_BODY:
            raise InputError(f"the body is larger than {MAX_CAPTURED_BODY:,} bytes", field="captured request")
        return cls(headers=headers, body=raw, method=method, path=path)

    def to_record(self) -> dict[str, Any]:
        """What the case store keeps: headers and the body as text (no secret is in a request)."""
        return {
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace"),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CapturedRequest:
        return cls(
            headers=dict(record.get("headers") or {}),
            body=str(record.get("body") or "").encode("utf-8"),
            method=str(record.get("method") or "POST"),
            path=str(record.get("path") or ""),
        )

    def as_text(self) -> str:
        lines = [f"{name}: {value}" for name, value in self.headers.items()]
        return "\n".join(lines) + "\n\n" + self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class LogSource:
    """Where the delivery attempts come from: a file (path) or the configured SQL source (url)."""

    path: Path | None = None
    url: str | None = None
    table: str | None = None
    source_format: str = "auto"
    endpoint: str | None = None

    def describe(self) -> str:
        where = str(self.path) if self.path else f"sql:{self.table or ''}" if self.url else ""
        return f"{where} (endpoint {self.endpoint})" if self.endpoint else where

    @classmethod
    def from_description(cls, text: str, config: Config) -> LogSource | None:
        """Rebuild a stored source (the inverse of describe) so a reopened case can rerun."""
        if not text:
            return None
        where, _, rest = text.partition(" (endpoint ")
        endpoint = rest[:-1] if rest.endswith(")") else None
        if where.startswith("sql:"):
            return cls(url=config.get("logs", "url") or None, table=where[4:] or None, endpoint=endpoint)
        return cls(path=Path(where), endpoint=endpoint)


@dataclass
class Case:
    """Everything an agent gives for one ticket. The secret lives here only for the run."""

    ticket: str = ""
    customer: str = ""
    endpoint_url: str = ""
    profile: str = "ours"
    secret: str | None = field(default=None, repr=False)
    captured: CapturedRequest | None = None
    log_source: LogSource | None = None
    case_id: int | None = None

    @classmethod
    def from_record(cls, record: CaseRecord, config: Config, secret: str | None = None) -> Case:
        """Reopen a stored case (the secret, never stored, is given again if needed)."""
        return cls(
            ticket=record.ticket,
            customer=record.customer,
            endpoint_url=record.endpoint_url,
            profile=record.profile,
            secret=secret,
            captured=CapturedRequest.from_record(record.captured_request) if record.captured_request else None,
            log_source=LogSource.from_description(record.log_source, config),
            case_id=record.id,
        )

    @property
    def subject(self) -> str:
        return self.endpoint_url or (self.log_source.describe() if self.log_source else "") or self.ticket


@dataclass(frozen=True)
class RunResult:
    """A finished run: the merged outcome, each part's own outcome, the rendered reports."""

    case_id: int
    run_id: int
    kinds: tuple[str, ...]
    outcome: Outcome
    parts: Mapping[str, Outcome]
    reports: Mapping[str, str]


Runner = Callable[[Case, Config, Progress], Outcome]


def _part_error(kind: str, subject: str, exc: InputError) -> Finding:
    return Finding(
        code="case-input-unusable",
        status=Status.ERROR,
        severity=Severity.MEDIUM,
        title=f"The {kind} check could not run on the input given",
        summary=str(exc),
        subject=subject,
        evidence=(("check", kind), ("problem", str(exc))),
        source=f"pipeline.case:{kind}",
    )


def check_of(code: str, kind: str) -> str:
    """The check inside a part that produces a finding code (the probe's forgery test is its own)."""
    return ENFORCEMENT_CHECK if kind == "probe" and code in ENFORCEMENT_CODES else kind


def checks_made(parts: Mapping[str, Outcome]) -> list[str]:
    """The checks a run really made: a part that could not use its input made none, and the probe
    made its forgery test only when it sent signed events (the secret was given)."""
    made = []
    for kind, outcome in parts.items():
        if outcome.findings and all(f.code == "case-input-unusable" for f in outcome.findings):
            continue
        made.append(kind)
        if kind == "probe" and outcome.metrics.get("signature"):
            made.append(ENFORCEMENT_CHECK)
    return sorted(made)


def merge_outcomes(subject: str, parts: Mapping[str, Outcome]) -> Outcome:
    """One outcome for the case: every part's findings, metrics under the part's name, tables prefixed.

    metrics["parts"] records which part produced which codes and metrics["checks"] which checks
    really ran, so a later comparison can tell "fixed" from "not checked this time".
    """
    findings: list[Finding] = []
    metrics: dict[str, Any] = {
        "parts": {kind: sorted({f.code for f in o.findings}) for kind, o in parts.items()},
        "checks": checks_made(parts),
    }
    warnings = [str(w) for o in parts.values() for w in (o.metrics.get("scope") or {}).get("warnings", [])]
    if warnings:
        metrics["reply_warnings"] = warnings
    tables: dict[str, list[dict[str, Any]]] = {}
    for kind, outcome in parts.items():
        findings.extend(outcome.findings)
        if outcome.metrics:
            metrics[kind] = outcome.metrics
        for name, rows in outcome.tables.items():
            tables[f"{kind}_{name}" if not name.startswith(kind) else name] = rows
    return Outcome(subject=subject, findings=findings, metrics=metrics, tables=tables, kind="case")


def render_reports(outcome: Outcome, context: ReportContext) -> dict[str, str]:
    """What an agent pastes and keeps: the customer reply (plain text and Markdown), the internal
    notes, and the downloads (the full Markdown report, the HTML report, the JSON)."""
    return {
        "reply": render_reply(outcome, context, fmt="text"),
        "reply_markdown": render_reply(outcome, context, fmt="markdown"),
        "notes": render_notes(outcome, context),
        "markdown": render_markdown(outcome, context),
        "html": render_html(outcome, context),
        "json": render_json(outcome),
    }


def plan(case: Case, runners: Mapping[str, Runner] | None = None) -> list[str]:
    """Which parts this case's inputs allow, in the order they run."""
    available = runners if runners is not None else RUNNERS
    wanted = []
    if case.endpoint_url:
        wanted.append("probe")
    if case.captured is not None and case.secret:
        wanted.append("signature")
    if case.log_source is not None:
        wanted.append("logs")
    return [kind for kind in wanted if kind in available]


def sql_endpoints(config: Config, limit: int = 500) -> list[str]:
    """The endpoints in the configured SQL delivery-log table (`[logs] url` and `table`), to pick one."""
    url = config.get("logs", "url") or ""
    table_name = config.get("logs", "table") or "delivery_attempts"
    if not url:
        return []
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise InputError(f"not a usable database URL: {exc}", field="logs.url") from None
    endpoint = column("endpoint")
    query = select(endpoint).distinct().select_from(table(table_name)).where(endpoint.is_not(None))
    try:
        with engine.connect() as connection:
            return [str(v) for v in connection.scalars(query.order_by(endpoint).limit(limit))]
    except SQLAlchemyError as exc:
        raise InputError(f"cannot list endpoints in {table_name!r}: {exc.__class__.__name__}",
                         field="logs.table") from exc
    finally:
        engine.dispose()


def skipped_parts(case: Case) -> dict[str, str]:
    """Parts the case's inputs almost allow, with what is missing (shown to the agent)."""
    reasons = {}
    if case.captured is not None and not case.secret:
        reasons["signature"] = "the captured request is kept with the case; give the signing secret to check it"
    return reasons


def save_case(case: Case, store: CaseStore) -> CaseRecord:
    """Create the case in the store, or update its stored fields; never the secret."""
    forbidden = [case.secret] if case.secret else []
    fields = {
        "ticket": case.ticket,
        "customer": case.customer,
        "endpoint_url": case.endpoint_url,
        "profile": case.profile,
        "log_source": case.log_source.describe() if case.log_source else "",
        "captured_request": case.captured.to_record() if case.captured else None,
    }
    if case.case_id is None:
        record = store.create_case(**fields, forbidden=forbidden)
        case.case_id = record.id
        return record
    return store.update_case(case.case_id, forbidden=forbidden, **fields)


def run_case(
    case: Case,
    config: Config,
    progress: Progress | None = None,
    *,
    store: CaseStore | None = None,
    runners: Mapping[str, Runner] | None = None,
) -> RunResult:
    """Run every part the case allows, merge, render the reports and store the run.

    The profile name is checked before anything runs (an unknown profile is an InputError for the
    whole case); a part's own InputError becomes an `error` finding so the other parts still count.
    """
    report = progress or (lambda _message, _fraction: None)
    profile = config.profile(case.profile)
    store = store or open_store(config)
    chosen = runners if runners is not None else RUNNERS
    kinds = plan(case, chosen)
    if not kinds:
        raise InputError("nothing to check: give an endpoint URL, a captured request with its signing secret, "
                         "or a delivery log", field="case")
    started = datetime.now(UTC)
    save_case(case, store)
    parts: dict[str, Outcome] = {}
    for index, kind in enumerate(kinds):
        def part_progress(message: str, fraction: float, _i: int = index) -> None:
            report(message, (_i + max(0.0, min(1.0, fraction))) / len(kinds))

        part_progress(f"{kind}: starting", 0.0)
        try:
            parts[kind] = chosen[kind](case, config, part_progress)
        except InputError as exc:
            parts[kind] = Outcome(subject=case.subject, findings=[_part_error(kind, case.subject, exc)])
        part_progress(f"{kind}: done", 1.0)
    forbidden = [case.secret] if case.secret else []
    outcome = redact_outcome(merge_outcomes(case.subject, parts), forbidden)
    assert case.case_id is not None
    carry_over(outcome, store, case.case_id)
    context = ReportContext(ticket=redact(case.ticket, forbidden), customer=redact(case.customer, forbidden),
                            profile_label=profile.label, endpoint=case.endpoint_url or _log_endpoint(parts))
    reports = render_reports(outcome, context)
    stored = store.record_run(
        case.case_id,
        outcome,
        reports,
        kinds=kinds,
        started_at=started,
        secret_fingerprint=fingerprint_secret(case.secret) if case.secret else "",
        forbidden=forbidden,
    )
    report("stored", 1.0)
    return RunResult(
        case_id=case.case_id, run_id=stored.id, kinds=tuple(kinds), outcome=outcome, parts=parts, reports=reports
    )


def record_part_run(
    case_id: int,
    outcome: Outcome,
    *,
    kind: str,
    config: Config,
    store: CaseStore,
    secret: str | None = None,
    other_secrets: Sequence[str] = (),
    profile: str | None = None,
    context: ReportContext | None = None,
    started_at: datetime | None = None,
) -> RunRecord:
    """Keep one part run on its own page (Endpoint probe, Signature lab) in the open case's history.

    The outcome is wrapped like a case run (`metrics["parts"]` names the one part), so comparing
    it with a full run counts the other parts as not rechecked, not as fixed. The secret (and any
    `other_secrets`, such as a rotated-out one) is only fingerprinted and redacted, never stored.
    """
    record = store.get_case(case_id)
    if context is None:
        label = config.profile(profile or record.profile).label
        context = ReportContext(ticket=record.ticket, customer=record.customer, profile_label=label,
                                endpoint=record.endpoint_url)
    forbidden = [s for s in (secret, *other_secrets) if s]
    merged = redact_outcome(
        merge_outcomes(outcome.subject or record.endpoint_url or record.ticket, {kind: outcome}), forbidden
    )
    carry_over(merged, store, case_id)
    context = replace(context, ticket=redact(context.ticket, forbidden), customer=redact(context.customer, forbidden))
    return store.record_run(
        case_id,
        merged,
        render_reports(merged, context),
        kinds=(kind,),
        started_at=started_at,
        secret_fingerprint=fingerprint_secret(secret) if secret else "",
        forbidden=forbidden,
    )


# --- comparing runs ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunComparison:
    """What changed between two runs of a case, keyed by (finding code, subject).

    fixed: problems in the older run that are gone or pass now.
    new: problems in the newer run that the older one did not have.
    remaining: problems in both runs.
    unchecked: problems in the older run whose part did not run this time (no secret given, no
        log): neither fixed nor remaining.
    """

    fixed: tuple[Finding, ...]
    new: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    unchecked: tuple[Finding, ...] = ()


def _problems(findings: Iterable[Finding]) -> dict[tuple[str, str], Finding]:
    return {(f.code, f.subject): f for f in findings if f.status in PROBLEM_STATUSES}


def _checks_of_run(metrics: Mapping[str, Any]) -> set[str] | None:
    """The checks a stored run made (runs stored before metrics["checks"] existed: from their parts)."""
    parts = metrics.get("parts")
    if not isinstance(parts, Mapping):
        return None
    checks = metrics.get("checks")
    if isinstance(checks, list):
        return {str(c) for c in checks}
    made = set(parts)
    if "probe" in made and (metrics.get("probe") or {}).get("signature"):
        made.add(ENFORCEMENT_CHECK)
    return made


def _carried(metrics: Mapping[str, Any]) -> list[tuple[Finding, str]]:
    rows = metrics.get("carried_over") or []
    return [(Finding.from_dict(row), str(row.get("check", ""))) for row in rows if isinstance(row, Mapping)]


def compare_runs(older: RunRecord | Outcome, newer: RunRecord | Outcome) -> RunComparison:
    """Per check, not per part: a problem whose check did not run in the newer run (no secret, no
    captured request, an unusable log) is "not rechecked", never "fixed". Problems the older run
    itself carried over from an earlier one count as its open problems."""
    carried = _carried(older.metrics)
    old = _problems([*older.findings, *(f for f, _ in carried)])
    new = _problems(newer.findings)
    old_parts = older.metrics.get("parts")
    old_parts = old_parts if isinstance(old_parts, Mapping) else {}
    carried_check = {(f.code, f.subject): check for f, check in carried if check}
    newer_checks = _checks_of_run(newer.metrics)

    def rechecked(finding: Finding) -> bool:
        if newer_checks is None:
            return True
        checks = {check_of(finding.code, kind) for kind, codes in old_parts.items() if finding.code in codes}
        if (finding.code, finding.subject) in carried_check:
            checks.add(carried_check[(finding.code, finding.subject)])
        return not checks or bool(checks & newer_checks)

    gone = [k for k in old if k not in new]
    return RunComparison(
        fixed=tuple(old[k] for k in gone if rechecked(old[k])),
        new=tuple(new[k] for k in new if k not in old),
        remaining=tuple(new[k] for k in new if k in old),
        unchecked=tuple(old[k] for k in gone if not rechecked(old[k])),
    )


def _check_for(finding: Finding, metrics: Mapping[str, Any]) -> str:
    parts = metrics.get("parts")
    for kind, codes in (parts.items() if isinstance(parts, Mapping) else ()):
        if finding.code in codes:
            return check_of(finding.code, kind)
    for carried, check in _carried(metrics):
        if (carried.code, carried.subject) == (finding.code, finding.subject):
            return check
    return ""


def carry_over(outcome: Outcome, store: CaseStore, case_id: int) -> list[Finding]:
    """Keep the previous run's open problems that this run could not check again in this run's
    metrics["carried_over"], so its reply still lists them as open (and the next comparison sees them)."""
    runs = store.list_runs(case_id)
    if not runs:
        return []
    previous = runs[0]
    unchecked = list(compare_runs(previous, outcome).unchecked)
    if unchecked:
        outcome.metrics["carried_over"] = [
            {**f.to_dict(), "check": _check_for(f, previous.metrics), "from_run": previous.id} for f in unchecked
        ]
    return unchecked


def run_summary(run: RunRecord) -> dict[str, Any]:
    """One row per run for tables: when, what ran, how many of each status."""
    return {
        "run": run.id,
        "started": run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        "checks": ", ".join(run.kinds),
        **{status.value: run.counts.get(status.value, 0) for status in Status},
        "secret used": run.secret_fingerprint or "none",
    }


# --- inputs that arrive as files, and events sent on request ------------------------------------


def _safe_file_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name or "upload").name).strip("._")
    return cleaned[-80:] or "upload"


def accept_log_upload(
    config: Config,
    file_name: str,
    data: bytes,
    *,
    endpoint: str | None = None,
    max_bytes: int | None = None,
    mapping: Mapping[str, str] | None = None,
) -> LogSource:
    """Keep an uploaded delivery log in the workspace, once it has been read successfully.

    Empty, oversized (`max_bytes`, default `[workspace] max_upload_bytes` or 200 MB) and
    unreadable files raise InputError naming the uploaded file; nothing is left in the workspace
    for them, and no case is touched. With a column `mapping` (a customer's CSV names its columns
    its own way) the file is kept as the canonical Parquet it maps to, so every later run, a
    reopened case included, reads it without the mapping.
    """
    if max_bytes is None:
        max_bytes = upload_limit(config)
    if not data:
        raise InputError("the uploaded file is empty", file=file_name)
    if len(data) > max_bytes:
        raise InputError(f"the uploaded file is larger than {max_bytes:,} bytes", file=file_name)
    uploads = config.workspace / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:12]
    final = uploads / f"{digest}-{_safe_file_name(file_name)}"
    if mapping:
        spec = ",".join(f"{canon}={src}" for canon, src in sorted(mapping.items()))
        final = uploads / f"{digest}-{hashlib.sha256(spec.encode()).hexdigest()[:8]}-{Path(final.name).stem}.parquet"
    if not final.exists():
        with tempfile.TemporaryDirectory(dir=uploads, prefix=".incoming-") as incoming:
            candidate = Path(incoming) / f"{digest}-{_safe_file_name(file_name)}"  # same suffix: detection reads it
            candidate.write_bytes(data)
            attempts = read_log_file(candidate, file_name, mapping)
            try:
                if mapping:
                    mapped = Path(incoming) / final.name
                    copy = (f"COPY (SELECT * EXCLUDE (seq) FROM {attempts.name} ORDER BY seq) "  # noqa: S608 (our names)
                            f"TO {sql_literal(str(mapped))} (FORMAT parquet)")
                    attempts.conn.execute(copy)
                    candidate = mapped
            finally:
                attempts.conn.close()
            os.replace(candidate, final)
    return LogSource(path=final, endpoint=endpoint)


def keep_upload(config: Config, file_name: str, data: bytes, *, max_bytes: int | None = None) -> Path:
    """Keep an uploaded input file (catalog, subscriptions) in the workspace under its content hash.

    Empty and oversized files raise InputError naming the file; the file is written whole or not
    at all. Its content is judged later by whatever reads it.
    """
    limit = upload_limit(config) if max_bytes is None else max_bytes
    if not data:
        raise InputError("the uploaded file is empty", file=file_name)
    if len(data) > limit:
        raise InputError(f"the uploaded file is larger than {limit:,} bytes", file=file_name)
    uploads = config.workspace / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    final = uploads / f"{hashlib.sha256(data).hexdigest()[:12]}-{_safe_file_name(file_name)}"
    if not final.exists():
        partial = final.with_name(f".{final.name}.part")
        partial.write_bytes(data)
        os.replace(partial, final)
    return final


def upload_limit(config: Config) -> int:
    """The largest delivery-log upload accepted: `[workspace] max_upload_bytes`, else 200 MB."""
    value = config.get("workspace", "max_upload_bytes", MAX_UPLOAD_BYTES)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"invalid value {value!r}", file="diagnostics.toml",
                         field="workspace.max_upload_bytes") from exc


def read_log_file(path: Path, shown_name: str, mapping: Mapping[str, str] | None = None) -> AttemptTable:
    """Read the file the way a run will; problems are reported under the name the user knows."""
    try:
        attempts = load_attempts([str(path)], mapping=mapping or None)
    except InputError as exc:
        raise InputError(exc.message.replace(str(path), shown_name), file=shown_name, line=exc.line,
                         column=exc.column, field=exc.field) from exc
    if attempts.row_count == 0:
        attempts.conn.close()
        raise InputError("the file holds no delivery attempts", file=shown_name)
    return attempts


def redeliver(
    case_id: int,
    url: str,
    *,
    config: Config,
    store: CaseStore,
    payload: str | None = None,
    event_id: str | None = None,
    secret: str | None = None,
) -> RedeliveryRecord:
    """Send a logged event (replay) or a test event to the endpoint through the guard, and record it.

    The body is signed afresh with our own scheme when the secret is known; the answer (status,
    error, timing, a response excerpt) is stored with the case, the secret never.
    """
    now = datetime.now(UTC)
    mode = "replay" if payload else "test"
    message_id = event_id or f"evt_test_{uuid.uuid4().hex[:16]}"
    body = payload.encode("utf-8") if payload else make_test_event(message_id, now)
    headers = {"Content-Type": "application/json", "User-Agent": "WebhookDoctor-Redelivery/1.0"}
    if secret:
        scheme = config.ours.scheme
        headers.update(sign_headers(scheme, secret, body, msg_id=message_id, timestamp=int(now.timestamp()),
                                    url=url, options=_signature_options(config, scheme)))
    result = send_event(url, body, headers, config=config)
    return store.record_redelivery(
        case_id, mode=mode, url=url, event_id=message_id, status_code=result.status_code,
        error=result.error if result.error is None else f"{result.error}: {result.error_detail}".rstrip(": "),
        duration_ms=result.duration_ms, response_excerpt=result.body_snippet, forbidden=[secret] if secret else [],
    )


# --- the parts a case can run --------------------------------------------------------------


def _signature_options(config: Config, scheme: str) -> Mapping[str, Any] | None:
    return config.get("signature", "hmac") if scheme == "hmac" else None


def run_probe_part(case: Case, config: Config, progress: Progress) -> Outcome:
    """Probe the endpoint as the case's sender would (signed when the secret is known)."""
    profile = config.profile(case.profile)
    steps = [0]

    def step(message: str) -> None:
        steps[0] += 1
        progress(message, min(0.95, steps[0] / 12))

    return probe_endpoint(case.endpoint_url, config=config, profile=profile, secret=case.secret,
                          scheme=profile.scheme if case.secret else None, progress=step)


def run_signature_part(case: Case, config: Config, progress: Progress) -> Outcome:
    """Verify the captured request with the secret; on a mismatch, name the cause."""
    assert case.captured is not None and case.secret
    profile = config.profile(case.profile)
    progress("signature: verifying the captured request", 0.2)
    return debug_signature(
        case.captured.body, dict(case.captured.headers), [case.secret], scheme="auto",
        url=case.endpoint_url or None, tolerance_s=None, options=_signature_options(config, profile.scheme),
    )


def _normal_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def choose_log_endpoint(attempts: AttemptTable, named: str | None, endpoint_url: str) -> tuple[str | None, list[str]]:
    """Which endpoint of a delivery log a case is about, and what the agent should be told.

    A triage is about the case's endpoint: a log of several endpoints is narrowed to the one named
    (its endpoint id), else to the one whose logged URL is the case's endpoint URL; when neither
    tells, the agent is asked (InputError listing the endpoints) instead of guessing.
    """
    rows = attempts.conn.execute(
        f"SELECT endpoint, list(DISTINCT url) FROM {attempts.name} "  # noqa: S608 (internal table name)
        "WHERE endpoint IS NOT NULL GROUP BY endpoint ORDER BY endpoint"
    ).fetchall()
    endpoints = {str(endpoint): [str(u) for u in urls or [] if u] for endpoint, urls in rows}
    count = len(endpoints)
    if named:
        if named not in endpoints:
            raise InputError(f"the delivery log has no attempts for endpoint {named!r}; it holds "
                             f"{_names(endpoints)}", field="delivery log endpoint")
        others = [f"The delivery log holds {count} endpoints; the analysis and the reply cover {named} only."]
        return named, others if count > 1 else []
    if count <= 1:
        return None, []
    wanted = _normal_url(endpoint_url) if endpoint_url else ""
    matches = [e for e, urls in endpoints.items() if wanted and (wanted == e.lower()
                                                               or wanted in {_normal_url(u) for u in urls})]
    if len(matches) == 1:
        return matches[0], [f"The delivery log holds {count} endpoints; narrowed to {matches[0]}, whose logged URL "
                            "is the case's endpoint URL. The other endpoints are left out of the reply."]
    why = "several of them use the case's endpoint URL" if matches else (
        "none of them uses the case's endpoint URL" if wanted else "the case names no endpoint")
    raise InputError(f"the delivery log holds {count} endpoints ({_names(endpoints)}) and {why}; "
                     "name the case's endpoint (its endpoint id in the log)", field="delivery log endpoint")


def _names(endpoints: Mapping[str, Any]) -> str:
    names = list(endpoints)
    shown = ", ".join(names[:MAX_ENDPOINTS_NAMED])
    return shown + (f" and {len(names) - MAX_ENDPOINTS_NAMED} more" if len(names) > MAX_ENDPOINTS_NAMED else "")


def _log_endpoint(parts: Mapping[str, Outcome]) -> str:
    logs = parts.get("logs")
    return str(((logs.metrics.get("scope") or {}).get("endpoint") or "") if logs else "")


def run_logs_part(case: Case, config: Config, progress: Progress) -> Outcome:
    """Analyze the delivery log (a file, or the configured SQL table) for the case's endpoint only."""
    source = case.log_source
    assert source is not None
    profile = config.profile(case.profile)
    progress("logs: loading the delivery attempts", 0.1)
    if source.path is not None:
        attempts = load_attempts([str(source.path)], source_format=source.source_format)
    elif source.url:
        attempts = load_attempts([source.url], table=source.table or config.get("logs", "table") or None,
                                 endpoint=source.endpoint,  # pushed down: only its rows cross the wire
                                 database_policy=DatabasePolicy.untrusted(config, "case"))
    else:
        raise InputError("no delivery-log SQL source is configured ([logs] url)", field="logs.url")
    try:
        endpoint, warnings = choose_log_endpoint(attempts, source.endpoint, case.endpoint_url)
        progress("logs: judging the attempts", 0.5)
        outcome = analyze_attempts(attempts, profile, endpoint=None if source.path is None else endpoint)
    finally:
        attempts.conn.close()
    outcome.metrics["scope"] = {"endpoint": endpoint, "warnings": warnings}
    return outcome


RUNNERS: dict[str, Runner] = {
    "probe": run_probe_part,
    "signature": run_signature_part,
    "logs": run_logs_part,
}
