"""`intake`: read a customer's ticket and print what it contains (metrics.intake in JSON)."""

from __future__ import annotations

import argparse
import sys

from diagnostics.cli._common import add_output_options, read_text_file
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome

MAX_TICKET_BYTES = 2_000_000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "intake", help=COMMANDS["intake"].help)
    parser.add_argument("--text-file", required=True, metavar="FILE",
                        help="the ticket's text (an e-mail, a chat, pasted logs); '-' reads standard input")
    add_output_options(parser)
    parser.set_defaults(handler=_intake)


def _intake(args: argparse.Namespace, config: Config) -> Outcome:
    from diagnostics.intake import intake_outcome  # only this command needs it

    if args.text_file == "-":
        data = sys.stdin.buffer.read(MAX_TICKET_BYTES + 1)
        name = "standard input"
    else:
        data = read_text_file(args.text_file, "ticket file", max_bytes=MAX_TICKET_BYTES)
        name = args.text_file
    if len(data) > MAX_TICKET_BYTES:
        raise InputError(f"the ticket is larger than {MAX_TICKET_BYTES:,} bytes", file=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("the ticket is not UTF-8 text; save it as UTF-8", file=name, line=line) from exc
    return intake_outcome(text, subject=name)
