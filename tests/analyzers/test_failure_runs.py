"""outage-window and status-change find the planted outage and flip, and nothing else."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.analyzers import failure_runs
from diagnostics.analyzers.base import fmt_time
from diagnostics.findings import Status
from tests.analyzers.conftest import Planted, problems


def test_runs_are_classified_by_what_they_are_made_of(planted: Planted) -> None:
    kinds = {(r["endpoint"], r["kind"]) for r in failure_runs.failure_runs(planted.analysis)}
    assert kinds == {("ep_outage", "outage"), ("ep_rotated", "status-change"), ("ep_redirect", "redirect"),
                     ("ep_ratelimited", "rate-limit")}


def test_outage_window_matches_the_planted_night(planted: Planted) -> None:
    findings = problems(failure_runs.analyze(planted.analysis))
    [outage] = [f for f in findings if f.code == "outage-window"]
    [truth] = planted.log.truth.outages
    evidence = outage.evidence_dict()
    assert outage.subject == truth["endpoint"] and outage.status is Status.WARN  # it recovered
    assert evidence["longest: start"] == fmt_time(truth["start"])
    assert evidence["longest: end"] == fmt_time(truth["end"])
    assert evidence["recovered at"] == fmt_time(truth["recovered_at"])
    assert evidence["dominant failure"] == "connection_refused"
    assert evidence["outage windows"] == 1


def test_status_change_matches_the_planted_rotation(planted: Planted) -> None:
    [flip] = [f for f in problems(failure_runs.analyze(planted.analysis)) if f.code == "status-change"]
    [truth] = planted.log.truth.status_changes
    evidence = flip.evidence_dict()
    assert flip.subject == truth["endpoint"]
    assert evidence["flipped at"] == fmt_time(truth["at"])
    assert evidence["new answer"] == str(truth["status"])
    assert evidence["still answering it"] == "yes"
    assert "secret" in flip.summary


def test_short_runs_are_not_outages(tiny: Callable) -> None:
    rows = [("a", f"e{i}", i, 200) for i in range(10)] + [("a", f"f{i}", 10 + i, 503) for i in range(4)]
    rows += [("a", "g", 30, 200)]
    analysis = tiny(rows)
    assert [f.status for f in failure_runs.analyze(analysis)] == [Status.PASS, Status.PASS]


def test_a_steady_5xx_flip_to_the_end_is_a_status_change_but_a_recovered_one_is_an_outage(tiny: Callable) -> None:
    ok = [("a", f"e{i}", i, 200) for i in range(5)]
    failing = [("a", f"f{i}", 5 + 3 * i, 500) for i in range(8)]
    ongoing = {f.code for f in problems(failure_runs.analyze(tiny(ok + failing)))}
    recovered = {f.code for f in problems(failure_runs.analyze(tiny(ok + failing + [("a", "z", 60, 200)])))}
    assert ongoing == {"status-change"}
    assert recovered == {"outage-window"}


def test_null_status_is_a_failure(tiny: Callable) -> None:
    rows = [("a", "e0", 0, 200)] + [("a", f"f{i}", 1 + 3 * i, None, {"error": "timeout"}) for i in range(6)]
    [outage] = problems(failure_runs.analyze(tiny(rows)))
    assert outage.code == "outage-window" and outage.status is Status.FAIL  # still failing at the end
    assert outage.evidence_dict()["dominant failure"] == "timeout"
