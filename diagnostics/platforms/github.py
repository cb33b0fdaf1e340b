"""Pull a webhook's deliveries from GitHub's REST API with plain httpx, through the SSRF guard.

`GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries` (or `/orgs/{org}/hooks/...`) answers
`hook-delivery-item`s, newest first, `per_page` at most 100, the next page given by the `Link`
header's `rel="next"` URL (cursor pagination). A next URL on another origin than the API's is
refused: following it would send the token elsewhere. The API has no time filter, so `since`
stops the walk at the first older delivery and `until` skips newer ones. GitHub's secondary rate
limit (403 or 429 with Retry-After) is waited out. The file is a JSON array of the items, each
with the `hook_id` it belongs to (the list does not name it and the importer names the endpoint
from it), as `gh api --paginate` would give. The token lives only in the request headers.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from diagnostics.errors import InputError
from diagnostics.logs.timestamps import parse_timestamp
from diagnostics.net.guard import AddressPolicy, BlockedDestination
from diagnostics.platforms.common import (
    Progress,
    PullResult,
    Sleep,
    atomic_output,
    check_pull_options,
    guarded_http,
    network_error,
    parse_json,
)
from diagnostics.platforms.github_app import load_app_credentials

DEFAULT_BASE_URL = "https://api.github.com"  # GitHub Enterprise Server: https://HOST/api/v3
PER_PAGE = 100  # the API's maximum
API_VERSION = "2022-11-28"
_NAME = re.compile(r"^(?!\.+$)[A-Za-z0-9_.-]+$")  # GitHub's login/repository characters, never only dots


APP_HOOK_PATH = "/app/hook/deliveries"  # a GitHub App's own webhook (its JWT, not a user token)


def scope_path(*, repo: str | None, org: str | None, hook_id: str | None, app: bool = False) -> str:
    """The deliveries path of a repository, organization or app hook; bad names are refused here."""
    if app:
        if repo or org:
            raise InputError("an app hook has no --repo or --org: give --app-id and --private-key alone",
                             field="--app-id")
        return APP_HOOK_PATH
    if not str(hook_id or "").isdigit():
        raise InputError(f"--hook must be the hook's numeric id, not {str(hook_id)[:40]!r}", field="--hook")
    if bool(repo) == bool(org):
        raise InputError("give either --repo OWNER/NAME or --org ORG (or --app-id and --private-key for a GitHub "
                         "App's hook)", field="--repo")
    if repo:
        owner, _, name = repo.partition("/")
        if not (_NAME.match(owner) and _NAME.match(name)):
            raise InputError(f"--repo must be OWNER/NAME, not {repo[:80]!r}", field="--repo")
        return f"/repos/{owner}/{name}/hooks/{hook_id}/deliveries"
    if not _NAME.match(org or ""):
        raise InputError(f"--org must be an organization login, not {str(org)[:80]!r}", field="--org")
    return f"/orgs/{org}/hooks/{hook_id}/deliveries"


def pull_to_file(
    *,
    output: str,
    policy: AddressPolicy,
    token: str = "",
    hook_id: str | None = None,
    repo: str | None = None,
    org: str | None = None,
    app_id: str | None = None,
    private_key: str | None = None,
    private_key_pem: bytes | None = None,
    base_url: str = DEFAULT_BASE_URL,
    since: datetime | None = None,
    until: datetime | None = None,
    max_attempts: int | None = None,
    page_size: int = PER_PAGE,
    progress: Progress | None = None,
    sleep: Sleep = asyncio.sleep,
) -> PullResult:
    """Pull a hook's deliveries into `output`; nothing is left behind on an error.

    A repository or organization hook takes a token; a GitHub App's own hook takes the app's id
    and private key (`github_app`: a JWT signed per request batch, renewed before it expires).
    """
    if app_id or private_key or private_key_pem:
        if not (app_id and (private_key or private_key_pem)):
            raise InputError("a GitHub App's hook needs both --app-id and --private-key", field="--app-id")
        if max_attempts is not None and max_attempts < 1:
            raise InputError("--max-attempts must be at least 1", field="--max-attempts")
        credentials = load_app_credentials(app_id, private_key, key_pem=private_key_pem)
        authorization, endpoint = credentials.bearer, f"app-{credentials.app_id}"
        path = scope_path(repo=repo, org=org, hook_id=None, app=True)
    else:
        fixed = check_pull_options("GitHub", token, max_attempts)
        path = scope_path(repo=repo, org=org, hook_id=hook_id)
        authorization, endpoint = (lambda: fixed), int(str(hook_id))
    base = base_url.rstrip("/")
    with atomic_output(output) as fh:
        result = asyncio.run(_pull(fh, authorization, f"{base}{path}?per_page={page_size}", endpoint, policy,
                                   base, since, until, max_attempts, progress, sleep))
    result.path = output
    return result


def api_headers(bearer: str) -> dict[str, str]:
    """The headers of every GitHub API call."""
    return {"Authorization": f"Bearer {bearer}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION, "User-Agent": "webhook-doctor"}


async def _pull(fh: IO[str], authorization: Callable[[], str], url: str, hook_id: int | str, policy: AddressPolicy,
                base_url: str, since: datetime | None, until: datetime | None, max_attempts: int | None,
                progress: Progress | None, sleep: Sleep) -> PullResult:
    http, transport = guarded_http(policy, sleep=sleep, retry_forbidden=True)
    result = PullResult(path="")
    fh.write("[\n")
    next_url: str | None = url
    async with http:
        while next_url:
            items, next_url = await _page(http, next_url, api_headers(authorization()), base_url)
            result.pages += 1
            older = False
            for item in items:
                at = _delivered_at(item)
                if since and at is not None and at < since:
                    older = True  # newest first: everything after this is older still
                    break
                if until and at is not None and at >= until:
                    continue
                if max_attempts is not None and result.attempts >= max_attempts:
                    break
                fh.write((",\n" if result.attempts else "") + json.dumps({**item, "hook_id": hook_id}))
                result.attempts += 1
            if progress:
                progress(result.pages, result.attempts)
            if older:
                next_url = None
            elif max_attempts is not None and result.attempts >= max_attempts:
                break
    result.done = next_url is None
    result.next_cursor = next_url
    result.waits = list(transport.waits)
    fh.write("\n]\n")
    return result


def _delivered_at(item: dict[str, Any]) -> datetime | None:
    try:
        return parse_timestamp(str(item.get("delivered_at")))
    except ValueError:
        return None  # the importer reports it with its line


async def _page(http: httpx.AsyncClient, url: str, headers: dict[str, str],
                base_url: str) -> tuple[list[dict[str, Any]], str | None]:
    """One page and the next page's URL, every failure in one line."""
    try:
        response = await http.get(url, headers=headers)
    except (BlockedDestination, httpx.RequestError) as exc:
        raise network_error("GitHub", base_url, exc) from None
    if response.status_code != 200:
        raise _http_error(response)
    try:
        items = parse_json(response.content)
    except ValueError:
        raise InputError(f"{base_url} answered with not JSON: is --base-url the GitHub API "
                         "(https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server)?",
                         field="--base-url") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(f"{base_url} answered with JSON that is not a list of hook deliveries", field="--base-url")
    next_url = response.links.get("next", {}).get("url")
    if next_url and _origin(next_url) != _origin(base_url):
        raise InputError(f"GitHub's next page is on another host ({urlsplit(next_url).netloc[:80]}); refused so the "
                         "token is not sent there", field="--base-url")
    return items, next_url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _http_error(response: httpx.Response) -> InputError:
    try:
        message = str(response.json().get("message", ""))[:200]
    except (ValueError, AttributeError):
        message = ""
    status = response.status_code
    if status == 401:
        return InputError(f"GitHub refused the token (401 {message or 'Bad credentials'}): it is expired or revoked; "
                          "create one with read access to the hook (admin:repo_hook or admin:org_hook) and pass it "
                          "with --token -", field="--token")
    if status in (403, 429) and response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        when = f"{datetime.fromtimestamp(int(reset), UTC):%Y-%m-%d %H:%M} UTC" if reset.isdigit() else "later"
        return InputError(f"GitHub's API rate limit for this token is used up until {when}; try again then")
    if status == 403:
        return InputError(f"GitHub refused access (403 {message}): the token cannot read this hook's deliveries",
                          field="--token")
    if status == 404:
        return InputError(f"GitHub has no such hook that this token can see (404 {message or 'Not Found'}); check "
                          "--repo/--org and --hook, and the token's access", field="--hook")
    return InputError(f"GitHub answered {status}: {message}")
