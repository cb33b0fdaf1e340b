"""The CLI frame: usage errors and unusable input exit 2 with one line on stderr, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.cli import COMMAND_MODULES, build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_every_command_module_registers() -> None:
    parser = build_parser()
    assert parser.prog == "python -m diagnostics"
    assert len(COMMAND_MODULES) >= 1


def test_unknown_command_exits_2_without_traceback() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "invalid choice" in result.stderr


def test_missing_config_file_exits_2_naming_it(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "missing.toml"), "config")
    assert result.returncode == 2
    assert "missing.toml" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_command_shows_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "sender.timeout_seconds = 15" in out and "[diagnostics.toml]" in out
    assert "svix" in out and "hookdeck" in out


def test_playbook_command_unknown_code_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "no-such-code"]) == 2
    assert "no-such-code" in capsys.readouterr().err
