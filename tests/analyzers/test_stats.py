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
