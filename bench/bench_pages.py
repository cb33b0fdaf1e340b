"""Benchmark: how long a support agent waits for each page of the app, in real Chromium.

The app runs as `make run` starts it (`python -m diagnostics demo --serve`, on a temp workspace),
and Debian's Chromium, driven by Playwright, measures from the click (or the address typed) to
the moment the page's own text is shown and its script has finished (no skeleton, no running
indicator). Three ways to arrive, per page:

- first: the page's first visit after the app started, by URL, in a new browser profile (the
  app's caches and the browser's are empty: Streamlit's 3-7 MB of scripts are fetched and parsed);
- cold: the page opened by URL in a new tab of the agent's browser (a new Streamlit session, so
  every widget and query runs again; the browser has Streamlit's scripts cached);
- warm: a switch from another page through the sidebar, in a session that has seen every page
  (median of `--rounds`).

The baseline, in the same run, is a bare Streamlit app of two pages that only write their title:
what a page switch costs before any of our code runs. Targets (issue 12): warm within 1.5 s and
cold within 3 s on the demo workspace.

    .venv/bin/python bench/bench_pages.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from installed import compile_package
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import stop_process_group  # noqa: E402 (the checkout's own helper)

CHROMIUM = "/usr/bin/chromium"
WARM_TARGET_S = 1.5
COLD_TARGET_S = 3.0
START_TIMEOUT_S = 120
# Each page: its URL path, its sidebar link, and a text it shows once its script has run.
PAGES = {
    "Triage": ("", "Triage", "Run every check"),
    "Endpoint probe": ("probe", "Endpoint probe", "Sandbox endpoints to try"),
    "Signature lab": ("signature", "Signature lab", "Generate a correctly signed example"),
    "Delivery log": ("logs", "Delivery log", "Findings (whole log)"),
    "Recovery": ("recovery", "Recovery", "Plan the recovery"),
    "Coverage": ("coverage", "Coverage", "Coverage matrix"),
    "Cases": ("cases", "Cases", "Runs of case"),
    "Settings": ("settings", "Settings", "Sender profiles"),
}
BARE_APP = '''
import streamlit as st
def first(): st.title("First page")
def second(): st.title("Second page")
st.navigation([st.Page(first, title="First"), st.Page(second, title="Second")]).run()
'''
BARE_PAGES = {"First": ("", "First", "First page"), "Second": ("second", "Second", "Second page")}
DONE = """() => !document.querySelector('[data-testid=stSkeleton],[data-testid=stStatusWidgetRunningIcon]')"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _served(argv: list[str], port: int, workspace: Path) -> Iterator[str]:
    """A Streamlit server in its own process group, until it answers its health check."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIAGNOSTICS_")}
    env["DIAGNOSTICS_WORKSPACE"] = str(workspace)
    log = workspace / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the server did not start:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        stop_process_group(process)


def _shown(page: Page, text: str, arrive: Callable[[], None]) -> float:
    """Seconds from `arrive` until `text` is visible and the script has finished."""
    started = time.perf_counter()
    arrive()
    page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=90_000)
    page.wait_for_function(DONE, timeout=90_000)
    elapsed = time.perf_counter() - started
    if page.locator("[data-testid='stException']").count():
        sys.exit(f"the page showing {text!r} raised an exception")
    return elapsed


def measure(browser, base: str, pages: dict[str, tuple[str, str, str]], rounds: int) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """first, cold and warm seconds per page (see the module docstring)."""
    times: dict[str, dict[str, float]] = {name: {} for name in pages}
    for name, (path, _link, ready) in pages.items():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        times[name]["first"] = _shown(tab, ready, partial(tab.goto, f"{base}/{path}"))
        context.close()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    for _pass in range(2):  # the first pass fills this browser's cache, as the agent's first day did
        for name, (path, _link, ready) in pages.items():
            tab = context.new_page()
            times[name]["cold"] = _shown(tab, ready, partial(tab.goto, f"{base}/{path}"))
            tab.close()
    tab = context.new_page()
    names = list(pages)
    _shown(tab, pages[names[0]][2], partial(tab.goto, base))
    warm: dict[str, list[float]] = {name: [] for name in pages}
    for round_number in range(rounds + 1):  # the first round visits every page once in this session
        for name in names[1:] + names[:1]:
            _path, link, ready = pages[name]
            nav = tab.locator("[data-testid=stSidebarNav]").get_by_text(link, exact=True)
            seconds = _shown(tab, ready, nav.click)
            if round_number:
                warm[name].append(seconds)
    context.close()
    for name in pages:
        times[name]["warm"] = statistics.median(warm[name])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="page switches measured per page (median)")
    args = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        workspace = Path(tmp)
        bare = workspace / "bare_app.py"
        bare.write_text(BARE_APP)
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        port = _free_port()
        with _served([sys.executable, "-m", "streamlit", "run", str(bare), "--server.headless", "true",
                      "--server.port", str(port), "--browser.gatherUsageStats", "false"], port, workspace) as base:
            baseline = measure(browser, base, BARE_PAGES, args.rounds)
        port = _free_port()
        with _served([sys.executable, "-m", "diagnostics", "demo", "--serve", "--port", str(port)], port,
                     workspace) as base:
            ours = measure(browser, base, PAGES, args.rounds)
        browser.close()
    base_cold = statistics.median(t["cold"] for t in baseline.values())
    base_warm = statistics.median(t["warm"] for t in baseline.values())
    print(f"bare Streamlit page: cold {base_cold:.2f} s, warm {base_warm:.2f} s (baseline)")
    print(f"{'page':<16} {'first s':>8} {'cold s':>8} {'warm s':>8} {'cold/bare':>10} {'warm/bare':>10}"
          f"  targets: cold {COLD_TARGET_S} s, warm {WARM_TARGET_S} s")
    over = []
    for name, t in ours.items():
        late = [k for k, limit in (("cold", COLD_TARGET_S), ("warm", WARM_TARGET_S)) if t[k] > limit]
        over += [f"{name} {k}" for k in late]
        print(f"{name:<16} {t['first']:>8.2f} {t['cold']:>8.2f} {t['warm']:>8.2f} {t['cold'] / base_cold:>9.1f}x "
              f"{t['warm'] / base_warm:>9.1f}x{'  OVER: ' + ', '.join(late) if late else ''}")
    print(json.dumps({"baseline": {"cold": base_cold, "warm": base_warm}, "pages": ours}))
    if over:
        sys.exit(f"over target: {', '.join(over)}")


if __name__ == "__main__":
    main()
