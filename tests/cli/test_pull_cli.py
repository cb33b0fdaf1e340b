"""`python -m diagnostics pull svix|github|hookdeck|convoy`: token on standard input, a one-line summary, then
`analyze`; a refused token, an unknown scope or an HTML answer is one line (exit 2) and writes nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from diagnostics.cli import main
from tests.support.convoy_api import ENDPOINT as CONVOY_ENDPOINT
from tests.support.convoy_api import PROJECT, serve_convoy
from tests.support.convoy_api import TOKEN as CONVOY_TOKEN
from tests.support.github_api import HOOK, REPO, serve_github
from tests.support.github_api import TOKEN as GITHUB_TOKEN
from tests.support.hookdeck_api import ATTEMPTS as HOOKDECK_ATTEMPTS
from tests.support.hookdeck_api import CONNECTION, DESTINATION, serve_hookdeck
from tests.support.hookdeck_api import TOKEN as HOOKDECK_TOKEN
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


def run_pull(monkeypatch: pytest.MonkeyPatch, token: str, argv: list[str]) -> int:
    monkeypatch.setenv("DIAGNOSTICS_ALLOW", "127.0.0.1")
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    return main(["pull", *argv, "--token", "-"])


def test_pull_hookdeck_then_analyze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "hookdeck.json"
    with serve_hookdeck() as (base_url, seen):
        seen.rate_limit_at = 2  # the events page
        code = run_pull(monkeypatch, HOOKDECK_TOKEN, ["hookdeck", "--connection", CONNECTION, "--base-url", base_url,
                                                      "--output", str(output)])
    out = capsys.readouterr()
    assert code == 0 and seen.rate_limit_at is None  # the 429 was met and waited out
    assert out.out.startswith(f"pulled {len(HOOKDECK_ATTEMPTS)} attempts in ") and "(complete)" in out.out
    assert HOOKDECK_TOKEN not in output.read_text() + out.out + out.err
    assert main(["analyze", str(output), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    codes = {f["code"]: f["status"] for f in report["findings"]}
    assert report["metrics"]["profile"] == "hookdeck" and codes["outage-window"] == "warn"


def test_pull_convoy_partial_then_analyze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "convoy.json"
    with serve_convoy() as (base_url, _):
        code = run_pull(monkeypatch, CONVOY_TOKEN, ["convoy", "--project", PROJECT, "--endpoint", CONVOY_ENDPOINT,
                                                    "--base-url", base_url, "--max-attempts", "10", "--since",
                                                    "2026-03-01T00:00:00Z", "--output", str(output)])
    out = capsys.readouterr()
    assert code == 0 and out.out.startswith("pulled 10 attempts in ") and "partial: resume from" in out.out
    assert ": 10 attempts" in out.err and CONVOY_TOKEN not in output.read_text() + out.out + out.err
    assert main(["analyze", str(output), "--format", "json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["profile"] == "convoy" and report["metrics"]["attempts"] == 10
    assert {f["code"]: f["status"] for f in report["findings"]}["partial-export"] == "warn"


@pytest.mark.parametrize(
    ("serve", "token", "argv", "message"),
    [
        (serve_hookdeck, "hk_wrong", ["hookdeck", "--destination", DESTINATION],
         "Hookdeck refused the API key (401"),
        (serve_hookdeck, HOOKDECK_TOKEN, ["hookdeck", "--connection", "web_nope"],
         "Hookdeck connection 'web_nope' does not exist in this project (404"),
        (serve_hookdeck, HOOKDECK_TOKEN, ["hookdeck", "--connection", CONNECTION, "html"],
         "answered with not JSON: is --base-url the Hookdeck API"),
        (serve_convoy, "CO.wrong", ["convoy", "--project", PROJECT, "--endpoint", CONVOY_ENDPOINT],
         "Convoy refused the API key (401"),
        (serve_convoy, CONVOY_TOKEN, ["convoy", "--project", PROJECT, "--endpoint", "01HNOPE"],
         "Convoy has no endpoint '01HNOPE' in project"),
        (serve_convoy, CONVOY_TOKEN, ["convoy", "--project", PROJECT, "--endpoint", CONVOY_ENDPOINT, "html"],
         "answered with not JSON: is --base-url the Convoy API"),
    ],
)
def test_refusals_are_one_line_exit_2_and_write_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str], serve: Any, token: str,
                                                        argv: list[str], message: str) -> None:
    html = argv[-1] == "html"
    with serve() as (base_url, seen):
        seen.html = html
        code = run_pull(monkeypatch, token, [*(argv[:-1] if html else argv), "--base-url", base_url,
                                             "--output", str(tmp_path / "x.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and message in err[-1]
    assert token not in err[-1] and list(tmp_path.iterdir()) == []


def test_hookdeck_wants_one_scope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["pull", "hookdeck", "--connection", CONNECTION, "--destination", DESTINATION, "--token", "-",
              "--output", str(tmp_path / "x.json")])
    assert caught.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
