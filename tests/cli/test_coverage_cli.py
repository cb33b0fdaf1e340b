"""`coverage` and `payload-diff` on the command line: formats, exit codes, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.cli import main
from tests.fixtures.coverage.planted import build

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "coverage"


@pytest.fixture(scope="module")
def planted_log(tmp_path_factory) -> Path:
    return build().write_jsonl(tmp_path_factory.mktemp("cli") / "log.jsonl")


def test_coverage_json_has_findings_and_matrix(planted_log: Path, capsys) -> None:
    code = main(["coverage", "--catalog", str(FIXTURES / "catalog.yaml"), "--subscriptions",
                 str(FIXTURES / "subscriptions.csv"), "--log", str(planted_log), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1  # an uncatalogued type and schema violations fail
    codes = {f["code"] for f in data["findings"]}
    assert {"event-type-never-sent", "event-type-uncatalogued", "subscribed-never-delivered", "thin-payload",
            "payload-schema-violation", "payload-versions-in-flight", "breaking-payload-change",
            "resource-without-events"} <= codes
    matrix = {r["event_type"]: r for r in data["metrics"]["tables"]["coverage"]}
    assert matrix["payout.created"]["payload_design"] == "thin"


def test_coverage_html_report_to_file_escapes_payload_text(tmp_path: Path) -> None:
    folder = tmp_path / "payloads"
    folder.mkdir()
    (folder / "note.created.json").write_text(json.dumps(
        {"type": "note.created", "data": {"note_id": "<script>alert(1)</script>", "url": "https://x"}}))
    out = tmp_path / "report.html"
    code = main(["coverage", "--catalog", str(FIXTURES / "catalog.yaml"), "--payloads", str(folder),
                 "--format", "html", "--output", str(out)])
    html = out.read_text()
    assert code == 1  # note.created is not catalogued
    assert "<script>alert(1)</script>" not in html and "note.created" in html


def test_coverage_window_flags(planted_log: Path, capsys) -> None:
    main(["coverage", "--catalog", str(FIXTURES / "catalog.yaml"), "--log", str(planted_log),
          "--since", "2026-03-03T00:00:00Z", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"]["window"].startswith("2026-03-03")


def test_payload_diff_exit_codes(capsys) -> None:
    schemas = FIXTURES / "schemas"
    assert main(["payload-diff", str(schemas / "invoice.v1.json"), str(schemas / "invoice.v2.json")]) == 1
    text = capsys.readouterr().out
    assert "`data.memo` (string) was removed" in text
    assert main(["payload-diff", str(schemas / "invoice.v2.json"), str(schemas / "invoice.v2.json"),
                 "--format", "markdown"]) == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["coverage", "--catalog", str(FIXTURES / "bad/duplicate.yaml")], "duplicate event type 'invoice.paid'"),
        (["coverage", "--catalog", str(FIXTURES / "bad/invalid.yaml")], "line 5"),
        (["coverage", "--catalog", str(FIXTURES / "catalog.yaml"), "--since", "monday"], "ISO 8601"),
        (["payload-diff", "nope-old", "nope-new"], "nope-old"),
    ],
)
def test_unusable_input_exits_2_with_one_line(args: list[str], fragment: str, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_bad_catalog_from_a_real_process() -> None:
    result = subprocess.run([sys.executable, "-m", "diagnostics", "coverage", "--catalog",
                             str(FIXTURES / "bad/bad_schema.yaml")], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "event_types[1] ('order.created') version 'v1': not a valid JSON Schema" in result.stderr


def _coverage_json(planted_log: Path, capsys, *window: str) -> dict:
    code = main(["coverage", "--catalog", str(FIXTURES / "catalog.yaml"), "--log", str(planted_log), *window,
                 "--format", "json"])
    assert code in (0, 1)
    return json.loads(capsys.readouterr().out)


def test_coverage_reads_times_like_every_other_command(planted_log: Path, capsys) -> None:
    """`--since` takes what `analyze --since` takes: epoch seconds as well as ISO 8601."""
    whole = _coverage_json(planted_log, capsys)
    since_2023 = _coverage_json(planted_log, capsys, "--since", "1700000000")
    assert since_2023["metrics"]["window"] == whole["metrics"]["window"]  # the log starts in 2026
    iso = _coverage_json(planted_log, capsys, "--since", "2026-03-03T00:00:00Z", "--until", "2026-03-04")
    epoch = _coverage_json(planted_log, capsys, "--since", "1772496000", "--until", "1772582400000")  # s and ms
    assert iso["metrics"]["window"].startswith("2026-03-03")
    assert epoch == iso


@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_coverage_bad_time_is_one_line_naming_the_flag(flag: str, capsys) -> None:
    assert main(["coverage", "--catalog", str(FIXTURES / "catalog.yaml"), flag, "next tuesday"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert flag in err and "'next tuesday' is not an ISO 8601 time or epoch seconds" in err
