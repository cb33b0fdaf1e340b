"""Pull a connection's or destination's attempts from Hookdeck's API with plain httpx, through the
SSRF guard.

Hookdeck's `GET /attempts` filters by event only (hookdeck-openapi.json), so the pull goes in
three steps: the scope is checked first (`GET /connections/{id}` or `/destinations/{id}`: a 404
is a one-line error, not an empty file), then the scope's events are listed (`GET /events`
with `webhook_id` or `destination_id`, `limit` up to 250, the `pagination.next` cursor followed),
then the attempts of those events (`GET /attempts` with `event_id[]` for a batch of events, the
same cursor). `since` and `until` narrow the events on Hookdeck's side (`last_attempt_at[gte]`,
`created_at[lte]`) and the attempts on ours (`delivered_at`, else `created_at`). An answer with
attempts of events not asked for (the filter not applied) is refused rather than mixed in.

The file is one Hookdeck attempt list (`EventAttemptPaginatedResult`: `models`, `pagination`,
`count`), the shape the Hookdeck importer reads; a pull stopped by `max_attempts` keeps a
`pagination.next` (the cursor of the list it stopped in, or the id of the first attempt not
written), so `partial-export` flags it. The token lives only in the request headers.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import httpx

from diagnostics.errors import InputError
from diagnostics.logs.timestamps import parse_timestamp
from diagnostics.net.guard import AddressPolicy
from diagnostics.platforms.common import (
    Progress,
    PullResult,
    Sleep,
    atomic_output,
    check_pull_options,
    error_text,
    get_json,
    guarded_http,
    in_window,
    records_text,
)

DEFAULT_BASE_URL = "https://api.hookdeck.com/2024-09-01"  # the `servers` entry of hookdeck-openapi.json
PAGE_SIZE = 250  # the API allows up to 255 per page
EVENTS_PER_CALL = 50  # event ids in one /attempts query (keeps the URL near 2 KB)
API_HINT = DEFAULT_BASE_URL


@dataclass(frozen=True)
class Scope:
    """A connection (its events carry `webhook_id`) or a destination."""

    kind: str  # "connection" | "destination"
    id: str

    @property
    def path(self) -> str:
        return f"/{self.kind}s/{self.id}"

    @property
    def event_filter(self) -> str:
        return "webhook_id" if self.kind == "connection" else "destination_id"


def scope_of(connection: str | None, destination: str | None) -> Scope:
    """Exactly one of --connection and --destination, as an id Hookdeck could have issued."""
    if bool(connection) == bool(destination):
        raise InputError("give either --connection ID or --destination ID", field="--connection")
    kind, value = ("connection", connection) if connection else ("destination", destination)
    text = str(value).strip()
    if not text or len(text) > 255 or not all(c.isalnum() or c in "_-" for c in text):
        raise InputError(f"--{kind} must be a Hookdeck {kind} id (web_... or des_...), not {text[:40]!r}",
                         field=f"--{kind}")
    return Scope(kind, text)


def pull_to_file(
    *,
    token: str,
    output: str,
    policy: AddressPolicy,
    connection_id: str | None = None,
    destination_id: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    since: datetime | None = None,
    until: datetime | None = None,
    max_attempts: int | None = None,
    page_size: int = PAGE_SIZE,
    events_per_call: int = EVENTS_PER_CALL,
    progress: Progress | None = None,
    sleep: Sleep = asyncio.sleep,
) -> PullResult:
    """Pull every attempt of one connection or destination into `output`; nothing is left on an error."""
    token = check_pull_options("Hookdeck API", token, max_attempts)
    scope = scope_of(connection_id, destination_id)
    if not 1 <= page_size <= 255:
        raise InputError("the Hookdeck page size must be between 1 and 255")
    with atomic_output(output) as fh:
        result = asyncio.run(_Pull(fh, token, scope, policy, base_url.rstrip("/"), since, until, max_attempts,
                                   page_size, max(1, events_per_call), progress, sleep).run())
    result.path = output
    return result


class _Pull:
    """One pull: the state shared by the three listing steps."""

    def __init__(self, fh: IO[str], token: str, scope: Scope, policy: AddressPolicy, base: str,
                 since: datetime | None, until: datetime | None, max_attempts: int | None, page_size: int,
                 events_per_call: int, progress: Progress | None, sleep: Sleep) -> None:
        self.fh, self.scope, self.policy, self.base = fh, scope, policy, base
        self.since, self.until, self.max_attempts = since, until, max_attempts
        self.page_size, self.events_per_call, self.progress, self.sleep = page_size, events_per_call, progress, sleep
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                        "User-Agent": "webhook-doctor"}
        self.result = PullResult(path="")
        self.resume: str | None = None  # where a stopped pull would go on

    async def run(self) -> PullResult:
        http, transport = guarded_http(self.policy, sleep=self.sleep)
        self.fh.write('{"models": [\n')
        async with http:
            await self._get(http, self.scope.path, None, "the scope")
            await self._walk_events(http)
        self.result.done = self.resume is None
        self.result.next_cursor = self.resume
        self.result.waits = list(transport.waits)
        pagination: dict[str, Any] = {"order_by": "created_at", "dir": "asc", "limit": self.page_size}
        if self.resume:
            pagination["next"] = self.resume
        self.fh.write("\n], " + json.dumps({"pagination": pagination, "count": self.result.attempts})[1:] + "\n")
        return self.result

    def _full(self) -> bool:
        return self.max_attempts is not None and self.result.attempts >= self.max_attempts

    async def _walk_events(self, http: httpx.AsyncClient) -> None:
        params = [(self.scope.event_filter, self.scope.id), ("order_by", "created_at"), ("dir", "asc"),
                  ("limit", str(self.page_size))]
        if self.since:
            params.append(("last_attempt_at[gte]", _iso(self.since)))
        if self.until:
            params.append(("created_at[lte]", _iso(self.until)))
        cursor: str | None = None
        while True:
            page = await self._list(http, "/events", params, cursor, "events")
            event_ids = [str(e["id"]) for e in page["models"] if isinstance(e, dict) and e.get("id")]
            cursor = page["next"]
            for start in range(0, len(event_ids), self.events_per_call):
                await self._walk_attempts(http, event_ids[start:start + self.events_per_call])
                if self._full():
                    following = start + self.events_per_call
                    if self.resume is None:  # this batch is complete: resume at the next event
                        self.resume = event_ids[following] if following < len(event_ids) else cursor
                    return
            if not cursor:
                return

    async def _walk_attempts(self, http: httpx.AsyncClient, event_ids: list[str]) -> None:
        key = "event_id" if len(event_ids) == 1 else "event_id[]"
        params = [*((key, e) for e in event_ids), ("order_by", "created_at"), ("dir", "asc"),
                  ("limit", str(self.page_size))]
        asked = set(event_ids)
        cursor: str | None = None
        while True:
            page = await self._list(http, "/attempts", params, cursor, "attempts")
            cursor = page["next"]
            models = page["models"]
            if any(not isinstance(m, dict) or m.get("event_id") not in asked for m in models):
                raise InputError("Hookdeck answered attempts of events that were not asked for (the event_id "
                                 "filter was not applied); is --base-url the Hookdeck API?", field="--base-url")
            written = self._write([m for m in models if self._wanted(m)])
            if self.progress:
                self.progress(self.result.pages, self.result.attempts)
            if written is not None:  # stopped inside this page
                self.resume = written
                return
            if self._full():
                self.resume = cursor
                return
            if not cursor:
                return

    def _wanted(self, attempt: dict[str, Any]) -> bool:
        if self.since is None and self.until is None:
            return True
        try:
            at = parse_timestamp(str(attempt.get("delivered_at") or attempt.get("created_at")))
        except ValueError:
            at = None  # the importer reports it with its line
        return in_window(at, self.since, self.until)

    def _write(self, attempts: list[dict[str, Any]]) -> str | None:
        """Write what fits under max_attempts; the id of the first attempt left out, if any."""
        room = len(attempts) if self.max_attempts is None else self.max_attempts - self.result.attempts
        kept = attempts[:room]
        if kept:
            self.fh.write((",\n" if self.result.attempts else "") + records_text(kept))
            self.result.attempts += len(kept)
        return str(attempts[room].get("id")) if room < len(attempts) else None

    async def _list(self, http: httpx.AsyncClient, path: str, params: list[tuple[str, str]], cursor: str | None,
                    what: str) -> dict[str, Any]:
        """One page of a Hookdeck list: its models and the next cursor (None at the end)."""
        page = await self._get(http, path, params + ([("next", cursor)] if cursor else []), what)
        models = page.get("models") if isinstance(page, dict) else None
        pagination = page.get("pagination") if isinstance(page, dict) else None
        if not isinstance(models, list) or not isinstance(pagination, (dict, type(None))):
            raise InputError(f"{self.base} answered with JSON that is not a Hookdeck list of {what}: is --base-url "
                             f"the Hookdeck API ({API_HINT})?", field="--base-url")
        self.result.pages += 1
        nxt = (pagination or {}).get("next")
        return {"models": models, "next": str(nxt) if nxt else None}

    async def _get(self, http: httpx.AsyncClient, path: str, params: list[tuple[str, str]] | None,
                   what: str) -> Any:
        return await get_json(http, self.base + path, platform="Hookdeck", base_url=self.base, headers=self.headers,
                              params=params, http_error=lambda r: _http_error(r, self.scope, what),
                              api_hint=API_HINT)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _http_error(response: httpx.Response, scope: Scope, what: str) -> InputError:
    status = response.status_code
    said = error_text(response, "code", "message")
    detail = f"{status} {said}".strip()
    if status in (401, 403):
        return InputError(f"Hookdeck refused the API key ({detail}): it is revoked or for another project; check "
                          "the API key (Hookdeck dashboard > Project settings > Secrets) and pass it with --token -",
                          field="--token")
    if status in (404, 410) and what == "the scope":
        gone = "is archived or deleted" if status == 410 else "does not exist in this project"
        return InputError(f"Hookdeck {scope.kind} {scope.id!r} {gone} ({detail}); copy its id from the Hookdeck "
                          f"dashboard", field=f"--{scope.kind}")
    if status == 429:
        return InputError("Hookdeck kept answering 429 (rate limited) after the waits Retry-After asked for; try "
                          "again later or with a smaller --max-attempts")
    return InputError(f"Hookdeck answered {detail} listing {what}")
