"""Benchmark: the Delivery log page with a 1M-attempt log loaded, rerun after a filter change.

The page caches the loaded table (`state.load_log`, DuckDB in process) and the analysis
(`state.analyze_log`) per (log, profile); a filter change then costs only the filter queries
(`ui.logview`) and the rendering. Measured with Streamlit's AppTest, in one process:

- baseline: the first visit (load + analyze + queries + render), i.e. what every rerun would
  cost without the caches;
- cached: reruns after changing a filter (endpoint, outcome, search), median of several;
- the filter queries alone (browse, series, facets) straight against the loaded table.

    .venv/bin/python bench/bench_app.py [--rows 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamlit.testing.v1 import AppTest

from diagnostics.demo import DEMO_DIR, INFO_FILE, DemoWorkspace
from diagnostics.logs.generate import generate_log

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TARGET_S = 1.0


def _timed_run(app: AppTest) -> float:
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"the page raised: {app.exception[0].value}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        demo_dir = workspace / DEMO_DIR
        demo_dir.mkdir()
        started = time.perf_counter()
        log_path = generate_log(seed=11, attempts=args.rows, payloads=False).write(demo_dir / "big.parquet")
        print(f"generated {args.rows:,} attempts in {time.perf_counter() - started:.1f} s -> {log_path.name}")
        demo = DemoWorkspace(root=demo_dir, log_path=log_path, catalog_path=None)
        (demo_dir / INFO_FILE).write_text(json.dumps(demo.to_json()))
        os.environ["DIAGNOSTICS_WORKSPACE"] = str(workspace)

        app = AppTest.from_file(APP, default_timeout=600).run()
        app.switch_page("diagnostics/ui/pages/logs.py")
        baseline = _timed_run(app)
        header = next(h.value for h in app.subheader if h.value.startswith("Attempts ("))
        print(f"baseline (first visit: load + analyze + queries + render): {baseline:.2f} s  [{header}]")

        endpoints = app.multiselect(key="logs-endpoints").options
        changes = [
            ("endpoint", lambda i: app.multiselect(key="logs-endpoints").set_value([endpoints[i % len(endpoints)]])),
            ("outcome", lambda i: app.multiselect(key="logs-outcomes").set_value(
                [["http error"], ["no response"], ["success"]][i % 3])),
            ("search", lambda i: app.text_input(key="logs-search").set_value(f"evt_00{i}")),
        ]
        cached: dict[str, list[float]] = {}
        for name, change in changes:
            for i in range(args.repeats):
                change(i)
                cached.setdefault(name, []).append(_timed_run(app))
        all_times = [t for times in cached.values() for t in times]
        for name, times in cached.items():
            print(f"cached rerun after a {name} filter change: median {statistics.median(times):.3f} s, "
                  f"max {max(times):.3f} s ({len(times)} runs)")
        median = statistics.median(all_times)
        print(f"cached rerun, all filter changes: median {median:.3f} s, max {max(all_times):.3f} s; "
              f"ratio to baseline {median / baseline:.3f} ({baseline / median:.1f}x faster)")

        from diagnostics.pipeline.case import LogSource
        from diagnostics.ui import logview, state

        source = LogSource(path=log_path)
        attempts = state.load_log(state.source_key(source), source)
        filters = logview.LogFilters(endpoints=("ep_outage",), outcomes=("no response", "http error"))
        for label, call in (
            ("facets", lambda: logview.facets(attempts)),
            ("browse (count + 1000 newest rows)", lambda: logview.browse(attempts, filters)),
            ("attempts per hour by outcome", lambda: logview.attempt_series(attempts, filters)),
            ("latency p50/p95 per hour", lambda: logview.latency_series(attempts, filters)),
        ):
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                call()
                times.append(time.perf_counter() - started)
            print(f"  query {label}: median {statistics.median(times) * 1000:.1f} ms")
        verdict = "OK" if max(all_times) < TARGET_S else "SLOWER THAN TARGET"
        print(f"target: a filter-change rerun under {TARGET_S:.0f} s -> {verdict}")
        return 0 if max(all_times) < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
