"""Probe runs: observe an endpoint the way our sender would, then judge it.

`probe_endpoint` sends `samples` realistic test events (signed when a secret is given; after a
slow first one, the rest at once so a dead endpoint costs one timeout more, not one each), follows
a redirect hop by hop for diagnosis only, tries forged events when it can sign, and hands all
observations to the pure checks. `probe_many` sweeps many endpoints with bounded concurrency
(one guarded connection pool, a semaphore no larger than the pool). `send_event` is a single guarded
delivery for the app's redeliver button. All network I/O goes through diagnostics.net.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import ssl
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from diagnostics.checks import ProbeObservations, check_url_valid, judge_probe
from diagnostics.checks.timing import SLOW_FRACTION
from diagnostics.config import Config
from diagnostics.error_kinds import ErrorKind
from diagnostics.errors import InputError
from diagnostics.findings import Finding, Outcome, Status, fingerprint_secret, sort_findings
from diagnostics.net.guard import AddressPolicy, Resolver
from diagnostics.net.probe import Exchange, ProbeClient, ProbeRequest
from diagnostics.net.tls import describe_session
from diagnostics.profiles import SenderProfile
from diagnostics.redaction import redact_outcome
from diagnostics.signatures import sign_headers

T = TypeVar("T")
# Retrying these tells nothing new.
STOP_AFTER = {ErrorKind.INVALID_URL, ErrorKind.DNS, ErrorKind.BLOCKED, ErrorKind.CONNECTION_REFUSED}
STALE_BY_S = 3600.0
FAN_OUT_AFTER_FRACTION = SLOW_FRACTION
"""A first sample still unanswered after this share of the timeout sends the other samples at once.

The share the timing check calls slow: an endpoint faster than that gets its samples one after
another, comparable (a cold start shows as a slow first sample); a slower one would cost one
timeout per sample in turn (3 x 30 s for a dead endpoint under Stripe's profile) and teach
nothing the first did not, and real senders deliver concurrently anyway.
"""
FORGERIES = 3  # tampered, unsigned, stale: the pool must hold them beside the samples


@dataclass(frozen=True)
class ProbeOptions:
    """How the probe connects: the guard policy, and (tests, sandbox) a CA and a resolver."""

    policy: AddressPolicy
    max_body_bytes: int = 65536
    max_redirect_hops: int = 5
    ssl_context: ssl.SSLContext | None = None
    resolver: Resolver | None = None

    @classmethod
    def from_config(
        cls,
        config: Config,
        allow: Sequence[str] = (),
        *,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver | None = None,
    ) -> ProbeOptions:
        try:
            max_body = int(config.get("network", "max_body_bytes", 65536))
            hops = int(config.get("network", "max_redirect_hops", 5))
        except (TypeError, ValueError) as exc:
            raise InputError(f"invalid [network] value: {exc}", file="diagnostics.toml") from exc
        if max_body < 1 or hops < 0:
            raise InputError("max_body_bytes must be positive and max_redirect_hops not negative",
                             file="diagnostics.toml", field="network")
        return cls(
            policy=AddressPolicy.from_config(config, allow),
            max_body_bytes=max_body,
            max_redirect_hops=hops,
            ssl_context=ssl_context,
            resolver=resolver,
        )

    def client(self, profile: SenderProfile, max_connections: int = 10) -> ProbeClient:
        return ProbeClient(
            self.policy,
            ssl_context=self.ssl_context,
            max_connections=max_connections,
            connect_timeout_s=profile.connect_timeout_s,
            resolver=self.resolver,
            max_body_bytes=self.max_body_bytes,
        )


# --- The test event and its signatures -------------------------------------------------------


def make_test_event(event_id: str, now: datetime) -> bytes:
    """A realistic, clearly labelled test event (compact JSON, as senders send it)."""
    payload = {
        "id": event_id,
        "type": "webhook_doctor.test",
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": {
            "object": "test_event",
            "message": "Test event from Webhook Doctor: safe to ignore, answer with any 2xx.",
            "amount": 1999,
            "currency": "usd",
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _tampered(body: bytes) -> bytes:
    return body.replace(b'"amount":1999', b'"amount":1')


def sign(
    scheme: str,
    secret: str,
    body: bytes,
    *,
    msg_id: str,
    timestamp: int,
    url: str,
    options: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Signature headers exactly as our sender would attach them (diagnostics.signatures)."""
    return dict(sign_headers(scheme, secret, body, msg_id=msg_id, timestamp=timestamp, url=url, options=options))


@dataclass
class _Plan:
    """The requests of one probe run."""

    samples: list[ProbeRequest]
    forgeries: list[ProbeRequest] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def plan_requests(
    url: str,
    samples: int,
    scheme: str | None,
    secret: str | None,
    now: datetime,
    tolerance_s: float,
    options: Mapping[str, Any] | None = None,
) -> _Plan:
    """The sample events, signed when a secret is given, and the forgeries that test enforcement."""
    timestamp = int(now.timestamp())
    sample_requests: list[ProbeRequest] = []
    for index in range(samples):
        msg_id = f"msg_wd_{uuid.uuid4().hex[:20]}"
        body = make_test_event(msg_id, now)
        headers = (
            sign(scheme, secret, body, msg_id=msg_id, timestamp=timestamp, url=url, options=options)
            if scheme and secret
            else {}
        )
        sample_requests.append(ProbeRequest(url, body, headers, label=f"sample {index + 1}"))
    plan = _Plan(samples=sample_requests)
    if not (scheme and secret):
        return plan
    first = sample_requests[0]
    plan.forgeries.append(ProbeRequest(url, _tampered(first.body), first.headers, label="tampered"))
    plan.forgeries.append(ProbeRequest(url, first.body, {}, label="unsigned"))
    msg_id = f"msg_wd_{uuid.uuid4().hex[:20]}"
    body = make_test_event(msg_id, now)
    stale_ts = int(timestamp - tolerance_s - STALE_BY_S)
    stale = sign(scheme, secret, body, msg_id=msg_id, timestamp=stale_ts, url=url, options=options)
    fresh = sign(scheme, secret, body, msg_id=msg_id, timestamp=timestamp, url=url, options=options)
    if stale == fresh:
        plan.skipped["stale"] = f"the {scheme} scheme signs no timestamp, so replays cannot be refused by age"
    else:
        plan.forgeries.append(ProbeRequest(url, body, stale, label="stale"))
    return plan


# --- One endpoint ------------------------------------------------------------------------------


async def observe_endpoint(
    client: ProbeClient,
    url: str,
    *,
    profile: SenderProfile,
    options: ProbeOptions,
    samples: int = 3,
    scheme: str | None = None,
    secret: str | None = None,
    scheme_options: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    fan_out: bool = True,
) -> ProbeObservations:
    """Do every request of one probe run and return what was seen (no judgment here).

    The first sample goes alone. When it answers in good time the rest follow one after another,
    so a healthy endpoint's samples stay comparable. When it is still waiting after
    `FAN_OUT_AFTER_FRACTION` of the timeout (or timed out connecting), the other samples go at
    once, and after a slow answer the forgeries go at once too: a dead endpoint costs 1.5 timeouts
    instead of one per sample, a slow one about two answers' time however many requests. Samples
    and forgeries keep their order whatever answered first. `fan_out=False` keeps every request
    in turn (the sweep: its pool holds one request per endpoint).
    """
    say = progress or (lambda _message: None)
    now = datetime.now(UTC)
    plan = plan_requests(url, samples, scheme, secret, now, profile.tolerance_s, scheme_options)
    observations = ProbeObservations(
        url=url,
        scheme=scheme if secret else None,
        secret_fingerprint=fingerprint_secret(secret) if secret else None,
        now=now,
    )

    def send(request: ProbeRequest, diagnose_tls: bool = True) -> asyncio.Task[Exchange]:
        return asyncio.ensure_future(client.send(request, deadline_s=profile.timeout_s, diagnose_tls=diagnose_tls))

    after_s = FAN_OUT_AFTER_FRACTION * profile.timeout_s
    first_request, *rest = plan.samples
    first_task = send(first_request)
    rest_tasks: list[asyncio.Task[Exchange]] = []
    if fan_out and rest:
        await asyncio.wait({first_task}, timeout=after_s)
        if not first_task.done():
            say(f"{first_request.label} has not answered after {after_s:g} s: "
                f"sending the other {len(rest)} sample(s) at once")
            rest_tasks = [send(request) for request in rest]
    first = await first_task
    observations.samples.append(first)
    say(f"{first_request.label} of {samples}: {_describe(first)}")
    slow = bool(rest_tasks) or first.error == ErrorKind.CONNECT_TIMEOUT or first.total_ms > after_s * 1000.0
    if first.error in STOP_AFTER:
        rest = []  # retrying tells nothing new; samples already sent at once are dropped unread
    elif fan_out and slow and rest and not rest_tasks:
        rest_tasks = [send(request) for request in rest]
    forgeries = plan.forgeries if first.error is None else []
    forged_tasks = [send(forgery, diagnose_tls=False) for forgery in forgeries] if fan_out and slow else []
    for index, request in enumerate(rest):
        result = await (rest_tasks[index] if rest_tasks else send(request))
        observations.samples.append(result)
        say(f"{request.label} of {samples}: {_describe(result)}")
        if result.error in STOP_AFTER:
            break  # as a run in turn would stop here, the later samples sent at once are dropped
    await asyncio.gather(*rest_tasks)  # nothing is left running when the pool closes
    redirect = next((s for s in observations.samples if s.status_code and 300 <= s.status_code <= 399), None)
    if redirect is not None:
        observations.redirect_chain = await _follow_redirects(client, redirect, profile, options)
        say(f"followed {len(observations.redirect_chain)} redirect hop(s) for diagnosis")
    if forgeries:
        observations.enforcement["signed"] = first
        for index, forgery in enumerate(forgeries):
            result = await (forged_tasks[index] if forged_tasks else send(forgery, diagnose_tls=False))
            observations.enforcement[forgery.label] = result
            say(f"forged event ({forgery.label}): {_describe(result)}")
        observations.enforcement_skipped = dict(plan.skipped)
    return observations


async def _follow_redirects(
    client: ProbeClient, start: Exchange, profile: SenderProfile, options: ProbeOptions
) -> list[Exchange]:
    """Follow Location hop by hop through the same guard, for diagnosis only.

    One deadline covers the whole chain, starting with the request that answered 3xx: a sender
    that follows redirects gives the delivery one timeout, and a chain of slow hops must not
    stretch a 2 s probe into five times that.
    """
    chain: list[Exchange] = []
    current = start
    ends_at = time.monotonic() + profile.timeout_s - start.total_ms / 1000.0
    for _hop in range(options.max_redirect_hops):
        location = current.header("location")
        if not location:
            break
        try:
            target = str(httpx.URL(current.url).join(location))
        except (httpx.InvalidURL, ValueError):
            break
        remaining = ends_at - time.monotonic()
        if remaining <= 0:
            chain.append(_deadline_spent(target, profile.timeout_s))
            break
        hop = await client.send(ProbeRequest(target, b"{}", label="redirect hop"), deadline_s=remaining)
        chain.append(hop)
        if not (hop.status_code and 300 <= hop.status_code <= 399) or hop.error:
            break
        current = hop
    return chain


def _deadline_spent(url: str, timeout_s: float) -> Exchange:
    """The hop that was not sent because the chain had used up its one deadline."""
    return Exchange(
        url=url,
        label="redirect hop",
        deadline_s=timeout_s,
        error=ErrorKind.TIMEOUT,
        error_detail=f"not sent: the redirect chain used up the whole {timeout_s:g} s deadline",
    )


def _describe(result: Exchange) -> str:
    if result.error:
        return f"{result.error} after {result.total_ms:,.0f} ms"
    return f"{result.status_code} in {result.total_ms:,.0f} ms"


def build_outcome(observations: ProbeObservations, profile: SenderProfile, findings: list[Finding]) -> Outcome:
    """The Outcome of a probe: findings, per-sample phase timings against the timeout, tables."""
    tls = next((s.tls for s in observations.samples if s.tls is not None), None)
    metrics: dict[str, Any] = {
        "url": observations.url,
        "profile": {"name": profile.name, "label": profile.label, "timeout_s": profile.timeout_s},
        "timeout_ms": profile.timeout_s * 1000.0,
        "phases": [{"sample": s.label, **s.timings()} for s in observations.samples],
        "samples": [s.to_dict() for s in observations.samples],
        "tls": describe_session(tls),
        "redirect_chain": [
            {"url": h.url, "status": h.status_code, "error": h.error} for h in observations.redirect_chain
        ],
    }
    if observations.enforcement:
        metrics["signature"] = {
            "scheme": observations.scheme,
            "secret": observations.secret_fingerprint,
            "variants": {
                name: {"status": ex.status_code, "error": ex.error} for name, ex in observations.enforcement.items()
            },
        }
    rows = [
        {
            "sample": s.label,
            "status": s.status_code if s.status_code is not None else "",
            "error": s.error or "",
            **{k: ("" if v is None else v) for k, v in s.timings().items()},
        }
        for s in [*observations.samples, *[e for k, e in observations.enforcement.items() if k != "signed"]]
    ]
    return Outcome(
        subject=observations.url,
        findings=sort_findings(findings),
        metrics=metrics,
        tables={"samples": rows},
        kind="probe",
    )


async def probe_endpoint_async(
    url: str,
    *,
    config: Config,
    profile: SenderProfile,
    samples: int = 3,
    scheme: str | None = None,
    secret: str | None = None,
    allow: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
) -> Outcome:
    """Async form of `probe_endpoint` (for callers that already run an event loop)."""
    if samples < 1 or samples > 20:
        raise InputError("samples must be between 1 and 20", field="--samples")
    if secret is not None and not secret.strip():
        raise InputError("the secret is empty", field="--secret")
    invalid = check_url_valid(url)
    if invalid:
        return Outcome(subject=url[:300], findings=invalid, kind="probe")
    options = ProbeOptions.from_config(config, allow, ssl_context=ssl_context, resolver=resolver)
    chosen_scheme = (scheme or profile.scheme) if secret else None
    # Room for every request at once (a slow first sample fans out): nothing may queue in the pool.
    async with options.client(profile, max_connections=samples + FORGERIES) as client:
        observations = await observe_endpoint(
            client,
            url.strip(),
            profile=profile,
            options=options,
            samples=samples,
            scheme=chosen_scheme,
            secret=secret,
            scheme_options=config.get("signature", chosen_scheme) if chosen_scheme == "hmac" else None,
            progress=progress,
        )
    outcome = build_outcome(observations, profile, judge_probe(observations, profile))
    return redact_outcome(outcome, [secret])  # an endpoint may reflect the secret, in any encoding


def probe_endpoint(
    url: str,
    *,
    config: Config,
    profile: SenderProfile,
    samples: int = 3,
    scheme: str | None = None,
    secret: str | None = None,
    allow: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
) -> Outcome:
    """Probe one endpoint as `profile`'s sender would and judge it.

    The event is signed with `scheme` (default: the profile's) when `secret` is given, and then
    forged variants test signature enforcement. `allow` adds allowlist entries (CIDRs, hosts).
    Outcome.metrics["phases"] holds per-sample DNS/connect/TLS/TTFB/total timings and
    metrics["timeout_ms"] the window they are judged against.
    """
    return run_sync(
        probe_endpoint_async(
            url,
            config=config,
            profile=profile,
            samples=samples,
            scheme=scheme,
            secret=secret,
            allow=allow,
            progress=progress,
            ssl_context=ssl_context,
            resolver=resolver,
        )
    )


# --- Many endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRow:
    """One endpoint of a health sweep."""

    url: str
    verdict: str  # healthy, warning, failing, error
    status_code: int | None
    error: str | None
    total_ms: float | None
    ttfb_ms: float | None
    codes: tuple[str, ...]
    headline: str
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "verdict": self.verdict,
            "status_code": self.status_code,
            "error": self.error,
            "total_ms": None if self.total_ms is None else round(self.total_ms, 1),
            "ttfb_ms": None if self.ttfb_ms is None else round(self.ttfb_ms, 1),
            "codes": " ".join(self.codes),
            "headline": self.headline,
        }


def _sweep_row(url: str, observations: ProbeObservations | None, findings: list[Finding]) -> SweepRow:
    ordered = sort_findings(findings)
    statuses = {f.status for f in ordered}
    verdict = (
        "failing" if Status.FAIL in statuses else "error" if Status.ERROR in statuses
        else "warning" if Status.WARN in statuses else "healthy"
    )
    sample = observations.samples[-1] if observations and observations.samples else None
    headline = ordered[0].title if ordered else ""
    return SweepRow(
        url=url,
        verdict=verdict,
        status_code=sample.status_code if sample else None,
        error=sample.error if sample else "invalid_url",
        total_ms=sample.total_ms if sample else None,
        ttfb_ms=sample.ttfb_ms if sample else None,
        codes=tuple(f.code for f in ordered if f.status is not Status.PASS),
        headline=headline,
        findings=tuple(ordered),
    )


async def probe_many_async(
    urls: Sequence[str],
    *,
    config: Config,
    profile: SenderProfile,
    samples: int = 1,
    concurrency: int = 50,
    allow: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
) -> list[SweepRow]:
    """Async form of `probe_many`."""
    if concurrency < 1 or concurrency > 1000:
        raise InputError("concurrency must be between 1 and 1000", field="--concurrency")
    options = ProbeOptions.from_config(config, allow, ssl_context=ssl_context, resolver=resolver)
    # The semaphore equals the pool size: requests must never queue inside httpcore's pool.
    gate = asyncio.Semaphore(concurrency)
    done = 0
    rows: list[SweepRow | None] = [None] * len(urls)

    async def one(index: int, url: str, client: ProbeClient) -> None:
        nonlocal done
        invalid = check_url_valid(url)
        if invalid:
            rows[index] = _sweep_row(url, None, invalid)
        else:
            async with gate:  # the gate bounds open connections; judging happens outside it
                # In turn: the pool holds one request per endpoint, a fan-out would queue in it.
                observations = await observe_endpoint(
                    client, url.strip(), profile=profile, options=options, samples=samples, fan_out=False
                )
            rows[index] = _sweep_row(url, observations, judge_probe(observations, profile))
        done += 1
        if progress is not None:
            progress(done, len(urls))

    async with options.client(profile, max_connections=concurrency) as client:
        await asyncio.gather(*(one(i, u, client) for i, u in enumerate(urls)))
    return [r for r in rows if r is not None]


def probe_many(
    urls: Sequence[str],
    *,
    config: Config,
    profile: SenderProfile,
    samples: int = 1,
    concurrency: int = 50,
    allow: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
) -> list[SweepRow]:
    """Probe many endpoints (a Product Ops health sweep), `concurrency` at a time, one row each.

    `progress(done, total)` is called after each endpoint. Rows keep the order of `urls`.
    """
    return run_sync(
        probe_many_async(
            urls,
            config=config,
            profile=profile,
            samples=samples,
            concurrency=concurrency,
            allow=allow,
            progress=progress,
            ssl_context=ssl_context,
            resolver=resolver,
        )
    )


def sweep_outcome(rows: Sequence[SweepRow], profile: SenderProfile) -> Outcome:
    """A sweep as one Outcome: a row per endpoint, and the non-passing findings of each."""
    findings = [f for row in rows for f in row.findings if f.status is not Status.PASS]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.verdict] = counts.get(row.verdict, 0) + 1
    return Outcome(
        subject=f"health sweep of {len(rows)} endpoints",
        findings=findings,
        metrics={"endpoints": len(rows), "verdicts": counts, "profile": profile.name},
        tables={"endpoints": [row.to_dict() for row in rows]},
        kind="sweep",
    )


# --- One delivery, for the redeliver button ----------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What one delivery got back: status and timing, or the kind of error."""

    status_code: int | None
    duration_ms: float
    body_snippet: str
    error: str | None
    error_detail: str
    timings: Mapping[str, float | None]

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code <= 299


def send_event(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    config: Config,
    allow: Sequence[str] = (),
    timeout_s: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> SendResult:
    """Deliver one event through the guard (the app's redeliver button)."""
    parsed_problem = check_url_valid(url)
    if parsed_problem:
        return SendResult(None, 0.0, "", "invalid_url", parsed_problem[0].summary, {})
    profile = config.ours.with_timeout(timeout_s)
    options = ProbeOptions.from_config(config, allow, ssl_context=ssl_context)

    async def deliver() -> Exchange:
        async with options.client(profile, max_connections=1) as client:
            request = ProbeRequest(url.strip(), body, dict(headers), label="redelivery")
            return await client.send(request, deadline_s=profile.timeout_s)

    result = run_sync(deliver())
    return SendResult(
        status_code=result.status_code,
        duration_ms=result.total_ms,
        body_snippet=result.body_snippet[:1000],
        error=result.error,
        error_detail=result.error_detail,
        timings=result.timings(),
    )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also when the caller's thread already runs a loop."""
    try:
        asyncio.get_running_loop()
        loop_running = True
    except RuntimeError:
        loop_running = False
    if not loop_running:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
