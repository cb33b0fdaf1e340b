"""`python -m diagnostics replay-plan`: the plan out, exports written, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.recovery.generate import RecoveryLog, generate_recovery_log

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnostics", "replay-plan", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[RecoveryLog, Path]:
    generated = generate_recovery_log(seed=5)
    return generated, generated.write(tmp_path_factory.mktemp("cli") / "log.parquet")


def test_json_plan_and_exit_code(log: tuple[RecoveryLog, Path]) -> None:
    generated, path = log
    result = run(str(path), "--endpoint", "ep_target", "--format", "json")
    assert result.returncode == 1, result.stderr
    plan = json.loads(result.stdout)["metrics"]["plan"]
    assert plan["totals"] == {c: len(ids) for c, ids in generated.truth.categories.items()}
    assert {e["event_id"] for e in plan["events"]} == set().union(*generated.truth.categories.values())
    assert plan["disable_at"].endswith("Z")


def test_text_report_leads_with_totals_then_countdown(log: tuple[RecoveryLog, Path]) -> None:
    result = run(str(log[1]), "--endpoint", "ep_target")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "(recovery-plan, high)" in lines[2]
    labels = [line.strip().split(":")[0] for line in lines[4:30] if line.strip().startswith("- ")]
    assert labels[:4] == ["- never reached", "- ambiguous", "- rejected", "- pending"]
    assert labels.index("- oldest pending event runs out of retries") < labels.index("- auto-disable")


def test_exports_written_with_default_safe_categories(log: tuple[RecoveryLog, Path], tmp_path: Path) -> None:
    generated, path = log
    ids, table = tmp_path / "ids.txt", tmp_path / "plan.csv"
    result = run(str(path), "--endpoint", "ep_target", "--export", "ids", str(ids), "--export", "csv", str(table),
                 "--format", "json")
    assert result.returncode == 1, result.stderr
    truth = generated.truth.categories
    assert set(ids.read_text().split()) == truth["never_reached"] | truth["rejected"]
    assert len(table.read_text().splitlines()) == 1 + len(truth["never_reached"]) + len(truth["rejected"])
    exports = json.loads(result.stdout)["metrics"]["exports"]
    assert [e["format"] for e in exports] == ["ids", "csv"]


def test_markdown_and_html_reports(log: tuple[RecoveryLog, Path], tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    result = run(str(log[1]), "--endpoint", "ep_target", "--format", "html", "--output", str(out))
    assert result.returncode == 1, result.stderr
    html = out.read_text()
    assert "Recovery plan: totals" in html and "dedupe" in html
    md = run(str(log[1]), "--endpoint", "ep_target", "--format", "markdown")
    assert "never reached your server" in md.stdout


@pytest.mark.parametrize("args, message", [
    (["--endpoint", "ep_nowhere"], "no delivery attempts for endpoint 'ep_nowhere'"),
    (["--endpoint", "ep_target", "--categories", "lost"], "unknown categories lost"),
    (["--endpoint", "ep_target", "--since", "2026-03-04", "--until", "2026-03-03"], "--since must be before"),
    (["--endpoint", "ep_target", "--since", "yesterday"], "--since"),
    (["--endpoint", "ep_target", "--profile", "nobody"], "unknown sender profile"),
    (["--endpoint", "ep_target", "--export", "xml", "out.xml"], "unknown export format"),
])
def test_bad_input_is_one_line_and_exit_2(log: tuple[RecoveryLog, Path], args: list[str], message: str) -> None:
    result = run(str(log[1]), *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and not result.stdout


def test_a_bad_export_writes_no_export(log: tuple[RecoveryLog, Path], tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    result = run(str(log[1]), "--endpoint", "ep_target", "--export", "ids", str(ids),
                 "--export", "svix", str(tmp_path / "svix.json"), "--categories", "ambiguous",
                 "--since", "2026-03-04T13:00:00Z")
    assert result.returncode == 2 and "nothing to export" in result.stderr
    assert not ids.exists() and not list(tmp_path.iterdir())


def test_missing_log_file(tmp_path: Path) -> None:
    result = run(str(tmp_path / "none.csv"), "--endpoint", "ep")
    assert result.returncode == 2 and "not found" in result.stderr


def reconcile(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnostics", "reconcile", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_reconcile_then_plan_only_what_they_miss(log: tuple[RecoveryLog, Path], tmp_path: Path) -> None:
    from diagnostics.recovery.generate import plant_received

    generated, path = log
    planted = plant_received(generated)
    received = tmp_path / "received.txt"
    received.write_text("\n".join(planted.receipts) + "\n")
    out = tmp_path / "reconciliation.json"
    result = reconcile(str(path), "--endpoint", "ep_target", "--received", str(received), "--format", "json",
                       "--output", str(out))
    assert result.returncode == 1, result.stderr
    data = json.loads(out.read_text())["metrics"]["reconciliation"]
    assert {e["event_id"] for e in data["events"] if e["category"] == "missed"} == planted.categories["missed"]
    ids = tmp_path / "missed.txt"
    plan = run(str(path), "--endpoint", "ep_target", "--from-reconciliation", str(out), "--format", "json",
               "--export", "ids", str(ids), "--categories", "never_reached,ambiguous,rejected")
    assert plan.returncode == 1, plan.stderr
    events = json.loads(plan.stdout)["metrics"]["plan"]["events"]
    assert {e["event_id"] for e in events} == planted.categories["missed"]
    assert set(ids.read_text().split()) == {e["event_id"] for e in events if e["category"] != "pending"}
    other = run(str(path), "--endpoint", "ep_neighbour", "--from-reconciliation", str(out))
    assert other.returncode == 2 and "is for endpoint 'ep_target'" in other.stderr


def test_reconcile_bad_received_file(log: tuple[RecoveryLog, Path], tmp_path: Path) -> None:
    received = tmp_path / "notes.txt"
    received.write_text("we never got the invoices\nplease resend\n")
    result = reconcile(str(log[1]), "--endpoint", "ep_target", "--received", str(received))
    assert result.returncode == 2 and "no recognizable event id" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout
    missing = reconcile(str(log[1]), "--endpoint", "ep_target", "--received", str(tmp_path / "none.txt"))
    assert missing.returncode == 2 and "not found" in missing.stderr
    bad_json = tmp_path / "r.json"
    bad_json.write_text("{not json")
    plan = run(str(log[1]), "--endpoint", "ep_target", "--from-reconciliation", str(bad_json))
    assert plan.returncode == 2 and "not a reconciliation JSON file" in plan.stderr
