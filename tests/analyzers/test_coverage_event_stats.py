"""SQL aggregates over a real loaded attempt table, checked against a plain-Python count."""

from __future__ import annotations

import json
import sqlite3
import statistics
from datetime import timedelta
from pathlib import Path

import pytest

from diagnostics.analyzers.event_stats import collect_log_stats
from diagnostics.analyzers.event_stats_source import collect_source_stats
from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from tests.fixtures.coverage.planted import START, build


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    log = build()
    path = log.write_jsonl(tmp_path_factory.mktemp("planted") / "log.jsonl")
    attempts = load_attempts([str(path)])
    yield log, collect_log_stats(attempts)
    attempts.conn.close()


def test_per_type_counts_match_the_rows(planted) -> None:
    log, stats = planted
    for event_type in {r["event_type"] for r in log.rows}:
        rows = [r for r in log.rows if r["event_type"] == event_type]
        deliveries = {(r["event_id"], r["endpoint"]) for r in rows}
        ok = {(r["event_id"], r["endpoint"]) for r in rows if r["status_code"] and 200 <= r["status_code"] < 300}
        got = stats.types[event_type]
        assert (got.deliveries, got.attempts, got.succeeded) == (len(deliveries), len(rows), len(ok))
        assert got.endpoints == len({r["endpoint"] for r in rows})
        assert got.first_seen == min(r["attempted_at"] for r in rows)
        durations = sorted(r["duration_ms"] for r in rows)
        assert got.p95_ms == pytest.approx(statistics.quantiles(durations, n=100, method="inclusive")[94])
        first_payloads = {}
        for r in rows:
            first_payloads.setdefault((r["event_id"], r["endpoint"]), r["payload"])
        assert got.median_payload_bytes == pytest.approx(
            statistics.median(len(p.encode()) for p in first_payloads.values()))


def test_pairs_and_versions(planted) -> None:
    log, stats = planted
    expected_pairs: dict[tuple[str, str], set[str]] = {}
    for r in log.rows:
        expected_pairs.setdefault((r["endpoint"], r["event_type"]), set()).add(r["event_id"])
    assert stats.pairs == {k: len(v) for k, v in expected_pairs.items()}
    ep_c_paid = [u for u in stats.versions if u.event_type == "invoice.paid" and u.endpoint == "ep_c"]
    assert [(u.version, u.deliveries) for u in ep_c_paid] == [("v1", 12)]


def test_payload_sample_is_one_per_event_and_version(planted) -> None:
    log, stats = planted
    keys = [(p.event_id, p.version) for p in stats.payloads]
    assert len(keys) == len(set(keys))
    expected = {(r["event_id"], r["payload_version"]) for r in log.rows}
    assert set(keys) == expected  # fewer than the per-group limit: every one comes back
    assert all(json.loads(p.payload)["id"] == p.event_id for p in stats.payloads)


def test_payload_sample_is_bounded(tmp_path: Path) -> None:
    log = build()
    attempts = load_attempts([str(log.write_jsonl(tmp_path / "log.jsonl"))])
    try:
        stats = collect_log_stats(attempts, payload_limit=2)
    finally:
        attempts.conn.close()
    per_group: dict[tuple[str, str | None], int] = {}
    for p in stats.payloads:
        per_group[(p.event_type, p.version)] = per_group.get((p.event_type, p.version), 0) + 1
    assert max(per_group.values()) == 2
    v1_events = {r["event_id"] for r in log.rows if r["event_type"] == "invoice.paid" and r["payload_version"] == "v1"}
    assert stats.payload_groups[("invoice.paid", "v1")] == len(v1_events)  # events, not deliveries


def test_source_aggregates_match_the_duckdb_ones(planted, tmp_path: Path) -> None:
    log, duck = planted
    db = tmp_path / "attempts.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE attempts_src (id TEXT, kind TEXT, endpoint TEXT, attempt INTEGER, at TEXT, "
                     "status_code INTEGER, duration_ms REAL, payload TEXT, payload_version TEXT)")
        conn.executemany("INSERT INTO attempts_src VALUES (?,?,?,?,?,?,?,?,?)", [
            (r["event_id"], r["event_type"], r["endpoint"], r["attempt"], r["attempted_at"].isoformat(),
             r["status_code"], r["duration_ms"], r["payload"], r["payload_version"]) for r in log.rows])
    executed: list[str] = []
    mapping = {"event_id": "id", "event_type": "kind", "attempted_at": "at"}
    source = collect_source_stats(f"sqlite:///{db}", table="attempts_src", mapping=mapping, executed=executed)
    assert source.pairs == duck.pairs and source.versions == duck.versions and source.window == duck.window
    assert [(p.event_id, p.version, p.payload) for p in source.payloads] == [
        (p.event_id, p.version, p.payload) for p in duck.payloads]
    for name, got in source.types.items():
        want = duck.types[name]
        assert (got.deliveries, got.events, got.attempts, got.endpoints, got.succeeded, got.first_seen,
                got.last_seen) == (want.deliveries, want.events, want.attempts, want.endpoints, want.succeeded,
                                   want.first_seen, want.last_seen)
        assert got.p95_ms is None  # SQLite has no percentile_cont
    assert len(executed) == 5 and all("attempts_src" in sql for sql in executed)
    # The window goes into the WHERE clause of every statement.
    since = START + timedelta(days=1)
    later = collect_source_stats(f"sqlite:///{db}", table="attempts_src", mapping=mapping, since=since)
    assert later.total_attempts == sum(1 for r in log.rows if r["attempted_at"] >= since)


def test_source_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no table 'nope'"):
        collect_source_stats(f"sqlite:///{tmp_path / 'empty.db'}", table="nope")
