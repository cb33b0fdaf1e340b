"""Resending a plan's events to the endpoint: guarded, signed, paced, stopped by a breaker, resumable.

- Selection: `never_reached` and `rejected` by default; `ambiguous` and `pending` only when named
  (they risk duplicates or race the sender's retry). Events already answered 2xx in the ledger
  are skipped; events without a payload in the log cannot be resent and are reported.
- Destination: checked by the SSRF guard before anything is sent or stored (the policy of
  `probe`, with `--allow`), and every connection goes through the guard again.
- Signing: our scheme ([signature] in diagnostics.toml), the secret for this run only; each
  event keeps its original id (the scheme's id header), so the receiver can dedupe.
- Pacing: slots at a fixed rate from the run's start (never above [recovery] max_rate_per_second,
  default 100); without `--rate`, the endpoint's own record in the plan (its busiest minute of
  successful deliveries) sets it, and its median latency the default concurrency.
- Breaker: after `stop_after` consecutive failures no new send starts (sends already in flight,
  at most concurrency - 1, still finish): the result says where it stopped and why.
- Ledger (`ledger.py`): intent before each request, answer as soon as it comes; a rerun resumes.
  The writes of the sends in flight are committed together (group commit, in a worker thread).
- Connections: kept alive between events (`KEEPALIVE_S`), each one judged by the guard when opened.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow as pa

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.net.guard import AddressPolicy, BlockedDestination, ResolutionFailed, guarded_client, system_resolver
from diagnostics.platforms.common import no_answer
from diagnostics.recovery.categories import CATEGORIES, SAFE_BY_DEFAULT
from diagnostics.recovery.jsonfiles import read_metrics_object
from diagnostics.recovery.ledger import Ledger, ledger_path
from diagnostics.signatures import sign_headers

DEFAULT_MAX_RATE = 100.0
DEFAULT_STOP_AFTER = 10
MAX_DEFAULT_CONCURRENCY = 16
# Connections to the endpoint are kept between its events (each judged by the guard when opened):
# a resend of a thousand events is one conversation with one host, not a thousand handshakes.
KEEPALIVE_S = 30.0
Progress = Callable[[int, int], None]


@dataclass
class RedeliverRun:
    """What a run did (or, dry, would do)."""

    endpoint: str
    to: str
    dry_run: bool
    rate: float
    concurrency: int
    categories: tuple[str, ...]
    selected: int = 0
    already_delivered: list[str] = field(default_factory=list)
    without_payload: list[str] = field(default_factory=list)
    in_flight_before: list[str] = field(default_factory=list)  # sent without a recorded answer by a killed run
    to_send: list[str] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    via: str | None = None  # the platform whose API resent the events (`redeliver --via`); None: sent directly
    needs: str = "payload"  # what an event needs from the log to be resent (`without_payload` lacks it)
    bulk: dict[str, Any] | None = None  # `--via --bulk`: the platform's bulk call, how many, what it covered
    ledger: str = ""
    elapsed_s: float = 0.0

    @property
    def delivered(self) -> int:
        return sum(1 for s in self.sends if s["status_code"] is not None and 200 <= s["status_code"] <= 299)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "endpoint": self.endpoint, "to": self.to, "dry_run": self.dry_run,
            "rate_per_second": self.rate, "concurrency": self.concurrency, "categories": list(self.categories),
            "selected": self.selected, "already_delivered": len(self.already_delivered),
            "without_payload": self.without_payload, "resent_after_interruption": self.in_flight_before,
            "via": self.via, "needs": self.needs, "bulk": self.bulk,
            "to_send": len(self.to_send), "sent": len(self.sends), "delivered": self.delivered,
            "failed": len(self.sends) - self.delivered, "not_sent": len(self.to_send) - len(self.sends),
            "stopped": self.stopped, "ledger": self.ledger,
            "elapsed_s": round(self.elapsed_s, 3), "sends": self.sends,
        }


def read_plan(path: str) -> dict[str, Any]:
    """`metrics.plan` of a `replay-plan --format json` file (or the bare plan object)."""
    plan = read_metrics_object(path, "plan", "plan")
    if not plan["events"]:
        raise InputError("the plan has no events to resend", file=path)
    return plan


def choose_pace(pace: dict[str, Any], rate: float | None, concurrency: int | None,
                max_rate: float) -> tuple[float, int]:
    """(rate per second, concurrency): given, or from the endpoint's record, never above max_rate."""
    if rate is not None and rate <= 0:
        raise InputError("--rate must be positive", field="--rate")
    if concurrency is not None and concurrency < 1:
        raise InputError("--concurrency must be at least 1", field="--concurrency")
    observed = float(pace.get("peak_per_minute") or 0) / 60.0
    chosen = min(float(rate) if rate is not None else max(observed, 1.0), max_rate)
    if concurrency is None:
        latency_s = float(pace.get("median_ms") or 1000.0) / 1000.0
        concurrency = max(1, min(MAX_DEFAULT_CONCURRENCY, math.ceil(chosen * latency_s * 2)))
    return chosen, concurrency


def check_destination(url: str, policy: AddressPolicy) -> httpx.URL:
    """The URL, refused before anything is sent or stored when the guard would refuse it."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InputError(f"invalid URL: {exc}", field="--to") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError("the URL must be http:// or https:// with a host", field="--to")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = asyncio.run(system_resolver(parsed.host, port))
        policy.check_all(parsed.host, addresses)
    except ResolutionFailed as exc:
        raise InputError(f"{parsed.host} does not resolve ({exc.kind})", field="--to") from exc
    except BlockedDestination as exc:
        raise InputError(f"the guard refuses {parsed.host}: {exc.describe()}", field="--to") from exc
    reason = policy.check_port(parsed.host, port, addresses)
    if reason:
        raise InputError(f"the guard refuses {parsed.host}: {reason}", field="--to")
    return parsed


def load_payloads(sources: Sequence[str], endpoint: str, event_ids: Sequence[str]) -> dict[str, str]:
    """event id -> payload, read from the plan's log (only the selected ids come back)."""
    if not sources or any("***" in s for s in sources):
        raise InputError("the plan does not name a readable delivery log for the payloads; give it with --log",
                         field="--log")
    attempts = load_attempts(list(sources), endpoint=endpoint)
    try:
        attempts.conn.register("_resend_ids", pa.table({"event_id": pa.array(list(event_ids), pa.string())}))
        rows = attempts.conn.execute(
            f"""SELECT a.event_id, min(a.payload) FROM {attempts.name} AS a
                JOIN _resend_ids AS i ON i.event_id = a.event_id
                WHERE a.payload IS NOT NULL GROUP BY a.event_id"""
        ).fetchall()
    finally:
        attempts.conn.close()
    return {r[0]: r[1] for r in rows}


Send = Callable[[str], Awaitable[tuple[int | None, str | None]]]
"""One event's resend: (status code, or None and the error kind)."""


async def _post_signed(client: httpx.AsyncClient, to: str, body: bytes,
                       headers: dict[str, str]) -> tuple[int | None, str | None]:
    try:
        response = await client.post(to, content=body, headers=headers)
    except (BlockedDestination, httpx.HTTPError) as exc:
        return None, no_answer(exc)
    return response.status_code, None


async def send_all(run: RedeliverRun, send: Send, *, ledger: Ledger, stop_after: int,
                   progress: Progress | None) -> None:
    """Send `run.to_send` with `send`: paced slots, `run.concurrency` at a time, the breaker, the ledger."""
    start = time.monotonic()
    failures = 0
    done = 0
    order = iter(enumerate(run.to_send))

    async def worker() -> None:
        nonlocal failures, done
        for k, event_id in order:
            if run.stopped:
                return
            delay = start + k / run.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if run.stopped:
                return
            row = await ledger.intent(run.run_id, event_id, run.endpoint, run.to)  # on disk before the send
            sent_at = datetime.now(UTC)
            began = time.monotonic()
            status, error = await send(event_id)
            duration = (time.monotonic() - began) * 1000.0
            await ledger.answer(row, status, error, duration)
            run.sends.append({"event_id": event_id, "sent_at": sent_at.isoformat().replace("+00:00", "Z"),
                              "status_code": status, "error": error, "duration_ms": round(duration, 1)})
            ok = status is not None and 200 <= status <= 299
            failures = 0 if ok else failures + 1
            done += 1
            if progress:
                progress(done, len(run.to_send))
            if failures >= stop_after and not run.stopped:
                run.stopped = (f"stopped after {failures} consecutive failures (last: {status or error}) at "
                               f"event {event_id}")

    await asyncio.gather(*(worker() for _ in range(run.concurrency)))
    run.elapsed_s = time.monotonic() - start


@dataclass
class Selection:
    """A plan read and checked, its run set up, and what the ledger says was already done."""

    plan: dict[str, Any]
    run: RedeliverRun
    stop_after: int
    chosen: list[str]
    done: set[str]
    in_flight: set[str]

    @property
    def pending(self) -> list[str]:
        return [i for i in self.chosen if i not in self.done]


def select(plan_path: str, to: str, *, config: Config, rate: float | None, concurrency: int | None,
           categories: Sequence[str], dry_run: bool, stop_after: int | None, endpoint: str | None) -> Selection:
    """Everything a resend checks before it may send: the plan, the categories, the pace, the ledger."""
    plan = read_plan(plan_path)
    if endpoint and endpoint != plan["endpoint"]:
        raise InputError(f"the plan is for endpoint {plan['endpoint']!r}, not {endpoint!r}", file=plan_path,
                         field="--endpoint")
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise InputError(f"unknown categories {', '.join(unknown)}", field="--categories")
    max_rate = float(config.get("recovery", "max_rate_per_second", DEFAULT_MAX_RATE) or DEFAULT_MAX_RATE)
    chosen_rate, chosen_concurrency = choose_pace(plan.get("pace") or {}, rate, concurrency, max_rate)
    stop = int(stop_after if stop_after is not None else config.get("recovery", "stop_after_failures",
                                                                       DEFAULT_STOP_AFTER))
    if stop < 1:
        raise InputError("--stop-after must be at least 1", field="--stop-after")
    run = RedeliverRun(endpoint=plan["endpoint"], to=to, dry_run=dry_run, rate=chosen_rate,
                       concurrency=chosen_concurrency, categories=tuple(c for c in CATEGORIES if c in categories))
    chosen = [e["event_id"] for e in plan["events"] if e.get("category") in run.categories]
    run.selected = len(chosen)
    if not chosen:
        raise InputError(f"the plan has no events in the categories {', '.join(run.categories)}", file=plan_path,
                         field="--categories")
    path = ledger_path(plan_path)
    run.ledger = str(path)
    previous = Ledger(path) if path.exists() else None
    done, in_flight = (previous.delivered(), previous.in_flight()) if previous else (set(), set())
    if previous:
        previous.close()
    run.already_delivered = [i for i in chosen if i in done]
    return Selection(plan=plan, run=run, stop_after=stop, chosen=chosen, done=done, in_flight=in_flight)


def redeliver(
    plan_path: str,
    to: str,
    *,
    config: Config,
    secret: str | None,
    rate: float | None = None,
    concurrency: int | None = None,
    categories: Sequence[str] = SAFE_BY_DEFAULT,
    allow: Sequence[str] = (),
    dry_run: bool = False,
    stop_after: int | None = None,
    endpoint: str | None = None,
    log: Sequence[str] = (),
    progress: Progress | None = None,
) -> RedeliverRun:
    """Resend the plan's selected events to `to` (see the module doc); InputError before any send."""
    policy = AddressPolicy.from_config(config, allow)
    check_destination(to, policy)
    if not dry_run and not secret:
        raise InputError("a signing secret is needed to resend (--secret -); or use --dry-run", field="--secret")
    chosen = select(plan_path, to, config=config, rate=rate, concurrency=concurrency, categories=categories,
                    dry_run=dry_run, stop_after=stop_after, endpoint=endpoint)
    plan, run, pending = chosen.plan, chosen.run, chosen.pending
    payloads = load_payloads(log or plan.get("sources") or [], plan["endpoint"], pending) if pending else {}
    run.without_payload = [i for i in pending if i not in payloads]
    run.to_send = [i for i in pending if i in payloads]
    run.in_flight_before = [i for i in run.to_send if i in chosen.in_flight]
    if dry_run or not run.to_send:
        return run
    scheme = str(config.get("signature", "scheme", "standard-webhooks"))
    options = config.section("signature").get("hmac")

    def sign(event_id: str, body: bytes) -> dict[str, str]:
        return dict(sign_headers(scheme, secret or "", body, msg_id=event_id, timestamp=int(time.time()), url=to,
                                 options=options))

    sign(run.to_send[0], b"{}")  # a bad secret or scheme fails here, before the ledger exists
    ledger = Ledger(ledger_path(plan_path))

    async def main() -> None:
        timeout = float(config.get("sender", "timeout_seconds", 15.0) or 15.0)
        async with guarded_client(policy, timeout=timeout, max_connections=run.concurrency,
                                  keepalive_s=KEEPALIVE_S) as client:

            async def send(event_id: str) -> tuple[int | None, str | None]:
                body = payloads[event_id].encode("utf-8")
                headers = {"content-type": "application/json", "user-agent": "webhook-doctor-redeliver",
                           **sign(event_id, body)}
                return await _post_signed(client, run.to, body, headers)

            await send_all(run, send, ledger=ledger, stop_after=chosen.stop_after, progress=progress)

    try:
        asyncio.run(main())
    finally:
        ledger.close()
    return run
