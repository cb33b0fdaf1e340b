"""`analyze`: what a delivery log says: duplicates, outages, lost events, failure patterns."""

from __future__ import annotations

import argparse

from diagnostics.analyzers.base import FLEET_MIN_ENDPOINTS
from diagnostics.cli._common import add_output_options
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.engines import ENGINES
from diagnostics.findings import Outcome
from diagnostics.logs import parse_mapping
from diagnostics.logs.detect import FORMATS
from diagnostics.logs.timestamps import parse_user_time
from diagnostics.pipeline.logs import VIEWS, analyze_logs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help=COMMANDS["analyze"].help,
        description="Import delivery attempts from CSV/JSONL/Parquet (gzip too), Svix, Hookdeck, Convoy or "
        "GitHub exports, or a database (SQLAlchemy URL), and report what they show.",
    )
    parser.add_argument("sources", nargs="*", metavar="FILE_OR_URL",
                        help="delivery-log files or database URLs (default: [logs] url of diagnostics.toml)")
    parser.add_argument("--source-format", choices=FORMATS, default="auto", help="file format (default: auto)")
    parser.add_argument("--map", dest="mapping", metavar="CANONICAL=SOURCE,...",
                        help="column mapping, e.g. attempted_at=created,endpoint=webhook_id")
    parser.add_argument("--table", help="table to read from a database URL (default: [logs] table)")
    parser.add_argument("--query", help="SELECT to read from a database URL instead of a table")
    parser.add_argument("--endpoint", help="only this endpoint (pushed down to databases)")
    parser.add_argument("--since", help="only attempts at or after this time (ISO 8601 or epoch)")
    parser.add_argument("--until", help="only attempts before this time (ISO 8601 or epoch)")
    parser.add_argument("--profile",
                        help="sender profile that judges the log (default: the export's platform, else ours)")
    parser.add_argument("--naive-utc", action="store_true",
                        help="read timestamps without a UTC offset as UTC instead of refusing them")
    parser.add_argument("--strict", action="store_true", help="fail when any row cannot be imported")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="duckdb",
                        help="where the analysis runs: duckdb (embedded, default), database (inside the source "
                        "database: only aggregates come back) or spark (needs requirements-spark.txt)")
    parser.add_argument("--spark-master", help="Spark master for --engine spark (default: [engines] spark_master, "
                        "$DIAGNOSTICS_SPARK_MASTER, local[*])")
    parser.add_argument("--view", choices=VIEWS, default="auto",
                        help=f"fleet: one finding per code with endpoints ranked; endpoints: one finding per endpoint; "
                        f"auto (default): fleet above {FLEET_MIN_ENDPOINTS} endpoints, endpoints with --endpoint")
    parser.add_argument("--details", metavar="FILE.parquet|FILE.csv",
                        help="write every endpoint's problems (one row per code and endpoint) to this file")
    add_output_options(parser)
    parser.set_defaults(handler=_analyze)


def _analyze(args: argparse.Namespace, config: Config) -> Outcome:
    return analyze_logs(
        args.sources,
        config=config,
        profile=args.profile,
        source_format=args.source_format,
        mapping=parse_mapping(args.mapping),
        endpoint=args.endpoint,
        since=parse_user_time(args.since, "--since") if args.since else None,
        until=parse_user_time(args.until, "--until") if args.until else None,
        table=args.table,
        query=args.query,
        naive_is_utc=args.naive_utc,
        strict=args.strict,
        engine=args.engine,
        view=args.view,
        details=args.details,
        spark_master=args.spark_master,
    )
