"""Recovery inside a case: the plan kept under a stable name (so its ledger resumes), a real
resend refused without a case, nothing written for a refused destination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.recovery.casework import case_folder, keep_plan, plan_file_name, resend_plan

PLAN = {"endpoint": "ep/../1", "since": None, "until": None, "events": [
    {"event_id": "evt_2", "category": "rejected"}, {"event_id": "evt_1", "category": "never_reached"}]}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIAGNOSTICS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("DIAGNOSTICS_CONFIG", raising=False)
    monkeypatch.delenv("DIAGNOSTICS_DB_URL", raising=False)
    return load_config()


def test_the_same_plan_gets_the_same_file_whatever_the_event_order() -> None:
    reordered = {**PLAN, "events": list(reversed(PLAN["events"]))}
    assert plan_file_name(PLAN) == plan_file_name(reordered)
    assert plan_file_name(PLAN) != plan_file_name({**PLAN, "since": "2026-11-01T00:00:00Z"})
    assert "/" not in plan_file_name(PLAN) and ".." not in plan_file_name(PLAN)


def test_kept_plans_live_in_the_case_folder_and_read_back(config) -> None:  # type: ignore[no-untyped-def]
    path = keep_plan(config, 7, PLAN)
    assert path.parent == case_folder(config, 7) and path.parent.name == "case-7"
    assert json.loads(path.read_text())["metrics"]["plan"]["endpoint"] == "ep/../1"
    assert not list(path.parent.glob("*.tmp"))


def test_a_real_resend_needs_a_case_and_a_destination_the_guard_admits(config) -> None:  # type: ignore[no-untyped-def]
    store = CaseStore(config.database_url)
    with pytest.raises(InputError, match="open a case first"):
        resend_plan(config, store, None, PLAN, "http://127.0.0.1:9/hook", secret="whsec_x", dry_run=False)
    case = store.create_case(ticket="ZD-1", endpoint_url="http://169.254.169.254/")
    with pytest.raises(InputError, match="guard refuses"):
        resend_plan(config, store, case.id, PLAN, "http://169.254.169.254/latest", secret="whsec_x", dry_run=False)
    assert store.list_redeliveries(case.id) == []
