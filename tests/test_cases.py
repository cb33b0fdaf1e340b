"""The case store against SQLite and a real PostgreSQL server: round trips, search, migrations,
atomic runs, and no secret in the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from diagnostics.cases import CaseStore, redact
from diagnostics.errors import InputError
from diagnostics.findings import Finding, Outcome, Severity, Status, fingerprint_secret

SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def _finding(code: str, status: Status = Status.FAIL, subject: str = "https://hooks.example.com/in") -> Finding:
    return Finding(
        code=code,
        status=status,
        severity=Severity.HIGH,
        title=f"{code} title",
        summary="p95 12.4 s over 230 deliveries",
        subject=subject,
        evidence=(("p95", "12.4 s"), ("timeout", "15 s")),
        samples=({"event_id": "evt_1", "status_code": 500},),
        sample_total=7,
        source="test",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / 'cases.db'}"
        return
    server_url = make_url(request.getfixturevalue("postgres_url"))
    name = f"cases_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[CaseStore]:
    case_store = CaseStore(store_url)
    yield case_store
    case_store.close()


def test_case_round_trip_and_search(store: CaseStore) -> None:
    # Given two cases
    first = store.create_case(
        ticket="ZD-1042",
        customer="Acme Corp",
        endpoint_url="https://hooks.acme.test/in",
        profile="stripe",
        captured_request={"headers": {"webhook-id": "msg_1"}, "body": '{"a": 1}'},
    )
    store.create_case(ticket="ZD-2000", customer="Globex", endpoint_url="https://globex.test/hook")
    # When we read and search
    again = store.get_case(first.id)
    # Then every field survives and search matches ticket, customer and endpoint, case-insensitively
    assert again.ticket == "ZD-1042" and again.profile == "stripe"
    assert again.captured_request == {"headers": {"webhook-id": "msg_1"}, "body": '{"a": 1}'}
    assert again.created_at.tzinfo is not None
    assert [c.ticket for c in store.find_cases("acme")] == ["ZD-1042"]
    assert [c.ticket for c in store.find_cases("GLOBEX.test")] == ["ZD-2000"]
    assert [c.ticket for c in store.find_cases("zd-")] == ["ZD-2000", "ZD-1042"]
    assert store.find_cases("nothing-like-this") == []


def test_run_stores_findings_reports_and_counts(store: CaseStore) -> None:
    case = store.create_case(ticket="ZD-7", endpoint_url="https://hooks.example.com/in")
    outcome = Outcome(
        subject="https://hooks.example.com/in",
        findings=[_finding("slow-response"), _finding("tls-valid", Status.PASS)],
        metrics={"p95_ms": 12400.0},
    )
    run = store.record_run(
        case.id, outcome, {"markdown": "# reply", "html": "<html>report</html>"}, kinds=("probe", "logs")
    )
    stored = store.get_run(run.id)
    assert stored.kinds == ("probe", "logs")
    assert stored.counts == {"fail": 1, "pass": 1}
    assert stored.metrics == {"p95_ms": 12400.0}
    assert stored.findings == tuple(outcome.findings)  # evidence, samples and totals survive
    assert stored.reports == {"markdown": "# reply", "html": "<html>report</html>"}
    assert store.get_case(case.id).run_count == 1
    assert [r.id for r in store.list_runs(case.id)] == [run.id]


def test_runs_are_listed_newest_first(store: CaseStore) -> None:
    case = store.create_case(ticket="ZD-8")
    ids = [store.record_run(case.id, Outcome(subject=f"run {i}"), {}).id for i in range(3)]
    assert [r.id for r in store.list_runs(case.id)] == list(reversed(ids))


def test_a_failed_run_write_leaves_nothing_behind(store: CaseStore) -> None:
    # Given a case, and a report whose content cannot be stored (not text)
    case = store.create_case(ticket="ZD-9")
    outcome = Outcome(subject="x", findings=[_finding("slow-response")])
    with pytest.raises(Exception):  # the driver raises its own error type per engine
        store.record_run(case.id, outcome, {"html": object()})  # type: ignore[dict-item]
    # Then neither the run nor its findings were half-written
    assert store.list_runs(case.id) == []
    assert store.get_case(case.id).run_count == 0


def test_redeliveries_are_recorded_per_case(store: CaseStore) -> None:
    case = store.create_case(ticket="ZD-10", endpoint_url="http://127.0.0.1:9/hook")
    store.record_redelivery(case.id, mode="replay", url=case.endpoint_url, event_id="evt_1", status_code=200,
                            duration_ms=12.5, response_excerpt="ok")
    store.record_redelivery(case.id, mode="test", url=case.endpoint_url, error="connection_refused")
    records = store.list_redeliveries(case.id)
    assert [(r.mode, r.status_code, r.error) for r in records] == [
        ("test", None, "connection_refused"),
        ("replay", 200, None),
    ]
    assert records[1].duration_ms == 12.5 and records[1].event_id == "evt_1"


def test_a_resend_run_is_recorded_in_one_transaction_with_its_send_times(store: CaseStore) -> None:
    case = store.create_case(ticket="ZD-11", endpoint_url="http://127.0.0.1:9/hook")
    sent = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    sends = [{"mode": "resend", "url": case.endpoint_url, "event_id": f"evt_{i}", "status_code": 200,
              "duration_ms": 3.0, "sent_at": sent} for i in range(3)]
    sends.append({"mode": "resend", "url": case.endpoint_url, "event_id": "evt_x", "error": "timeout whsec_x1"})
    assert store.record_redeliveries(case.id, sends, forbidden=["whsec_x1"]) == 4
    records = store.list_redeliveries(case.id)
    assert [r.event_id for r in records] == ["evt_x", "evt_2", "evt_1", "evt_0"]
    assert records[-1].sent_at == sent and "whsec_x1" not in (records[0].error or "")
    with pytest.raises(InputError):
        store.record_redeliveries(case.id + 999, sends)
    assert len(store.list_redeliveries(case.id)) == 4


def test_unknown_case_is_an_input_error(store: CaseStore) -> None:
    with pytest.raises(InputError, match="no case with id 999"):
        store.get_case(999)
    with pytest.raises(InputError, match="no run with id 5"):
        store.get_run(5)


def test_update_and_delete_case(store: CaseStore) -> None:
    case = store.create_case(ticket="ZD-11", customer="Old name")
    store.record_run(case.id, Outcome(subject="x", findings=[_finding("slow-response")]), {"json": "{}"})
    updated = store.update_case(case.id, customer="New name", notes="called the customer")
    assert updated.customer == "New name" and updated.notes == "called the customer" and updated.run_count == 1
    with pytest.raises(ValueError, match="not editable"):
        store.update_case(case.id, id=5)
    store.delete_case(case.id)
    assert store.find_cases() == []


def test_schema_is_at_head_and_reopening_is_idempotent(store_url: str) -> None:
    CaseStore(store_url).close()
    store = CaseStore(store_url)  # a second open runs the migrations again: nothing to do
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        tables = set(inspect(conn).get_table_names())
    store.close()
    assert version == "0001"
    assert {"cases", "runs", "findings", "reports", "redeliveries"} <= tables


def test_no_secret_reaches_the_database(store: CaseStore, store_url: str, tmp_path: Path) -> None:
    # Given a run whose texts all mention the secret (as a careless producer might)
    case = store.create_case(
        ticket="ZD-12", endpoint_url=f"https://hooks.example.com/in?key={SECRET}",
        captured_request={"headers": {"x-secret": SECRET}, "body": SECRET}, forbidden=[SECRET],
    )
    leaky = Finding(
        code="signature-mismatch", status=Status.FAIL, severity=Severity.HIGH, title="Signature mismatch",
        summary=f"tried {SECRET}", evidence=(("secret", SECRET),), samples=({"secret": SECRET},),
    )
    store.record_run(
        case.id, Outcome(subject=SECRET, findings=[leaky], metrics={"secret": SECRET}),
        {"html": f"<p>{SECRET}</p>", "markdown": SECRET}, secret_fingerprint=fingerprint_secret(SECRET),
        forbidden=[SECRET],
    )
    store.record_redelivery(case.id, mode="test", url="http://x", response_excerpt=SECRET, forbidden=[SECRET])
    # Then no stored value anywhere contains it, and the fingerprint is there instead
    dumped = _dump_every_value(store)
    assert SECRET not in dumped
    assert fingerprint_secret(SECRET) in dumped
    if store_url.startswith("sqlite"):
        database_file = Path(make_url(store_url).database or "")
        store.close()
        raw = b"".join(p.read_bytes() for p in database_file.parent.glob("cases.db*"))
        assert SECRET.encode() not in raw


def _dump_every_value(store: CaseStore) -> str:
    """Every cell of every table as text."""
    parts: list[str] = []
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 (table names from the schema)
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def test_redact_walks_nested_values() -> None:
    value = {"a": [SECRET, {"b": f"x{SECRET}y"}], SECRET: 1, "n": 3}
    redacted = redact(value, [SECRET, ""])
    assert SECRET not in repr(redacted) and redacted["n"] == 3
    assert redact("plain", []) == "plain"


def test_bad_database_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="database"):
        CaseStore("not a url")


def test_a_real_run_leaves_no_secret_in_the_database_or_reports(store: CaseStore, store_url: str,
                                                                 tmp_path: Path) -> None:
    """The whole pipeline (probe signed with the secret, signature debugging, the demo log) on this store."""
    from diagnostics.config import load_config
    from diagnostics.logs.generate import generate_log
    from diagnostics.pipeline.case import CapturedRequest, Case, LogSource, run_case
    from diagnostics.sandbox import DEMO_SECRET, start_sandbox
    from diagnostics.signatures import sign_headers

    config = load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path / "ws"), "DIAGNOSTICS_ALLOW": "127.0.0.1"})
    log = generate_log(seed=3, attempts=2000).write(tmp_path / "log.csv")
    body = b'{"id":"evt_1","type":"invoice.paid"}'
    captured = CapturedRequest(sign_headers("standard-webhooks", DEMO_SECRET, body, msg_id="msg_1"), body)
    with start_sandbox() as sandbox:
        case = Case(ticket="ZD-SECRET", endpoint_url=sandbox.url("/verify/standard-webhooks"), secret=DEMO_SECRET,
                    captured=captured, log_source=LogSource(path=log, endpoint="ep_rotated"))
        result = run_case(case, config, store=store)
    assert result.kinds == ("probe", "signature", "logs")
    run = store.get_run(result.run_id)
    assert run.secret_fingerprint == fingerprint_secret(DEMO_SECRET)
    for fmt, content in run.reports.items():
        assert DEMO_SECRET not in content, fmt
    assert DEMO_SECRET not in _dump_every_value(store)
