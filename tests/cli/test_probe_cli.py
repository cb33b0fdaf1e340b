"""`probe` and `sandbox` on the command line: exit codes, formats, sweeps, stdin secrets."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagnostics.cli import main
from diagnostics.config import REPO_ROOT
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle, start_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(tls=True) as handle:
        yield handle


@pytest.fixture(autouse=True)
def no_env_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIAGNOSTICS_ALLOW", raising=False)
    monkeypatch.delenv("DIAGNOSTICS_CONFIG", raising=False)


def run(*argv: str) -> int:
    return main(["probe", "--timeout", "1", "--quiet", *argv])


def test_healthy_endpoint_json(sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(sandbox.url("healthy"), "--allow", "127.0.0.1", "--samples", "2", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["subject"] == sandbox.url("healthy")
    assert {f["code"] for f in data["findings"]} == {"endpoint-healthy", "url-not-https"}
    assert len(data["metrics"]["phases"]) == 2


def test_failing_endpoint_exits_1_and_progress_goes_to_stderr(
    sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", sandbox.url("status/404"), "--allow", "127.0.0.1", "--samples", "1", "--timeout", "1"])
    out, err = capsys.readouterr()
    assert code == 1 and "http-error-status" in out and "sample 1 of 1: 404" in err


def test_refused_without_allowlist(sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]) -> None:
    before = sandbox.stats.connections
    assert run(sandbox.url("healthy")) == 1
    assert "non-public-address" in capsys.readouterr().out
    assert sandbox.stats.connections == before


def test_https_with_the_sandbox_ca(sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.certificates is not None
    ca = tmp_path / "ca.pem"
    ca.write_bytes(sandbox.certificates.ca_pem)
    assert run(sandbox.url("healthy", tls=True), "--allow", "127.0.0.1", "--ca-file", str(ca), "--samples", "1") == 0
    assert run(sandbox.url("healthy", variant="wrong-host"), "--allow", "127.0.0.1", "--ca-file", str(ca),
               "--samples", "1") == 1
    assert "tls-hostname-mismatch" in capsys.readouterr().out


def test_secret_from_stdin_is_never_printed(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(DEMO_SECRET + "\n"))
    code = run(sandbox.url("verify/standard-webhooks"), "--allow", "127.0.0.1", "--samples", "1",
               "--scheme", "standard-webhooks", "--secret", "-", "--format", "json")
    out = capsys.readouterr().out
    assert code == 0 and DEMO_SECRET not in out
    assert "signature-enforced" in {f["code"] for f in json.loads(out)["findings"]}


def test_sweep_csv_and_json(sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# health sweep\n{sandbox.url('healthy')}\n\n{sandbox.url('status/500')}\nnot-a-url\n")
    out_csv = tmp_path / "sweep.csv"
    code = run("--urls-file", str(urls), "--allow", "127.0.0.1", "--concurrency", "4", "--format", "csv",
               "--output", str(out_csv))
    assert code == 1
    rows = list(csv.DictReader(out_csv.read_text().splitlines()))
    assert [r["verdict"] for r in rows] == ["warning", "failing", "failing"]
    assert rows[1]["status_code"] == "500" and rows[2]["codes"] == "url-invalid"
    assert run("--urls-file", str(urls), "--allow", "127.0.0.1", "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert [e["url"] for e in data["endpoints"]] == [sandbox.url("healthy"), sandbox.url("status/500"), "not-a-url"]


def test_sweep_text_report(sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(sandbox.url("healthy") + "\n")
    assert run("--urls-file", str(urls), "--allow", "127.0.0.1") == 0
    assert "health sweep of 1 endpoints" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "either one URL or --urls-file"),
        (["https://example.com", "--urls-file", "x.txt"], "either one URL or --urls-file"),
        (["https://example.com", "--format", "csv"], "--format csv is for sweeps"),
        (["--urls-file", "/nonexistent/urls.txt"], "URLs file not found"),
        (["https://example.com", "--profile", "nosuch"], "unknown sender profile"),
        (["https://example.com", "--timeout", "0"], "timeout must be between"),
        (["https://example.com", "--ca-file", "/nonexistent.pem"], "CA file not found"),
        (["https://example.com", "--allow", "10.0.0.0/99"], "not a valid CIDR"),
        (["https://example.com", "--scheme", "stripe"], "needs --secret"),
        (["https://example.com", "--scheme", "nosuch", "--secret", "x"], "unknown scheme"),
        (["https://example.com", "--samples", "0"], "samples must be between"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_empty_urls_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    assert main(["probe", "--urls-file", str(empty)]) == 2
    assert "lists no URLs" in capsys.readouterr().err


def test_sandbox_command_serves_until_stopped(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DIAGNOSTICS_WORKSPACE": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "diagnostics", "sandbox", "--tls", "--ca-out", str(tmp_path / "ca.pem")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("sandbox listening on http://127.0.0.1:")
        base = first.split()[-1]
        https_line = process.stdout.readline()
        assert "HTTPS on https://127.0.0.1:" in https_line and (tmp_path / "ca.pem").exists()
        started = time.monotonic()
        code = main(["probe", f"{base}/healthy", "--allow", "127.0.0.1", "--samples", "1", "--quiet"])
        assert code == 0 and time.monotonic() - started < 5
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sandbox_port_in_use_is_a_clear_error(sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]) -> None:
    port = sandbox.http_url.rsplit(":", 1)[1]
    assert main(["sandbox", "--port", port]) == 2
    err = capsys.readouterr().err
    assert "cannot listen" in err and "Traceback" not in err
