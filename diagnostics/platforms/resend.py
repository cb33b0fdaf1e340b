"""Resending events through the platform's own API (`redeliver --via`), so the resend shows in the
platform's dashboard and is signed with the customer's real secret by the platform itself.

One `Resender` per platform, listed in RESENDERS. Each knows the scope it needs (its flags), how
to check the token and the scope with one read before anything is sent (`check`), which id of an
event its resend call takes (`id_key`: a key of the canonical `native_ids` column, or the event
id itself), and the call (`resend`), taken from the platform's description:

- Svix: `POST /api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend` (202) through the
  official SDK, with an idempotency key per plan and message, so a rerun after a kill that resends
  an event already in flight is deduplicated by Svix itself.
- GitHub: `POST {hook}/deliveries/{delivery_id}/attempts` (202) with the numeric delivery id.
- Hookdeck: `POST /events/{id}/retry` (200).
- Convoy: `PUT /v1/projects/{projectID}/eventdeliveries/{eventDeliveryID}/resend` (200).

With `--bulk`, one call covers many events (`Resender.bulk`, `bulk_size` ids a call): Svix
`POST .../endpoint/{endpoint_id}/recover` (every failed message in the window of the selected
events' first attempts, so it can cover events the selection left out: the report counts them),
Hookdeck `POST /bulk/events/retry` with `query.id`, Convoy `POST .../eventdeliveries/forceresend`
with `ids`. GitHub has no bulk call.

Every call goes through the SSRF guard (`common.guarded_http`, 429 + Retry-After waited out);
the token lives in request headers only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from diagnostics.errors import InputError
from diagnostics.net.guard import BlockedDestination
from diagnostics.platforms import convoy, github, svix
from diagnostics.platforms.common import check_path_id, network_error, no_answer, parse_json

Auth = Callable[[], str]
"""The bearer token of the next call: a fixed API token, or a GitHub App's JWT renewed before it expires."""


@dataclass(frozen=True)
class Batch:
    """What one bulk call covers: the platform's ids, and the window of the events' first attempts."""

    ids: tuple[str, ...]
    since: datetime
    until: datetime


@dataclass(frozen=True)
class Answer:
    """What the platform said to one resend call: its status, or why there was none."""

    status_code: int | None
    error: str | None = None


@dataclass(frozen=True)
class Resender:
    """How one platform resends one event."""

    platform: str
    label: str
    id_key: str  # the native id its call takes ("event_id": the event id as logged)
    scope_flags: tuple[str, ...]  # the command-line flags of its scope, for the help and messages
    describe: Callable[[Mapping[str, str]], str]  # the scope in words (the ledger's `url`)
    check: Callable[[httpx.AsyncClient, str, Auth, Mapping[str, str]], Any]  # async: token and scope, or InputError
    resend: Callable[[httpx.AsyncClient, str, Auth, Mapping[str, str], str, str], Any]  # async -> Answer
    bulk: Callable[[httpx.AsyncClient, str, Auth, Mapping[str, str], Batch, str], Any] | None = None  # -> Answer
    bulk_call: str = ""  # the bulk call in words, for the report
    bulk_size: int = 100  # ids per bulk call
    bulk_by_window: bool = False  # the bulk call resends every failed event of a window, not the ids alone
    scope_from_log: tuple[tuple[str, str], ...] = ()  # (scope key, native id key): a scope the log can name


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "webhook-doctor",
            **extra}


async def _read_scope(http: httpx.AsyncClient, url: str, headers: dict[str, str], platform: str, base_url: str,
                      what: str, fix: str, field: str) -> None:
    """One GET of the scope's own object: a 200, or one line saying what is wrong (token, scope)."""
    try:
        response = await http.get(url, headers=headers)
    except (BlockedDestination, httpx.RequestError) as exc:
        raise network_error(platform, base_url, exc) from None
    status = response.status_code
    if status == 200:
        try:
            parse_json(response.content)
        except ValueError:  # a dashboard or a proxy's login page: resends there would "succeed" unseen
            raise InputError(f"{base_url} answered with not JSON: is --base-url the {platform} API?",
                             field="--base-url") from None
        return
    if status in (401, 403):
        raise InputError(f"{platform} refused the token ({status}): it is expired, revoked or cannot resend; "
                         "pass a token that may retry deliveries with --token -", field="--token")
    if status == 404:
        raise InputError(f"{platform} has no {what} (404); {fix}", field=field)
    raise InputError(f"{platform} answered {status} checking {what}")


async def _answer(http: httpx.AsyncClient, method: str, url: str, headers: dict[str, str],
                  body: Any = None) -> Answer:
    """One resend call; a refused or failed connection is an answer without status, like a send's."""
    try:
        response = await http.request(method, url, headers=headers, json=body)
    except (BlockedDestination, httpx.HTTPError) as exc:
        return Answer(None, no_answer(exc))
    return Answer(response.status_code)


# Svix ---------------------------------------------------------------------------------------------

def _svix_client(http: httpx.AsyncClient, base_url: str, token: str) -> tuple[Any, Any]:
    from svix.api.client import AuthenticatedClient
    from svix.api.endpoint import EndpointAsync
    from svix.api.message_attempt import MessageAttemptAsync

    client = AuthenticatedClient(base_url=base_url, token=token, retry_schedule=svix.SDK_RETRY_SCHEDULE,
                                 timeout=svix.TIMEOUT_S, follow_redirects=False, raise_on_unexpected_status=True,
                                 headers={"user-agent": "webhook-doctor"})
    return EndpointAsync(client, http), MessageAttemptAsync(client, http)


async def _svix_check(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str]) -> None:
    from svix.exceptions import HttpError

    endpoints, _ = _svix_client(http, base_url, auth())
    try:
        await endpoints.get(scope["app"], scope["endpoint"])
    except HttpError as exc:
        if exc.status_code in (401, 403):
            raise InputError(f"Svix refused the API token ({exc.status_code}): it is expired, revoked or for another "
                             "environment; pass one from the Svix dashboard (API Access) with --token -",
                             field="--token") from None
        if exc.status_code == 404:
            raise InputError(f"Svix has no app {scope['app']!r} with endpoint {scope['endpoint']!r} (404); copy both "
                             "ids from the Svix dashboard", field="--app") from None
        raise InputError(f"Svix answered {exc.status_code} checking the endpoint") from None
    except (BlockedDestination, httpx.RequestError) as exc:
        raise network_error("Svix", base_url, exc) from None
    except ValueError:
        raise InputError(f"{base_url} answered with something that is not the Svix API: check --base-url",
                         field="--base-url") from None


async def _svix_answer(call: Awaitable[Any]) -> Answer:
    """An SDK call's outcome as an Answer: 202 when it returns, the status of its HttpError, or why none came."""
    from svix.exceptions import HttpError

    try:
        await call
    except HttpError as exc:
        return Answer(exc.status_code)
    except (BlockedDestination, httpx.HTTPError) as exc:
        return Answer(None, no_answer(exc))
    return Answer(202)


async def _svix_resend(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str],
                       native_id: str, idempotency_key: str) -> Answer:
    from svix.api.message_attempt import MessageAttemptResendOptions

    _, attempts = _svix_client(http, base_url, auth())
    return await _svix_answer(attempts.resend(scope["app"], native_id, scope["endpoint"],
                                              MessageAttemptResendOptions(idempotency_key=idempotency_key)))


async def _svix_recover(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str], batch: Batch,
                        idempotency_key: str) -> Answer:
    """`POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/recover` (202): every failed message of the window."""
    from svix.api.endpoint import EndpointRecoverOptions
    from svix.models import RecoverIn

    endpoints, _ = _svix_client(http, base_url, auth())
    return await _svix_answer(endpoints.recover(scope["app"], scope["endpoint"],
                                                RecoverIn(since=batch.since, until=batch.until),
                                                EndpointRecoverOptions(idempotency_key=idempotency_key)))


# GitHub -------------------------------------------------------------------------------------------

def _github_hook_id(scope: Mapping[str, str]) -> str:
    """--hook, else the plan's endpoint (a pulled export names the hook by its numeric id)."""
    return scope.get("hook") or scope["endpoint"]


def _github_hook(base_url: str, scope: Mapping[str, str]) -> str:
    """The hook's API path: a repository's or organization's hook, or a GitHub App's own (`app_id`)."""
    deliveries = github.scope_path(repo=scope.get("repo"), org=scope.get("org"), hook_id=_github_hook_id(scope),
                                   app=bool(scope.get("app_id")))
    return base_url.rstrip("/") + deliveries.removesuffix("/deliveries")


async def _github_check(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str]) -> None:
    hook = _github_hook(base_url, scope)
    await _read_scope(http, f"{hook}/config" if scope.get("app_id") else hook, github.api_headers(auth()), "GitHub",
                      base_url,
                      f"hook {_github_hook_id(scope)} that this token can see",
                      "check --repo/--org and --hook, and the token's access", "--hook")


async def _github_resend(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str],
                         native_id: str, idempotency_key: str) -> Answer:
    url = f"{_github_hook(base_url, scope)}/deliveries/{int(native_id)}/attempts"
    return await _answer(http, "POST", url, github.api_headers(auth()))


# Hookdeck -----------------------------------------------------------------------------------------

async def _hookdeck_check(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str]) -> None:
    url = f"{base_url.rstrip('/')}/destinations/{check_path_id(scope['endpoint'], '--endpoint')}"
    await _read_scope(http, url, _bearer(auth()), "Hookdeck", base_url, f"destination {scope['endpoint']!r} in this "
                      "project", "the plan's endpoint must be a Hookdeck destination id (des_...)", "--endpoint")


async def _hookdeck_resend(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str],
                           native_id: str, idempotency_key: str) -> Answer:
    url = f"{base_url.rstrip('/')}/events/{check_path_id(native_id, 'event id')}/retry"
    return await _answer(http, "POST", url, _bearer(auth()))


async def _hookdeck_bulk_retry(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str],
                               batch: Batch, idempotency_key: str) -> Answer:
    """`POST /bulk/events/retry` (200, a BatchOperation) with `query.id` the events."""
    ids = [check_path_id(i, "event id") for i in batch.ids]
    return await _answer(http, "POST", f"{base_url.rstrip('/')}/bulk/events/retry", _bearer(auth()),
                         {"query": {"id": ids}})


# Convoy -------------------------------------------------------------------------------------------

def _convoy_project(base_url: str, scope: Mapping[str, str]) -> str:
    return f"{base_url.rstrip('/')}/v1/projects/{convoy.check_id(scope.get('project'), '--project')}"


async def _convoy_check(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str]) -> None:
    url = f"{_convoy_project(base_url, scope)}/endpoints/{convoy.check_id(scope['endpoint'], '--endpoint')}"
    await _read_scope(http, url, _bearer(auth()), "Convoy", base_url,
                      f"endpoint {scope['endpoint']!r} in project {scope.get('project')!r}",
                      "check --project and the plan's endpoint", "--project")


async def _convoy_resend(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str],
                         native_id: str, idempotency_key: str) -> Answer:
    url = f"{_convoy_project(base_url, scope)}/eventdeliveries/{check_path_id(native_id, 'event delivery id')}/resend"
    return await _answer(http, "PUT", url, _bearer(auth()))


async def _convoy_force_resend(http: httpx.AsyncClient, base_url: str, auth: Auth, scope: Mapping[str, str],
                               batch: Batch, idempotency_key: str) -> Answer:
    """`POST /v1/projects/{projectID}/eventdeliveries/forceresend` (200) with `ids` the event deliveries."""
    ids = [check_path_id(i, "event delivery id") for i in batch.ids]
    return await _answer(http, "POST", f"{_convoy_project(base_url, scope)}/eventdeliveries/forceresend",
                         _bearer(auth()), {"ids": ids})


RESENDERS: dict[str, Resender] = {
    "svix": Resender("svix", "Svix", "event_id", ("--app",),
                     lambda s: f"svix:app/{s['app']}/endpoint/{s['endpoint']}", _svix_check, _svix_resend,
                     _svix_recover, "recover (every failed message of the window)", 10**9, True),
    "github": Resender("github", "GitHub", "delivery_id", ("--repo", "--org", "--app-id"),
                       lambda s: f"github:app/{s['app_id']}/hook" if s.get("app_id") else
                       f"github:{'repos/' + s['repo'] if s.get('repo') else 'orgs/' + s.get('org', '')}"
                       f"/hooks/{_github_hook_id(s)}", _github_check, _github_resend),
    "hookdeck": Resender("hookdeck", "Hookdeck", "event_id", (),
                         lambda s: f"hookdeck:destination/{s['endpoint']}", _hookdeck_check, _hookdeck_resend,
                         _hookdeck_bulk_retry, "bulk retry", 100),
    "convoy": Resender("convoy", "Convoy", "event_delivery_id", ("--project",),
                       lambda s: f"convoy:project/{s.get('project')}/endpoint/{s['endpoint']}", _convoy_check,
                       _convoy_resend, _convoy_force_resend, "force resend of the event deliveries", 100,
                       scope_from_log=(("project", "project_id"),)),
}
"""The platforms `redeliver --via` can resend through. New platform: a Resender here, a loopback
server answering its resend call, and a test in tests/platforms/test_resend.py."""
