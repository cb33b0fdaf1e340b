"""`pull`: fetch delivery attempts straight from a platform's API into a file `analyze` reads."""

from __future__ import annotations

import argparse
import sys

from diagnostics.cli._common import read_token
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.logs.timestamps import parse_user_time
from diagnostics.platforms import CONNECTORS
from diagnostics.platforms.common import PullResult
from diagnostics.platforms.convoy import DEFAULT_BASE_URL as CONVOY_BASE_URL
from diagnostics.platforms.github import DEFAULT_BASE_URL as GITHUB_BASE_URL
from diagnostics.platforms.hookdeck import DEFAULT_BASE_URL as HOOKDECK_BASE_URL
from diagnostics.platforms.settings import api_base_url, api_policy
from diagnostics.platforms.svix import DEFAULT_BASE_URL as SVIX_BASE_URL


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pull",
        help=COMMANDS["pull"].help,
        description="Fetch an endpoint's delivery attempts through the platform's own API, following its "
        "pagination, and write them in the platform's list shape (analyze and replay-plan read it).",
    )
    platforms = parser.add_subparsers(dest="platform", metavar="PLATFORM")
    platforms.required = True
    svix = platforms.add_parser("svix", help="Svix: the attempts of one endpoint of one app")
    svix.add_argument("--app", required=True, help="Svix app id (app_...) or uid")
    svix.add_argument("--endpoint", required=True, help="Svix endpoint id (ep_...) or uid")
    svix.add_argument("--base-url",
                      help=f"Svix API base URL (default: [platforms.svix] base_url, else {SVIX_BASE_URL}; a regional "
                      "or self-hosted server)")
    _common(svix)
    svix.set_defaults(handler=_pull_svix)
    github = platforms.add_parser("github", help="GitHub: the deliveries of one repository, organization or "
                                  "GitHub App webhook")
    scope = github.add_mutually_exclusive_group(required=True)
    scope.add_argument("--repo", help="OWNER/NAME of the repository whose webhook it is")
    scope.add_argument("--org", help="organization login, for an organization webhook")
    scope.add_argument("--app-id", help="a GitHub App's id or client id, for the app's own webhook (with "
                       "--private-key; no --token)")
    github.add_argument("--hook", help="the webhook's numeric id (Settings > Webhooks, in its URL); not for an app")
    github.add_argument("--private-key", metavar="APP.pem", help="the GitHub App's private key file (read for "
                        "this run, never stored)")
    github.add_argument("--base-url",
                        help=f"GitHub API base URL (default: [platforms.github] base_url, else "
                        f"{GITHUB_BASE_URL}; GitHub Enterprise Server: https://HOST/api/v3)")
    _common(github, token_required=False)
    github.set_defaults(handler=_pull_github)
    hookdeck = platforms.add_parser("hookdeck", help="Hookdeck: the attempts of one connection or destination")
    target = hookdeck.add_mutually_exclusive_group(required=True)
    target.add_argument("--connection", help="Hookdeck connection id (web_...)")
    target.add_argument("--destination", help="Hookdeck destination id (des_...)")
    hookdeck.add_argument("--base-url",
                          help="Hookdeck API base URL with its version (default: [platforms.hookdeck] base_url, else "
                          f"{HOOKDECK_BASE_URL})")
    _common(hookdeck)
    hookdeck.set_defaults(handler=_pull_hookdeck)
    convoy = platforms.add_parser("convoy", help="Convoy: the delivery attempts to one endpoint of one project")
    convoy.add_argument("--project", required=True, help="Convoy project id")
    convoy.add_argument("--endpoint", required=True, help="Convoy endpoint id")
    convoy.add_argument("--base-url",
                        help=f"Convoy API root (default: [platforms.convoy] base_url, else Convoy Cloud US, "
                        f"{CONVOY_BASE_URL}; EU: "
                        "https://eu.getconvoy.cloud/api; self-hosted: https://HOST/api)")
    _common(convoy)
    convoy.set_defaults(handler=_pull_convoy)


def _common(parser: argparse.ArgumentParser, token_required: bool = True) -> None:
    parser.add_argument("--token", required=token_required, metavar="-",
                        help="'-': read the API token from standard input (never from the command line)")
    parser.add_argument("--since", help="only attempts at or after this time (ISO 8601 or epoch)")
    parser.add_argument("--until", help="only attempts before this time (ISO 8601 or epoch)")
    parser.add_argument("--max-attempts", type=int, help="stop after this many attempts (the file says it is partial)")
    parser.add_argument("--output", required=True, metavar="FILE.json", help="where to write the attempts")


def _progress(pages: int, attempts: int) -> None:
    print(f"\rpage {pages}: {attempts:,} attempts", end="", file=sys.stderr, flush=True)


def _summary(result: PullResult) -> int:
    print(file=sys.stderr)
    state = "complete" if result.done else f"partial: resume from {result.next_cursor}"
    print(f"pulled {result.attempts:,} attempts in {result.pages} page(s) to {result.path} ({state})")
    return 0


def _api(args: argparse.Namespace, config: Config) -> dict[str, object]:
    """The API's base URL (flag, [platforms.<name>], public default) and the guard's policy for it."""
    return {"base_url": api_base_url(config, args.platform, args.base_url), "policy": api_policy(config)}


def _window(args: argparse.Namespace) -> dict[str, object]:
    return {
        "since": parse_user_time(args.since, "--since") if args.since else None,
        "until": parse_user_time(args.until, "--until") if args.until else None,
        "max_attempts": args.max_attempts,
    }


def _pull_svix(args: argparse.Namespace, config: Config) -> int:
    return _summary(CONNECTORS["svix"](
        token=read_token(args.token), app_id=args.app, endpoint_id=args.endpoint, output=args.output,
        progress=_progress, **_api(args, config), **_window(args),
    ))


def _pull_github(args: argparse.Namespace, config: Config) -> int:
    return _summary(CONNECTORS["github"](
        token=read_token(args.token) if args.token is not None else "", repo=args.repo, org=args.org,
        hook_id=args.hook, app_id=args.app_id, private_key=args.private_key, output=args.output,
        progress=_progress, **_api(args, config), **_window(args),
    ))


def _pull_hookdeck(args: argparse.Namespace, config: Config) -> int:
    return _summary(CONNECTORS["hookdeck"](
        token=read_token(args.token), connection_id=args.connection, destination_id=args.destination,
        output=args.output, progress=_progress, **_api(args, config),
        **_window(args),
    ))


def _pull_convoy(args: argparse.Namespace, config: Config) -> int:
    return _summary(CONNECTORS["convoy"](
        token=read_token(args.token), project_id=args.project, endpoint_id=args.endpoint, output=args.output,
        progress=_progress, **_api(args, config), **_window(args),
    ))
