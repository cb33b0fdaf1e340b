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

COMMAND_MODULES = (
    "diagnostics.cli.info",
    "diagnostics.cli.coverage",
    "diagnostics.cli.analyze",
    "diagnostics.cli.probe",
    "diagnostics.cli.sandbox",
    "diagnostics.cli.signatures",
    "diagnostics.cli.demo",
    "diagnostics.cli.recovery",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line with exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m diagnostics",
        description="Webhook Doctor: why is this customer's webhook broken, and what do we tell them?",
    )
    parser.add_argument("--config", help="path to diagnostics.toml (default: repo root or $DIAGNOSTICS_CONFIG)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        result = args.handler(args, config)
        if isinstance(result, Outcome):
            return emit(result, args)
        return int(result)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
