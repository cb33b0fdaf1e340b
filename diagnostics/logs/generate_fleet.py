"""A seeded generator of fleet-sized delivery logs (thousands of endpoints) with planted truth.

Where `generate.py` simulates one customer's story per endpoint, this one builds the log Product
Ops holds: every customer's endpoints at once, generated with numpy in bulk so that 50 million
attempts take seconds, and written straight to Parquet. What it plants:

- healthy endpoints (the vast majority), each on its own host, with rare single 503s retried once;
- lone outages: a few endpoints failing alone at random times, each with its own error kind (tls
  and timeouts among them), retried on the sender's schedule until the window ends;
- dead endpoints: failing from some time until the end of the log, so their events exhaust the
  retry schedule (lost events, outages still going on, auto-disable risk);
- one cross-customer incident: `incident_endpoints` unrelated endpoints failing with `tls` in the
  same `incident_minutes` window, far from the lone outages of the same kind;
- slow endpoints whose answers creep toward the timeout.

`FleetLog.truth` is computed from the generated rows themselves (which endpoints really failed
in the incident window, which events really exhausted their retries), so tests compare the
analyzers with what is in the file, not with intentions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from diagnostics.logs.generate import DEFAULT_SCHEDULE_S, DEFAULT_START, EVENT_TYPES

LONE_KINDS = ("tls", "timeout", "connection_refused", "503")
INCIDENT_KIND = "tls"


@dataclass
class FleetTruth:
    """What was planted, as the fleet analyzers report it."""

    incident_start: datetime
    incident_end: datetime
    incident_endpoints: set[str] = field(default_factory=set)  # failed with tls inside the window
    lone_outages: dict[str, tuple[datetime, datetime, str]] = field(default_factory=dict)  # endpoint -> window
    dead_endpoints: set[str] = field(default_factory=set)
    exhausted: dict[str, int] = field(default_factory=dict)  # endpoint -> lost events
    slow_endpoints: set[str] = field(default_factory=set)


@dataclass
class FleetLog:
    table: pa.Table
    truth: FleetTruth
    endpoints: int

    def write(self, path: Path) -> Path:
        pq.write_table(self.table, path, row_group_size=1_000_000)
        return path


def _fail_kind(kind: str) -> tuple[int | None, str | None, float]:
    if kind.isdigit():
        return int(kind), None, 40.0
    return None, kind, 15000.0 if kind == "timeout" else 30.0


def generate_fleet_log(
    *,
    seed: int = 11,
    attempts: int = 1_000_000,
    endpoints: int = 5_000,
    days: float = 7.0,
    start: datetime = DEFAULT_START,
    lone_outages: int | None = None,
    dead_endpoints: int | None = None,
    incident_endpoints: int | None = None,
    incident_minutes: float = 45.0,
    slow_endpoints: int | None = None,
    schedule_s: tuple[float, ...] = DEFAULT_SCHEDULE_S,
    event_prefix: str = "evt_",
) -> FleetLog:
    """About `attempts` attempts to `endpoints` endpoints over `days` days, with planted truth."""
    rng = np.random.default_rng(seed)
    span_s = days * 86400.0
    lone_n = max(3, endpoints // 50) if lone_outages is None else lone_outages
    dead_n = max(2, endpoints // 200) if dead_endpoints is None else dead_endpoints
    incident_n = max(12, endpoints // 40) if incident_endpoints is None else incident_endpoints
    slow_n = max(2, endpoints // 250) if slow_endpoints is None else slow_endpoints
    names = np.array([f"ep_{i:05d}" for i in range(endpoints)], dtype=object)
    hosts = np.array([f"https://hooks.customer{i:05d}.example/webhooks" for i in range(endpoints)], dtype=object)
    order = rng.permutation(endpoints)
    incident_ix = order[:incident_n]
    lone_ix = order[incident_n:incident_n + lone_n]
    dead_ix = order[incident_n + lone_n:incident_n + lone_n + dead_n]
    slow_ix = order[incident_n + lone_n + dead_n:incident_n + lone_n + dead_n + slow_n]

    # Events: skewed traffic (a few busy endpoints, many quiet ones), ~1.1 attempts per event.
    weights = rng.pareto(1.5, endpoints) + 1.0
    n_events = int(attempts / 1.1)
    ep = rng.choice(endpoints, size=n_events, p=weights / weights.sum())
    t0 = np.sort(rng.uniform(0.0, span_s, n_events))
    ep = ep[np.argsort(rng.random(n_events))]  # times sorted, endpoints shuffled over them

    # Failure windows per endpoint: (start_s, end_s, kind); at most one each, planted apart.
    win_start = np.full(endpoints, np.inf)
    win_end = np.full(endpoints, -np.inf)
    win_kind = np.full(endpoints, "", dtype=object)
    incident_start_s = span_s * 0.55
    incident_end_s = incident_start_s + incident_minutes * 60
    win_start[incident_ix], win_end[incident_ix] = incident_start_s, incident_end_s
    win_kind[incident_ix] = INCIDENT_KIND
    for i in lone_ix:
        # Lone outages stay well away from the incident so that they are its baseline, not part of it.
        while True:
            s = rng.uniform(0.05, 0.9) * span_s
            if abs(s - incident_start_s) > 6 * 3600:
                break
        win_start[i], win_end[i] = s, s + rng.uniform(1.0, 4.0) * 3600
        win_kind[i] = LONE_KINDS[int(rng.integers(len(LONE_KINDS)))]
    win_start[dead_ix] = span_s * rng.uniform(0.6, 0.8, dead_n)
    win_end[dead_ix], win_kind[dead_ix] = np.inf, "connection_refused"

    offsets = np.concatenate([[0.0], np.cumsum(schedule_s)])
    max_attempts = len(offsets)
    # Attempt times for every event and retry slot; a slot is used until the first success.
    times = t0[:, None] + offsets[None, :]
    in_window = (times >= win_start[ep][:, None]) & (times < win_end[ep][:, None])
    random_503 = np.zeros_like(in_window)
    random_503[:, 0] = rng.random(n_events) < 0.02
    failed = in_window | random_503
    first_ok = np.where(failed.all(axis=1), max_attempts, failed.argmin(axis=1))
    used = np.arange(max_attempts)[None, :] <= first_ok[:, None]
    used &= times < span_s  # attempts after the log's end have not happened yet
    ev_ix, slot = np.nonzero(used)
    at = times[ev_ix, slot]
    fail = failed[ev_ix, slot]
    epi = ep[ev_ix]

    status = np.where(fail, 0, 200).astype(np.int64)
    error = np.full(len(ev_ix), None, dtype=object)
    duration = rng.gamma(2.0, 60.0, len(ev_ix))
    slow_mask = np.isin(epi, slow_ix)
    duration[slow_mask] = 8000.0 + 5000.0 * (at[slow_mask] / span_s) + rng.normal(0, 500, slow_mask.sum())
    window_fail = fail & in_window[ev_ix, slot]
    for kind in set(win_kind[win_kind != ""]):
        code, err, ms = _fail_kind(str(kind))
        mask = window_fail & (win_kind[epi] == kind)
        status[mask] = code if code is not None else 0
        error[mask] = err
        duration[mask] = ms
    plain_503 = fail & ~window_fail
    status[plain_503] = 503
    duration[plain_503] = 25.0

    event_ids = np.char.add(event_prefix, np.arange(n_events).astype(str)).astype(object)
    types = np.array(EVENT_TYPES, dtype=object)[rng.integers(len(EVENT_TYPES), size=n_events)]
    base = start.timestamp()
    attempted_at = ((base + at) * 1e6).astype("int64")
    status_arr = pa.array(status, mask=(status == 0))
    table = pa.table(
        {
            "event_id": pa.array(event_ids[ev_ix], pa.string()),
            "event_type": pa.array(types[ev_ix], pa.string()),
            "endpoint": pa.array(names[epi], pa.string()),
            "url": pa.array(hosts[epi], pa.string()),
            "attempt": pa.array(slot + 1, pa.int64()),
            "attempted_at": pa.array(attempted_at, pa.timestamp("us", tz="UTC")),
            "status_code": status_arr.cast(pa.int64()),
            "error": pa.array(error, pa.string()),
            "duration_ms": pa.array(np.round(np.maximum(duration, 1.0), 1), pa.float64()),
            "trigger": pa.array(np.full(len(ev_ix), "auto", dtype=object), pa.string()),
            "response_body": pa.nulls(len(ev_ix), pa.string()),
            "payload": pa.nulls(len(ev_ix), pa.string()),
            "payload_version": pa.nulls(len(ev_ix), pa.string()),
        }
    )
    when = lambda s: start + timedelta(seconds=float(s))  # noqa: E731 - a local shorthand
    truth = FleetTruth(incident_start=when(incident_start_s), incident_end=when(incident_end_s))
    in_incident = window_fail & np.isin(epi, incident_ix)
    truth.incident_endpoints = set(names[np.unique(epi[in_incident])])
    truth.lone_outages = {str(names[i]): (when(win_start[i]), when(win_end[i]), str(win_kind[i])) for i in lone_ix}
    truth.dead_endpoints = {str(names[i]) for i in dead_ix}
    all_failed = failed.all(axis=1) & (times[:, -1] < span_s)
    lost_ep, lost_n = np.unique(ep[all_failed], return_counts=True)
    truth.exhausted = {str(names[i]): int(n) for i, n in zip(lost_ep, lost_n, strict=True)}
    truth.slow_endpoints = {str(names[i]) for i in slow_ix}
    return FleetLog(table=table, truth=truth, endpoints=endpoints)


def write_fleet_parquet(path: Path, *, attempts: int, endpoints: int, seed: int = 11, chunk: int = 4_000_000,
                        days: float = 7.0) -> Path:
    """A fleet log of any size, generated and written `chunk` attempts at a time (bounded memory).

    Each chunk is a fleet log of its own over the same endpoints and window, with its own seed and
    event-id prefix; the truth of a multi-chunk file is not tracked (benchmarks only).
    """
    writer: pq.ParquetWriter | None = None
    try:
        for i, offset in enumerate(range(0, attempts, chunk)):
            log = generate_fleet_log(seed=seed + i, attempts=min(chunk, attempts - offset), endpoints=endpoints,
                                     days=days, event_prefix=f"evt_{i}_")
            if writer is None:
                writer = pq.ParquetWriter(path, log.table.schema)
            writer.write_table(log.table, row_group_size=1_000_000)
    finally:
        if writer is not None:
            writer.close()
    return path


__all__ = ["FleetLog", "FleetTruth", "generate_fleet_log", "write_fleet_parquet"]
