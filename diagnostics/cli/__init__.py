"""`python -m diagnostics <command>`: one module per command group, one output path for all.

Each module in COMMAND_MODULES exposes `register(subparsers)` and sets a `handler(args, config)`
on its parsers that returns an Outcome (rendered here with --format/--output) or an int exit
code (for commands that print their own output, such as `sign` or `sandbox`).
Exit codes: 0 nothing failed, 1 a finding failed, 2 the input was unusable.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from diagnostics.cli._common import emit
from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.neutralize import terminal_text

# Which module registers each command. A run imports only the module of its own command (start-up
# stays short: `analyze` never imports the probe, coverage or app code); `--help` imports them all.
# A new command is one line here; tests/cli/test_frame.py checks the table against the modules.
COMMANDS = {
    "config": "diagnostics.cli.info",
    "playbook": "diagnostics.cli.info",
    "coverage": "diagnostics.cli.coverage",
    "payload-diff": "diagnostics.cli.coverage",
    "analyze": "diagnostics.cli.analyze",
    "pull": "diagnostics.cli.pull",
    "probe": "diagnostics.cli.probe",
    "sandbox": "diagnostics.cli.sandbox",
    "verify": "diagnostics.cli.signatures",
    "sign": "diagnostics.cli.signatures",
    "schemes": "diagnostics.cli.signatures",
    "demo": "diagnostics.cli.demo",
    "intake": "diagnostics.cli.intake",
    "replay-plan": "diagnostics.cli.recovery",
    "reconcile": "diagnostics.cli.recovery",
    "redeliver": "diagnostics.cli.recovery",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line with exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on a command line (the first word that is not a global option), if known."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with `command` alone (the others' modules stay unimported)."""
    parser = _Parser(
        prog="python -m diagnostics",
        description="Webhook Doctor: why is this customer's webhook broken, and what do we tell them?",
    )
    parser.add_argument("--config", help="path to diagnostics.toml (default: repo root or $DIAGNOSTICS_CONFIG)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in (COMMANDS[command],) if command else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        result = args.handler(args, config)
        if isinstance(result, Outcome):
            return emit(result, args)
        return int(result)
    except InputError as exc:
        print(f"error: {terminal_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
