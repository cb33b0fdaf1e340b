"""`config` and `playbook`: what the tool is configured with and what a finding code means."""

from __future__ import annotations

import argparse
import sys

from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.playbooks import load_playbooks
from diagnostics.profiles import all_profiles


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser("config", help=COMMANDS["config"].help)
    config.set_defaults(handler=_config)
    playbook = subparsers.add_parser("playbook", help=COMMANDS["playbook"].help)
    playbook.add_argument("code", nargs="?", help="finding code; omit to list every code")
    playbook.set_defaults(handler=_playbook)


def _config(args: argparse.Namespace, config: Config) -> int:
    print(f"configuration file: {config.path or '(none, defaults only)'}")
    for row in config.flat():
        print(f"  {row['setting']} = {row['value']!r}    [{row['source']}]")
    print("sender profiles:")
    for p in all_profiles(config.ours):
        print(f"  {p.name:<9} {p.label:<15} timeout {p.timeout_s:g} s, {p.max_attempts} attempts, scheme {p.scheme}")
    return 0


def _playbook(args: argparse.Namespace, config: Config) -> int:
    playbooks = load_playbooks()
    if not args.code:
        for code, pb in playbooks.items():
            print(f"{code:<34} {pb.severity.value:<8} {pb.title}")
        return 0
    pb = playbooks.get(args.code)
    if pb is None:
        raise InputError(f"no playbook for code {args.code!r}; run `playbook` to list the codes")
    sys.stdout.write(f"# {pb.title}\n\n")
    for name, text in pb.sections.items():
        sys.stdout.write(f"## {name}\n\n{text}\n\n")
    return 0
