"""run_case: planning, merging, error isolation, storage without secrets, run comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.cases import CaseStore
from diagnostics.config import Config, load_config
from diagnostics.errors import InputError
from diagnostics.findings import Finding, Outcome, Severity, Status, fingerprint_secret
from diagnostics.logs import load_attempts
from diagnostics.pipeline.case import (
    REPORT_FORMATS,
    CapturedRequest,
    Case,
    LogSource,
    compare_runs,
    merge_outcomes,
    plan,
    run_case,
)

SECRET = "whsec_pipelineTestSecret0123456789abcdef"


def _finding(code: str, status: Status, subject: str = "https://hooks.example.com/in") -> Finding:
    return Finding(code=code, status=status, severity=Severity.HIGH, title=f"{code} title",
                   summary="summary", subject=subject)


def test_captured_request_parses_request_line_headers_and_exact_body() -> None:
    text = 'POST /hooks HTTP/1.1\r\nwebhook-id: msg_1\r\nContent-Type: application/json\r\n\r\n{"a": 1}\n'
    captured = CapturedRequest.parse(text)
    assert captured.method == "POST" and captured.path == "/hooks"
    assert captured.headers == {"webhook-id": "msg_1", "Content-Type": "application/json"}
    assert captured.body == b'{"a": 1}\n'
    assert CapturedRequest.from_record(captured.to_record()) == captured


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("just a body without headers", "Name: value"), ("\n\n{}", "no headers")],
)
def test_captured_request_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        CapturedRequest.parse(text)


def test_plan_follows_the_inputs() -> None:
    runners = {"probe": None, "signature": None, "logs": None}
    assert plan(Case(endpoint_url="https://x.test"), runners) == ["probe"]  # type: ignore[arg-type]
    full = Case(endpoint_url="https://x.test", captured=CapturedRequest({"a": "b"}, b""), secret="s",
                log_source=LogSource(path=Path("log.csv")))
    assert plan(full, runners) == ["probe", "signature", "logs"]  # type: ignore[arg-type]
    assert plan(full, {"logs": None}) == ["logs"]  # type: ignore[dict-item]


def test_merge_keeps_every_finding_and_names_metrics_and_tables_by_part() -> None:
    probe = Outcome(subject="u", findings=[_finding("slow-response", Status.FAIL)], metrics={"p95": 1},
                    tables={"samples": [{"n": 1}]})
    logs = Outcome(subject="l", findings=[_finding("outage-window", Status.WARN)], tables={"logs_endpoints": []})
    merged = merge_outcomes("case", {"probe": probe, "logs": logs})
    assert [f.code for f in merged.findings] == ["slow-response", "outage-window"]
    assert merged.metrics == {"probe": {"p95": 1}, "parts": {"probe": ["slow-response"], "logs": ["outage-window"]},
                              "checks": ["logs", "probe"]}
    assert set(merged.tables) == {"probe_samples", "logs_endpoints"}


def test_run_case_stores_run_reports_and_never_the_secret(config: Config, store: CaseStore) -> None:
    # Given a case with a secret and a part that (carelessly) echoes the secret it was given
    seen: list[str | None] = []

    def probe(case: Case, _config: Config, progress) -> Outcome:
        seen.append(case.secret)
        progress("probing", 0.5)
        return Outcome(subject=case.endpoint_url, findings=[
            Finding(code="slow-response", status=Status.FAIL, severity=Severity.HIGH,
                    title="Slow", summary=f"used {case.secret}"),
        ])

    messages: list[tuple[str, float]] = []
    case = Case(ticket="ZD-1", customer="Acme", endpoint_url="https://hooks.acme.test/in", secret=SECRET)
    result = run_case(case, config, lambda m, f: messages.append((m, f)), store=store, runners={"probe": probe})
    # Then the part saw the secret in memory, and the stored run has the fingerprint, not the secret
    assert seen == [SECRET]
    stored = store.get_run(result.run_id)
    assert stored.secret_fingerprint == fingerprint_secret(SECRET)
    assert set(stored.reports) == set(REPORT_FORMATS)
    assert all(SECRET not in text for text in stored.reports.values())
    assert SECRET not in stored.findings[0].summary
    assert case.case_id == result.case_id and store.get_case(result.case_id).ticket == "ZD-1"
    # Progress went forward from 0 to 1
    fractions = [f for _m, f in messages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0


def test_a_part_with_bad_input_becomes_an_error_finding(config: Config, store: CaseStore) -> None:
    def probe(case: Case, _config: Config, _progress) -> Outcome:
        return Outcome(subject=case.endpoint_url, findings=[_finding("tls-valid", Status.PASS)])

    def logs(_case: Case, _config: Config, _progress) -> Outcome:
        raise InputError("missing required column", file="log.csv", field="event_id")

    case = Case(endpoint_url="https://hooks.example.com/in", log_source=LogSource(path=Path("log.csv")))
    result = run_case(case, config, store=store, runners={"probe": probe, "logs": logs})
    statuses = {f.code: f.status for f in result.outcome.findings}
    assert statuses == {"tls-valid": Status.PASS, "case-input-unusable": Status.ERROR}
    error = next(f for f in result.outcome.findings if f.code == "case-input-unusable")
    assert "log.csv" in error.summary and "event_id" in error.summary
    assert not result.outcome.exit_code  # "could not check" is never a failure


def test_run_case_refuses_an_empty_case_and_an_unknown_profile(config: Config, store: CaseStore) -> None:
    with pytest.raises(InputError, match="nothing to check"):
        run_case(Case(ticket="ZD-2"), config, store=store, runners={})
    with pytest.raises(InputError, match="unknown sender profile"):
        run_case(Case(endpoint_url="https://x.test", profile="nope"), config, store=store, runners={})
    assert store.find_cases() == []  # nothing was stored for refused cases


def test_rerun_of_a_reopened_case_updates_it(config: Config, store: CaseStore) -> None:
    def probe(case: Case, _config: Config, _progress) -> Outcome:
        return Outcome(subject=case.endpoint_url, findings=[_finding("slow-response", Status.FAIL)])

    first = run_case(Case(ticket="ZD-3", endpoint_url="https://hooks.example.com/in"), config, store=store,
                     runners={"probe": probe})
    reopened = Case.from_record(store.get_case(first.case_id), config)
    second = run_case(reopened, config, store=store, runners={"probe": probe})
    assert second.case_id == first.case_id
    assert [r.id for r in store.list_runs(first.case_id)] == [second.run_id, first.run_id]


def test_log_source_description_round_trips(config: Config) -> None:
    source = LogSource(path=Path("/ws/demo/deliveries.csv"), endpoint="ep_1")
    assert LogSource.from_description(source.describe(), config) == source
    assert LogSource.from_description("", config) is None


def test_compare_runs_names_fixed_new_and_remaining() -> None:
    older = Outcome(subject="s", findings=[_finding("slow-response", Status.FAIL),
                                          _finding("redirect-response", Status.WARN),
                                          _finding("tls-valid", Status.PASS)])
    newer = Outcome(subject="s", findings=[_finding("slow-response", Status.FAIL),
                                          _finding("redirect-response", Status.PASS),
                                          _finding("signature-mismatch", Status.FAIL)])
    comparison = compare_runs(older, newer)
    assert comparison.unchecked == ()
    assert [f.code for f in comparison.fixed] == ["redirect-response"]
    assert [f.code for f in comparison.new] == ["signature-mismatch"]
    assert [f.code for f in comparison.remaining] == ["slow-response"]


def test_plan_needs_the_secret_for_the_signature_part() -> None:
    from diagnostics.pipeline.case import skipped_parts

    captured = CapturedRequest({"webhook-id": "msg_1"}, b"{}")
    assert plan(Case(captured=captured)) == []
    assert "signing secret" in skipped_parts(Case(captured=captured))["signature"]
    assert plan(Case(captured=captured, secret=SECRET)) == ["signature"]
    assert skipped_parts(Case(captured=captured, secret=SECRET)) == {}


# --- against real parts: the sandbox receiver on loopback, the real probe and debugger ---------

ROTATED_SECRET = "whsec_b2xkc2VjcmV0b2xkc2VjcmV0b2xkc2VjcmV0"


@pytest.fixture
def sandbox():
    from diagnostics.sandbox import start_sandbox

    with start_sandbox() as handle:
        yield handle


@pytest.fixture
def allowed_config(tmp_path: Path) -> Config:
    return load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path / "ws"), "DIAGNOSTICS_ALLOW": "127.0.0.1"})


def test_run_case_probes_the_sandbox_and_debugs_the_captured_request(sandbox, allowed_config: Config) -> None:
    from diagnostics.sandbox import DEMO_SECRET
    from diagnostics.signatures import sign_headers

    # Given a request signed with an old (rotated) secret and an endpoint that verifies nothing
    body = b'{"id":"evt_1","type":"invoice.paid"}'
    captured = CapturedRequest(sign_headers("standard-webhooks", ROTATED_SECRET, body, msg_id="msg_1"), body)
    case = Case(ticket="ZD-50", endpoint_url=sandbox.url("/accept-all"), secret=DEMO_SECRET, captured=captured)
    # When the case runs
    result = run_case(case, allowed_config)
    # Then both parts ran for real and their verdicts are in the merged, stored outcome
    codes = {f.code: f.status for f in result.outcome.findings}
    assert result.kinds == ("probe", "signature")
    assert codes["signature-not-enforced"] is Status.FAIL  # the sandbox accepted forged events
    assert codes["signature-no-match"] is Status.FAIL  # the captured request used another secret
    assert any(method == "POST" for method, _target in sandbox.stats.requests)
    stored = CaseStore(allowed_config.database_url).get_run(result.run_id)
    assert "signature-not-enforced" in stored.reports["html"] and DEMO_SECRET not in stored.reports["html"]


def test_redeliver_records_the_answer_and_signs_with_our_scheme(sandbox, allowed_config: Config) -> None:
    from diagnostics.pipeline.case import redeliver
    from diagnostics.sandbox import DEMO_SECRET

    store = CaseStore(allowed_config.database_url)
    case = store.create_case(ticket="ZD-51", endpoint_url=sandbox.url("/verify/standard-webhooks"))
    good = redeliver(case.id, case.endpoint_url, config=allowed_config, store=store, secret=DEMO_SECRET)
    replay = redeliver(case.id, case.endpoint_url, config=allowed_config, store=store, payload='{"id":"evt_9"}',
                       event_id="evt_9", secret=ROTATED_SECRET)
    assert (good.mode, good.status_code) == ("test", 200)
    assert (replay.mode, replay.status_code, replay.event_id) == ("replay", 401, "evt_9")
    assert [r.id for r in store.list_redeliveries(case.id)] == [replay.id, good.id]


def test_redeliver_to_a_private_address_is_blocked_by_the_guard(sandbox, config: Config) -> None:
    from diagnostics.pipeline.case import redeliver

    store = CaseStore(config.database_url)  # no allowlist: loopback is refused
    case = store.create_case(ticket="ZD-52", endpoint_url=sandbox.url("/healthy"))
    record = redeliver(case.id, case.endpoint_url, config=config, store=store)
    assert record.status_code is None and record.error and record.error.startswith("blocked")
    assert sandbox.stats.connections == 0


def test_accepted_upload_is_kept_and_bad_uploads_leave_nothing(config: Config) -> None:
    from diagnostics.pipeline.case import accept_log_upload

    good = (
        b"event_id,endpoint,attempted_at,status_code,duration_ms\n"
        b"evt_1,ep_1,2026-03-02T10:00:00Z,200,12.5\n"
    )
    source = accept_log_upload(config, "../../etc/deliveries.csv", good, endpoint="ep_1")
    assert source.path is not None and source.path.parent == config.workspace / "uploads"
    assert source.path.read_bytes() == good and source.endpoint == "ep_1"
    with pytest.raises(InputError, match="empty"):
        accept_log_upload(config, "empty.csv", b"")
    with pytest.raises(InputError, match="larger than 10 bytes"):
        accept_log_upload(config, "big.csv", good, max_bytes=10)
    with pytest.raises(InputError) as info:
        accept_log_upload(config, "wrong.csv", b"name,age\nbob,4\n")
    assert "wrong.csv" in str(info.value) and ".incoming" not in str(info.value)
    assert sorted(p.name for p in (config.workspace / "uploads").iterdir()) == [source.path.name]


def test_an_upload_with_a_column_mapping_is_kept_as_the_canonical_log_it_maps_to(config: Config) -> None:
    from diagnostics.pipeline.case import accept_log_upload

    theirs = (
        b"id,hook,created,code\n"
        b"evt_1,ep_1,2026-03-02T10:00:00Z,500\n"
        b"evt_1,ep_1,2026-03-02T10:01:00Z,200\n"
    )
    with pytest.raises(InputError) as info:
        accept_log_upload(config, "theirs.csv", theirs)
    assert "map them with --map (event_id=<your column>)" in str(info.value)
    mapping = {"event_id": "id", "endpoint": "hook", "attempted_at": "created", "status_code": "code"}
    source = accept_log_upload(config, "theirs.csv", theirs, mapping=mapping)
    assert source.path is not None and source.path.suffix == ".parquet"
    assert accept_log_upload(config, "theirs.csv", theirs, mapping=dict(reversed(mapping.items()))) == source
    attempts = load_attempts([str(source.path)])  # a reopened case reads it without the mapping
    try:
        rows = attempts.conn.execute(
            "SELECT event_id, endpoint, attempt, status_code FROM attempts ORDER BY attempt").fetchall()
    finally:
        attempts.conn.close()
    assert rows == [("evt_1", "ep_1", 1, 500), ("evt_1", "ep_1", 2, 200)]
    with pytest.raises(InputError, match="no such column"):
        accept_log_upload(config, "theirs.csv", theirs, mapping={**mapping, "event_id": "ident"})
    assert sorted(p.suffix for p in (config.workspace / "uploads").iterdir()) == [".parquet"]


def test_a_part_that_did_not_run_again_is_unchecked_not_fixed() -> None:
    older = merge_outcomes("s", {
        "probe": Outcome(subject="s", findings=[_finding("slow-response", Status.FAIL)]),
        "signature": Outcome(subject="s", findings=[_finding("signature-no-match", Status.FAIL)]),
    })
    newer = merge_outcomes("s", {"probe": Outcome(subject="s", findings=[_finding("slow-response", Status.PASS)])})
    comparison = compare_runs(older, newer)
    assert [f.code for f in comparison.fixed] == ["slow-response"]
    assert [f.code for f in comparison.unchecked] == ["signature-no-match"]
    assert comparison.new == () and comparison.remaining == ()


def test_keep_upload_stores_by_content_and_refuses_empty_or_huge(config: Config) -> None:
    from diagnostics.pipeline.case import keep_upload

    first = keep_upload(config, "catalog.yaml", b"event_types: []\n")
    again = keep_upload(config, "../catalog.yaml", b"event_types: []\n")
    assert first == again and first.read_bytes() == b"event_types: []\n"
    with pytest.raises(InputError, match="empty"):
        keep_upload(config, "subs.csv", b"")
    with pytest.raises(InputError, match="larger than 4 bytes"):
        keep_upload(config, "subs.csv", b"12345", max_bytes=4)
    assert [p.name for p in first.parent.iterdir()] == [first.name]


@pytest.mark.postgres
def test_run_case_reads_the_log_from_a_sql_source_with_the_endpoint_pushed_down(postgres_url: str,
                                                                                config: Config) -> None:
    import sqlalchemy as sa

    from diagnostics.logs.generate import generate_log

    # Given our delivery-attempt table in a real PostgreSQL server
    frame = generate_log(seed=5, attempts=6000).table.to_pandas()
    frame = frame[frame["endpoint"].isin(["ep_rotated", "ep_healthy_1"])]
    engine = sa.create_engine(postgres_url)
    frame.to_sql("case_attempts", engine, index=False, if_exists="replace", method="multi", chunksize=2000,
                 dtype={"attempted_at": sa.DateTime(timezone=True)})
    engine.dispose()
    # When a case names the SQL source (allowlisted for databases: it is on loopback) and one endpoint
    config.override("databases", "allow", ["127.0.0.1/32"], source="test")
    case = Case(ticket="ZD-SQL", log_source=LogSource(url=postgres_url, table="case_attempts", endpoint="ep_rotated"))
    result = run_case(case, config)
    # Then only that endpoint's attempts were analyzed and the secret-rotation flip is found
    assert result.kinds == ("logs",)
    statuses = {f.code: f.status for f in result.outcome.findings}
    assert statuses["status-change"] is Status.FAIL
    queries = result.outcome.metrics["logs"]["import"]["source_queries"]
    assert any("case_attempts" in q and "endpoint" in q for q in queries)
    assert result.outcome.metrics["logs"]["import"]["rows"] == int((frame["endpoint"] == "ep_rotated").sum())


def test_sql_endpoints_without_a_source_is_empty_and_a_bad_table_is_an_input_error(tmp_path: Path) -> None:
    from diagnostics.pipeline.case import sql_endpoints

    assert sql_endpoints(load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path)})) == []
    bad = load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path),
                           "DIAGNOSTICS_LOG_DB_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    with pytest.raises(InputError, match="cannot list endpoints in 'delivery_attempts'"):
        sql_endpoints(bad)


def _every_stored_value(store: CaseStore) -> str:
    """Every cell of every table as text, to grep for a secret."""
    from sqlalchemy import inspect, text

    parts: list[str] = []
    with store.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):  # noqa: S608 (table names from the schema)
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def test_a_signature_lab_run_is_kept_in_the_case_without_its_secrets(config: Config, store: CaseStore) -> None:
    from diagnostics.pipeline.case import record_part_run
    from diagnostics.pipeline.signature import debug_signature
    from diagnostics.signatures import sign_headers

    # Given an open case and a lab check: signed with a rotated-out secret, tried with the current one too
    previous = "whsec_rotatedOutSecret9876543210fedcba"
    body = b'{"id":"evt_lab_1","type":"invoice.paid"}'
    headers = sign_headers("standard-webhooks", previous, body, msg_id="msg_lab_1")
    case = store.create_case(ticket="ZD-LAB", endpoint_url="https://hooks.example.com/in")
    outcome = debug_signature(body, headers, [SECRET, previous], scheme="auto")
    # When the lab records it in the case
    run = record_part_run(case.id, outcome, kind="signature", config=config, store=store, secret=SECRET,
                          other_secrets=(previous,))
    # Then it is a signature-only run of that case, with the fingerprint, and neither secret is stored
    stored = store.list_runs(case.id)[0]
    assert stored.id == run.id and stored.kinds == ("signature",)
    assert stored.secret_fingerprint == fingerprint_secret(SECRET)
    assert {f.code for f in stored.findings} == {f.code for f in outcome.findings}
    assert stored.metrics["parts"] == {"signature": sorted({f.code for f in outcome.findings})}
    assert set(stored.reports) == set(REPORT_FORMATS)
    dumped = _every_stored_value(store)
    for secret in (SECRET, previous):
        assert secret not in dumped
        assert all(secret not in content for content in stored.reports.values())


def test_a_part_run_compared_with_a_full_run_leaves_other_parts_unchecked(config: Config, store: CaseStore) -> None:
    from diagnostics.pipeline.case import record_part_run

    # Given a full run with a probe problem, then a signature-only run from the lab
    case = store.create_case(ticket="ZD-PART")
    full = Outcome(subject="s", findings=[_finding("endpoint-slow", Status.FAIL)],
                   metrics={"parts": {"probe": ["endpoint-slow"], "signature": []}})
    store.record_run(case.id, full, {}, kinds=("probe", "signature"))
    part = record_part_run(case.id, Outcome(subject="s", findings=[]), kind="signature", config=config,
                           store=store)
    # Then the probe problem is not called fixed
    comparison = compare_runs(store.list_runs(case.id)[1], part)
    assert not comparison.fixed and [f.code for f in comparison.unchecked] == ["endpoint-slow"]
