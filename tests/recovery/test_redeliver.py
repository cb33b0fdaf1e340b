"""Resending a plan to a real loopback receiver: exactly the selected events, signed, paced,
stopped by the breaker, resumable after kill -9; bad input sends and stores nothing."""

from __future__ import annotations

import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import standardwebhooks

from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.recovery.generate import TARGET, RecoveryLog, generate_recovery_log
from diagnostics.recovery.ledger import Ledger, ledger_path
from diagnostics.recovery.redeliver import redeliver
from diagnostics.recovery.run import replay_plan
from tests.recovery.conftest import ours

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"recovery-test-secret-0123456789ab").decode()


@dataclass
class Receiver:
    """A loopback webhook receiver that records every delivery (and can fail on purpose)."""

    url: str = ""
    deliveries: list[dict] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(d["id"] for d in self.deliveries)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                state.deliveries.append({"id": self.headers.get("webhook-id"), "at": time.monotonic(),
                                         "body": body, "headers": dict(self.headers.items())})
            self.send_response(state.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[RecoveryLog, Path]:
    log = generate_recovery_log(seed=21, every_seconds=90)  # about 480 pending events in the outage
    return log, log.write(tmp_path_factory.mktemp("resend") / "log.parquet")


def write_plan(log_path: Path, folder: Path, keep: int | None = None, category: str | None = None) -> Path:
    outcome = replay_plan([str(log_path)], endpoint=TARGET, config=load_config(), profile=ours())
    data = {"metrics": {"plan": outcome.metrics["plan"]}}
    if category:
        data["metrics"]["plan"]["events"] = [e for e in data["metrics"]["plan"]["events"]
                                             if e["category"] == category][:keep]
    path = folder / "plan.json"
    path.write_text(json.dumps(data))
    return path


def test_sends_each_selected_event_once_signed_with_its_id(log_file, receiver: Receiver, tmp_path: Path) -> None:
    log, path = log_file
    plan = write_plan(path, tmp_path)
    run = redeliver(str(plan), receiver.url, config=load_config(), secret=SECRET, allow=["127.0.0.1"], rate=100)
    expected = log.truth.categories["never_reached"] | log.truth.categories["rejected"]
    assert receiver.ids() == Counter({i: 1 for i in expected})
    webhook = standardwebhooks.Webhook(SECRET)
    for d in receiver.deliveries:
        payload = webhook.verify(d["body"], {k.lower(): v for k, v in d["headers"].items()})
        assert payload["id"] == d["id"]
    assert run.delivered == len(expected) and run.stopped is None
    assert SECRET not in ledger_path(str(plan)).read_bytes().decode("latin-1")
    # a rerun sends nothing more; naming ambiguous adds exactly those
    again = redeliver(str(plan), receiver.url, config=load_config(), secret=SECRET, allow=["127.0.0.1"], rate=100)
    assert not again.sends and len(again.already_delivered) == len(expected)
    more = redeliver(str(plan), receiver.url, config=load_config(), secret=SECRET, allow=["127.0.0.1"], rate=100,
                     categories=("never_reached", "ambiguous", "rejected"))
    assert {s["event_id"] for s in more.sends} == log.truth.categories["ambiguous"]
    assert set(receiver.ids().values()) == {1}


def test_dry_run_sends_and_stores_nothing(log_file, receiver: Receiver, tmp_path: Path) -> None:
    plan = write_plan(log_file[1], tmp_path)
    run = redeliver(str(plan), receiver.url, config=load_config(), secret=None, allow=["127.0.0.1"], dry_run=True)
    assert run.to_send and not run.sends and not receiver.deliveries and not ledger_path(str(plan)).exists()


def test_pacing_holds_the_rate_within_ten_percent(log_file, receiver: Receiver, tmp_path: Path) -> None:
    plan = write_plan(log_file[1], tmp_path, keep=250, category="pending")
    run = redeliver(str(plan), receiver.url, config=load_config(), secret=SECRET, allow=["127.0.0.1"], rate=100,
                    concurrency=4, categories=("pending",))
    assert run.delivered == 250
    times = sorted(d["at"] for d in receiver.deliveries)
    observed = (len(times) - 1) / (times[-1] - times[0])
    assert 90 <= observed <= 110, observed


def test_the_breaker_stops_after_the_configured_failures(log_file, receiver: Receiver, tmp_path: Path) -> None:
    receiver.status = 503
    plan = write_plan(log_file[1], tmp_path)
    run = redeliver(str(plan), receiver.url, config=load_config(), secret=SECRET, allow=["127.0.0.1"], rate=100,
                    concurrency=1, stop_after=5)
    assert len(receiver.deliveries) == 5 and len(run.sends) == 5
    assert run.stopped and "5 consecutive failures" in run.stopped and "503" in run.stopped
    assert run.to_json()["not_sent"] == len(run.to_send) - 5


def test_kill_9_then_rerun_resends_nothing_that_got_a_2xx(log_file, receiver: Receiver, tmp_path: Path) -> None:
    plan = write_plan(log_file[1], tmp_path, keep=500, category="pending")
    args = [sys.executable, "-m", "diagnostics", "redeliver", "--plan", str(plan), "--to", receiver.url,
            "--secret", "-", "--allow", "127.0.0.1", "--rate", "250", "--concurrency", "4",
            "--categories", "pending", "--format", "json"]
    first = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=ROOT, text=True)
    first.stdin.write(SECRET + "\n")
    first.stdin.close()
    deadline = time.monotonic() + 60
    while len(receiver.deliveries) < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    ledger = Ledger(ledger_path(str(plan)))
    delivered_before, in_flight = ledger.delivered(), ledger.in_flight()
    ledger.close()
    assert 150 <= len(receiver.deliveries) < 500 and delivered_before
    seen_before = receiver.ids()
    second = subprocess.run(args, input=SECRET + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)["metrics"]["redeliver"]
    received = receiver.ids()
    planned = {e["event_id"] for e in json.loads(plan.read_text())["metrics"]["plan"]["events"]}
    assert set(received) == planned  # every event delivered
    resent = {i for i in delivered_before if received[i] > seen_before[i]}
    assert not resent  # nothing that had a 2xx in the ledger was sent again
    twice = {i for i, n in received.items() if n > 1}
    assert twice <= in_flight and len(twice) <= 4  # only sends in flight at the kill, at most the concurrency
    assert report["already_delivered"] == len(delivered_before)


@pytest.mark.parametrize("case", ["empty", "other-endpoint", "guard", "bad-json", "no-secret", "categories"])
def test_bad_input_exits_2_sends_and_stores_nothing(log_file, receiver: Receiver, tmp_path: Path, case: str) -> None:
    plan = write_plan(log_file[1], tmp_path)
    extra: list[str] = ["--allow", "127.0.0.1", "--secret", "-"]
    stdin = SECRET + "\n"
    if case == "empty":
        data = json.loads(plan.read_text())
        data["metrics"]["plan"]["events"] = []
        plan.write_text(json.dumps(data))
    elif case == "other-endpoint":
        extra += ["--endpoint", "ep_neighbour"]
    elif case == "guard":
        extra = ["--secret", "-"]
    elif case == "bad-json":
        plan.write_text("{oops")
    elif case == "no-secret":
        extra = ["--allow", "127.0.0.1"]
        stdin = ""
    else:
        extra += ["--categories", "lost"]
    result = subprocess.run([sys.executable, "-m", "diagnostics", "redeliver", "--plan", str(plan), "--to",
                             receiver.url, *extra], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not receiver.deliveries and not ledger_path(str(plan)).exists()


def test_plan_without_payloads_or_sources_is_an_input_error(tmp_path: Path, receiver: Receiver) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"endpoint": "ep", "events": [{"event_id": "evt_1", "category": "rejected"}],
                                "sources": []}))
    with pytest.raises(InputError, match="--log"):
        redeliver(str(plan), receiver.url, config=load_config(), secret=SECRET, allow=["127.0.0.1"])
    assert not ledger_path(str(plan)).exists()
