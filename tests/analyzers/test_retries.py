"""retry-exhausted lists exactly the events whose retries ran out, per the profile's schedule."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.analyzers import retries
from diagnostics.findings import Status
from diagnostics.profiles import BUILTIN_PROFILES
from tests.analyzers.conftest import Planted, problems


def test_exhausted_events_are_the_planted_ones(planted: Planted) -> None:
    found: dict[str, set[str]] = {}
    for row in retries.exhausted_events(planted.analysis):
        found.setdefault(row["endpoint"], set()).add(row["event_id"])
    assert found == planted.log.truth.exhausted
    assert all(found.values())


def test_findings_and_ids_to_redeliver(planted: Planted) -> None:
    findings = problems(retries.analyze(planted.analysis))
    truth = planted.log.truth.exhausted
    assert {f.subject for f in findings} == set(truth)
    for finding in findings:
        assert finding.status is Status.FAIL
        assert finding.evidence_dict()["events lost"] == len(truth[finding.subject]) == finding.sample_total
    ids = retries.to_redeliver(planted.analysis)
    assert {k: set(v) for k, v in ids.items()} == truth
    exhaust = next(f for f in findings if f.subject == "ep_exhaust")
    assert exhaust.evidence_dict()["by event type"] == f"report.generated {len(truth['ep_exhaust'])}"


def test_a_sender_without_retries_loses_every_failed_event(tiny: Callable) -> None:
    rows = [("a", "e1", 0, 500), ("a", "e2", 1, 200), ("a", "e3", 2, 503), ("a", "e3", 3, 200)]
    analysis = tiny(rows, BUILTIN_PROFILES["github"])
    assert [r["event_id"] for r in retries.exhausted_events(analysis)] == ["e1"]


def test_events_still_inside_their_window_are_pending_not_lost(tiny: Callable) -> None:
    analysis = tiny([("a", "e1", 0, 500), ("a", "e1", 1, 500)])
    [finding] = retries.analyze(analysis)
    assert finding.status is Status.PASS
    assert finding.evidence_dict()["still being retried"] == 1
