"""Options and output shared by every command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.report import FORMATS, ReportContext, render


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write the output to FILE instead of stdout")
    parser.add_argument("--ticket", default="", help="ticket reference shown in Markdown and HTML reports")
    parser.add_argument("--customer", default="", help="customer name shown in Markdown and HTML reports")


def emit(outcome: Outcome, args: argparse.Namespace) -> int:
    """Render the outcome in the chosen format, write it, and return the exit code."""
    context = ReportContext(ticket=getattr(args, "ticket", ""), customer=getattr(args, "customer", ""))
    text = render(outcome, getattr(args, "format", "text"), context)
    output = getattr(args, "output", None)
    if output:
        path = Path(output)
        if path.parent and not path.parent.exists():
            raise InputError("the output folder does not exist", file=str(path))
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    else:
        sys.stdout.write(text)
    return outcome.exit_code


def read_text_file(path: str, what: str = "file", max_bytes: int | None = None) -> bytes:
    """Read a user-named file as bytes, turning OS errors into InputError that names the file."""
    p = Path(path)
    try:
        if max_bytes is not None and p.stat().st_size > max_bytes:
            raise InputError(f"{what} is larger than {max_bytes:,} bytes", file=path)
        return p.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found", file=path) from exc
    except IsADirectoryError as exc:
        raise InputError(f"{what} is a folder, expected a file", file=path) from exc
    except PermissionError as exc:
        raise InputError(f"{what} cannot be read (permission denied)", file=path) from exc
