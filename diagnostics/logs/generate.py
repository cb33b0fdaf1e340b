"""A seeded generator of realistic delivery logs with planted truth.

Used by the tests (each analyzer must find exactly what was planted), by bench/bench_logs.py
(millions of rows) and by the app's demo workspace. The log covers `days` days for one customer:

- scenario endpoints, simulated attempt by attempt with the sender's retry schedule (with ±20%
  jitter), each planting one story: duplicates after timeouts, manual resends, a bulk replay and
  overlapping subscriptions (`ep_dupes`, `ep_dupes_mirror`); a night-long outage (`ep_outage`); a
  secret rotation that flips 2xx to 401 (`ep_rotated`); an event type that always fails and
  exhausts its retries (`ep_exhaust`); a slow endpoint creeping toward the timeout (`ep_slow`); a
  two-hour redirect after a domain move (`ep_redirect`); 429 episodes (`ep_ratelimited`); events of
  one resource delivered out of order (`ep_ordering`);
- healthy endpoints (`ep_healthy_N`) filling the rest of the requested size, generated with
  numpy in bulk: fast answers, a rare 503 retried once 5 s later.

`GeneratedLog.truth` records what was planted, computed from the simulated rows themselves.
Every event has a realistic JSON payload (`payload`, `payload_version`) unless payloads=False.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)
DEFAULT_SCHEDULE_S = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_TIMEOUT_S = 15.0
JITTER = 0.2
EVENT_TYPES = (
    "invoice.paid",
    "invoice.payment_failed",
    "customer.created",
    "customer.updated",
    "subscription.created",
    "subscription.updated",
    "order.created",
    "order.fulfilled",
    "payment.refunded",
)
EXHAUSTING_TYPE = "report.generated"
PAYLOAD_VERSIONS = ("2025-06-01", "2024-11-15")
SCENARIO_ENDPOINTS = (
    "ep_dupes",
    "ep_dupes_mirror",
    "ep_outage",
    "ep_rotated",
    "ep_exhaust",
    "ep_slow",
    "ep_redirect",
    "ep_ratelimited",
    "ep_ordering",
)
HEALTHY_ENDPOINTS = 5

# One attempt's answer: (status_code or None, error kind or None, duration in ms).
Answer = tuple[int | None, str | None, float]


@dataclass
class Truth:
    """What was planted, keyed the way the analyzers report it."""

    duplicates: dict[tuple[str, str], str] = field(default_factory=dict)  # (endpoint, event_id) -> cause
    outages: list[dict[str, Any]] = field(default_factory=list)  # endpoint, start, end, recovered_at
    status_changes: list[dict[str, Any]] = field(default_factory=list)  # endpoint, at, status
    exhausted: dict[str, set[str]] = field(default_factory=dict)  # endpoint -> event ids
    slow_endpoints: set[str] = field(default_factory=set)
    redirect_endpoints: set[str] = field(default_factory=set)
    rate_limited: dict[str, int] = field(default_factory=dict)  # endpoint -> episodes
    out_of_order: set[tuple[str, str]] = field(default_factory=set)  # (endpoint, resource id)
    disable_risk: dict[str, datetime] = field(default_factory=dict)  # endpoint -> failing since


@dataclass
class GeneratedLog:
    """Canonical attempt rows (Arrow, time-ordered) and the planted truth."""

    table: pa.Table
    truth: Truth
    start: datetime
    end: datetime
    timeout_s: float
    retry_schedule_s: tuple[float, ...]

    def write(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write as csv, csv.gz, jsonl, jsonl.gz or parquet (from the suffix unless `fmt`)."""
        path = Path(path)
        fmt = fmt or "".join(path.suffixes).lstrip(".")
        table = self.table.set_column(
            self.table.schema.get_field_index("attempted_at"),
            "attempted_at",
            pc.strftime(self.table["attempted_at"], format="%Y-%m-%dT%H:%M:%SZ"),
        ) if fmt != "parquet" else self.table
        if fmt == "parquet":
            pq.write_table(table, path)
        elif fmt in ("csv", "csv.gz"):
            with pa.CompressedOutputStream(str(path), "gzip") if fmt == "csv.gz" else pa.OSFile(str(path), "wb") as out:
                pacsv.write_csv(table, out)
        elif fmt in ("jsonl", "jsonl.gz", "json"):
            opener = gzip.open if fmt.endswith(".gz") else open
            with opener(path, "wt", encoding="utf-8") as fh:  # type: ignore[operator]
                for row in table.to_pylist():
                    fh.write(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n")
        else:
            raise ValueError(f"unknown format {fmt!r}")
        return path


class _Simulator:
    """Deliver events to scenario endpoints with the retry schedule, recording every attempt."""

    def __init__(self, rng: np.random.Generator, schedule: tuple[float, ...], timeout_s: float, end: datetime,
                 payloads: bool) -> None:
        self.rng = rng
        self.schedule = schedule
        self.timeout_s = timeout_s
        self.end = end
        self.payloads = payloads
        self.rows: list[dict[str, Any]] = []
        self.counter = 0

    def new_event(self, event_type: str, created: datetime, resource: str | None = None) -> dict[str, Any]:
        self.counter += 1
        event_id = f"evt_{self.counter:07d}"
        resource = resource or f"obj_{self.counter:07d}"
        version = PAYLOAD_VERSIONS[self.counter % 7 == 0]
        payload = None
        if self.payloads:
            payload = json.dumps(_payload(event_id, event_type, created, resource, version, self.counter),
                                 separators=(",", ":"))
        return {"event_id": event_id, "event_type": event_type, "created": created, "resource": resource,
                "payload": payload, "payload_version": version if self.payloads else None}

    def attempt(self, event: dict[str, Any], endpoint: str, url: str, n: int, at: datetime, answer: Answer,
                trigger: str = "auto") -> bool:
        status, error, duration = answer
        self.rows.append({
            "event_id": event["event_id"], "event_type": event["event_type"], "endpoint": endpoint, "url": url,
            "attempt": n, "attempted_at": at, "status_code": status, "error": error,
            "duration_ms": round(duration, 1), "trigger": trigger,
            "response_body": _body(status), "payload": event["payload"], "payload_version": event["payload_version"],
        })
        return status is not None and 200 <= status <= 299

    def deliver(self, event: dict[str, Any], endpoint: str, url: str, answer_at: Callable[[datetime, int], Answer],
                at: datetime | None = None) -> tuple[str, datetime]:
        """Attempt until success or the schedule runs out; ('delivered'|'exhausted'|'pending', last time)."""
        at = at or event["created"]
        for n in range(1, len(self.schedule) + 2):
            if at >= self.end:
                return "pending", at
            if self.attempt(event, endpoint, url, n, at, answer_at(at, n)):
                return "delivered", at
            if n > len(self.schedule):
                return "exhausted", at
            delay = self.schedule[n - 1] * (1 + self.rng.uniform(-JITTER, JITTER))
            at = at + timedelta(seconds=float(delay))
        return "exhausted", at

    def ok(self, median_ms: float = 120.0) -> Answer:
        return 200, None, float(self.rng.lognormal(np.log(median_ms), 0.35))


def _payload(event_id: str, event_type: str, created: datetime, resource: str, version: str, n: int) -> dict[str, Any]:
    kind = event_type.split(".")[0]
    data: dict[str, Any] = {"id": resource, "object": kind, "created": int(created.timestamp())}
    if kind in ("invoice", "payment", "order"):
        data.update(amount=(n * 137) % 50_000 + 500, currency=("usd", "eur", "gbp")[n % 3],
                    customer=f"cus_{n % 997:05d}", status=event_type.split(".")[1])
    elif kind == "customer":
        data.update(email=f"customer{n % 997}@example.com", name=f"Customer {n % 997}")
    elif kind == "subscription":
        data.update(customer=f"cus_{n % 997:05d}", plan=("basic", "pro", "team")[n % 3],
                    status="active" if n % 11 else "past_due")
    else:
        data.update(report_type="monthly_usage", rows=n % 100_000, url=f"https://files.example.com/r/{resource}.csv")
    if version == PAYLOAD_VERSIONS[1]:  # the older schema nests the object and names fields differently
        data = {"object": data}
    return {"id": event_id, "type": event_type, "api_version": version,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "data": data}


def _body(status: int | None) -> str | None:
    if status is None:
        return None
    return {200: '{"received":true}', 401: '{"error":"invalid signature"}', 429: '{"error":"rate limited"}',
            301: "<html>Moved Permanently</html>", 500: '{"error":"payload too large to process"}',
            503: "Service Unavailable"}.get(status, "")


SCENARIO_DAYS = 3.0


def generate_log(
    *,
    seed: int = 7,
    attempts: int = 30_000,
    start: datetime = DEFAULT_START,
    days: float = 3.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    retry_schedule_s: tuple[float, ...] = DEFAULT_SCHEDULE_S,
    payloads: bool = True,
    scenarios: bool = True,
) -> GeneratedLog:
    """`attempts` canonical rows over `days` days with the scenarios planted (see module doc).

    The scenarios alone take about 12,000 rows (3 days); a smaller `attempts` gives just them.
    Their timeline (a night-long outage, a flip on day 2, a replay on day 3) needs at least
    SCENARIO_DAYS days; shorter logs are generated with `scenarios=False`.
    """
    if scenarios and days < SCENARIO_DAYS:
        raise ValueError(f"the planted scenarios span {SCENARIO_DAYS:g} days: use days >= {SCENARIO_DAYS:g} "
                         "or scenarios=False")
    rng = np.random.default_rng(seed)
    end = start + timedelta(days=days)
    sim = _Simulator(rng, tuple(retry_schedule_s), timeout_s, end, payloads)
    truth = Truth()
    if scenarios:
        _plant_scenarios(sim, truth, start, end)
    scenario_rows = pa.Table.from_pylist(sim.rows, schema=SCHEMA) if sim.rows else SCHEMA.empty_table()
    background = _healthy_background(rng, max(attempts - len(sim.rows), 0), start, end, payloads, sim.counter)
    table = pa.concat_tables([scenario_rows, background]).sort_by([("attempted_at", "ascending"),
                                                                    ("event_id", "ascending")])
    return GeneratedLog(table=table, truth=truth, start=start, end=end, timeout_s=timeout_s,
                        retry_schedule_s=tuple(retry_schedule_s))


SCHEMA = pa.schema([
    ("event_id", pa.string()), ("event_type", pa.string()), ("endpoint", pa.string()), ("url", pa.string()),
    ("attempt", pa.int32()), ("attempted_at", pa.timestamp("us", tz="UTC")), ("status_code", pa.int32()),
    ("error", pa.string()), ("duration_ms", pa.float64()), ("trigger", pa.string()),
    ("response_body", pa.string()), ("payload", pa.string()), ("payload_version", pa.string()),
])


def _every(start: datetime, end: datetime, minutes: float, rng: np.random.Generator) -> list[datetime]:
    """Event creation times roughly every `minutes`, jittered, inside [start, end)."""
    times, t = [], start + timedelta(minutes=float(rng.uniform(0, minutes)))
    while t < end:
        times.append(t)
        t += timedelta(minutes=float(minutes * rng.uniform(0.6, 1.4)))
    return times


def _plant_scenarios(sim: _Simulator, truth: Truth, start: datetime, end: datetime) -> None:
    rng = sim.rng
    day = timedelta(days=1)
    types = EVENT_TYPES

    def pick_type() -> str:
        return types[int(rng.integers(len(types)))]

    # Duplicates: timeouts then success, manual resends, a bulk replay, overlapping subscriptions.
    url_dupes, url_mirror = "https://shop.example.com/webhooks", "https://shop.example.com/webhooks/v2"
    events = _every(start, end - timedelta(hours=3), 6, rng)
    timeout_idx = set(rng.choice(len(events), 8, replace=False).tolist())
    rest = [i for i in range(len(events)) if i not in timeout_idx]
    resend_idx = set(rng.choice(rest, 4, replace=False).tolist())
    rest = [i for i in rest if i not in resend_idx]
    replay_idx = set(rng.choice(rest, 5, replace=False).tolist())
    rest = [i for i in rest if i not in replay_idx]
    mirror_idx = set(rng.choice(rest, 6, replace=False).tolist())
    replay_at = start + 2 * day + timedelta(hours=1)
    for i, created in enumerate(events):
        event = sim.new_event(pick_type(), created)
        if i in timeout_idx:
            # Cut off at the timeout: the receiver probably processed it, then the retry succeeded.
            first = (None, "timeout", sim.timeout_s * 1000.0)
            sim.deliver(event, "ep_dupes", url_dupes, lambda _t, n, first=first: first if n == 1 else sim.ok())
            truth.duplicates[("ep_dupes", event["event_id"])] = "timeout-then-success"
            continue
        _, last = sim.deliver(event, "ep_dupes", url_dupes, lambda _t, _n: sim.ok())
        if i in resend_idx:
            sim.attempt(event, "ep_dupes", url_dupes, 2, last + timedelta(minutes=42), sim.ok(), trigger="manual")
            truth.duplicates[("ep_dupes", event["event_id"])] = "manual-resend"
        elif i in replay_idx and created < replay_at:
            sim.attempt(event, "ep_dupes", url_dupes, 2, replay_at + timedelta(seconds=i % 50), sim.ok(),
                        trigger="replay")
            truth.duplicates[("ep_dupes", event["event_id"])] = "bulk-replay"
        elif i in mirror_idx:
            sim.deliver(event, "ep_dupes_mirror", url_mirror, lambda _t, _n: sim.ok(), at=created)
            truth.duplicates[("ep_dupes", event["event_id"])] = "several-endpoints"

    # A night-long outage: connection refused (and some 503s) from 22:00 to 06:00.
    outage_start, outage_end = start + timedelta(hours=22), start + timedelta(hours=30)

    def outage(at: datetime, _n: int) -> Answer:
        if outage_start <= at < outage_end:
            return (503, None, 30.0) if rng.random() < 0.25 else (None, "connection_refused", 4.0)
        return sim.ok()

    for created in _every(start, end, 5, rng):
        sim.deliver(sim.new_event(pick_type(), created), "ep_outage", "https://api.acme-retail.example/hooks", outage)
    _record_failure_run(sim, truth, "ep_outage", outage_start, outage_end)

    # A secret rotation: every answer is 401 from day 2, 14:00 on.
    flip = start + day + timedelta(hours=14)

    def rotated(at: datetime, _n: int) -> Answer:
        return (401, None, 18.0) if at >= flip else sim.ok(90.0)

    exhausted: set[str] = set()
    for created in _every(start, end, 5, rng):
        event = sim.new_event(pick_type(), created)
        outcome, _ = sim.deliver(event, "ep_rotated", "https://billing.example.org/webhook", rotated)
        if outcome == "exhausted":
            exhausted.add(event["event_id"])
    first_401 = min(r["attempted_at"] for r in sim.rows if r["endpoint"] == "ep_rotated" and r["status_code"] == 401)
    truth.status_changes.append({"endpoint": "ep_rotated", "at": first_401, "status": 401})
    truth.exhausted["ep_rotated"] = exhausted
    truth.disable_risk["ep_rotated"] = first_401

    # One event type always fails (HTTP 500) and exhausts its retries; the rest is fine.
    exhausted = set()
    for created in _every(start, end, 4, rng):
        kind = EXHAUSTING_TYPE if rng.random() < 0.04 else pick_type()
        event = sim.new_event(kind, created)
        answer: Callable[[datetime, int], Answer] = (
            (lambda _t, _n: (500, None, 250.0)) if kind == EXHAUSTING_TYPE else (lambda _t, _n: sim.ok())
        )
        outcome, _ = sim.deliver(event, "ep_exhaust", "https://reports.example.net/in", answer)
        if outcome == "exhausted":
            exhausted.add(event["event_id"])
    truth.exhausted["ep_exhaust"] = exhausted

    # A slow endpoint: answers take 9 s, creeping to 13.5 s by the end (timeout 15 s).
    span = (end - start).total_seconds()

    def slow(at: datetime, _n: int) -> Answer:
        median = 9000.0 + 4500.0 * (at - start).total_seconds() / span
        return 200, None, float(min(rng.lognormal(np.log(median), 0.08), sim.timeout_s * 1000 * 0.97))

    for created in _every(start, end, 6, rng):
        sim.deliver(sim.new_event(pick_type(), created), "ep_slow", "https://erp.example.io/webhooks/in", slow)
    truth.slow_endpoints.add("ep_slow")

    # A domain move: 301 for two hours on day 1, then fixed.
    moved_from, moved_to = start + timedelta(hours=10), start + timedelta(hours=12)

    def redirect(at: datetime, _n: int) -> Answer:
        return (301, None, 12.0) if moved_from <= at < moved_to else sim.ok()

    for created in _every(start, end, 5, rng):
        sim.deliver(sim.new_event(pick_type(), created), "ep_redirect", "http://legacy.example.com/hook", redirect)
    truth.redirect_endpoints.add("ep_redirect")

    # Rate limiting: three 15-minute episodes of 429 (a bulk import on the receiver's side).
    episodes = [start + timedelta(hours=h) for h in (9, 33, 57)]

    def limited(at: datetime, _n: int) -> Answer:
        if any(e <= at < e + timedelta(minutes=15) for e in episodes):
            return 429, None, 8.0
        return sim.ok()

    for created in _every(start, end, 2, rng):
        sim.deliver(sim.new_event(pick_type(), created), "ep_ratelimited", "https://crm.example.com/api/hooks",
                    limited)
    truth.rate_limited["ep_ratelimited"] = len(episodes)

    # Out of order: subscription.created fails once (503), subscription.updated of the same
    # subscription arrives in between, the retry 5 s later lands after it.
    url_ordering = "https://app.example.dev/webhooks"
    for created in _every(start, end, 8, rng):
        sim.deliver(sim.new_event(pick_type(), created), "ep_ordering", url_ordering, lambda _t, _n: sim.ok())
    for k, hour in enumerate((7, 31, 50)):
        resource = f"sub_{4200 + k}"
        t0 = start + timedelta(hours=hour, minutes=3)
        created_evt = sim.new_event("subscription.created", t0, resource)
        updated_evt = sim.new_event("subscription.updated", t0 + timedelta(seconds=2), resource)
        sim.deliver(created_evt, "ep_ordering", url_ordering,
                    lambda _t, n: (503, None, 40.0) if n == 1 else sim.ok())
        sim.deliver(updated_evt, "ep_ordering", url_ordering, lambda _t, _n: sim.ok())
        truth.out_of_order.add(("ep_ordering", resource))


def _record_failure_run(sim: _Simulator, truth: Truth, endpoint: str, start: datetime, end: datetime) -> None:
    failed = [r["attempted_at"] for r in sim.rows if r["endpoint"] == endpoint and start <= r["attempted_at"] < end]
    later_ok = [r["attempted_at"] for r in sim.rows
                if r["endpoint"] == endpoint and r["attempted_at"] >= end and r["status_code"] == 200]
    truth.outages.append({"endpoint": endpoint, "start": min(failed), "end": max(failed),
                          "recovered_at": min(later_ok) if later_ok else None})


def _healthy_background(rng: np.random.Generator, rows: int, start: datetime, end: datetime, payloads: bool,
                        first_event: int) -> pa.Table:
    """`rows` attempts on healthy endpoints, vectorized: ~0.5% get a 503 and a retry 5 s later."""
    if rows <= 0:
        return SCHEMA.empty_table()
    n_events = max(round(rows / 1.005), 1)
    retried = np.zeros(n_events, dtype=bool)
    retried[rng.choice(n_events, min(rows - n_events, n_events), replace=False)] = True
    span_us = int((end - start).total_seconds() * 1e6) - 10_000_000
    start_us = int(start.timestamp() * 1e6)
    created = start_us + rng.integers(0, span_us, n_events)
    endpoint_idx = rng.integers(0, HEALTHY_ENDPOINTS, n_events)
    type_idx = rng.integers(0, len(EVENT_TYPES), n_events)
    numbers = np.arange(first_event + 1, first_event + 1 + n_events)
    # Every event gets attempt 1; retried events get attempt 2 five seconds later.
    idx = np.concatenate([np.arange(n_events), np.nonzero(retried)[0]])
    attempt = np.concatenate([np.ones(n_events, np.int32), np.full(int(retried.sum()), 2, np.int32)])
    at = created[idx] + np.where(attempt == 2, 5_000_000 + rng.integers(0, 1_000_000, idx.size), 0)
    failed = (attempt == 1) & retried[idx]
    status = np.where(failed, 503, 200).astype(np.int32)
    duration = np.where(failed, 35.0, np.round(rng.lognormal(np.log(120.0), 0.35, idx.size), 1))
    event_ids = pc.binary_join_element_wise("evt_", pc.utf8_lpad(pa.array(numbers[idx]).cast(pa.string()), 7, "0"),
                                            "")
    endpoints = pc.binary_join_element_wise("ep_healthy_", pa.array(endpoint_idx[idx]).cast(pa.string()), "")
    types = pc.take(pa.array(EVENT_TYPES), pa.array(type_idx[idx]))
    urls = pc.binary_join_element_wise("https://hooks", pa.array(endpoint_idx[idx]).cast(pa.string()),
                                       ".example.com/in", "")
    body = pc.if_else(pa.array(failed), pa.scalar("Service Unavailable"), pa.scalar('{"received":true}'))
    if payloads:
        created_iso = pc.strftime(pa.array(created[idx], pa.timestamp("us", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
        resource = pc.binary_join_element_wise("obj_", pa.array(numbers[idx]).cast(pa.string()), "")
        amounts = pa.array((numbers[idx] * 137) % 50_000 + 500).cast(pa.string())
        payload = pc.binary_join_element_wise(
            '{"id":"', event_ids, '","type":"', types, '","api_version":"', PAYLOAD_VERSIONS[0],
            '","created_at":"', created_iso, '","data":{"id":"', resource, '","object":"',
            pc.take(pa.array([t.split(".")[0] for t in EVENT_TYPES]), pa.array(type_idx[idx])),
            '","amount":', amounts, ',"currency":"usd"}}', "",
        )
        versions = pa.array(np.full(idx.size, PAYLOAD_VERSIONS[0]))
    else:
        payload = pa.nulls(idx.size, pa.string())
        versions = pa.nulls(idx.size, pa.string())
    return pa.table({
        "event_id": event_ids, "event_type": types, "endpoint": endpoints, "url": urls,
        "attempt": pa.array(attempt), "attempted_at": pa.array(at, pa.timestamp("us", tz="UTC")),
        "status_code": pa.array(status), "error": pa.nulls(idx.size, pa.string()),
        "duration_ms": pa.array(duration), "trigger": pa.array(np.full(idx.size, "auto")),
        "response_body": body, "payload": payload, "payload_version": versions,
    }, schema=SCHEMA)
