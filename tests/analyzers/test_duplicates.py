"""duplicate-deliveries finds exactly the planted duplicates, each with its planted cause."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.analyzers import duplicates
from diagnostics.findings import Status
from tests.analyzers.conftest import Planted, problems


def test_finds_exactly_the_planted_duplicates_and_causes(planted: Planted) -> None:
    found = {(r["endpoint"], r["event_id"]): r["cause"] for r in duplicates.duplicate_events(planted.analysis)}
    assert found == planted.log.truth.duplicates
    assert set(found.values()) == {"timeout-then-success", "manual-resend", "bulk-replay", "several-endpoints"}


def test_one_finding_per_endpoint_with_cause_counts(planted: Planted) -> None:
    [finding] = problems(duplicates.analyze(planted.analysis))
    truth = planted.log.truth.duplicates
    assert finding.subject == "ep_dupes" and finding.status is Status.WARN
    evidence = finding.evidence_dict()
    assert evidence["duplicated events"] == len(truth) == finding.sample_total
    for cause in set(truth.values()):
        assert evidence[f"cause: {cause}"] == list(truth.values()).count(cause)
    assert len(finding.samples) == min(20, len(truth))


def test_sender_retrying_after_a_success_is_its_own_cause(tiny: Callable) -> None:
    analysis = tiny([("a", "e1", 0, 200), ("a", "e1", 1, 200), ("a", "e2", 2, 200)])
    [row] = duplicates.duplicate_events(analysis)
    assert (row["event_id"], row["cause"]) == ("e1", "repeated-success")


def test_a_failure_without_timeout_then_success_is_not_a_duplicate(tiny: Callable) -> None:
    analysis = tiny([("a", "e1", 0, 503), ("a", "e1", 1, 200), ("a", "e2", 2, None, {"error": "connection_refused"}),
                     ("a", "e2", 3, 200)])
    assert duplicates.duplicate_events(analysis) == []
    assert [f.status for f in duplicates.analyze(analysis)] == [Status.PASS]


def test_cut_off_at_the_timeout_counts_even_without_an_error_kind(tiny: Callable) -> None:
    analysis = tiny([("a", "e1", 0, None, {"duration_ms": 15000}), ("a", "e1", 1, 200)])
    assert [r["cause"] for r in duplicates.duplicate_events(analysis)] == ["timeout-then-success"]


def test_same_event_on_endpoints_of_different_hosts_is_fan_out_not_duplication(tiny: Callable) -> None:
    analysis = tiny([("a", "e1", 0, 200), ("b", "e1", 0, 200)])
    assert duplicates.duplicate_events(analysis) == []
