"""Metrics per endpoint and per event type agree with a pandas computation of the same numbers."""

from __future__ import annotations

import numpy as np

from diagnostics.analyzers import stats
from tests.analyzers.conftest import Planted


def test_per_endpoint_metrics_match_pandas(planted: Planted) -> None:
    metrics, tables = stats.compute(planted.analysis)
    frame = planted.log.table.to_pandas()
    frame["ok"] = frame["status_code"].between(200, 299).fillna(False).astype(bool)
    by_name = {m["name"]: m for m in metrics["endpoints"]}
    assert set(by_name) == set(frame["endpoint"])
    for name, group in frame.groupby("endpoint"):
        m = by_name[name]
        assert m["attempts"] == len(group)
        assert m["events"] == group["event_id"].nunique()
        assert m["success_rate"] == round(100 * group["ok"].mean(), 2)
        p50, p95, p99 = np.quantile(group["duration_ms"].dropna(), [0.5, 0.95, 0.99])
        for ours_ms, theirs in zip((m["p50_ms"], m["p95_ms"], m["p99_ms"]), (p50, p95, p99), strict=True):
            assert abs(ours_ms - theirs) <= 0.051  # both linear interpolation; ours is rounded to 0.1 ms
        failures = group[~group["ok"]]
        assert sum(m["errors"].values()) == len(failures)
    assert metrics["attempts"] == len(frame)
    assert [row["endpoint"] for row in tables["Endpoints"]] == [m["name"] for m in metrics["endpoints"]]


def test_event_types_and_failure_groups(planted: Planted) -> None:
    metrics, tables = stats.compute(planted.analysis)
    frame = planted.log.table.to_pandas()
    assert {m["name"] for m in metrics["event_types"]} == set(frame["event_type"])
    groups = {(g["endpoint"], g["failure"]): g["attempts"] for g in metrics["failure_groups"]}
    assert groups[("ep_rotated", "401")] == int((frame["status_code"] == 401).sum())
    assert groups[("ep_outage", "connection_refused")] == int((frame["error"] == "connection_refused").sum())
    assert tables["Failure groups"][0]["attempts"] == max(groups.values())


def test_events_per_type_match_pandas(planted: Planted) -> None:
    """An event's type is the least of its attempts' types; events per type count them once each."""
    metrics, _ = stats.compute(planted.analysis)
    frame = planted.log.table.to_pandas()
    per_event = frame.groupby(["endpoint", "event_id"])["event_type"].min().fillna("(none)")
    expected = per_event.value_counts().to_dict()
    assert {m["name"]: m["events"] for m in metrics["event_types"]} == expected


def test_events_per_type_when_attempts_disagree_on_the_type(tiny) -> None:  # type: ignore[no-untyped-def]
    """A retried event whose attempts name different types (or none) counts once, under the least
    type; single attempts and consistent retries count under their own type."""
    a = tiny([
        ("ep", "evt_mixed", 0, 500, {"event_type": "b.created"}),
        ("ep", "evt_mixed", 1, 500, {"event_type": "a.created"}),
        ("ep", "evt_mixed", 2, 200, {"event_type": "b.created"}),
        ("ep", "evt_partly_typed", 3, 500, {"event_type": ""}),
        ("ep", "evt_partly_typed", 4, 200, {"event_type": "b.created"}),
        ("ep", "evt_untyped", 5, 200, {"event_type": ""}),
        ("ep", "evt_retried", 6, 503, {"event_type": "b.created"}),
        ("ep", "evt_retried", 7, 200, {"event_type": "b.created"}),
        ("ep", "evt_once", 8, 200, {"event_type": "c.created"}),
        ("other", "evt_once", 8, 200, {"event_type": "c.created"}),  # the same event sent to two endpoints
    ])
    metrics, _ = stats.compute(a)
    events = {m["name"]: m["events"] for m in metrics["event_types"]}
    assert events == {"a.created": 1, "b.created": 2, "(none)": 1, "c.created": 2}
    attempts = {m["name"]: m["attempts"] for m in metrics["event_types"]}
    assert attempts == {"a.created": 1, "b.created": 5, "(none)": 2, "c.created": 2}
