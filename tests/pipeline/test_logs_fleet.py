"""The fleet view of a whole log: one finding per code, endpoints ranked, full detail on request."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from diagnostics.analyzers.base import FLEET_TOP
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, Status
from diagnostics.logs.generate import generate_log
from diagnostics.logs.generate_fleet import generate_fleet_log
from diagnostics.pipeline.logs import analyze_logs
from diagnostics.report import render_json


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = generate_fleet_log(seed=4, attempts=200_000, endpoints=10_000, days=7)
    return log.write(tmp_path_factory.mktemp("fleet") / "fleet.parquet")


@pytest.fixture(scope="module")
def fleet_outcome(big_fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Path]:
    details = tmp_path_factory.mktemp("details") / "details.parquet"
    return analyze_logs([str(big_fleet)], details=str(details)), details


def test_ten_thousand_endpoints_read_as_one_finding_per_code(
    big_fleet: Path, fleet_outcome: tuple[Outcome, Path]
) -> None:
    outcome, _ = fleet_outcome
    endpoints = len(set(pq.read_table(big_fleet, columns=["endpoint"])["endpoint"].to_pylist()))
    assert endpoints > 9_900
    problems = [f for f in outcome.findings if f.status in (Status.FAIL, Status.WARN) and f.code != "fleet-incident"]
    assert len(problems) >= 5
    assert max(Counter(f.code for f in problems).values()) == 1
    for finding in problems:
        assert finding.subject == f"fleet of {endpoints:,} endpoints"
        assert 0 < len(finding.samples) <= FLEET_TOP
        assert dict(finding.evidence)["endpoints affected"] >= len(finding.samples)
        assert outcome.tables[f"Fleet: {finding.code}"][0]["endpoint"] == dict(finding.evidence)["worst endpoint"]


def test_the_json_report_of_ten_thousand_endpoints_stays_small(fleet_outcome: tuple[Outcome, Path]) -> None:
    report = render_json(fleet_outcome[0])
    assert len(report.encode()) < 5_000_000
    assert json.loads(report)["metrics"]["details"]["rows"] > 0


def test_the_details_file_holds_every_endpoint_of_every_fleet_finding(fleet_outcome: tuple[Outcome, Path]) -> None:
    outcome, path = fleet_outcome
    details = pq.read_table(path).to_pylist()
    assert len(details) == outcome.metrics["details"]["rows"]
    per_code = Counter(row["code"] for row in details)
    for finding in outcome.findings:
        if finding.status in (Status.FAIL, Status.WARN) and finding.code != "fleet-incident":
            assert per_code[finding.code] == dict(finding.evidence)["endpoints affected"], finding.code
            # The finding's table is the worst of them: most events affected, then most attempts.
            ranked = sorted((r for r in details if r["code"] == finding.code),
                            key=lambda r: (-r["events"], -r["attempts"], r["endpoint"]))
            table = outcome.tables[f"Fleet: {finding.code}"]
            assert [r["endpoint"] for r in table] == [r["endpoint"] for r in ranked[:FLEET_TOP]]
            assert [r["endpoint"] for r in finding.samples] == [r["endpoint"] for r in table[:len(finding.samples)]]


def test_details_as_csv_and_a_bad_extension(tmp_path: Path) -> None:
    log = generate_log(seed=2, attempts=5_000).write(tmp_path / "log.parquet")
    out = tmp_path / "details.csv"
    outcome = analyze_logs([str(log)], details=str(out), view="fleet")
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == outcome.metrics["details"]["rows"] > 0
    assert set(rows[0]) >= {"code", "endpoint", "status", "events", "attempts", "first_at", "last_at", "detail"}
    with pytest.raises(InputError, match="details"):
        analyze_logs([str(log)], details=str(tmp_path / "details.xlsx"))
    assert not (tmp_path / "details.xlsx").exists()


def test_the_view_is_chosen_by_size_unless_asked(tmp_path: Path) -> None:
    log = generate_log(seed=2, attempts=5_000).write(tmp_path / "log.parquet")
    per_endpoint = analyze_logs([str(log)])
    assert not any(f.subject.startswith("fleet of") for f in per_endpoint.findings)
    fleet = analyze_logs([str(log)], view="fleet")
    assert any(f.subject.startswith("fleet of") for f in fleet.findings)
    with pytest.raises(InputError, match="view"):
        analyze_logs([str(log)], view="everything")
