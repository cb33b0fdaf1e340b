"""SQL aggregates over a real loaded attempt table, checked against a plain-Python count."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from diagnostics.analyzers.event_stats import collect_log_stats
from diagnostics.logs import load_attempts
from tests.fixtures.coverage.planted import build


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
