"""The CLI frame: usage errors and unusable input exit 2 with one line on stderr, no traceback."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.cli import COMMAND_MODULES, COMMANDS, build_parser, command_of, main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def _registered(parser: argparse.ArgumentParser) -> set[str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_the_command_table_names_exactly_what_each_module_registers() -> None:
    parser = build_parser()
    assert parser.prog == "python -m diagnostics"
    assert _registered(parser) == set(COMMANDS)
    for command, entry in COMMANDS.items():
        alone = _registered(build_parser(command))
        assert command in alone
        assert alone == {c for c, e in COMMANDS.items() if e.module == entry.module}
    assert len(COMMAND_MODULES) == len({e.module for e in COMMANDS.values()})
    # The help line `--help` shows without importing a module is the one the module registers.
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert {a.dest: a.help for a in sub._choices_actions} == {c: e.help for c, e in COMMANDS.items()}
    assert _registered(build_parser(index=True)) == set(COMMANDS)


def test_the_command_is_found_past_global_options() -> None:
    assert command_of(["--config", "analyze", "probe", "x"]) == "probe"
    assert command_of(["analyze", "log.csv"]) == "analyze"
    assert command_of(["--help"]) is None and command_of(["nonsense"]) is None


def test_a_command_imports_only_its_own_module() -> None:
    code = ("import sys; from diagnostics.cli import main; main(['playbook']); "
            "print(sorted(m for m in sys.modules if m.startswith(('diagnostics.cli.', 'pandas', 'sqlalchemy', "
            "'pyspark', 'streamlit'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "['diagnostics.cli._common', 'diagnostics.cli.commands', 'diagnostics.cli.info']")


def test_help_lists_every_command_and_imports_none() -> None:
    code = ("import sys; from diagnostics.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('diagnostics.cli.', 'jinja2', 'duckdb', 'httpx'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "['diagnostics.cli.commands']"
    for command, entry in COMMANDS.items():
        assert command in result.stdout and entry.help.split()[0] in result.stdout


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
