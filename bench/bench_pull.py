"""Benchmark: pulling 100,000 attempts through the Hookdeck connector, against bare httpx.

A loopback server in a child process (its own interpreter, so it does not share our GIL) serves a
Hookdeck project in the API's shape: one connection, its events (250 a page) and their attempts
(`GET /attempts?event_id[]=...`, 250 a page, `pagination.next` cursors), every page
serialized once before timing. In this process, interleaved --repeat times (median reported):

- ours:     `platforms.hookdeck.pull_to_file`: the SSRF guard's transport, the Retry-After
            transport, the scope check, the events and attempts walks, the filter check, and the
            file written (`<output>.part`, renamed);
- baseline: the same walk over the same pages with a bare `httpx.AsyncClient` (no guard, no
            retry layer, nothing written): GET, `.json()`, follow the cursor;
- orjson:   the same bare walk parsing with orjson, as the connector does, so the second ratio
            shows what the guard, the retry layer, the filters and the file cost on their own.

Target (issue 11): ours within 1.3x of the baseline. CPU columns are this process's CPU time
(the server's is in its own process), which other work on a shared machine does not inflate.

    .venv/bin/python bench/bench_pull.py [--attempts 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson

from diagnostics.net.guard import AddressPolicy
from diagnostics.platforms.hookdeck import EVENTS_PER_CALL, pull_to_file

PAGE = 250
ATTEMPTS_PER_EVENT = 5  # 50 events a call x 5 = one full page of 250 attempts per batch
CONNECTION = "web_bench"
TOKEN = "hk_bench_token"
TARGET_RATIO = 1.3


def _attempt(event: int, number: int) -> dict[str, Any]:
    second = event * 60 + number * 7
    at = f"2026-03-{1 + second // 86400:02d}T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"
    failed = number < ATTEMPTS_PER_EVENT - 1 and event % 3 == 0
    return {
        "id": f"atm_{event:07d}_{number}", "team_id": "tm_bench", "event_id": f"evt_{event:07d}",
        "destination_id": "des_bench", "response_status": 500 if failed else 200, "attempt_number": number + 1,
        "trigger": "INITIAL" if number == 0 else "AUTOMATIC", "body": '{"ok":false}' if failed else '{"ok":true}',
        "requested_url": "https://shop.example.com/webhooks", "http_method": "POST", "bulk_retry_id": None,
        "status": "FAILED" if failed else "SUCCESSFUL", "delivered_at": at, "responded_at": at,
        "response_latency": 120 + number, "delivery_latency": 15, "updated_at": at, "created_at": at,
    }


def _event(event: int) -> dict[str, Any]:
    last = _attempt(event, ATTEMPTS_PER_EVENT - 1)
    return {
        "id": f"evt_{event:07d}", "team_id": "tm_bench", "webhook_id": CONNECTION, "source_id": "src_bench",
        "destination_id": "des_bench", "event_data_id": f"edt_{event}", "request_id": f"req_{event}",
        "attempts": ATTEMPTS_PER_EVENT, "last_attempt_at": last["delivered_at"], "next_attempt_at": None,
        "response_status": 200, "status": "SUCCESSFUL", "successful_at": last["delivered_at"], "cli_id": None,
        "updated_at": last["updated_at"], "created_at": _attempt(event, 0)["created_at"],
    }


def _page(models: list[dict[str, Any]], next_cursor: str | None) -> bytes:
    pagination: dict[str, Any] = {"order_by": "created_at", "dir": "asc", "limit": PAGE}
    if next_cursor:
        pagination["next"] = next_cursor
    return json.dumps({"pagination": pagination, "count": len(models), "models": models}).encode()


def build_pages(attempts: int) -> dict[tuple[str, str, str], bytes]:
    """(path, first filter value, cursor) -> the page's bytes, for every page a full pull reads."""
    events = attempts // ATTEMPTS_PER_EVENT
    pages: dict[tuple[str, str, str], bytes] = {
        (f"/connections/{CONNECTION}", "", ""): json.dumps({"id": CONNECTION}).encode()}
    for start in range(0, events, PAGE):
        chunk = [_event(e) for e in range(start, min(start + PAGE, events))]
        more = start + PAGE < events
        key = ("/events", CONNECTION, f"e{start}" if start else "")
        pages[key] = _page(chunk, f"e{start + PAGE}" if more else None)
    for start in range(0, events, EVENTS_PER_CALL):
        batch = [_attempt(e, n) for e in range(start, min(start + EVENTS_PER_CALL, events))
                 for n in range(ATTEMPTS_PER_EVENT)]
        first = f"evt_{start:07d}"
        for offset in range(0, len(batch), PAGE):
            more = offset + PAGE < len(batch)
            pages[("/attempts", first, f"a{offset}" if offset else "")] = _page(
                batch[offset:offset + PAGE], f"a{offset + PAGE}" if more else None)
    return pages


def serve(attempts: int, ready: Any) -> None:
    """The child process: serve the prebuilt pages on 127.0.0.1 until terminated."""
    pages = build_pages(attempts)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            first = (query.get("webhook_id") or query.get("event_id[]") or query.get("event_id") or [""])[0]
            body = pages.get((url.path, first, query.get("next", [""])[0]))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or body is None:
                body, status = b'{"code":"NOT_FOUND","status":404,"message":"no"}', 404
            else:
                status = 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.put(server.server_address[1])
    server.serve_forever()


async def bare_httpx(base_url: str, parse: Callable[[httpx.Response], Any] = httpx.Response.json) -> int:
    """The same walk with a bare httpx client: events pages, then each batch's attempts pages
    (`parse`: httpx's own `.json()`, or orjson as the connector parses)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    seen = 0
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        (await http.get(f"/connections/{CONNECTION}")).raise_for_status()
        events_cursor: str | None = None
        while True:
            params = [("webhook_id", CONNECTION), ("order_by", "created_at"), ("dir", "asc"), ("limit", str(PAGE))]
            page = (await http.get("/events", params=params + ([("next", events_cursor)] if events_cursor else [])))
            events = parse(page)
            ids = [e["id"] for e in events["models"]]
            for start in range(0, len(ids), EVENTS_PER_CALL):
                batch = [("event_id[]", i) for i in ids[start:start + EVENTS_PER_CALL]]
                cursor: str | None = None
                while True:
                    asked = [*batch, ("order_by", "created_at"), ("dir", "asc"), ("limit", str(PAGE))]
                    answer = parse(await http.get("/attempts", params=asked + ([("next", cursor)] if cursor else [])))
                    seen += len(answer["models"])
                    cursor = answer["pagination"].get("next")
                    if not cursor:
                        break
            events_cursor = events["pagination"].get("next")
            if not events_cursor:
                return seen


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    started, started_cpu = time.perf_counter(), time.process_time()
    count = fn()
    return time.perf_counter() - started, time.process_time() - started_cpu, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {' / '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    ready: Any = multiprocessing.get_context("spawn").Queue()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(args.attempts, ready), daemon=True)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{ready.get(timeout=120)}"
        policy = AddressPolicy.build(allow=["127.0.0.1"])
        ours: list[tuple[float, float, int]] = []
        bare: list[tuple[float, float, int]] = []
        fast: list[tuple[float, float, int]] = []
        with tempfile.TemporaryDirectory() as tmp:
            output = str(Path(tmp) / "pulled.json")

            def pull() -> int:
                return pull_to_file(token=TOKEN, connection_id=CONNECTION, output=output, policy=policy,
                                    base_url=base_url).attempts

            timed(pull)  # warm-up: imports, first connections
            for _ in range(args.repeat):
                bare.append(timed(lambda: asyncio.run(bare_httpx(base_url))))
                fast.append(timed(lambda: asyncio.run(bare_httpx(base_url, lambda r: orjson.loads(r.content)))))
                ours.append(timed(pull))
            size = Path(output).stat().st_size
        assert all(n == args.attempts for *_, n in ours + bare + fast), (ours, bare, fast)
    finally:
        server.terminate()
        server.join()
    wall_ours, wall_bare, wall_fast = (statistics.median(t for t, _, _ in runs) for runs in (ours, bare, fast))
    cpu_ours, cpu_bare, cpu_fast = (statistics.median(c for _, c, _ in runs) for runs in (ours, bare, fast))
    ratio = wall_ours / wall_bare
    pages = args.attempts // PAGE + -(-args.attempts // ATTEMPTS_PER_EVENT // PAGE) + 1
    print(f"{args.attempts:,} attempts, {pages} pages of up to {PAGE}, file {size / 1e6:.1f} MB, "
          f"median of {args.repeat}")
    print(f"{'variant':<10} {'wall s':>8} {'cpu s':>8} {'attempts/s':>12}")
    print(f"{'baseline':<10} {wall_bare:>8.2f} {cpu_bare:>8.2f} {args.attempts / wall_bare:>12,.0f}")
    print(f"{'orjson':<10} {wall_fast:>8.2f} {cpu_fast:>8.2f} {args.attempts / wall_fast:>12,.0f}  "
          "(bare httpx parsing with orjson, as the connector does)")
    print(f"{'ours':<10} {wall_ours:>8.2f} {cpu_ours:>8.2f} {args.attempts / wall_ours:>12,.0f}")
    ok = ratio <= TARGET_RATIO
    print(f"ratio ours/baseline: {ratio:.2f}x wall, {cpu_ours / cpu_bare:.2f}x cpu "
          f"(target <= {TARGET_RATIO}x): {'ok' if ok else 'SLOW'}")
    print(f"ratio ours/orjson baseline: {wall_ours / wall_fast:.2f}x wall (what the guard, the retry layer, the "
          "filters and writing the file cost)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
