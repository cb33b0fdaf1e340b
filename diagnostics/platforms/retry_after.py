"""Waiting out rate limits: a transport that retries a 429 after the time `Retry-After` gives.

Platform APIs answer 429 with `Retry-After` (seconds or an HTTP date); GitHub's secondary rate
limit answers 403 with `Retry-After` (`retry_forbidden`). Retrying below the SDK
(at the httpx transport) keeps one rule for every connector, whether it uses an official SDK
or plain httpx. Waits are capped, so a hostile or broken answer cannot park a pull for hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

MAX_WAIT_S = 60.0
MAX_RETRIES = 5
DEFAULT_WAIT_S = 1.0
MAX_DRAINED_BYTES = 64 * 1024  # a 429 body up to this size is read so its connection can be reused


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date), capped at MAX_WAIT_S."""
    if not value or not value.strip():
        return DEFAULT_WAIT_S
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return DEFAULT_WAIT_S
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_WAIT_S)


class RetryAfterTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: a 429 (or a 403 with Retry-After, when asked) is retried after its wait."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_wait: Callable[[float], None] | None = None,
        max_retries: int = MAX_RETRIES,
        retry_forbidden: bool = False,
    ) -> None:
        self.inner = inner
        self.sleep = sleep
        self.on_wait = on_wait
        self.max_retries = max_retries
        self.retry_forbidden = retry_forbidden
        self.waits: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        for _ in range(self.max_retries):
            limited = response.status_code == 429 or (
                self.retry_forbidden and response.status_code == 403 and "retry-after" in response.headers
            )
            if not limited:
                break
            wait = retry_after_seconds(response.headers.get("retry-after"))
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) <= MAX_DRAINED_BYTES:
                await response.aread()  # a read answer leaves its kept-alive connection reusable
            await response.aclose()
            self.waits.append(wait)
            if self.on_wait:
                self.on_wait(wait)
            await self.sleep(wait)
            response = await self.inner.handle_async_request(request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
