"""`replay-plan` (what the customer missed at one endpoint, how safe each resend is),
`reconcile` (our log against the customer's own records) and `redeliver` (resend a plan)."""

from __future__ import annotations

import argparse
import sys

from diagnostics.cli._common import add_output_options, read_token
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.logs import parse_mapping
from diagnostics.logs.detect import FORMATS
from diagnostics.logs.timestamps import parse_user_time
from diagnostics.recovery.categories import CATEGORIES, SAFE_BY_DEFAULT, parse_categories
from diagnostics.recovery.exports import EXPORT_FORMATS
from diagnostics.recovery.received import ID_COLUMNS
from diagnostics.recovery.redeliver import RedeliverRun, redeliver
from diagnostics.recovery.redeliver_report import run_outcome
from diagnostics.recovery.run import reconcile_received, replay_plan

VIA_PLATFORMS = ("convoy", "github", "hookdeck", "svix")
"""`platforms.resend.RESENDERS`'s names, spelled here so `replay-plan` and `reconcile` do not import
the connectors and the Svix SDK (0.4 s) to build their parser; a test keeps the two equal."""


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="*", metavar="LOG",
                        help="delivery-log files or database URLs (default: [logs] url of diagnostics.toml)")
    parser.add_argument("--endpoint", required=True, help="the endpoint (id, or URL when the log has no id)")
    parser.add_argument("--since", help="events first sent at or after this time (ISO 8601 or epoch)")
    parser.add_argument("--until", help="events first sent before this time (ISO 8601 or epoch)")
    parser.add_argument("--profile", help="sender profile whose retry schedule and disable rule apply (default: ours)")
    parser.add_argument("--source-format", choices=FORMATS, default="auto", help="file format (default: auto)")
    parser.add_argument("--map", dest="mapping", metavar="CANONICAL=SOURCE,...", help="column mapping")
    parser.add_argument("--table", help="table to read from a database URL (default: [logs] table)")
    parser.add_argument("--query", help="SELECT to read from a database URL instead of a table")
    parser.add_argument("--naive-utc", action="store_true", help="read timestamps without offset as UTC")
    parser.add_argument("--strict", action="store_true", help="fail when any row cannot be imported")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay-plan",
        help=COMMANDS["replay-plan"].help,
        description="Every event first sent to the endpoint in the window without a 2xx, classified as "
        "never_reached (safe to resend), ambiguous (resend only with dedupe), rejected (resend after their fix) "
        "or pending (still being retried), with the retry-budget countdown and the auto-disable projection.",
    )
    _add_source_options(parser)
    parser.add_argument("--export", nargs=2, action="append", default=[], metavar=("FORMAT", "FILE"),
                        help=f"also write the selected events as {', '.join(EXPORT_FORMATS)} (repeatable)")
    parser.add_argument("--categories", metavar="CATEGORY,...",
                        help=f"categories written by --export (default: {','.join(SAFE_BY_DEFAULT)}; "
                        f"known: {', '.join(CATEGORIES)}, all)")
    parser.add_argument("--from-reconciliation", metavar="RECONCILIATION.json",
                        help="plan only the events a reconciliation (reconcile --format json) found missed")
    add_output_options(parser)
    parser.set_defaults(handler=_replay_plan)

    reconcile = subparsers.add_parser(
        "reconcile",
        help=COMMANDS["reconcile"].help,
        description="Every event of the window as missed, delivered_not_recorded, processed_but_failed_here, "
        "duplicated or unknown_to_us, from the customer's list of ids, CSV or JSON Lines with an id column, or a "
        "pasted application log.",
    )
    _add_source_options(reconcile)
    reconcile.add_argument("--received", required=True, metavar="FILE",
                           help="the customer's records: ids one per line, CSV/JSON Lines with an id column "
                           f"({', '.join(ID_COLUMNS)}), or an application log")
    reconcile.add_argument("--id-column", help="the column or field holding the event id in --received")
    add_output_options(reconcile)
    reconcile.set_defaults(handler=_reconcile)

    resend = subparsers.add_parser(
        "redeliver",
        help=COMMANDS["redeliver"].help,
        description="Resend the events of a replay-plan JSON file (never_reached and rejected by default): directly "
        "to --to through the SSRF guard, signed with our scheme, each with its original id; or --via a platform's "
        "own resend call (Svix, GitHub, Hookdeck, Convoy), which signs with the customer's real secret and shows "
        "the resend in its dashboard. A rerun of the same plan skips events already answered 2xx (the ledger "
        "beside the plan).",
    )
    resend.add_argument("--plan", required=True, metavar="PLAN.json", help="replay-plan --format json output")
    where = resend.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="URL", help="where to send directly (the endpoint's URL)")
    where.add_argument("--via", choices=VIA_PLATFORMS, help="resend with this platform's own API instead")
    resend.add_argument("--token", metavar="-", help="with --via: '-' reads the platform's API token from stdin")
    resend.add_argument("--app", help="with --via svix: the Svix app id (the plan's endpoint is the Svix endpoint)")
    resend.add_argument("--repo", help="with --via github: OWNER/NAME of the repository whose hook the plan is for")
    resend.add_argument("--org", help="with --via github: the organization, for an organization hook")
    resend.add_argument("--hook", help="with --via github: the hook's numeric id (default: the plan's endpoint)")
    resend.add_argument("--app-id", help="with --via github: a GitHub App's id, to resend through the app's own hook "
                        "(with --private-key, no --token)")
    resend.add_argument("--private-key", metavar="APP.pem", help="with --app-id: the GitHub App's private key file")
    resend.add_argument("--project", help="with --via convoy: the Convoy project id (default: the one the log names)")
    resend.add_argument("--bulk", action="store_true", help="with --via: the platform's bulk call instead of one call "
                        "per event (Svix recover, Hookdeck bulk retry, Convoy force resend; GitHub has none)")
    resend.add_argument("--base-url", help="with --via: the platform's API base URL (default: [platforms.<name>] "
                        "base_url, else its public API)")
    resend.add_argument("--secret", action="append", default=[], metavar="S",
                        help="signing secret for this run only, never stored; '-' reads it from stdin")
    resend.add_argument("--rate", type=float, help="sends per second (default: from the endpoint's record, at most "
                        "[recovery] max_rate_per_second)")
    resend.add_argument("--concurrency", type=int, help="requests at a time (default: from the endpoint's latency)")
    resend.add_argument("--categories", metavar="CATEGORY,...",
                        help=f"categories to send (default: {','.join(SAFE_BY_DEFAULT)}; ambiguous and pending "
                        "risk duplicates or race the retry)")
    resend.add_argument("--allow", action="append", default=[], metavar="CIDR_OR_HOST",
                        help="allow a non-public address or host (the sandbox, tests); repeatable")
    resend.add_argument("--stop-after", type=int, help="stop after this many consecutive failures (default 10)")
    resend.add_argument("--endpoint", help="refuse the plan unless it is for this endpoint")
    resend.add_argument("--log", action="append", default=[], metavar="FILE_OR_URL",
                        help="delivery log to read payloads from (default: the plan's sources)")
    resend.add_argument("--dry-run", action="store_true", help="show what would be sent; send and store nothing")
    add_output_options(resend)
    resend.set_defaults(handler=_redeliver)


def _replay_plan(args: argparse.Namespace, config: Config) -> Outcome:
    return replay_plan(
        args.sources,
        endpoint=args.endpoint,
        config=config,
        profile=args.profile,
        exports=[(fmt, path) for fmt, path in args.export],
        export_categories=parse_categories(args.categories),
        from_reconciliation=args.from_reconciliation,
        **_window(args),
        **_source_options(args),
    )


def _window(args: argparse.Namespace) -> dict:
    return {
        "since": parse_user_time(args.since, "--since") if args.since else None,
        "until": parse_user_time(args.until, "--until") if args.until else None,
    }


def _source_options(args: argparse.Namespace) -> dict:
    return {"source_format": args.source_format, "mapping": parse_mapping(args.mapping), "table": args.table,
            "query": args.query, "naive_is_utc": args.naive_utc, "strict": args.strict}


def _reconcile(args: argparse.Namespace, config: Config) -> Outcome:
    return reconcile_received(args.sources, endpoint=args.endpoint, received=args.received, config=config,
                              profile=args.profile, id_column=args.id_column, **_window(args), **_source_options(args))


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _redeliver(args: argparse.Namespace, config: Config) -> Outcome:
    from diagnostics.cli.signatures import read_secrets

    progress = _progress_bar if sys.stderr.isatty() else None
    if args.via:
        return run_outcome(_redeliver_via(args, config, progress))
    secret = None if args.dry_run and not args.secret else read_secrets(args.secret)[0]
    run = redeliver(args.plan, args.to, config=config, secret=secret, rate=args.rate, concurrency=args.concurrency,
                    categories=parse_categories(args.categories), allow=args.allow, dry_run=args.dry_run,
                    stop_after=args.stop_after, endpoint=args.endpoint, log=args.log,
                    progress=progress)
    return run_outcome(run)


def _redeliver_via(args: argparse.Namespace, config: Config, progress: object) -> RedeliverRun:
    from diagnostics.recovery.redeliver_via import redeliver_via

    if args.secret:
        raise InputError("--via resends with the platform's own signature: give no --secret", field="--secret")
    token = None if args.token is None else read_token(args.token)
    return redeliver_via(args.plan, args.via, config=config, token=token, base_url=args.base_url,
                         scope={"app": args.app, "repo": args.repo, "org": args.org, "hook": args.hook,
                                "project": args.project, "app_id": args.app_id, "private_key": args.private_key},
                         rate=args.rate, concurrency=args.concurrency, categories=parse_categories(args.categories),
                         dry_run=args.dry_run, stop_after=args.stop_after, endpoint=args.endpoint, log=args.log,
                         allow=args.allow, bulk=args.bulk, progress=progress)  # type: ignore[arg-type]
