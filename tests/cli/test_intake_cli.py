"""`python -m diagnostics intake --text-file FILE --format json`: the ticket's contents at metrics.intake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TICKET = ROOT / "tests" / "fixtures" / "tickets" / "stripe_signature_node.txt"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "diagnostics", "intake", *args], capture_output=True, cwd=ROOT,
                          timeout=120, input=stdin)


def test_json_holds_the_intake_shape() -> None:
    result = run("--text-file", str(TICKET), "--format", "json")
    assert result.returncode == 0, result.stderr
    intake = json.loads(result.stdout)["metrics"]["intake"]
    assert intake["urls"] == ["https://api.acme-shop.io/webhooks/stripe"]
    assert intake["event_ids"][0] == {"id": "evt_1PqR2sT3uVwXyZ0aBcDeFgHi", "platform": "stripe", "from": "text"}
    assert intake["times"][0]["iso"] == "2026-03-02T08:40:00Z" and intake["status_codes"] == [400]
    assert intake["symptoms"] == ["signature_failing"] and "Stripe-Signature" in intake["headers"]
    assert [c["check"] for c in intake["proposed_checks"]] == ["probe", "signature", "logs"]


def test_text_output_lists_what_was_found_and_stdin_works() -> None:
    result = run("--text-file", "-", stdin=TICKET.read_bytes())
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "evt_1PqR2sT3uVwXyZ0aBcDeFgHi" in text and "signature_failing" in text and "proposed check" in text


def test_bad_ticket_files_are_one_line(tmp_path: Path) -> None:
    utf16 = tmp_path / "ticket.txt"
    utf16.write_bytes("Hello, webhooks fail".encode("utf-16"))
    for args, message in ((["--text-file", str(tmp_path / "missing.txt")], "ticket file not found"),
                          (["--text-file", str(utf16)], "not UTF-8 text"),
                          (["--text-file", "-"], "the ticket text is empty")):
        result = run(*args, stdin=b"")
        assert result.returncode == 2 and b"Traceback" not in result.stderr
        assert message in result.stderr.decode() and result.stderr.decode().count("\n") == 1
