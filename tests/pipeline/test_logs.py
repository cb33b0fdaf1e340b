"""pipeline.logs: load -> judge -> one Outcome with findings, metrics and report tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.findings import Status
from diagnostics.logs import load_attempts
from diagnostics.logs.generate import generate_log
from diagnostics.pipeline.logs import analyze_attempts, analyze_logs
from diagnostics.report import render

EXPECTED_CODES = {
    "duplicate-deliveries", "outage-window", "status-change", "retry-exhausted", "high-failure-rate",
    "redirect-responses", "rate-limited", "latency-near-timeout", "auto-disable-risk", "out-of-order-delivery",
}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_log(seed=7, attempts=25_000).write(tmp_path_factory.mktemp("pipe") / "log.csv.gz")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return load_config(env={})


def test_outcome_has_every_planted_finding_and_the_metrics(log_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    outcome = analyze_logs([str(log_path)], config=config)
    failing = {f.code for f in outcome.findings if f.status in (Status.FAIL, Status.WARN)}
    assert failing == EXPECTED_CODES
    assert outcome.exit_code == 1
    assert outcome.kind == "delivery-log"
    assert outcome.metrics["attempts"] == 25_000
    assert {"endpoints", "event_types", "failure_groups", "redeliver", "import"} <= set(outcome.metrics)
    assert set(outcome.tables) == {"Endpoints", "Event types", "Failure groups"}
    assert outcome.metrics["import"]["problem_total"] == 0
    assert "log.csv.gz" in outcome.subject


def test_every_format_renders(log_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    outcome = analyze_logs([str(log_path)], config=config, endpoint="ep_dupes")
    data = json.loads(render(outcome, "json"))
    assert data["metrics"]["import"]["filters"] == {"endpoint": "ep_dupes"}
    assert [e["name"] for e in data["metrics"]["endpoints"]] == ["ep_dupes"]
    for fmt in ("text", "markdown", "html"):
        text = render(outcome, fmt)
        assert "ep_dupes" in text and "duplicate" in text.lower()


def test_profile_changes_the_judgment(log_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    github = analyze_logs([str(log_path)], config=config, profile="github")  # 10 s timeout, no retries
    codes = {f.code: f for f in github.findings if f.status is not Status.PASS}
    assert codes["auto-disable-risk"].status is Status.NOT_APPLICABLE
    lost = sum(f.sample_total for f in github.findings if f.code == "retry-exhausted" and f.failed)
    ours = sum(f.sample_total for f in analyze_logs([str(log_path)], config=config).findings
               if f.code == "retry-exhausted" and f.failed)
    assert lost > ours  # without retries every failed event is lost


def test_import_problems_are_reported_in_the_outcome(tmp_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.csv"
    path.write_text("event_id,endpoint,attempted_at,status_code\ne1,ep,2026-01-05T10:00:00Z,200\n"
                    ",ep,2026-01-05T10:00:01Z,200\n")
    outcome = analyze_logs([str(path)], config=config)
    assert outcome.metrics["import"]["problem_total"] == 1
    assert outcome.tables["Rows not imported"] == [{"file": str(path), "line": 3, "reason": "event_id is empty"}]


def test_no_source_uses_the_configured_database_or_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="give a delivery-log file"):
        analyze_logs([], config=load_config(env={}))
    db = tmp_path / "logs.db"
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE delivery_attempts (event_id TEXT, endpoint TEXT, attempted_at TEXT, "
                             "status_code INTEGER)"))
        conn.execute(sa.text("INSERT INTO delivery_attempts VALUES ('e1', 'ep', '2026-01-05T10:00:00Z', 200)"))
    engine.dispose()
    outcome = analyze_logs([], config=load_config(env={"DIAGNOSTICS_LOG_DB_URL": f"sqlite:///{db}"}))
    assert outcome.metrics["attempts"] == 1 and "delivery_attempts" in outcome.metrics["import"]["source_queries"][0]
    # A URL given without --table reads the configured table too.
    explicit = analyze_logs([f"sqlite:///{db}"], config=load_config(env={}))
    assert explicit.metrics["attempts"] == 1


def test_empty_selection_is_an_input_error(log_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no delivery attempts"):
        analyze_logs([str(log_path)], config=config, endpoint="no-such-endpoint")


def test_analyze_attempts_on_a_loaded_table(log_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    attempts = load_attempts([str(log_path)], endpoint="ep_slow")
    outcome = analyze_attempts(attempts, config.profile(None))
    assert [f.code for f in outcome.findings if f.status is Status.WARN] == ["latency-near-timeout"]
