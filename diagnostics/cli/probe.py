"""`probe`: check an endpoint the way our sender delivers to it, or sweep many endpoints.

    python -m diagnostics probe URL [--profile NAME] [--timeout S] [--samples N]
                                    [--scheme NAME --secret S|-] [--allow CIDR_OR_HOST ...]
    python -m diagnostics probe --urls-file FILE [--concurrency N] [--format csv|json|...]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import ssl
import sys
from typing import TextIO

import certifi

from diagnostics.cli._common import add_output_options, emit, read_text_file, write_output
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.neutralize import csv_cell
from diagnostics.pipeline.probe import SweepRow, probe_endpoint, probe_many, sweep_outcome
from diagnostics.profiles import SenderProfile

MAX_URLS_FILE_BYTES = 10 * 1024 * 1024
SWEEP_COLUMNS = ("url", "verdict", "status_code", "error", "total_ms", "ttfb_ms", "codes", "headline")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help=COMMANDS["probe"].help,
        description="Send realistic test events to an endpoint and explain, stage by stage, where delivery breaks.",
    )
    parser.add_argument("url", nargs="?", help="the endpoint URL")
    parser.add_argument("--urls-file", metavar="FILE", help="probe every URL in FILE (one per line; # comments)")
    parser.add_argument("--concurrency", type=int, default=50, help="parallel probes with --urls-file (default 50)")
    parser.add_argument("--profile", help="sender profile: ours (default), svix, stripe, github, shopify, ...")
    parser.add_argument("--timeout", type=float, help="override the profile's timeout, in seconds")
    parser.add_argument("--samples", type=int, help="test events per endpoint (default 3; 1 with --urls-file)")
    parser.add_argument("--scheme", help="signature scheme (default: the profile's)")
    parser.add_argument("--secret", help="signing secret, or - to read it from stdin; enables enforcement tests")
    parser.add_argument(
        "--allow", action="append", default=[], metavar="CIDR_OR_HOST",
        help="allow a non-public address or host (the sandbox, tests); repeatable",
    )
    parser.add_argument("--ca-file", metavar="PEM", help="also trust this CA (e.g. the sandbox's test CA)")
    add_output_options(parser, extra_formats=("csv",), format_help="output format (csv: sweeps)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> Outcome | int:
    if bool(args.url) == bool(args.urls_file):
        raise InputError("give either one URL or --urls-file FILE", field="url")
    profile = config.profile(args.profile)
    if args.timeout is not None:
        if not 0 < args.timeout <= 300:
            raise InputError("the timeout must be between 0 and 300 seconds", field="--timeout")
        profile = profile.with_timeout(args.timeout)
    ssl_context = _ssl_context(args.ca_file)
    if args.scheme and not args.secret:
        raise InputError("--scheme signs the test event and needs --secret (or --secret - for stdin)", field="--scheme")
    secret = _secret(args.secret)
    if args.urls_file:
        if secret:
            raise InputError("--secret is for a single endpoint, not a sweep", field="--secret")
        return _sweep(args, config, profile, ssl_context)
    if args.format == "csv":
        raise InputError("--format csv is for sweeps (--urls-file)", field="--format")
    progress = None if args.quiet else (lambda message: print(f"  {message}", file=sys.stderr))
    return probe_endpoint(
        args.url,
        config=config,
        profile=profile,
        samples=3 if args.samples is None else args.samples,
        scheme=args.scheme,
        secret=secret,
        allow=args.allow,
        progress=progress,
        ssl_context=ssl_context,
    )


def _secret(value: str | None) -> str | None:
    if value != "-":
        return value
    text = sys.stdin.readline().strip()
    if not text:
        raise InputError("no secret on stdin", field="--secret")
    return text


def _ssl_context(ca_file: str | None) -> ssl.SSLContext | None:
    """The default trust store plus an extra CA (the sandbox's), when asked for."""
    if not ca_file:
        return None
    pem = read_text_file(ca_file, "CA file", max_bytes=1024 * 1024)
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(certifi.where())
        context.load_verify_locations(cadata=pem.decode("ascii"))  # the bytes read, not the path again
    except UnicodeDecodeError:
        raise InputError("not a PEM certificate (PEM is ASCII text)", file=ca_file) from None
    except ssl.SSLError as exc:
        raise InputError(f"not a PEM certificate: {exc}", file=ca_file) from exc
    return context


def read_urls(path: str) -> list[str]:
    """URLs from a file, one per line; blank lines and # comments skipped."""
    raw = read_text_file(path, "URLs file", max_bytes=MAX_URLS_FILE_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=path) from exc
    urls = [line.strip() for line in text.splitlines()]
    urls = [u for u in urls if u and not u.startswith("#")]
    if not urls:
        raise InputError("the file lists no URLs", file=path)
    return urls


def _sweep(
    args: argparse.Namespace, config: Config, profile: SenderProfile, ssl_context: ssl.SSLContext | None
) -> Outcome | int:
    urls = read_urls(args.urls_file)
    bar = None if args.quiet else ProgressBar(sys.stderr)
    rows = probe_many(
        urls,
        config=config,
        profile=profile,
        samples=1 if args.samples is None else args.samples,
        concurrency=args.concurrency,
        allow=args.allow,
        progress=bar.update if bar else None,
        ssl_context=ssl_context,
    )
    if bar:
        bar.finish()
    if args.format == "csv":
        write_output(rows_to_csv(rows), args.output)
        return sweep_exit_code(rows)
    if args.format == "json":
        write_output(json.dumps({"endpoints": [r.to_dict() for r in rows]}, indent=2) + "\n", args.output)
        return sweep_exit_code(rows)
    outcome = sweep_outcome(rows, profile)
    return emit(outcome, args)


def rows_to_csv(rows: list[SweepRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SWEEP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else csv_cell(v)) for k, v in row.to_dict().items()})
    return buffer.getvalue()


def sweep_exit_code(rows: list[SweepRow]) -> int:
    """1 when any endpoint of a CSV or JSON sweep is failing, like an Outcome with a failure."""
    return 1 if any(r.verdict == "failing" for r in rows) else 0


class ProgressBar:
    """A one-line progress bar on stderr (a line every 10% when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last_decile = -1

    def update(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if self.tty:
            filled = int(fraction * self.width)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}")
            self.stream.flush()
            return
        decile = int(fraction * 10)
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(f"probed {done}/{total} ({fraction:.0%})\n")

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
