"""Benchmark: how long a command takes from `python -m diagnostics ...` to its exit.

A support agent runs these in a terminal and in scripts, so a whole process is what counts. The
baseline, in the same run, is a process that only imports httpx (what any HTTP tool pays). Runs
are interleaved (baseline, each command, baseline, ...) so a busy machine slows both alike, and
the ratio of medians is reported. Target (issue 12): `--help`, `schemes`, `playbook` and
`verify` each within 1.5x of the baseline.

    .venv/bin/python bench/bench_startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import compile_package

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.5
SECRET = "whsec_" + base64.b64encode(b"bench-startup-secret-0123456789").decode()
BODY = b'{"type":"invoice.paid","data":{"id":"in_1","amount":4200}}'


def verify_arguments(folder: Path) -> tuple[list[str], bytes]:
    """A correctly signed Standard Webhooks request, so `verify` runs its whole happy path."""
    body_file = folder / "body.json"
    body_file.write_bytes(BODY)
    msg_id, timestamp = "msg_bench", str(int(time.time()))
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + BODY, hashlib.sha256).digest())
    args = ["verify", "--body-file", str(body_file), "--header", f"webhook-id: {msg_id}",
            "--header", f"webhook-timestamp: {timestamp}", "--header", f"webhook-signature: v1,{signature.decode()}",
            "--secret", "-"]
    return args, SECRET.encode()


def run_once(argv: list[str], stdin: bytes) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv[2:])} exited {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        verify, secret = verify_arguments(Path(tmp))
        commands: dict[str, tuple[list[str], bytes]] = {
            "--help": (["--help"], b""),
            "schemes": (["schemes"], b""),
            "playbook": (["playbook", "signature-no-match"], b""),
            "verify": (verify, secret),
        }
        baseline_argv = [python, "-c", "import httpx"]
        times: dict[str, list[float]] = {name: [] for name in ["import httpx", *commands]}
        compile_package()  # as installed: bytecode written once (installed.py says why)
        for argv, stdin in commands.values():  # warm the file cache
            run_once([python, "-m", "diagnostics", *argv], stdin)
        for _ in range(args.repeat):
            for name, (argv, stdin) in commands.items():
                times["import httpx"].append(run_once(baseline_argv, b""))
                times[name].append(run_once([python, "-m", "diagnostics", *argv], stdin))
    baseline = statistics.median(times["import httpx"])
    print(f"{'process':<14} {'median ms':>10} {'ratio':>7}  target {TARGET_RATIO}x")
    failed = False
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / baseline
        over = name != "import httpx" and ratio > TARGET_RATIO
        failed |= over
        print(f"{name:<14} {median * 1000:>10.1f} {ratio:>6.2f}x{'  OVER' if over else ''}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
