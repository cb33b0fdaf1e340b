"""fleet-incident against planted truth: the incident's exact endpoints, and no false incident."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from diagnostics.analyzers import fleet_incidents
from diagnostics.findings import Outcome, Status
from diagnostics.logs import load_attempts
from diagnostics.logs.generate_fleet import FleetLog, generate_fleet_log
from diagnostics.pipeline.logs import analyze_attempts
from tests.analyzers.conftest import ours


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[FleetLog, Path]:
    log = generate_fleet_log(seed=3, attempts=150_000, endpoints=800, days=1)
    return log, log.write(tmp_path_factory.mktemp("fleet") / "fleet.parquet")


def _analyze(path: Path, **kw: object) -> tuple[Outcome, set[str]]:
    attempts = load_attempts([str(path)])
    try:
        outcome = analyze_attempts(attempts, ours(), **kw)
        members = {r[0] for r in attempts.conn.execute(
            "SELECT endpoint FROM _problems_fleet_incident").fetchall()} if outcome.tables.get(
            "Fleet incident: endpoints affected") else set()
        return outcome, members
    finally:
        attempts.conn.close()


def _incidents(outcome: Outcome) -> list:
    return [f for f in outcome.findings if f.code == "fleet-incident" and f.status is Status.FAIL]


def test_the_planted_incident_is_one_finding_with_exactly_its_endpoints(fleet: tuple[FleetLog, Path]) -> None:
    log, path = fleet
    outcome, members = _analyze(path)
    [incident] = _incidents(outcome)
    assert members == log.truth.incident_endpoints
    assert len(members) >= fleet_incidents.MIN_HOSTS
    evidence = dict(incident.evidence)
    assert evidence["shared failure"] == "failure: tls"
    assert evidence["endpoints affected"] == len(log.truth.incident_endpoints)
    assert evidence["window start"] >= log.truth.incident_start.strftime("%Y-%m-%d %H:%M")
    assert evidence["window end"] <= log.truth.incident_end.strftime("%Y-%m-%d %H:%M:%S UTC")
    first = evidence["first endpoints"].split(", ")
    assert len(first) == fleet_incidents.FIRST_FEW and set(first) <= members
    # Lone outages (some of them tls too) and dead endpoints are not part of it.
    assert not members & (set(log.truth.lone_outages) | log.truth.dead_endpoints)
    table = outcome.tables["Fleet incident: endpoints affected"]
    assert {r["endpoint"] for r in table} == members


def test_a_fleet_without_an_incident_has_none(tmp_path: Path) -> None:
    log = generate_fleet_log(seed=5, attempts=150_000, endpoints=800, days=1, incident_endpoints=0)
    assert not log.truth.incident_endpoints and log.truth.lone_outages
    outcome, _ = _analyze(log.write(tmp_path / "quiet.parquet"))
    assert _incidents(outcome) == []
    [passed] = [f for f in outcome.findings if f.code == "fleet-incident"]
    assert passed.status is Status.PASS


def test_one_endpoint_hears_the_incident_it_is_part_of(fleet: tuple[FleetLog, Path]) -> None:
    log, path = fleet
    member = sorted(log.truth.incident_endpoints)[0]
    outcome, _ = _analyze(path, endpoint=member)
    [incident] = _incidents(outcome)
    assert "part of a fleet incident" in incident.subject
    assert dict(incident.evidence)["this endpoint's failed attempts in the window"] > 0
    # An endpoint failing alone at another time hears of no incident.
    lone = sorted(log.truth.lone_outages)[0]
    outcome, _ = _analyze(path, endpoint=lone)
    assert _incidents(outcome) == []


def test_hosts_under_one_suffix_failing_in_different_ways_are_one_incident(tiny: Callable) -> None:
    # 12 customers on one hosting provider fail at minute 600, each in its own way (no failure
    # signature reaches MIN_HOSTS); 12 others elsewhere stay healthy; a day of traffic before.
    kinds = [(503, None), (None, "timeout"), (None, "connection_refused")]
    rows = []
    for i in range(24):
        host = f"c{i:02d}.herokuapp.com" if i < 12 else f"hooks.customer{i:02d}.example"
        for minute in range(0, 1440, 30):
            status, error = (200, None)
            if i < 12 and 600 <= minute < 720:
                status, error = kinds[i % 3]
            extra = {"url": f"https://{host}/in", "error": error}
            rows.append((f"ep_{i:02d}", f"evt_{i}_{minute}", minute, status, extra))
    [incident] = [f for f in fleet_incidents.analyze(tiny(rows)) if f.status is Status.FAIL]
    evidence = dict(incident.evidence)
    assert evidence["shared failure"] == "host suffix: herokuapp.com"
    assert evidence["endpoints affected"] == 12
