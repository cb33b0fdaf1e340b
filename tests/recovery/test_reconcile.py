"""Reconciliation finds exactly the planted categories, whatever form the customer's records take."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.recovery.generate import TARGET, ReceivedTruth, plant_received
from diagnostics.recovery.received import ID_COLUMNS, read_received
from diagnostics.recovery.reconcile import RECONCILE_CATEGORIES, RECORDED_ONCE
from diagnostics.recovery.run import reconcile_outcome
from tests.recovery.conftest import PlantedRecovery, ours
from tests.support.tiny_logs import T0


@pytest.fixture(scope="module")
def planted(planted_recovery: PlantedRecovery) -> ReceivedTruth:
    return plant_received(planted_recovery.log)


def write_ids(path: Path, ids: list[str]) -> Path:
    path.write_text("\n".join(ids) + "\n")
    return path


def write_csv(path: Path, ids: list[str], column: str, delimiter: str = ",") -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["received_at", column, "status"])
        for k, i in enumerate(ids):
            writer.writerow([f"2026-03-0{2 + k % 3}T10:00:00Z", i, "processed"])
    return path


def write_jsonl(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(json.dumps({"svix-id": i, "type": "invoice.paid", "ok": True}) + "\n" for i in ids))
    return path


def write_json_headers(path: Path, ids: list[str]) -> Path:
    path.write_text(json.dumps([{"path": "/webhooks", "headers": {"Webhook-Id": i, "Content-Type": "x"}}
                                for i in ids]))
    return path


def write_app_log(path: Path, ids: list[str]) -> Path:
    lines = ["2026-03-04 12:00:00 INFO worker started (pid 41)"]
    for k, i in enumerate(ids):
        lines.append(f"2026-03-04 12:{k % 60:02d}:00 INFO webhook {i} processed, type=invoice.paid, took 12ms")
        if k % 50 == 0:
            lines.append("2026-03-04 12:30:00 WARN slow query on table webhook_events (ids: none)")
    path.write_text("\n".join(lines) + "\n")
    return path


FORMS: dict[str, Callable[[Path, list[str]], Path]] = {
    "ids": lambda p, ids: write_ids(p / "ids.txt", ids),
    "csv": lambda p, ids: write_csv(p / "received.csv", ids, "event_id"),
    "csv-semicolon": lambda p, ids: write_csv(p / "received.csv", ids, "Webhook-ID", ";"),
    "jsonl": lambda p, ids: write_jsonl(p / "received.jsonl", ids),
    "json-headers": lambda p, ids: write_json_headers(p / "received.json", ids),
    "application-log": lambda p, ids: write_app_log(p / "app.log", ids),
}


def found(outcome) -> dict[str, set[str]]:
    data = outcome.metrics["reconciliation"]
    result: dict[str, set[str]] = {c: set() for c in RECONCILE_CATEGORIES}
    for e in data["events"]:
        result[e["category"]].add(e["event_id"])
    return result


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_category_is_exactly_the_planted_ids(planted_recovery: PlantedRecovery, planted: ReceivedTruth,
                                                   form: str, tmp_path: Path) -> None:
    path = FORMS[form](tmp_path, planted.receipts)
    received = read_received(str(path))
    assert sum(received.receipts.values()) == len(planted.receipts)
    outcome = reconcile_outcome(planted_recovery.attempts(), ours(), TARGET, received)
    assert found(outcome) == {c: planted.categories[c] for c in RECONCILE_CATEGORIES}
    data = outcome.metrics["reconciliation"]
    assert data["totals"][RECORDED_ONCE] == len(planted.categories[RECORDED_ONCE])
    assert all(data["totals"][c] for c in RECONCILE_CATEGORIES)
    assert outcome.exit_code == 1


def test_missed_pending_events_are_marked(planted_recovery: PlantedRecovery, planted: ReceivedTruth,
                                          tmp_path: Path) -> None:
    truth = planted_recovery.log.truth
    received = read_received(str(write_ids(tmp_path / "ids.txt", planted.receipts)))
    outcome = reconcile_outcome(planted_recovery.attempts(), ours(), TARGET, received)
    missed = [e for e in outcome.metrics["reconciliation"]["events"] if e["category"] == "missed"]
    assert {e["event_id"] for e in missed if e["pending"]} == truth.categories["pending"] - set(planted.receipts)
    assert all(e["plan_category"] == truth.category_of(e["event_id"]) for e in missed)
    duplicated = {e["event_id"]: e for e in outcome.metrics["reconciliation"]["events"]
                  if e["category"] == "duplicated"}
    assert {i for i, e in duplicated.items() if not e["delivered"]} == set(sorted(truth.categories["rejected"])[:2])
    assert {e["receipts"] for e in duplicated.values()} == {2, 3}


def test_summary_leads_the_report(planted_recovery: PlantedRecovery, planted: ReceivedTruth, tmp_path: Path) -> None:
    received = read_received(str(write_ids(tmp_path / "ids.txt", planted.receipts)))
    outcome = reconcile_outcome(planted_recovery.attempts(), ours(), TARGET, received)
    from diagnostics.findings import sort_findings

    assert sort_findings(outcome.findings)[0].code == "reconcile-comparison"
    codes = {f.code for f in outcome.findings}
    assert codes == {"reconcile-comparison", "reconcile-missed", "reconcile-delivered-not-recorded",
                     "reconcile-processed-but-failed", "reconcile-duplicated", "reconcile-unknown-ids"}


def test_window_counts_their_ids_outside_it(planted_recovery: PlantedRecovery, planted: ReceivedTruth,
                                            tmp_path: Path) -> None:
    truth = planted_recovery.log.truth
    since, until = T0 + timedelta(hours=12), T0 + timedelta(hours=48)
    received = read_received(str(write_ids(tmp_path / "ids.txt", planted.receipts)))
    outcome = reconcile_outcome(planted_recovery.attempts(), ours(), TARGET, received, since=since, until=until)
    data = outcome.metrics["reconciliation"]
    inside = {i for i, at in truth.first_at.items() if since <= at < until}
    expected = {c: (ids & inside if c != "unknown_to_us" else ids) for c, ids in planted.categories.items()}
    assert found(outcome) == {c: expected[c] for c in RECONCILE_CATEGORIES}
    ours_listed = set(planted.receipts) - planted.categories["unknown_to_us"]
    assert data["outside_window"] == len(ours_listed - inside)


def test_every_id_column_name_is_recognized(tmp_path: Path) -> None:
    for column in ID_COLUMNS:
        path = write_csv(tmp_path / f"{column}.csv", ["evt_1", "evt_2", "evt_2"], column.upper())
        received = read_received(str(path))
        assert received.form == "csv" and received.receipts == {"evt_1": 1, "evt_2": 2}


def test_named_id_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["abc-1", "abc-2"], "MessageRef")
    assert read_received(str(path), id_column="messageref").receipts == {"abc-1": 1, "abc-2": 1}
    with pytest.raises(InputError, match="no column or field named 'Nope'"):
        read_received(str(path), id_column="Nope")


def test_svix_ids_in_an_application_log(tmp_path: Path) -> None:
    path = write_app_log(tmp_path / "app.log", ["msg_2Xk9", "msg_3Yz1", "msg_2Xk9"])
    assert read_received(str(path), pattern=r"msg_[A-Za-z0-9]+").receipts == {"msg_2Xk9": 2, "msg_3Yz1": 1}
    with pytest.raises(InputError, match="no recognizable event id"):
        read_received(str(path))  # our evt_ pattern finds nothing there


@pytest.mark.parametrize("content", ["", "\n\n", "hello world\nno ids here\n", "name,amount\nbob,3\n",
                                     '{"a": 1}\n{"b": 2}\n'])
def test_no_recognizable_id_is_an_input_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "received.txt"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_received(str(path))
    assert "received.txt" in str(info.value)


def test_an_id_inside_a_longer_word_is_not_an_id(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("saw xevt_123 and 9evt_456, prefix_evt_5; evt_789 yes\n")
    assert read_received(str(path)).receipts == {"evt_789": 1}
