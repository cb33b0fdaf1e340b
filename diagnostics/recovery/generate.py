"""A seeded delivery log for one endpoint with every replay-plan category planted.

The target endpoint (`ep_target`) receives a steady stream of events that succeed (some after a
503 and a retry) until an outage over the last `outage_hours` of the log, during which every
attempt fails: the events created then are still inside the retry schedule (`pending`), each with
its own last error (connection refused, 500, DNS, connection reset, timeout, 503). Before the
outage, scripted events fail on every automatic attempt and so exhaust their retries; the last
attempt decides the category (earlier attempts deliberately differ):
- never_reached: last error connection_refused, dns, tls or blocked, and an event whose manual
  resend after exhaustion hit a DNS failure (the latest attempt counts, whatever the trigger);
- ambiguous: last error timeout, connection_reset (after refusals) or protocol;
- rejected: last status 500 (after timeouts), 401, 301 or 410;
- delivered (not in the plan): a retry, a manual resend or a bulk replay that got a 2xx.
A neighbour endpoint shares some event ids (delivered there, lost at the target and the reverse)
and has lost events of its own, none of which belong to the target's plan.

Attempt times follow the retry schedule with ±20% jitter and are whole seconds, so every file
format carries them exactly. `RecoveryTruth` is the planted answer: the category of every event
that never got a 2xx at the target, the nominal next retry and retry exhaustion of each pending
event (last automatic attempt + the schedule's delays, as the plan must compute them), and the
start of the failure streak.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from diagnostics.logs.generate import (
    DEFAULT_SCHEDULE_S,
    DEFAULT_START,
    EVENT_TYPES,
    JITTER,
    SCHEMA,
    GeneratedLog,
    Truth,
)

TARGET = "ep_target"
NEIGHBOUR = "ep_neighbour"
Answer = tuple[int | None, str | None]
OK: Answer = (200, None)
OUTAGE_ANSWERS: tuple[Answer, ...] = (
    (None, "connection_refused"), (500, None), (None, "dns"), (None, "connection_reset"), (None, "timeout"),
    (503, None),
)
# name -> (category or "delivered", answers of the automatic attempts, then extra (trigger, answer) attempts)
SCRIPTS: dict[str, tuple[str, tuple[Answer, ...], tuple[tuple[str, Answer], ...]]] = {
    "refused": ("never_reached", ((None, "timeout"),) * 7 + ((None, "connection_refused"),), ()),
    "dns": ("never_reached", ((503, None),) * 7 + ((None, "dns"),), ()),
    "tls": ("never_reached", ((None, "tls"),) * 8, ()),
    "blocked": ("never_reached", ((None, "connection_refused"),) * 7 + ((None, "blocked"),), ()),
    "manual_dns": ("never_reached", ((500, None),) * 8, (("manual", (None, "dns")),)),
    "timeout": ("ambiguous", ((None, "connection_refused"),) * 7 + ((None, "timeout"),), ()),
    "reset": ("ambiguous", ((None, "connection_refused"),) * 7 + ((None, "connection_reset"),), ()),
    "protocol": ("ambiguous", ((502, None),) * 7 + ((None, "protocol"),), ()),
    "status_500": ("rejected", ((None, "timeout"),) * 7 + ((500, None),), ()),
    "status_401": ("rejected", ((401, None),) * 8, ()),
    "status_301": ("rejected", ((None, "dns"),) * 7 + ((301, None),), ()),
    "status_410": ("rejected", ((410, None),) * 8, ()),
    "retry_ok": ("delivered", ((None, "timeout"),) * 3 + (OK,), ()),
    "manual_ok": ("delivered", ((500, None),) * 8, (("manual", OK),)),
    "replay_ok": ("delivered", ((None, "connection_refused"),) * 8, (("replay", OK),)),
}


@dataclass
class RecoveryTruth:
    """What was planted at the target endpoint."""

    endpoint: str = TARGET
    categories: dict[str, set[str]] = field(default_factory=dict)  # category -> event ids (no 2xx)
    delivered: set[str] = field(default_factory=set)  # events with a 2xx at the target
    first_at: dict[str, datetime] = field(default_factory=dict)  # event id -> first attempt at the target
    last_status: dict[str, int] = field(default_factory=dict)  # rejected event -> its last status
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> next_retry_at, retries_exhausted_at
    streak_started_at: datetime | None = None
    last_attempt_at: datetime | None = None
    neighbour_only_lost: set[str] = field(default_factory=set)  # lost at the neighbour, never sent to the target

    def category_of(self, event_id: str) -> str | None:
        return next((c for c, ids in self.categories.items() if event_id in ids), None)


@dataclass
class RecoveryLog:
    table: pa.Table
    truth: RecoveryTruth
    start: datetime
    end: datetime
    retry_schedule_s: tuple[float, ...]

    def write(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write as csv, jsonl or parquet (the canonical generator's writer)."""
        log = GeneratedLog(table=self.table, truth=Truth(), start=self.start, end=self.end, timeout_s=15.0,
                           retry_schedule_s=self.retry_schedule_s)
        return log.write(path, fmt)


class _Sim:
    def __init__(self, rng: np.random.Generator, schedule: tuple[float, ...], end: datetime) -> None:
        self.rng, self.schedule, self.end = rng, schedule, end
        self.rows: list[dict[str, Any]] = []
        self.counter = 0

    def new_id(self) -> str:
        self.counter += 1
        return f"evt_{self.counter:07d}"

    def record(self, event_id: str, event_type: str, endpoint: str, n: int, at: datetime, answer: Answer,
               trigger: str = "auto") -> None:
        status, error = answer
        self.rows.append({
            "event_id": event_id, "event_type": event_type, "endpoint": endpoint,
            "url": f"https://{endpoint.replace('_', '-')}.customer.example/webhooks", "attempt": n,
            "attempted_at": at, "status_code": status, "error": error,
            "duration_ms": 15000.0 if error == "timeout" else round(float(self.rng.uniform(3, 400)), 1),
            "trigger": trigger, "response_body": None if status is None else ('{"ok":true}' if status < 300
                                                                             else f'{{"error":"status {status}"}}'),
            "payload": json.dumps({"id": event_id, "type": event_type, "data": {"n": self.counter}},
                                  separators=(",", ":")),
            "payload_version": None,
        })

    def deliver(self, event_id: str, event_type: str, endpoint: str, created: datetime,
                answer: Any) -> tuple[str, int, datetime]:
        """Automatic attempts until a 2xx, the schedule's end or the log's end:
        ('delivered'|'exhausted'|'pending', attempts, time of the last attempt)."""
        at, n = created, 1
        while True:
            reply = answer(n, at)
            self.record(event_id, event_type, endpoint, n, at, reply)
            if reply[0] is not None and 200 <= reply[0] <= 299:
                return "delivered", n, at
            if n > len(self.schedule):
                return "exhausted", n, at
            nxt = at + timedelta(seconds=round(self.schedule[n - 1] * (1 + self.rng.uniform(-JITTER, JITTER))))
            if nxt >= self.end:
                return "pending", n, at
            at, n = nxt, n + 1


def generate_recovery_log(
    *,
    seed: int = 11,
    start: datetime = DEFAULT_START,
    days: float = 3.0,
    every_seconds: float = 600.0,
    outage_hours: float = 12.0,
    copies: int = 3,
    retry_schedule_s: tuple[float, ...] = DEFAULT_SCHEDULE_S,
) -> RecoveryLog:
    """The log described in the module doc; `every_seconds` sets the size of the healthy stream
    (600 s: about 450 events a day; 0.47 s: about a million attempts over 3 days)."""
    rng = np.random.default_rng(seed)
    end = start + timedelta(days=days)
    outage_start = end - timedelta(hours=outage_hours)
    sim = _Sim(rng, tuple(float(s) for s in retry_schedule_s), end)
    truth = RecoveryTruth(categories={c: set() for c in ("never_reached", "ambiguous", "rejected", "pending")})
    scripted_until = outage_start - timedelta(seconds=1.25 * sum(retry_schedule_s) + 7200)
    if scripted_until <= start:
        raise ValueError("the log is too short for the scripted events to exhaust their retries before the outage")

    def types(i: int) -> str:
        return EVENT_TYPES[i % len(EVENT_TYPES)]

    # Scripted events: each exhausts its retries (or is delivered) before the outage.
    span = (scripted_until - start).total_seconds()
    for k, (name, (category, autos, extras)) in enumerate(sorted(SCRIPTS.items())):
        for c in range(copies):
            event_id, event_type = sim.new_id(), types(k + c)
            created = start + timedelta(seconds=round(float(rng.uniform(0, span))))
            outcome, n, last = sim.deliver(event_id, event_type, TARGET, created, lambda n, _at, a=autos: a[n - 1])
            assert outcome == ("delivered" if autos[-1] == OK else "exhausted"), (name, outcome)
            for trigger, reply in extras:
                last = last + timedelta(hours=1)
                sim.record(event_id, event_type, TARGET, n + 1, last, reply, trigger)
            truth.first_at[event_id] = created
            if category == "delivered":
                truth.delivered.add(event_id)
            else:
                truth.categories[category].add(event_id)
                final = extras[-1][1] if extras else autos[-1]
                if category == "rejected":
                    truth.last_status[event_id] = int(final[0])  # type: ignore[arg-type]
    # The steady stream: 2xx (every 7th after a 503) until the outage, then failures to the end.
    t, i = start + timedelta(seconds=30), 0
    while t < end:
        event_id, event_type = sim.new_id(), types(i)
        if t >= outage_start:
            failure = OUTAGE_ANSWERS[i % len(OUTAGE_ANSWERS)]
            outcome, n, last = sim.deliver(event_id, event_type, TARGET, t, lambda _n, _at, f=failure: f)
            assert outcome == "pending", outcome
            truth.categories["pending"].add(event_id)
            truth.pending[event_id] = {
                "next_retry_at": last + timedelta(seconds=float(retry_schedule_s[n - 1])),
                "retries_exhausted_at": last + timedelta(seconds=float(sum(retry_schedule_s[n - 1:]))),
                "last_error": failure,
            }
        else:
            flaky = i % 7 == 3 and t < outage_start - timedelta(hours=1)
            sim.deliver(event_id, event_type, TARGET, t,
                        lambda n, _at, f=flaky: (503, None) if f and n == 1 else OK)
            truth.delivered.add(event_id)
        truth.first_at[event_id] = t
        step = every_seconds * float(rng.uniform(0.5, 1.5))
        # Whole seconds for the usual sizes (the seeded logs of the tests stay as they are),
        # milliseconds below one second, so a benchmark can ask for a million attempts.
        t += timedelta(seconds=max(1, round(step)) if every_seconds >= 1 else max(0.001, round(step, 3)))
        i += 1
    _neighbour(sim, truth, start, scripted_until)
    table = pa.Table.from_pylist(sim.rows, schema=SCHEMA).sort_by(
        [("attempted_at", "ascending"), ("event_id", "ascending")])
    _streak(table, truth)
    return RecoveryLog(table=table, truth=truth, start=start, end=end,
                       retry_schedule_s=tuple(float(s) for s in retry_schedule_s))


def _neighbour(sim: _Sim, truth: RecoveryTruth, start: datetime, until: datetime) -> None:
    """Shared ids: a target loss delivered at the neighbour, a target success lost at the neighbour;
    and losses of the neighbour's own."""
    lost_here = sorted(truth.categories["never_reached"])[0]
    ok_here = sorted(truth.delivered)[0]
    refused: Answer = (None, "connection_refused")
    sim.deliver(lost_here, "invoice.paid", NEIGHBOUR, truth.first_at[lost_here], lambda _n, _at: OK)
    sim.deliver(ok_here, "invoice.paid", NEIGHBOUR, truth.first_at[ok_here], lambda _n, _at: (500, None))
    for k in range(3):
        event_id = sim.new_id()
        created = start + timedelta(hours=2 + k)
        assert created < until
        sim.deliver(event_id, "order.created", NEIGHBOUR, created, lambda _n, _at, a=refused: a)
        truth.neighbour_only_lost.add(event_id)


def _streak(table: pa.Table, truth: RecoveryTruth) -> None:
    """The target's failure streak, from the rows in log order: the attempts after its last 2xx."""
    rows = [r for r in table.select(["endpoint", "attempted_at", "status_code"]).to_pylist()
            if r["endpoint"] == TARGET]
    last_ok = max((i for i, r in enumerate(rows) if r["status_code"] is not None and 200 <= r["status_code"] <= 299),
                  default=-1)
    truth.streak_started_at = rows[last_ok + 1]["attempted_at"] if last_ok + 1 < len(rows) else None
    truth.last_attempt_at = rows[-1]["attempted_at"]


@dataclass
class ReceivedTruth:
    """The customer's records planted against a recovery log: ids in the order they recorded them
    (a repeated id is a duplicate receipt) and the category of every event the reconciliation judges."""

    receipts: list[str]
    categories: dict[str, set[str]]


def plant_received(log: RecoveryLog, *, seed: int = 3, not_recorded: int = 12, unknown: int = 4) -> ReceivedTruth:
    """Customer records for the target of `log` with every reconciliation category planted:
    most delivered events recorded once, `not_recorded` delivered events missing, the ambiguous
    events and two pending ones recorded (processed but failed here), three delivered and two
    rejected events recorded several times, `unknown` ids of our format that the log does not
    have plus the neighbour's own events; every other undelivered event is missed."""
    rng = np.random.default_rng(seed)
    truth = log.truth
    delivered = sorted(truth.delivered)
    rng.shuffle(delivered)
    absent, dup_delivered, once = delivered[:not_recorded], delivered[not_recorded:not_recorded + 3], \
        delivered[not_recorded + 3:]
    processed = sorted(truth.categories["ambiguous"]) + sorted(truth.categories["pending"])[:2]
    dup_failed = sorted(truth.categories["rejected"])[:2]
    strangers = [f"evt_9{k:06d}" for k in range(unknown)] + sorted(truth.neighbour_only_lost)
    receipts = once + processed + dup_delivered * 2 + dup_failed * 3 + strangers
    rng.shuffle(receipts)
    listed = set(receipts)
    undelivered = set().union(*truth.categories.values())
    return ReceivedTruth(receipts=[str(r) for r in receipts], categories={
        "missed": undelivered - listed,
        "delivered_not_recorded": set(absent),
        "processed_but_failed_here": set(processed),
        "duplicated": set(dup_delivered) | set(dup_failed),
        "unknown_to_us": set(strangers),
        "recorded_once": set(once),
    })
