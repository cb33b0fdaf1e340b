"""`coverage` and `payload-diff`: Product Ops' view of event types, payloads and versions.

    python -m diagnostics coverage --catalog PATH [--subscriptions PATH] [--log FILE_OR_URL ...]
                                   [--payloads DIR] [--since T] [--until T] [--format ...]
    python -m diagnostics payload-diff OLD NEW [--format ...]
"""

from __future__ import annotations

import argparse

from diagnostics.cli._common import add_output_options
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.findings import Outcome
from diagnostics.logs import parse_mapping
from diagnostics.pipeline.coverage import payload_diff, run_coverage


def register(subparsers: argparse._SubParsersAction) -> None:
    coverage = subparsers.add_parser(
        "coverage",
        help=COMMANDS["coverage"].help,
        description="Which catalogued event types fire, which fire undocumented, which subscriptions never "
                    "receive anything, whether payloads are complete and valid, and which versions are in flight.",
    )
    coverage.add_argument("--catalog", required=True, metavar="PATH",
                          help="event catalog: YAML/JSON file with event_types, or a folder of JSON Schemas")
    coverage.add_argument("--subscriptions", metavar="PATH_OR_URL",
                          help="subscriptions: CSV (endpoint,event_type[,payload_version]), JSON, YAML or a "
                               "database URL")
    coverage.add_argument("--log", action="append", default=[], metavar="FILE_OR_URL",
                          help="delivery log file or database URL; repeatable")
    coverage.add_argument("--payloads", metavar="DIR", help="folder of sample payload JSON files")
    coverage.add_argument("--since", metavar="T",
                          help="start of the window (ISO 8601 or epoch, e.g. 2026-03-01T00:00:00Z)")
    coverage.add_argument("--until", metavar="T", help="end of the window (ISO 8601 or epoch)")
    coverage.add_argument("--source-format", default="auto",
                          help="delivery-log format: auto, canonical, svix, hookdeck, convoy, github")
    coverage.add_argument("--map", metavar="CANON=SOURCE,...", help="column mapping for canonical files and databases")
    coverage.add_argument("--table", help="table holding the delivery attempts (database sources)")
    coverage.add_argument("--query", help="SELECT returning the delivery attempts (database sources)")
    add_output_options(coverage)
    coverage.set_defaults(handler=_coverage)

    diff = subparsers.add_parser(
        "payload-diff",
        help=COMMANDS["payload-diff"].help,
        description="Breaking changes (removed/renamed field, type change, enum value removed, made required) "
                    "and additive ones between OLD and NEW.",
    )
    diff.add_argument("old", help="old version: JSON Schema file, catalog, or folder of payloads")
    diff.add_argument("new", help="new version: JSON Schema file, catalog, or folder of payloads")
    add_output_options(diff)
    diff.set_defaults(handler=_payload_diff)


def _coverage(args: argparse.Namespace, config: Config) -> Outcome:
    log_options: dict[str, object] = {"source_format": args.source_format}
    if args.map:
        log_options["mapping"] = parse_mapping(args.map)
    if args.table:
        log_options["table"] = args.table
    if args.query:
        log_options["query"] = args.query
    return run_coverage(
        catalog=args.catalog,
        subscriptions=args.subscriptions,
        logs=args.log,
        payloads=args.payloads,
        since=args.since,
        until=args.until,
        log_options=log_options if args.log else None,
    )


def _payload_diff(args: argparse.Namespace, config: Config) -> Outcome:
    return payload_diff(args.old, args.new)
