"""Benchmark: `redeliver` of 1,000 events to a loopback receiver, against the ideal at its concurrency.

The receiver, in a process of its own, answers every POST with a 200 after a fixed latency (20 ms
by default) and serves requests concurrently, so a sender at concurrency C with no rate limit ideally takes
ceil(N / C) x latency. Measured in one process, interleaved, --repeat times each (median):

- ours:  the whole of diagnostics.recovery.redeliver.redeliver (and its sending phase alone) on
         a real plan (replay_plan over a generated log in which every event was rejected with a
         500 until its retries ran out), signed with our scheme, every send written to the ledger
         (intent before the request, answer after), through the SSRF guard; the rate cap lifted
         ([recovery] max_rate_per_second) so only the concurrency paces it;
- httpx: the same N bodies posted with a bare httpx.AsyncClient at the same concurrency (what any
         sender pays for HTTP alone).

Reported: each time, its ratio to the ideal, and ours over httpx. Target (issue 10): ours within
1.5x of the ideal.

    .venv/bin/python bench/bench_resend.py [--events 1000] [--concurrency 10] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from diagnostics.config import load_config
from diagnostics.profiles import BUILTIN_PROFILES
from diagnostics.recovery.ledger import ledger_path
from diagnostics.recovery.redeliver import redeliver
from diagnostics.recovery.run import replay_plan

ENDPOINT = "ep_bench"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TARGET_RATIO = 1.5


def serve(latency_s: float) -> None:
    """The receiver (a child process, so that it does not share the sender's interpreter): records
    each delivery's event id and answers 200 after `latency_s`; GET answers the count of deliveries
    and of distinct ids since the last GET. Prints its port, then serves until killed."""
    received: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(latency_s)
            received.append(self.headers.get("webhook-id") or "")
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            body = json.dumps({"deliveries": len(received), "distinct": len(set(received))}).encode()
            received.clear()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def write_log(path: Path, events: int) -> None:
    """`events` events, each rejected with a 500 on all 8 of its automatic attempts (a day apart)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for n in range(events):
            payload = json.dumps({"id": f"evt_{n:06d}", "type": "invoice.paid", "data": {"amount": n}})
            for attempt in range(1, 9):
                at = start + timedelta(minutes=n, hours=3 * attempt)
                out.write(json.dumps({
                    "event_id": f"evt_{n:06d}", "event_type": "invoice.paid", "endpoint": ENDPOINT,
                    "url": "https://hooks.example.com/in", "attempt": attempt,
                    "attempted_at": at.isoformat().replace("+00:00", "Z"), "status_code": 500,
                    "duration_ms": 40.0, "payload": payload,
                }) + "\n")


async def bare_httpx(url: str, bodies: list[bytes], concurrency: int) -> None:
    queue = iter(bodies)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            for body in queue:
                response = await client.post(url, content=body, headers={"content-type": "application/json"})
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the receiver's process
    args = parser.parse_args()
    if args.serve:
        serve(args.latency_ms / 1000.0)
        return
    receiver = subprocess.Popen([sys.executable, __file__, "--serve", "--latency-ms", str(args.latency_ms)],
                                stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(receiver.stdout.readline())}/webhooks"  # type: ignore[union-attr]
        measure(args, url)
    finally:
        receiver.kill()


def received(url: str) -> dict[str, int]:
    """What the receiver got since the last call."""
    return httpx.get(url).json()


def measure(args: argparse.Namespace, url: str) -> None:
    config = load_config()
    config.override("recovery", "max_rate_per_second", 1e9)  # only the concurrency paces the run
    ideal = math.ceil(args.events / args.concurrency) * args.latency_ms / 1000.0
    times: dict[str, list[float]] = {"ours": [], "sending": [], "httpx": []}
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "log.jsonl"
        write_log(log, args.events)
        outcome = replay_plan([str(log)], endpoint=ENDPOINT, config=config, profile=BUILTIN_PROFILES["svix"])
        plan = outcome.metrics["plan"]
        assert plan["totals"]["rejected"] == args.events, plan["totals"]
        plan_path = Path(folder) / "plan.json"
        plan_path.write_text(json.dumps({"metrics": {"plan": plan}}))
        bodies = [json.dumps({"id": e["event_id"]}).encode() for e in plan["events"]]
        for _ in range(args.repeat):
            ledger_path(str(plan_path)).unlink(missing_ok=True)  # a fresh run resends everything
            received(url)  # forget earlier deliveries
            started = time.perf_counter()
            run = redeliver(str(plan_path), url, config=config, secret=SECRET, rate=1e9,
                            concurrency=args.concurrency, allow=["127.0.0.1"])
            times["ours"].append(time.perf_counter() - started)
            times["sending"].append(run.elapsed_s)
            got = received(url)
            assert run.delivered == args.events == got["deliveries"] == got["distinct"], (run.delivered, got)
            started = time.perf_counter()
            asyncio.run(bare_httpx(url, bodies, args.concurrency))
            times["httpx"].append(time.perf_counter() - started)
    ours, bare = statistics.median(times["ours"]), statistics.median(times["httpx"])
    sending = statistics.median(times["sending"])
    print(f"{args.events:,} events at concurrency {args.concurrency}, receiver latency {args.latency_ms:g} ms: "
          f"ideal {ideal:.2f} s")
    print(f"redeliver   {ours:6.2f} s  {ours / ideal:.2f}x ideal  (target {TARGET_RATIO}x)")
    print(f"  of which sending {sending:6.2f} s  {sending / ideal:.2f}x ideal; reading the plan, the payloads "
          f"and checking the destination {ours - sending:.2f} s")
    print(f"bare httpx  {bare:6.2f} s  {bare / ideal:.2f}x ideal")
    print(f"redeliver / bare httpx = {ours / bare:.2f}")


if __name__ == "__main__":
    main()
