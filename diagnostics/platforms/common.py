"""What every connector shares: the guarded HTTP client, the all-or-nothing output file, one GET
answered with JSON, the time window, and the one-line wording of network and HTTP failures."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
import orjson

from diagnostics.errors import InputError
from diagnostics.net.guard import (
    AddressPolicy,
    BlockedDestination,
    build_transport,
)
from diagnostics.platforms.retry_after import RetryAfterTransport

TIMEOUT_S = 30.0
_PATH_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
KEEPALIVE_S = 30.0  # an idle API connection is closed after this long
KEEPALIVE_CONNECTIONS = 4  # a pull asks one page at a time; a few spare for the SDK's own calls
Progress = Callable[[int, int], None]  # (pages, attempts) so far
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class PullResult:
    """What a pull wrote: the file, how many attempts and pages, whether the list was exhausted."""

    path: str
    attempts: int = 0
    pages: int = 0
    done: bool = False
    next_cursor: str | None = None  # where a stopped pull would resume (Svix iterator, GitHub cursor URL)
    waits: list[float] = field(default_factory=list)  # Retry-After waits honoured, in seconds


def check_path_id(value: str | None, what: str) -> str:
    """A platform id that goes into a URL path; anything that would bend the path is refused."""
    text = str(value or "").strip()
    if not _PATH_ID.match(text):
        raise InputError(f"{what} must be a platform id (letters, digits, _ and -), not {text[:40]!r}", field=what)
    return text


def check_pull_options(platform: str, token: str, max_attempts: int | None) -> str:
    """The token, stripped; an empty token or a max below 1 is refused before any request."""
    if not token or not token.strip():
        raise InputError(f"no {platform} token given (pass it on standard input with --token -)", field="--token")
    if max_attempts is not None and max_attempts < 1:
        raise InputError("--max-attempts must be at least 1", field="--max-attempts")
    return token.strip()


def guarded_http(policy: AddressPolicy, *, sleep: Sleep = asyncio.sleep,
                 retry_forbidden: bool = False) -> tuple[httpx.AsyncClient, RetryAfterTransport]:
    """An httpx client over the SSRF guard (as `net.guard.guarded_client`) that waits out 429s."""
    transport = RetryAfterTransport(keepalive_transport(policy), sleep=sleep, retry_forbidden=retry_forbidden)
    client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False, timeout=TIMEOUT_S)
    return client, transport


def keepalive_transport(policy: AddressPolicy) -> httpx.AsyncHTTPTransport:
    """The guard's transport (`net.guard.build_transport`) with keep-alive connections.

    The probe's pool opens a new, freshly judged connection per request. A connector asks one API
    host for page after page: the guard still judges every connection it opens (resolve, check,
    dial the checked address), and the pages reuse it. Without keep-alive every page is a new
    connection, counted against `[network] max_probes_per_target_per_minute` (120): a pull of
    more than 120 pages a minute would be refused halfway, and each page pays a TCP (and TLS)
    handshake.
    """
    return build_transport(policy, max_connections=KEEPALIVE_CONNECTIONS, keepalive_s=KEEPALIVE_S)


@contextmanager
def atomic_output(output: str) -> Iterator[IO[str]]:
    """Write to `<output>.part`, renamed to `output` on success and removed on any error."""
    target = Path(output)
    if not target.parent.exists():
        raise InputError("the output folder does not exist", file=output)
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            yield fh
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def no_answer(exc: Exception) -> str | None:
    """Why a request got no answer, as a resend records it ("blocked: ...", "timeout", the httpx
    error's name); None for an exception that is not a failed request."""
    if isinstance(exc, BlockedDestination):
        return f"blocked: {exc.describe()}"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.HTTPError):
        return type(exc).__name__
    return None


def network_error(platform: str, base_url: str, exc: Exception) -> InputError | None:
    """The guard's refusal or a failed connection in one line; None for other exceptions."""
    if isinstance(exc, BlockedDestination):
        return InputError(f"the {platform} API address is refused by the SSRF guard ({exc.describe()}); for a "
                          f"self-hosted {platform}, set [platforms.{platform.split()[0].lower()}] base_url in "
                          "diagnostics.toml (its host is then allowed)", field="--base-url")
    if isinstance(exc, httpx.RequestError):
        return InputError(f"cannot reach {platform} at {base_url} ({type(exc).__name__}); check --base-url and the "
                          "network", field="--base-url")
    return None


HttpErrorMapper = Callable[[httpx.Response], InputError]


async def get_json(http: httpx.AsyncClient, url: str, *, platform: str, base_url: str, headers: dict[str, str],
                   params: list[tuple[str, str]] | None = None, http_error: HttpErrorMapper,
                   api_hint: str) -> Any:
    """One GET answered with JSON; a refusal, a failed connection, an error status or an answer
    that is not JSON (an HTML page: the dashboard, a proxy's login) is one line naming the platform."""
    try:
        response = await http.get(url, params=params, headers=headers)
    except (BlockedDestination, httpx.RequestError) as exc:
        raise network_error(platform, base_url, exc) from None
    if response.status_code != 200:
        raise http_error(response)
    try:
        return parse_json(response.content)
    except ValueError:
        raise InputError(f"{base_url} answered with not JSON: is --base-url the {platform} API ({api_hint})?",
                         field="--base-url") from None


def parse_json(data: bytes) -> Any:
    """A page's JSON: orjson (three times the stdlib's speed on a page of attempts), the stdlib for
    what orjson refuses and JSON allows (integers beyond 64 bits). ValueError when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def records_text(records: list[Any]) -> str:
    """Records as JSON array elements, one record per line: the importer locates (and orders ties
    of) records by their line. orjson writes a page of attempts about ten times as fast as the
    stdlib; what it cannot encode (integers beyond 64 bits) goes through the stdlib."""
    try:
        return b",\n".join(orjson.dumps(r) for r in records).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records)


def error_text(response: httpx.Response, *keys: str) -> str:
    """The platform's own error words from a JSON error body (first of `keys` present), or ''."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return " ".join(str(body[k])[:200] for k in keys if body.get(k) not in (None, ""))


def in_window(at: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    """since <= at < until; an attempt without a readable time is kept (the importer reports it)."""
    if at is None:
        return True
    return (since is None or at >= since) and (until is None or at < until)
