"""high-failure-rate flags what an independent pandas computation of the same rule flags."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from diagnostics.analyzers import failure_rates
from diagnostics.analyzers.failure_rates import FAIL_RATE, MIN_ATTEMPTS, TYPE_CONTRAST, WARN_RATE
from diagnostics.findings import Status
from tests.analyzers.conftest import Planted, problems


def oracle(frame: pd.DataFrame) -> dict[str, str]:
    """subject -> status, computed row by row in pandas."""
    failed = ~frame["status_code"].between(200, 299).fillna(False).astype(bool)
    frame = frame.assign(failed=failed)
    expected: dict[str, str] = {}
    for name, group in frame.groupby("endpoint"):
        rate = group["failed"].mean()
        if len(group) >= MIN_ATTEMPTS and rate >= WARN_RATE:
            expected[f"endpoint: {name}"] = "fail" if rate >= FAIL_RATE else "warn"
    for name, group in frame.dropna(subset=["event_type"]).groupby("event_type"):
        others = frame[frame["event_type"] != name]
        rate = group["failed"].mean()
        if len(group) >= MIN_ATTEMPTS and rate >= WARN_RATE and rate >= TYPE_CONTRAST * others["failed"].mean():
            expected[f"event type: {name}"] = "fail" if rate >= FAIL_RATE else "warn"
    return expected


def test_matches_the_oracle_on_the_planted_log(planted: Planted) -> None:
    found = {f.subject: f.status.value for f in problems(failure_rates.analyze(planted.analysis))}
    expected = oracle(planted.log.table.to_pandas())
    assert found == expected
    # The planted stories that must be among them:
    assert expected["endpoint: ep_rotated"] == "fail"
    assert "endpoint: ep_outage" in expected and expected["event type: report.generated"] == "fail"


def test_failure_groups_have_first_and_last_seen(planted: Planted) -> None:
    [rotated] = [f for f in failure_rates.analyze(planted.analysis) if f.subject == "endpoint: ep_rotated"]
    [group] = rotated.samples
    assert group["failure"] == "401" and group["first_seen"] < group["last_seen"]


def test_few_attempts_are_not_judged(tiny: Callable) -> None:
    analysis = tiny([("a", f"e{i}", i, 500) for i in range(MIN_ATTEMPTS - 1)])
    assert [f.status for f in failure_rates.analyze(analysis)] == [Status.PASS]
