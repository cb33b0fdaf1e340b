"""Pull an endpoint's delivery attempts from Convoy's API with plain httpx, through the SSRF guard.

Convoy lists attempts per event delivery (convoy-openapi3.json), so the pull checks the scope
first (`GET /v1/projects/{projectID}/endpoints/{endpointID}`: a 404 is a one-line error), lists
the endpoint's event deliveries (`GET .../eventdeliveries?endpointId=`, oldest first, following
`pagination.has_next_page` and `next_page_cursor`), then each delivery's attempts
(`GET .../eventdeliveries/{id}/deliveryattempts`, one unpaginated list). Each attempt gets its
delivery's `event_id` and `event_type` (the attempt carries only `msg_id`, the delivery), which
the Convoy importer reads. Convoy's date filter is on the delivery's creation, and a delivery's
retries can come long after it, so `since` goes to Convoy as `startDate` a day earlier
(RETRY_LOOKBACK), a delivery last updated before `since` is not asked for its attempts, `until`
goes as `endDate`, and the attempts are narrowed here (`requested_at`, else `created_at`).

Convoy is often self-hosted: the base URL is the API root (`https://HOST/api`; Convoy Cloud:
`https://us.getconvoy.cloud/api` or `https://eu.getconvoy.cloud/api`). The file is Convoy's paged
list envelope (`{"status", "message", "data": {"content": [attempts], "pagination"}}`); a pull
stopped by `max_attempts` says `has_next_page: true` with the cursor of the deliveries list (or
the id of the first delivery not fully written), so `partial-export` flags it. The token lives
only in the request headers.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
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

DEFAULT_BASE_URL = "https://us.getconvoy.cloud/api"  # the first `servers` entry of convoy-openapi3.json
PAGE_SIZE = 250
RETRY_LOOKBACK = timedelta(days=1)  # deliveries created this long before `since` may still retry inside it
API_HINT = "the API root, https://HOST/api for a self-hosted Convoy"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def check_id(value: str | None, flag: str) -> str:
    """A Convoy project or endpoint id (a ULID or UUID); anything that would bend the path is refused."""
    text = str(value or "").strip()
    if not _ID.match(text):
        raise InputError(f"{flag} must be a Convoy id (as in the dashboard URL), not {text[:40]!r}", field=flag)
    return text


def pull_to_file(
    *,
    token: str,
    project_id: str,
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
    """Pull every attempt to one endpoint of one project into `output`; nothing is left on an error."""
    token = check_pull_options("Convoy API", token, max_attempts)
    project, endpoint = check_id(project_id, "--project"), check_id(endpoint_id, "--endpoint")
    with atomic_output(output) as fh:
        result = asyncio.run(_Pull(fh, token, project, endpoint, policy, base_url.rstrip("/"), since, until,
                                   max_attempts, page_size, progress, sleep).run())
    result.path = output
    return result


class _Pull:
    """One pull: the deliveries walk and the attempts written so far."""

    def __init__(self, fh: IO[str], token: str, project: str, endpoint: str, policy: AddressPolicy, base: str,
                 since: datetime | None, until: datetime | None, max_attempts: int | None, page_size: int,
                 progress: Progress | None, sleep: Sleep) -> None:
        self.fh, self.project, self.endpoint, self.policy, self.base = fh, project, endpoint, policy, base
        self.since, self.until, self.max_attempts, self.page_size = since, until, max_attempts, page_size
        self.progress, self.sleep = progress, sleep
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                        "User-Agent": "webhook-doctor"}
        self.result = PullResult(path="")
        self.resume: str | None = None

    @property
    def root(self) -> str:
        return f"{self.base}/v1/projects/{self.project}"

    async def run(self) -> PullResult:
        http, transport = guarded_http(self.policy, sleep=self.sleep)
        self.fh.write('{"status": true, "message": "Event delivery attempts fetched successfully", '
                      '"data": {"content": [\n')
        async with http:
            await self._get(http, f"{self.root}/endpoints/{self.endpoint}", None, "the endpoint")
            await self._walk(http)
        self.result.done = self.resume is None
        self.result.next_cursor = self.resume
        self.result.waits = list(transport.waits)
        pagination = {"per_page": self.page_size, "has_next_page": self.resume is not None,
                      "has_prev_page": False, "next_page_cursor": self.resume or "", "prev_page_cursor": ""}
        self.fh.write("\n], " + json.dumps({"pagination": pagination})[1:] + "}\n")
        return self.result

    async def _walk(self, http: httpx.AsyncClient) -> None:
        params = [("endpointId", self.endpoint), ("perPage", str(self.page_size)), ("sort", "ASC"),
                  ("direction", "next")]
        if self.since:
            params.append(("startDate", _convoy_time(self.since - RETRY_LOOKBACK)))
        if self.until:
            params.append(("endDate", _convoy_time(self.until)))
        cursor: str | None = None
        while True:
            deliveries, cursor = await self._deliveries(http, params, cursor)
            for number, delivery in enumerate(deliveries):
                if self._settled_before_since(delivery):
                    continue
                room = None if self.max_attempts is None else self.max_attempts - self.result.attempts
                attempts = await self._attempts(http, delivery)
                if room is not None and len(attempts) > room:
                    self._write(attempts[:room])
                    self.resume = str(delivery["uid"])  # this delivery is not fully written
                    return
                self._write(attempts)
                if self.progress:
                    self.progress(self.result.pages, self.result.attempts)
                if room is not None and len(attempts) == room and (number + 1 < len(deliveries) or cursor):
                    self.resume = str(deliveries[number + 1]["uid"]) if number + 1 < len(deliveries) else cursor
                    return
            if not cursor:
                return

    async def _deliveries(self, http: httpx.AsyncClient, params: list[tuple[str, str]],
                          cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        body = await self._get(http, f"{self.root}/eventdeliveries",
                               params + ([("next_page_cursor", cursor)] if cursor else []), "event deliveries")
        data = body.get("data") if isinstance(body, dict) else None
        content = data.get("content") if isinstance(data, dict) else None
        pagination = (data.get("pagination") if isinstance(data, dict) else None) or {}
        if not isinstance(content, list) or not isinstance(pagination, dict) or not all(
                isinstance(d, dict) and d.get("uid") for d in content):
            raise self._not_convoy("event deliveries")
        self.result.pages += 1
        more = bool(pagination.get("has_next_page")) and bool(pagination.get("next_page_cursor"))
        return content, str(pagination["next_page_cursor"]) if more else None

    async def _attempts(self, http: httpx.AsyncClient, delivery: dict[str, Any]) -> list[dict[str, Any]]:
        delivery_id = str(delivery["uid"])
        if not _ID.match(delivery_id):
            raise self._not_convoy("event deliveries")
        body = await self._get(http, f"{self.root}/eventdeliveries/{delivery_id}/deliveryattempts", None,
                               "delivery attempts")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
            raise self._not_convoy("delivery attempts")
        self.result.pages += 1
        joined = {k: delivery[k] for k in ("event_id", "event_type") if delivery.get(k)}
        return [{**a, **joined} for a in data if self._wanted(a)]

    def _settled_before_since(self, delivery: dict[str, Any]) -> bool:
        """A delivery last updated before `since` made no attempt inside the window."""
        if self.since is None or not delivery.get("updated_at"):
            return False
        try:
            return parse_timestamp(str(delivery["updated_at"])) < self.since
        except ValueError:
            return False

    def _wanted(self, attempt: dict[str, Any]) -> bool:
        if self.since is None and self.until is None:
            return True
        try:
            at = parse_timestamp(str(attempt.get("requested_at") or attempt.get("created_at")))
        except ValueError:
            at = None
        return in_window(at, self.since, self.until)

    def _write(self, attempts: list[dict[str, Any]]) -> None:
        if attempts:
            text = records_text(attempts)
            self.fh.write((",\n" if self.result.attempts else "") + text)
            self.result.attempts += len(attempts)

    def _not_convoy(self, what: str) -> InputError:
        return InputError(f"{self.base} answered with JSON that is not a Convoy list of {what}: is --base-url the "
                          f"Convoy API ({API_HINT})?", field="--base-url")

    async def _get(self, http: httpx.AsyncClient, url: str, params: list[tuple[str, str]] | None,
                   what: str) -> Any:
        return await get_json(http, url, platform="Convoy", base_url=self.base, headers=self.headers, params=params,
                              http_error=lambda r: _http_error(r, self.project, self.endpoint, what),
                              api_hint=API_HINT)


def _convoy_time(at: datetime) -> str:
    """Convoy's date filter format (`2006-01-02T15:04:05`, UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _http_error(response: httpx.Response, project: str, endpoint: str, what: str) -> InputError:
    status = response.status_code
    detail = f"{status} {error_text(response, 'message')}".strip()
    if status in (401, 403):
        return InputError(f"Convoy refused the API key ({detail}): it is revoked or for another project; check the "
                          "API key (Convoy dashboard > Project settings > Secrets, a personal access token or a "
                          "project API key) and pass it with --token -", field="--token")
    if status == 404 and what == "the endpoint":
        return InputError(f"Convoy has no endpoint {endpoint!r} in project {project!r} ({detail}); copy both ids "
                          "from the Convoy dashboard", field="--endpoint")
    if status == 429:
        return InputError("Convoy kept answering 429 (rate limited) after the waits Retry-After asked for; try "
                          "again later or with a smaller --max-attempts")
    return InputError(f"Convoy answered {detail} listing {what}")
