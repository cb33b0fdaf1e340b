"""A case's reply is about the case's endpoint only, and a rerun that could not recheck a problem
keeps it open (per check, not per part)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.cases import CaseStore
from diagnostics.config import Config
from diagnostics.findings import Finding, Outcome, Severity, Status
from diagnostics.logs.generate import generate_log
from diagnostics.pipeline.case import (
    ENFORCEMENT_CHECK,
    Case,
    LogSource,
    compare_runs,
    merge_outcomes,
    run_case,
)

URL = "https://hooks.example.com/in"


@pytest.fixture(scope="module")
def fleet_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The generator's log of many endpoints as a CSV file, and each endpoint's logged URL."""
    frame = generate_log(seed=11, attempts=4000).table.to_pandas()
    path = tmp_path_factory.mktemp("fleet") / "deliveries.csv"
    frame.to_csv(path, index=False)
    urls = frame.groupby("endpoint")["url"].first().to_dict()
    return path, {str(k): str(v) for k, v in urls.items()}


def _probe(findings: list[Finding], enforcement: bool):  # type: ignore[no-untyped-def]
    """A probe part as the real one reports: metrics["signature"] only when it sent signed forgeries."""
    def run(case: Case, _config: Config, _progress) -> Outcome:  # type: ignore[no-untyped-def]
        metrics = {"signature": {"scheme": "standard-webhooks"}} if enforcement else {}
        return Outcome(subject=case.endpoint_url, findings=list(findings), metrics=metrics)
    return run


FORGERY = Finding(code="signature-not-enforced", status=Status.FAIL, severity=Severity.HIGH,
                  title="The endpoint accepts forged webhooks", summary="accepted an unsigned event", subject=URL)
SLOW = Finding(code="endpoint-slow", status=Status.FAIL, severity=Severity.MEDIUM, title="Slow answers",
               summary="p95 9 s", subject=URL)


def test_rerun_without_the_secret_does_not_call_the_forgery_check_fixed(config: Config, store: CaseStore) -> None:
    # Given a run with the secret: the forgery test ran and failed, the endpoint is slow too
    case = Case(ticket="ZD-RERUN", endpoint_url=URL, secret="whsec_dGVzdA==")
    first = run_case(case, config, store=store, runners={"probe": _probe([FORGERY, SLOW], enforcement=True)})
    assert ENFORCEMENT_CHECK in first.outcome.metrics["checks"]
    # When the case is rerun without the secret and the slowness is gone
    case.secret = None
    second = run_case(case, config, store=store, runners={"probe": _probe([], enforcement=False)})
    # Then the forgery problem is not rechecked (never fixed), the slowness is fixed
    comparison = compare_runs(store.get_run(first.run_id), store.get_run(second.run_id))
    assert [f.code for f in comparison.fixed] == ["endpoint-slow"]
    assert [f.code for f in comparison.unchecked] == ["signature-not-enforced"]
    # and the new run's reply still lists it as open, the notes say it was not rechecked
    reply = second.reports["reply"]
    assert "Still open from our earlier check" in reply and "The endpoint accepts forged webhooks" in reply
    assert "Not rechecked this run" in second.reports["notes"]
    # When a third run has the secret again and the endpoint now rejects forgeries, it is fixed
    case.secret = "whsec_dGVzdA=="
    third = run_case(case, config, store=store, runners={"probe": _probe([], enforcement=True)})
    later = compare_runs(store.get_run(second.run_id), store.get_run(third.run_id))
    assert [f.code for f in later.fixed] == ["signature-not-enforced"] and not later.unchecked
    assert "Still open" not in third.reports["reply"]


def test_a_part_that_could_not_use_its_input_made_no_check() -> None:
    unusable = Finding(code="case-input-unusable", status=Status.ERROR, severity=Severity.MEDIUM,
                       title="could not run", summary="no rows")
    older = merge_outcomes("s", {"logs": Outcome(subject="s", findings=[
        Finding(code="duplicate-deliveries", status=Status.FAIL, severity=Severity.HIGH, title="d", summary="")])})
    newer = merge_outcomes("s", {"logs": Outcome(subject="s", findings=[unusable])})
    assert newer.metrics["checks"] == []
    comparison = compare_runs(older, newer)
    assert not comparison.fixed and [f.code for f in comparison.unchecked] == ["duplicate-deliveries"]


def test_an_unfiltered_log_is_narrowed_to_the_cases_endpoint_by_its_url(
    config: Config, store: CaseStore, fleet_log: tuple[Path, dict[str, str]]
) -> None:
    path, urls = fleet_log
    # Given a case about ep_rotated's URL and the whole log, with no endpoint named
    case = Case(ticket="ZD-NARROW", endpoint_url=urls["ep_rotated"], log_source=LogSource(path=path))
    result = run_case(case, config, store=store, runners={"logs": _logs_only})
    # Then only ep_rotated was judged, and the reply speaks of no other endpoint
    assert result.outcome.metrics["logs"]["scope"]["endpoint"] == "ep_rotated"
    assert "status-change" in {f.code for f in result.outcome.findings}
    others = [e for e in urls if e != "ep_rotated"]
    for fmt in ("reply", "reply_markdown"):
        assert not [e for e in others if e in result.reports[fmt]], fmt
    assert "narrowed to ep_rotated" in result.reports["notes"]
    assert any("narrowed to ep_rotated" in w for w in result.outcome.metrics["reply_warnings"])


def test_a_log_of_several_endpoints_none_matching_asks_which_one(
    config: Config, store: CaseStore, fleet_log: tuple[Path, dict[str, str]]
) -> None:
    path, _urls = fleet_log
    case = Case(ticket="ZD-ASK", endpoint_url="https://elsewhere.example.net/hooks", log_source=LogSource(path=path))
    result = run_case(case, config, store=store, runners={"logs": _logs_only})
    [error] = result.outcome.findings
    assert error.code == "case-input-unusable" and "ep_rotated" in error.summary
    assert "none of them uses the case's endpoint URL" in error.summary
    assert "ep_rotated" not in result.reports["reply"]  # asked in the notes, not told to the customer
    # Naming the endpoint narrows to it, with a note that the log holds others
    named = Case(ticket="ZD-ASK", endpoint_url="https://elsewhere.example.net/hooks",
                 log_source=LogSource(path=path, endpoint="ep_dupes"))
    result = run_case(named, config, store=store, runners={"logs": _logs_only})
    assert result.outcome.metrics["logs"]["scope"]["endpoint"] == "ep_dupes"
    assert "cover ep_dupes only" in result.reports["notes"]


def _logs_only(case: Case, config: Config, progress) -> Outcome:  # type: ignore[no-untyped-def]
    from diagnostics.pipeline.case import run_logs_part

    return run_logs_part(case, config, progress)
