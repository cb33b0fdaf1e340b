"""The command table: which module registers each command, and the command's one-line help.

It imports nothing, so `python -m diagnostics --help` lists every command without importing any
command module, and a run imports only the module of the command it names. A new command is one
line here and `help=COMMANDS["name"].help` in its module's `add_parser`; tests/cli/test_frame.py
checks the table against what the modules register.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str  # registers the command: `register(subparsers)`
    help: str  # the line shown by `--help`


COMMANDS = {
    "config": Command(
        "diagnostics.cli.info",
        "show the effective configuration and where each value comes from",
    ),
    "playbook": Command(
        "diagnostics.cli.info",
        "print the playbook of a finding code (or list the codes)",
    ),
    "coverage": Command(
        "diagnostics.cli.coverage",
        "event coverage, payload design and payload versions against the event catalog",
    ),
    "payload-diff": Command(
        "diagnostics.cli.coverage",
        "compare two payload versions: two schemas, two catalogs or two folders of sample payloads",
    ),
    "analyze": Command(
        "diagnostics.cli.analyze",
        "analyze delivery logs (files or a database) for duplicates, outages and failure patterns",
    ),
    "pull": Command(
        "diagnostics.cli.pull",
        "pull delivery attempts from a platform's API (Svix, GitHub, Hookdeck, Convoy) into a file for analyze",
    ),
    "probe": Command(
        "diagnostics.cli.probe",
        "probe an endpoint as our sender would (or many with --urls-file)",
    ),
    "sandbox": Command(
        "diagnostics.cli.sandbox",
        "run a local receiver that misbehaves on purpose (demo target)",
    ),
    "verify": Command(
        "diagnostics.cli.signatures",
        "verify a captured webhook signature; on a mismatch, name the smallest change that fixes it",
    ),
    "sign": Command(
        "diagnostics.cli.signatures",
        "print the signature headers a sender would attach to a body",
    ),
    "schemes": Command(
        "diagnostics.cli.signatures",
        "list the signature schemes and the formula each applies",
    ),
    "demo": Command(
        "diagnostics.cli.demo",
        "build the demo workspace (delivery log, catalog, example case); --serve starts the app on it",
    ),
    "intake": Command(
        "diagnostics.cli.intake",
        "read a ticket: endpoint URLs, event ids, times, status codes, errors, headers, symptoms",
    ),
    "replay-plan": Command(
        "diagnostics.cli.recovery",
        "list the events an endpoint never got, each with how safe a resend is",
    ),
    "reconcile": Command(
        "diagnostics.cli.recovery",
        "compare the delivery log of an endpoint with what the customer says they received",
    ),
    "redeliver": Command(
        "diagnostics.cli.recovery",
        "resend a plan's events to the endpoint: guarded, signed, paced, resumable",
    ),
}
COMMAND_MODULES = tuple(dict.fromkeys(c.module for c in COMMANDS.values()))
