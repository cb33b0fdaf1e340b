"""Options and output shared by every command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.logs.files import read_capped
from diagnostics.report import FORMATS, ReportContext, render

DEFAULT_MAX_CLI_FILE_BYTES = 16 * 1024 * 1024  # bodies, URL lists, CA files: far smaller


def add_output_options(
    parser: argparse.ArgumentParser,
    *,
    extra_formats: tuple[str, ...] = (),
    format_help: str = "output format (default: text)",
) -> None:
    """--format (the report formats, plus a command's own), --output, --ticket, --customer."""
    parser.add_argument("--format", choices=(*FORMATS, *extra_formats), default="text", help=format_help)
    parser.add_argument("--output", metavar="FILE", help="write the output to FILE instead of stdout")
    parser.add_argument("--ticket", default="", help="ticket reference shown in Markdown and HTML reports")
    parser.add_argument("--customer", default="", help="customer name shown in Markdown and HTML reports")


def emit(outcome: Outcome, args: argparse.Namespace) -> int:
    """Render the outcome in the chosen format, write it, and return the exit code."""
    context = ReportContext(ticket=getattr(args, "ticket", ""), customer=getattr(args, "customer", ""))
    write_output(render(outcome, getattr(args, "format", "text"), context), getattr(args, "output", None))
    return outcome.exit_code


def write_output(text: str, output: str | None) -> None:
    """Write a command's output to FILE, or to stdout without one. The file is written under a
    temporary name and renamed, so a failed run never leaves half a report where the last one was."""
    if not output:
        sys.stdout.write(text)
        return
    path = Path(output)
    if not path.parent.exists():
        raise InputError("the output folder does not exist", file=str(path))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_text_file(path: str, what: str = "file", max_bytes: int = DEFAULT_MAX_CLI_FILE_BYTES) -> bytes:
    """Read a user-named file as bytes, at most `max_bytes` (a device or pipe reports no size),
    turning OS errors into an InputError that names the file."""
    return read_capped(path, max_bytes, what)


def read_token(value: str) -> str:
    """An API token from standard input (`--token -`); a token on the command line is refused."""
    if value != "-":
        raise InputError("pass the token on standard input with --token - (a token on the command line ends up in "
                         "shell history and process lists)", field="--token")
    return sys.stdin.readline().strip()
