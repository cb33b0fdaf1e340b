"""Pull an endpoint's message attempts from Svix with the official SDK, through the SSRF guard.

`GET /api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}` (svix-openapi.json) pages with
`iterator` until a page says `done: true`. The SDK (`svix.api.message_attempt`) builds and
parses the calls; its HTTP client is ours: the guarded transport (`net.guard.build_transport`,
no redirects, no proxies from the environment) wrapped in `RetryAfterTransport` for 429s. The
pages are written as one Svix list response (`{"data": [...], "iterator", "done"}`), the shape
the Svix importer reads; a pull stopped by `max_attempts` says `done: false` with the iterator to
resume from, so the analysis flags it (`partial-export`). The token lives only in the request
headers: it is never written, logged or put in a message.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError
from svix.api.client import AuthenticatedClient
from svix.api.message_attempt import MessageAttemptAsync, MessageAttemptListByEndpointOptions
from svix.exceptions import HttpError

from diagnostics.errors import InputError
from diagnostics.net.guard import AddressPolicy, BlockedDestination
from diagnostics.platforms.common import (
    TIMEOUT_S,
    Progress,
    PullResult,
    Sleep,
    atomic_output,
    check_pull_options,
    guarded_http,
    network_error,
)

DEFAULT_BASE_URL = "https://api.svix.com"
PAGE_SIZE = 250  # the API's maximum `limit`
SDK_RETRY_SCHEDULE = [0.5, 1.0, 2.0]  # the SDK's own retries of 5xx answers


def pull_to_file(
    *,
    token: str,
    app_id: str,
    endpoint_id: str,
    output: str,
    policy: AddressPolicy,
    base_url: str = DEFAULT_BASE_URL,
    since: datetime | None = None,
    until: datetime | None = None,
    max_attempts: int | None = None,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    sleep: Sleep = asyncio.sleep,
) -> PullResult:
    """Pull every attempt of one endpoint into `output`; nothing is left behind on an error.

    Raises InputError (one line naming Svix and what to do) for a refused token, an unknown app
    or endpoint, an answer that is not the Svix API, an address the guard refuses, or no answer.
    """
    token = check_pull_options("Svix API", token, max_attempts)
    with atomic_output(output) as fh:
        result = asyncio.run(_pull(fh, token, app_id, endpoint_id, policy, base_url, since, until,
                                   max_attempts, page_size, progress, sleep))
    result.path = output
    return result


async def _pull(fh: Any, token: str, app_id: str, endpoint_id: str, policy: AddressPolicy, base_url: str,
                since: datetime | None, until: datetime | None, max_attempts: int | None, page_size: int,
                progress: Progress | None, sleep: Sleep) -> PullResult:
    http, transport = guarded_http(policy, sleep=sleep)
    sdk_client = AuthenticatedClient(base_url=base_url, token=token, retry_schedule=SDK_RETRY_SCHEDULE,
                                     timeout=TIMEOUT_S, follow_redirects=False, raise_on_unexpected_status=True,
                                     headers={"user-agent": "webhook-doctor"})
    result = PullResult(path="")
    fh.write('{"data": [\n')
    async with http:
        attempts = MessageAttemptAsync(sdk_client, http)
        iterator: str | None = None
        while True:
            options = MessageAttemptListByEndpointOptions(limit=page_size, iterator=iterator, after=since,
                                                          before=until, with_content=True, with_msg=True)
            page = await _page(attempts, app_id, endpoint_id, options, base_url)
            result.pages += 1
            room = None if max_attempts is None else max_attempts - result.attempts
            records = page.data if room is None else page.data[:room]
            for record in records:
                fh.write((",\n" if result.attempts else "") + record.model_dump_json(by_alias=True, exclude_none=True))
                result.attempts += 1
            if progress:
                progress(result.pages, result.attempts)
            cut = len(records) < len(page.data)
            iterator = records[-1].id if cut and records else page.iterator
            if page.done and not cut:
                result.done = True
                break
            if (max_attempts is not None and result.attempts >= max_attempts) or not iterator:
                break
    result.next_cursor = None if result.done else iterator
    result.waits = list(transport.waits)
    fh.write("\n], " + json.dumps({"iterator": result.next_cursor, "prevIterator": None, "done": result.done})[1:]
             + os.linesep)
    return result


async def _page(api: MessageAttemptAsync, app_id: str, endpoint_id: str,
                options: MessageAttemptListByEndpointOptions, base_url: str) -> Any:
    """One page, with every way it can fail turned into a one-line InputError."""
    try:
        return await api.list_by_endpoint(app_id, endpoint_id, options)
    except HttpError as exc:
        raise _http_error(exc, app_id, endpoint_id) from None
    except (BlockedDestination, httpx.RequestError) as exc:
        raise network_error("Svix", base_url, exc) from None
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        what = "not JSON" if isinstance(exc, json.JSONDecodeError) else "JSON that is not a Svix attempt list"
        raise InputError(f"{base_url} answered with {what}: is --base-url the Svix API (not the dashboard)?",
                         field="--base-url") from None


def _http_error(exc: HttpError, app_id: str, endpoint_id: str) -> InputError:
    status, code = exc.status_code, getattr(exc, "code", "") or "error"
    if status in (401, 403):
        return InputError(f"Svix refused the API token ({status} {code}): it is expired, revoked or for another "
                          "environment; create one in the Svix dashboard (API Access) and pass it with --token -",
                          field="--token")
    if status == 404:
        return InputError(f"Svix has no app {app_id!r} with endpoint {endpoint_id!r} (404 {code}); copy both ids "
                          "from the Svix dashboard", field="--endpoint")
    if status == 429:
        return InputError("Svix kept answering 429 (rate limited) after the waits Retry-After asked for; try again "
                          "later or with a smaller --max-attempts")
    detail = str(getattr(exc, "detail", ""))[:200]
    return InputError(f"Svix answered {status} {code}: {detail}")
