"""A slow first sample sends the rest at once; a fast one keeps the samples in turn (real loopback servers)."""

from __future__ import annotations

import asyncio
import http.server
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from diagnostics.config import Config
from diagnostics.error_kinds import ErrorKind
from diagnostics.findings import Outcome, Status
from diagnostics.net.probe import Exchange, ProbeRequest
from diagnostics.pipeline import probe as probe_module
from diagnostics.pipeline.probe import FAN_OUT_AFTER_FRACTION, ProbeOptions, observe_endpoint, probe_endpoint
from diagnostics.profiles import SenderProfile
from diagnostics.sandbox import DEMO_SECRET
from tests.net.loopback import TEST_PROFILE, clean_config, http_server, reply

LOOPBACK = ["127.0.0.1"]


@pytest.fixture(scope="module")
def config() -> Config:
    return clean_config()


@dataclass
class Visits:
    """When each request reached the server and when its answer left (server-side clock)."""

    spans: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def sleeping_server(delay_s: float) -> Iterator[tuple[str, Visits]]:
    """A threaded loopback server that answers every POST with 200 after `delay_s`."""
    visits = Visits()

    def handle(handler: http.server.BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        time.sleep(delay_s)
        with visits.lock:
            visits.spans.append((started, time.monotonic()))  # before the answer leaves: no race
        reply(handler, 200, b"ok")

    with http_server(handle) as base:
        yield base + "/hook", visits


def probe(url: str, config: Config, profile: SenderProfile, **kwargs: object) -> Outcome:
    return probe_endpoint(url, config=config, profile=profile, allow=LOOPBACK, **kwargs)  # type: ignore[arg-type]


def shape(outcome: Outcome) -> list[tuple[str, Status, tuple[str, ...]]]:
    """What must not depend on how the samples were sent: codes, statuses, evidence labels in order."""
    return [(f.code, f.status, tuple(label for label, _ in f.evidence)) for f in outcome.findings]


def test_the_threshold_is_the_timing_checks_slow_share() -> None:
    from diagnostics.checks.timing import SLOW_FRACTION

    assert FAN_OUT_AFTER_FRACTION == SLOW_FRACTION


def test_a_slow_endpoint_gets_its_other_samples_at_once(config: Config) -> None:
    delay = 1.2
    profile = TEST_PROFILE.with_timeout(2.0)  # slow past half the window, still within it
    messages: list[str] = []
    with sleeping_server(delay) as (url, visits):
        started = time.monotonic()
        outcome = probe(url, config, profile, samples=3, progress=messages.append)
        elapsed = time.monotonic() - started
    assert elapsed < 2.2 * delay, f"{elapsed:.2f} s for 3 samples of {delay} s"  # in turn: 3.6 s
    assert len(visits.spans) == 3
    assert [s["label"] for s in outcome.metrics["samples"]] == ["sample 1", "sample 2", "sample 3"]
    assert all(s["status_code"] == 200 for s in outcome.metrics["samples"])
    found = {f.code: f.status for f in outcome.findings}
    assert found["slow-response"] is Status.WARN and "response-timeout" not in found
    assert any("sending the other 2 sample(s) at once" in m for m in messages)


def test_a_fast_endpoint_still_gets_its_samples_one_after_another(config: Config) -> None:
    with sleeping_server(0.05) as (url, visits):
        outcome = probe(url, config, TEST_PROFILE, samples=3)
    assert len(visits.spans) == 3
    spans = sorted(visits.spans)
    for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
        assert next_start >= previous_end  # each request arrived after the previous answer left
    assert [s["label"] for s in outcome.metrics["samples"]] == ["sample 1", "sample 2", "sample 3"]


def test_a_dead_endpoint_costs_about_one_timeout(config: Config) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel completes the handshakes; nobody ever reads or answers
    try:
        started = time.monotonic()
        outcome = probe(f"http://127.0.0.1:{listener.getsockname()[1]}/hook", config, TEST_PROFILE, samples=3)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    timeout = TEST_PROFILE.timeout_s
    assert timeout <= elapsed < (1 + FAN_OUT_AFTER_FRACTION) * timeout + 0.4, elapsed  # in turn: 3 s
    assert [s["error"] for s in outcome.metrics["samples"]] == ["timeout"] * 3
    finding = next(f for f in outcome.findings if f.code == "response-timeout")
    assert finding.evidence_dict()["Samples timed out"] == "3 of 3"


def test_a_slow_signed_probe_sends_the_forgeries_at_once_with_the_same_findings(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    delay = 0.6
    with sleeping_server(delay) as (url, visits):
        started = time.monotonic()
        at_once = probe(url, config, TEST_PROFILE, samples=3, scheme="stripe", secret=DEMO_SECRET)
        elapsed = time.monotonic() - started
        monkeypatch.setattr(probe_module, "FAN_OUT_AFTER_FRACTION", 2.0)  # never: every request in turn
        started = time.monotonic()
        in_turn = probe(url, config, TEST_PROFILE, samples=3, scheme="stripe", secret=DEMO_SECRET)
        elapsed_in_turn = time.monotonic() - started
    assert len(visits.spans) == 12
    assert elapsed < 2.5 * delay < elapsed_in_turn / 2, (elapsed, elapsed_in_turn)  # 6 requests in ~2 delays
    assert shape(at_once) == shape(in_turn)
    assert {f.code for f in at_once.findings} >= {"signature-not-enforced", "slow-response"}
    assert list(at_once.metrics["signature"]["variants"]) == ["signed", "tampered", "unsigned", "stale"]
    assert at_once.tables["samples"] and [r["sample"] for r in at_once.tables["samples"]] == [
        r["sample"] for r in in_turn.tables["samples"]
    ]


@dataclass
class ScriptedClient:
    """Answers by label after a delay: how requests sent at once come back out of order."""

    script: dict[str, tuple[float, Exchange]]
    events: list[str] = field(default_factory=list)

    @property
    def sent(self) -> list[str]:
        return [e.removeprefix("sent ") for e in self.events if e.startswith("sent ")]

    async def send(self, request: ProbeRequest, *, deadline_s: float, diagnose_tls: bool = True) -> Exchange:
        self.events.append(f"sent {request.label}")
        delay, result = self.script[request.label]
        await asyncio.sleep(delay)
        self.events.append(f"answered {request.label}")
        return result


def test_samples_sent_at_once_keep_their_order_and_stop_where_a_run_in_turn_would(config: Config) -> None:
    url = "https://hooks.example.com/hook"

    def answered(label: str, ms: float) -> Exchange:
        return Exchange(url=url, label=label, status_code=200, total_ms=ms)

    client = ScriptedClient({
        "sample 1": (0.3, answered("sample 1", 300.0)),  # past half of the 0.4 s window
        "sample 2": (0.1, Exchange(url=url, label="sample 2", error=ErrorKind.BLOCKED, blocked_kind="rate_limit")),
        "sample 3": (0.05, answered("sample 3", 50.0)),  # answers first of all, yet comes after the stop
        "sample 4": (0.2, answered("sample 4", 200.0)),
    })
    profile = TEST_PROFILE.with_timeout(0.4)
    options = ProbeOptions.from_config(config, LOOPBACK)
    observations = asyncio.run(
        observe_endpoint(client, url, profile=profile, options=options, samples=4)  # type: ignore[arg-type]
    )
    assert client.sent == ["sample 1", "sample 2", "sample 3", "sample 4"]
    assert client.events.index("sent sample 4") < client.events.index("answered sample 1")
    assert [s.label for s in observations.samples] == ["sample 1", "sample 2"]


def test_the_sweep_keeps_its_samples_in_turn(config: Config) -> None:
    url = "https://hooks.example.com/hook"
    slow = Exchange(url=url, label="sample", status_code=200, total_ms=900.0)
    client = ScriptedClient({"sample 1": (0.3, slow), "sample 2": (0.0, slow)})
    options = ProbeOptions.from_config(config, LOOPBACK)
    observations = asyncio.run(
        observe_endpoint(  # type: ignore[arg-type]
            client, url, profile=TEST_PROFILE.with_timeout(0.4), options=options, samples=2, fan_out=False
        )
    )
    assert client.events == ["sent sample 1", "answered sample 1", "sent sample 2", "answered sample 2"]
    assert len(observations.samples) == 2
