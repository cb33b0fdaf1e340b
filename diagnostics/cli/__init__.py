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

from diagnostics.cli.commands import COMMAND_MODULES, COMMANDS
from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.neutralize import terminal_text


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


def build_parser(command: str | None = None, *, index: bool = False) -> argparse.ArgumentParser:
    """The parser with every command, or with `command` alone (the others' modules stay unimported).

    `index`: every command by name and help line only, importing no command module: enough for
    `--help`, a missing or unknown command, since none of them reaches a command's own arguments.
    """
    parser = _Parser(
        prog="python -m diagnostics",
        description="Webhook Doctor: why is this customer's webhook broken, and what do we tell them?",
    )
    parser.add_argument("--config", help="path to diagnostics.toml (default: repo root or $DIAGNOSTICS_CONFIG)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    if index:
        for name, entry in COMMANDS.items():
            subparsers.add_parser(name, help=entry.help)
        return parser
    for module in (COMMANDS[command].module,) if command else COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = command_of(argv)
    parser = build_parser(command, index=command is None)
    args = parser.parse_args(argv)  # without a known command this exits (help or a usage error)
    from diagnostics.cli._common import emit  # the report renderers, once a command has run
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
