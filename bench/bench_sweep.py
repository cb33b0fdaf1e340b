"""Benchmark: a health sweep of 1,000 endpoints that each answer after 200 ms, at concurrency 100.

The server is the sandbox (`/slow/200`) in its own process, so its CPU does not share our event
loop. The ideal time is 1,000 x 0.2 s / 100 = 2 s; the target (issue 3) is within 2x of it.
The baseline in the same process is a bare httpx sweep of the same URLs (no guard, no
observation, no judgment, same concurrency and no keep-alive); its ratio says what the guard,
the phase timings and the checks cost on top of plain HTTP.

    .venv/bin/python bench/bench_sweep.py [--urls 1000] [--delay-ms 200] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from diagnostics.config import load_config  # noqa: E402
from diagnostics.pipeline.probe import probe_many  # noqa: E402

TARGET_RATIO = 2.0


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The sandbox in a child process; returns it and its base URL."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "diagnostics", "sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if not first.startswith("sandbox listening on "):
        process.terminate()
        raise SystemExit(f"the sandbox did not start: {first!r}")
    return process, first.split()[-1]


async def bare_httpx_sweep(urls: list[str], concurrency: int) -> int:
    """Baseline: plain httpx, same concurrency, a fresh connection per request."""
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    ok = 0
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=15.0) as client:

        async def one(url: str) -> None:
            nonlocal ok
            async with gate:
                response = await client.post(url, content=b"{}")
                ok += response.status_code == 200

        await asyncio.gather(*(one(u) for u in urls))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    config = load_config(env={})
    profile = config.ours
    process, base = start_server()
    try:
        urls = [f"{base}/slow/{args.delay_ms}?endpoint={i}" for i in range(args.urls)]
        ideal_s = args.urls * args.delay_ms / 1000.0 / args.concurrency

        started, cpu = time.perf_counter(), time.process_time()
        ok_bare = asyncio.run(bare_httpx_sweep(urls, args.concurrency))
        bare_s, bare_cpu = time.perf_counter() - started, time.process_time() - cpu

        started, cpu = time.perf_counter(), time.process_time()
        rows = probe_many(urls, config=config, profile=profile, concurrency=args.concurrency, allow=["127.0.0.1"])
        sweep_s, sweep_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        process.terminate()
        process.wait(timeout=10)
    answered = sum(1 for r in rows if r.status_code == 200)
    ratio = sweep_s / ideal_s
    print(f"endpoints {args.urls}, server delay {args.delay_ms} ms, concurrency {args.concurrency}")
    print(f"ideal                       {ideal_s:6.2f} s")
    print(f"bare httpx (baseline)       {bare_s:6.2f} s  ({ok_bare} x 200)  ratio to ideal {bare_s / ideal_s:.2f}")
    print(f"guarded probe_many sweep    {sweep_s:6.2f} s  ({answered} x 200)  ratio to ideal {ratio:.2f}, "
          f"to baseline {sweep_s / bare_s:.2f}, {args.urls / sweep_s:.0f} endpoints/s")
    load = os.getloadavg()[0]
    print(f"client CPU per endpoint      bare {bare_cpu / args.urls * 1000:.2f} ms, "
          f"probe {sweep_cpu / args.urls * 1000:.2f} ms (load average {load:.1f} on {os.cpu_count()} CPUs)")
    print(f"target: within {TARGET_RATIO:g}x of ideal -> {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    return 0 if ratio <= TARGET_RATIO and answered == args.urls else 1


if __name__ == "__main__":
    raise SystemExit(main())
