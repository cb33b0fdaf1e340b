"""The case store: cases, their runs, findings, rendered reports and redeliveries.

A SQLite file in the workspace by default, PostgreSQL for a team (`DIAGNOSTICS_DB_URL`), both
through SQLAlchemy 2; the schema is owned by the Alembic migrations in `diagnostics/migrations`
and upgraded to head whenever a store is opened. The store never holds a signing secret: callers
pass the secrets used in a run as `forbidden`, and any stored text containing one is redacted to
its fingerprint before it is written (defence in depth; the pipeline already keeps them out).
Reads return plain frozen records, so pages and tests never touch ORM sessions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Finding, Outcome
from diagnostics.redaction import redact

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MAX_STORED_TEXT = 200_000  # a response excerpt or captured body larger than this is truncated


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(200), default="", index=True)
    customer: Mapped[str] = mapped_column(String(200), default="", index=True)
    endpoint_url: Mapped[str] = mapped_column(Text, default="")
    profile: Mapped[str] = mapped_column(String(50), default="ours")
    log_source: Mapped[str] = mapped_column(Text, default="")
    captured_request: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    runs: Mapped[list[RunRow]] = relationship(back_populates="case", cascade="all, delete-orphan")
    redeliveries: Mapped[list[RedeliveryRow]] = relationship(back_populates="case", cascade="all, delete-orphan")


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_fingerprint: Mapped[str] = mapped_column(String(200), default="")
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[CaseRow] = relationship(back_populates="runs")
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="FindingRow.position"
    )
    reports: Mapped[list[ReportRow]] = relationship(back_populates="run", cascade="all, delete-orphan")


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    run: Mapped[RunRow] = relationship(back_populates="findings")


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)

    run: Mapped[RunRow] = relationship(back_populates="reports")


class RedeliveryRow(Base):
    __tablename__ = "redeliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    mode: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[CaseRow] = relationship(back_populates="redeliveries")


# --- records handed to callers -------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecord:
    """A stored case, without its secret (which is never stored)."""

    id: int
    ticket: str
    customer: str
    endpoint_url: str
    profile: str
    log_source: str
    captured_request: Mapping[str, Any] | None
    notes: str
    created_at: datetime
    updated_at: datetime
    run_count: int = 0


@dataclass(frozen=True)
class RunRecord:
    """A stored run: what ran, its findings and its rendered reports (format -> text)."""

    id: int
    case_id: int
    started_at: datetime
    finished_at: datetime | None
    subject: str
    kinds: tuple[str, ...]
    secret_fingerprint: str
    counts: Mapping[str, int]
    metrics: Mapping[str, Any]
    findings: tuple[Finding, ...] = ()
    reports: Mapping[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        return Outcome(subject=self.subject, findings=list(self.findings), metrics=dict(self.metrics))


@dataclass(frozen=True)
class RedeliveryRecord:
    """One event sent to the endpoint on an agent's request, with the endpoint's answer."""

    id: int
    case_id: int
    sent_at: datetime
    mode: str
    event_id: str
    url: str
    status_code: int | None
    error: str | None
    duration_ms: float | None
    response_excerpt: str


def _jsonable(value: Any) -> Any:
    """What JSON columns accept: round-trip through json with str() for the rest."""
    return json.loads(json.dumps(value, default=str))


# --- the store -----------------------------------------------------------------------------


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest migration (idempotent)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def _engine_for(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"invalid database URL: {exc}", field="database.url") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        _sqlite_pragmas(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


class CaseStore:
    """Persistence of cases, runs, findings, reports and redeliveries (schema at head on open)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine_for(url)
        try:
            upgrade_schema(self.engine)
        except OperationalError as exc:
            raise InputError(f"cannot open the case store: {exc.orig}", field="database.url") from exc

    def close(self) -> None:
        self.engine.dispose()

    # cases --------------------------------------------------------------------------------

    def create_case(
        self,
        *,
        ticket: str = "",
        customer: str = "",
        endpoint_url: str = "",
        profile: str = "ours",
        log_source: str = "",
        captured_request: Mapping[str, Any] | None = None,
        notes: str = "",
        forbidden: Sequence[str] = (),
    ) -> CaseRecord:
        row = CaseRow(
            ticket=redact(ticket, forbidden),
            customer=redact(customer, forbidden),
            endpoint_url=redact(endpoint_url, forbidden),
            profile=profile or "ours",
            log_source=redact(log_source, forbidden),
            captured_request=_jsonable(redact(captured_request, forbidden)) if captured_request else None,
            notes=redact(notes, forbidden),
        )
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            return self._case_record(row, 0)

    def update_case(self, case_id: int, *, forbidden: Sequence[str] = (), **changes: Any) -> CaseRecord:
        """Change the editable fields of a case (ticket, customer, endpoint_url, profile, ...)."""
        editable = {"ticket", "customer", "endpoint_url", "profile", "log_source", "captured_request", "notes"}
        unknown = set(changes) - editable
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        with Session(self.engine) as session, session.begin():
            row = self._case_row(session, case_id)
            for key, value in changes.items():
                value = redact(value, forbidden)
                setattr(row, key, _jsonable(value) if key == "captured_request" and value else value)
            row.updated_at = _now()
            session.flush()
            return self._case_record(row, len(row.runs))

    def get_case(self, case_id: int) -> CaseRecord:
        with Session(self.engine) as session:
            row = self._case_row(session, case_id)
            return self._case_record(row, len(row.runs))

    def find_cases(self, text: str = "", limit: int = 200) -> list[CaseRecord]:
        """Cases whose ticket, customer or endpoint contains `text` (case-insensitive), newest first."""
        runs = (
            select(RunRow.case_id, func.count(RunRow.id).label("n")).group_by(RunRow.case_id).subquery()
        )
        query = select(CaseRow, func.coalesce(runs.c.n, 0)).outerjoin(runs, runs.c.case_id == CaseRow.id)
        if text.strip():
            pattern = f"%{text.strip().lower()}%"
            query = query.where(
                or_(
                    func.lower(CaseRow.ticket).like(pattern),
                    func.lower(CaseRow.customer).like(pattern),
                    func.lower(CaseRow.endpoint_url).like(pattern),
                )
            )
        query = query.order_by(CaseRow.updated_at.desc(), CaseRow.id.desc()).limit(limit)
        with Session(self.engine) as session:
            return [self._case_record(row, int(n)) for row, n in session.execute(query)]

    def delete_case(self, case_id: int) -> None:
        with Session(self.engine) as session, session.begin():
            session.delete(self._case_row(session, case_id))

    # runs ---------------------------------------------------------------------------------

    def record_run(
        self,
        case_id: int,
        outcome: Outcome,
        reports: Mapping[str, str],
        *,
        kinds: Iterable[str] = (),
        started_at: datetime | None = None,
        secret_fingerprint: str = "",
        forbidden: Sequence[str] = (),
    ) -> RunRecord:
        """Store a finished run in one transaction: its findings and rendered reports, or nothing."""
        findings = list(outcome.findings)
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.status.value] = counts.get(finding.status.value, 0) + 1
        with Session(self.engine) as session, session.begin():
            case = self._case_row(session, case_id)
            run = RunRow(
                case_id=case_id,
                started_at=started_at or _now(),
                finished_at=_now(),
                subject=redact(outcome.subject, forbidden),
                kinds=list(kinds),
                secret_fingerprint=secret_fingerprint,
                counts=counts,
                metrics=_jsonable(redact(outcome.metrics, forbidden)),
            )
            for position, finding in enumerate(findings):
                data = _jsonable(redact(finding.to_dict(), forbidden))
                run.findings.append(
                    FindingRow(
                        position=position,
                        code=finding.code,
                        status=finding.status.value,
                        severity=finding.severity.value,
                        title=data["title"],
                        subject=data["subject"],
                        data=data,
                    )
                )
            for fmt, content in reports.items():
                run.reports.append(ReportRow(format=fmt, content=redact(content, forbidden)))
            session.add(run)
            case.updated_at = _now()
            session.flush()
            return self._run_record(run)

    def get_run(self, run_id: int) -> RunRecord:
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise InputError(f"no run with id {run_id}", field="run")
            return self._run_record(run)

    def list_runs(self, case_id: int) -> list[RunRecord]:
        """The runs of a case, newest first (findings included, reports too)."""
        with Session(self.engine) as session:
            self._case_row(session, case_id)
            query = select(RunRow).where(RunRow.case_id == case_id).order_by(RunRow.id.desc())
            return [self._run_record(run) for run in session.scalars(query)]

    # redeliveries -------------------------------------------------------------------------

    def record_redelivery(
        self,
        case_id: int,
        *,
        mode: str,
        url: str,
        event_id: str = "",
        status_code: int | None = None,
        error: str | None = None,
        duration_ms: float | None = None,
        response_excerpt: str = "",
        forbidden: Sequence[str] = (),
    ) -> RedeliveryRecord:
        with Session(self.engine) as session, session.begin():
            case = self._case_row(session, case_id)
            row = RedeliveryRow(
                case_id=case_id,
                mode=mode,
                event_id=redact(event_id, forbidden),
                url=redact(url, forbidden),
                status_code=status_code,
                error=redact(error, forbidden),
                duration_ms=duration_ms,
                response_excerpt=redact(response_excerpt or "", forbidden)[:MAX_STORED_TEXT],
            )
            session.add(row)
            case.updated_at = _now()
            session.flush()
            return self._redelivery_record(row)

    def record_redeliveries(
        self, case_id: int, sends: Sequence[Mapping[str, Any]], *, forbidden: Sequence[str] = ()
    ) -> int:
        """Many sends of one run (a recovery resend) in one transaction: all of them or none.

        Each mapping has the keyword arguments of `record_redelivery` plus an optional `sent_at`.
        """
        with Session(self.engine) as session, session.begin():
            case = self._case_row(session, case_id)
            for send in sends:
                session.add(RedeliveryRow(
                    case_id=case_id,
                    sent_at=_utc(send.get("sent_at")) or _now(),
                    mode=str(send["mode"]),
                    event_id=redact(str(send.get("event_id") or ""), forbidden),
                    url=redact(str(send["url"]), forbidden),
                    status_code=send.get("status_code"),
                    error=redact(send.get("error"), forbidden),
                    duration_ms=send.get("duration_ms"),
                    response_excerpt=redact(str(send.get("response_excerpt") or ""), forbidden)[:MAX_STORED_TEXT],
                ))
            case.updated_at = _now()
        return len(sends)

    def list_redeliveries(self, case_id: int) -> list[RedeliveryRecord]:
        with Session(self.engine) as session:
            query = select(RedeliveryRow).where(RedeliveryRow.case_id == case_id).order_by(RedeliveryRow.id.desc())
            return [self._redelivery_record(row) for row in session.scalars(query)]

    # helpers ------------------------------------------------------------------------------

    @staticmethod
    def _case_row(session: Session, case_id: int) -> CaseRow:
        row = session.get(CaseRow, case_id)
        if row is None:
            raise InputError(f"no case with id {case_id}", field="case")
        return row

    @staticmethod
    def _case_record(row: CaseRow, run_count: int) -> CaseRecord:
        return CaseRecord(
            id=row.id,
            ticket=row.ticket,
            customer=row.customer,
            endpoint_url=row.endpoint_url,
            profile=row.profile,
            log_source=row.log_source,
            captured_request=row.captured_request,
            notes=row.notes,
            created_at=_utc(row.created_at) or _now(),
            updated_at=_utc(row.updated_at) or _now(),
            run_count=run_count,
        )

    @staticmethod
    def _run_record(run: RunRow) -> RunRecord:
        return RunRecord(
            id=run.id,
            case_id=run.case_id,
            started_at=_utc(run.started_at) or _now(),
            finished_at=_utc(run.finished_at),
            subject=run.subject,
            kinds=tuple(run.kinds or ()),
            secret_fingerprint=run.secret_fingerprint,
            counts=dict(run.counts or {}),
            metrics=dict(run.metrics or {}),
            findings=tuple(Finding.from_dict(f.data) for f in run.findings),
            reports={r.format: r.content for r in run.reports},
        )

    @staticmethod
    def _redelivery_record(row: RedeliveryRow) -> RedeliveryRecord:
        return RedeliveryRecord(
            id=row.id,
            case_id=row.case_id,
            sent_at=_utc(row.sent_at) or _now(),
            mode=row.mode,
            event_id=row.event_id,
            url=row.url,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            response_excerpt=row.response_excerpt,
        )


def open_store(config: Config) -> CaseStore:
    """The store the configuration names (`database.url`, default SQLite in the workspace)."""
    return CaseStore(config.database_url)
