"""The generator is deterministic, realistic, and its truth matches its own rows."""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pytest

from diagnostics.logs.generate import SCENARIO_ENDPOINTS, generate_log


def test_same_seed_same_log_other_seed_other_log() -> None:
    a, b = generate_log(seed=5, attempts=20_000), generate_log(seed=5, attempts=20_000)
    c = generate_log(seed=6, attempts=20_000)
    assert a.table.equals(b.table)
    assert not a.table.equals(c.table)
    assert a.table.num_rows == c.table.num_rows == 20_000


def test_scenarios_are_present_and_payloads_are_json() -> None:
    log = generate_log(seed=5, attempts=20_000)
    endpoints = set(log.table["endpoint"].to_pylist())
    assert set(SCENARIO_ENDPOINTS) <= endpoints
    assert any(e.startswith("ep_healthy_") for e in endpoints)
    payloads = log.table["payload"].to_pylist()
    assert all(p is not None for p in payloads)
    sample = json.loads(payloads[0])
    assert {"id", "type", "created_at", "data", "api_version"} <= set(sample)
    assert set(log.table["payload_version"].to_pylist()) == {"2025-06-01", "2024-11-15"}
    times = log.table["attempted_at"]
    assert pc.all(pc.greater_equal(times, log.start)).as_py() and pc.all(pc.less(times, log.end)).as_py()


def test_truth_is_consistent_with_rows() -> None:
    log = generate_log(seed=5, attempts=20_000)
    rows = log.table.to_pylist()
    for (endpoint, event_id), _cause in log.truth.duplicates.items():
        assert any(r["endpoint"] == endpoint and r["event_id"] == event_id for r in rows)
    for endpoint, events in log.truth.exhausted.items():
        for event_id in events:
            attempts = [r for r in rows if r["endpoint"] == endpoint and r["event_id"] == event_id]
            assert len(attempts) == len(log.retry_schedule_s) + 1
            assert all(not (r["status_code"] and 200 <= r["status_code"] <= 299) for r in attempts)


def test_without_payloads_and_scenarios_it_is_only_background() -> None:
    log = generate_log(seed=1, attempts=5000, payloads=False, scenarios=False)
    assert log.table.num_rows == 5000
    assert log.table["payload"].null_count == 5000
    assert all(e.startswith("ep_healthy_") for e in set(log.table["endpoint"].to_pylist()))


def test_scenarios_refuse_a_window_too_short_for_their_timeline() -> None:
    with pytest.raises(ValueError, match="span 3 days"):
        generate_log(days=1)
    short = generate_log(days=1, scenarios=False, attempts=500, payloads=False)
    assert short.table.num_rows == 500
