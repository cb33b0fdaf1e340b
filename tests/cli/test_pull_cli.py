"""`python -m diagnostics pull svix|github`: token on standard input, a one-line summary, then `analyze`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from diagnostics.cli import main
from tests.support.github_api import HOOK, REPO, serve_github
from tests.support.github_api import TOKEN as GITHUB_TOKEN
from tests.support.svix_api import APP, ENDPOINT, TOKEN, serve_svix


def test_pull_then_analyze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIAGNOSTICS_ALLOW", "127.0.0.1")
    output = tmp_path / "svix.json"
    with serve_svix() as (base_url, seen):
        seen.rate_limit_at = None
        monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
        code = main(["pull", "svix", "--app", APP, "--endpoint", ENDPOINT, "--base-url", base_url, "--token", "-",
                     "--max-attempts", "30", "--output", str(output)])
    out = capsys.readouterr()
    assert code == 0
    assert out.out.strip().startswith("pulled 30 attempts in 1 page(s)") and "partial: resume from" in out.out
    assert "page 1: 30 attempts" in out.err
    assert TOKEN not in output.read_text() and TOKEN not in out.out + out.err
    assert json.loads(output.read_text())["done"] is False
    assert main(["analyze", str(output), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    codes = {f["code"]: f["status"] for f in report["findings"]}
    assert codes["partial-export"] == "warn"
    assert report["metrics"]["profile"] == "svix"


def test_a_token_on_the_command_line_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["pull", "svix", "--app", APP, "--endpoint", ENDPOINT, "--token", "sk_live_on_argv",
                 "--output", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert code == 2 and "pass the token on standard input with --token -" in err
    assert "sk_live_on_argv" not in err and list(tmp_path.iterdir()) == []


def test_a_refused_token_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIAGNOSTICS_ALLOW", "127.0.0.1")
    with serve_svix() as (base_url, _):
        monkeypatch.setattr("sys.stdin", io.StringIO("expired\n"))
        code = main(["pull", "svix", "--app", APP, "--endpoint", ENDPOINT, "--base-url", base_url, "--token", "-",
                     "--output", str(tmp_path / "x.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and "Svix refused the API token (401" in err[-1]
    assert list(tmp_path.iterdir()) == []


def test_pull_github_then_analyze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIAGNOSTICS_ALLOW", "127.0.0.1")
    output = tmp_path / "gh.json"
    with serve_github() as (base_url, seen):
        seen.limit_at = None
        monkeypatch.setattr("sys.stdin", io.StringIO(GITHUB_TOKEN + "\n"))
        code = main(["pull", "github", "--repo", REPO, "--hook", str(HOOK), "--base-url", base_url, "--token", "-",
                     "--output", str(output)])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("pulled 50 attempts in 1 page(s)") and "(complete)" in out
    assert main(["analyze", str(output), "--format", "json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["metrics"]["profile"] == "github"
