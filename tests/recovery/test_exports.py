"""Exports: exactly the selected events, in forms the platforms accept, safe to open anywhere."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.profiles import BUILTIN_PROFILES
from diagnostics.recovery.exports import csv_cell, export_plan, github_delivery_ids
from diagnostics.recovery.generate import TARGET
from diagnostics.recovery.run import plan_outcome
from tests.recovery.conftest import PlantedRecovery, ours

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


@pytest.fixture(scope="module")
def plan(planted_recovery: PlantedRecovery):
    return plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)[0]


def test_ids_are_the_selected_categories_in_plan_order(plan, planted_recovery: PlantedRecovery, tmp_path: Path) -> None:
    truth = planted_recovery.log.truth
    out = tmp_path / "ids.txt"
    summary = export_plan(plan, "ids", str(out), ("never_reached", "rejected"))
    ids = out.read_text().splitlines()
    assert set(ids) == truth.categories["never_reached"] | truth.categories["rejected"]
    assert len(ids) == len(set(ids)) == summary["events"]
    assert ids == [e["event_id"] for e in plan.events if e["category"] in ("never_reached", "rejected")]


def test_csv_has_one_row_per_event_with_evidence(plan, tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    export_plan(plan, "csv", str(out), ("pending",))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == plan.totals["pending"]
    assert {r["category"] for r in rows} == {"pending"}
    assert all(r["next_retry_at"].endswith("Z") and r["evidence"].startswith("latest attempt") for r in rows)


def test_csv_cells_never_start_a_formula(tiny: Callable, tmp_path: Path) -> None:
    attempts = tiny([("ep", "=HYPERLINK(\"http://x\")", 1, 500, {"event_type": "+cmd|' /C calc'!A0", "attempt": 8}),
                     ("ep", "@evt", 2, None, {"error": "dns", "attempt": 8})])
    plan, _ = plan_outcome(attempts, ours(), "ep")
    out = tmp_path / "evil.csv"
    export_plan(plan, "csv", str(out), ("never_reached", "rejected"))
    rows = list(csv.DictReader(out.open()))
    assert {r["event_id"] for r in rows} == {"'=HYPERLINK(\"http://x\")", "'@evt"}
    assert {r["event_type"] for r in rows} == {"'+cmd|' /C calc'!A0", "invoice.paid"}
    assert csv_cell("-1") == "'-1" and csv_cell("evt_1") == "evt_1" and csv_cell(None) == ""


def test_svix_recover_window_holds_the_selection(plan, tmp_path: Path) -> None:
    out = tmp_path / "recover.json"
    summary = export_plan(plan, "svix", str(out), ("never_reached",))
    body = json.loads(out.read_text())
    assert set(body) == {"since", "until"}
    chosen = [e for e in plan.events if e["category"] == "never_reached"]
    from diagnostics.recovery.plan import at, iso

    assert body["since"] == iso(min(at(e["first_at"]) for e in chosen))
    assert all(at(body["since"]) <= at(e["first_at"]) < at(body["until"]) for e in chosen)
    # Svix resends every failed message of the window: the other plan events inside it are counted
    assert summary["covered"]["never_reached"] == len(chosen) and sum(summary["covered"].values()) > len(chosen)


def test_svix_export_of_nothing_is_refused(tiny: Callable, tmp_path: Path) -> None:
    plan, _ = plan_outcome(tiny([("ep", "evt_1", 1, 200)]), ours(), "ep")
    with pytest.raises(InputError, match="nothing to export"):
        export_plan(plan, "svix", str(tmp_path / "r.json"), ("never_reached",))
    assert not (tmp_path / "r.json").exists()


def test_github_list_uses_the_latest_numeric_delivery_id(tmp_path: Path) -> None:
    source = str(FIXTURES / "github_deliveries.json")
    endpoint = "github:github_deliveries"
    plan, _ = plan_outcome(load_attempts([source]), BUILTIN_PROFILES["github"], endpoint)
    out = tmp_path / "redeliver.json"
    export_plan(plan, "github", str(out), ("rejected",), [source])
    data = json.loads(out.read_text())
    records = json.loads(Path(source).read_text())
    guid = plan.events[0]["event_id"]
    latest = max((r for r in records if r["guid"] == guid), key=lambda r: r["delivered_at"])
    assert data == {"hook_id": endpoint, "delivery_ids": [latest["id"]],
                    "deliveries": [{"guid": guid, "delivery_id": latest["id"]}], "without_delivery_id": []}
    assert github_delivery_ids([str(FIXTURES / "github_deliveries.canonical.csv")]) == {}


def test_github_list_names_events_without_a_numeric_id(tmp_path: Path) -> None:
    source = str(FIXTURES / "github_deliveries.canonical.csv")
    plan, _ = plan_outcome(load_attempts([source]), BUILTIN_PROFILES["github"], "github:github_deliveries")
    out = tmp_path / "redeliver.json"
    summary = export_plan(plan, "github", str(out), ("rejected",), [source])
    data = json.loads(out.read_text())
    assert data["delivery_ids"] == [] and data["without_delivery_id"] == [plan.events[0]["event_id"]]
    assert summary["without_delivery_id"] == 1


def test_unknown_format_and_missing_folder(plan, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown export format"):
        export_plan(plan, "xml", str(tmp_path / "x"), ("rejected",))
    with pytest.raises(InputError, match="folder does not exist"):
        export_plan(plan, "ids", str(tmp_path / "no" / "x"), ("rejected",))
