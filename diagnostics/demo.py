"""The demo workspace: something real on every page the first time the app opens.

`build_demo` writes, under `<workspace>/demo/`, a generated delivery log with broken endpoints
(duplicates after timeouts, a night-long outage, a secret rotation that flips 2xx to 401, and the
other planted stories of diagnostics.logs.generate), the demo event catalog, and `demo.json`
describing them; then it triages an example case against the sandbox receiver, so the Cases page
has history from the start. `serve` starts the sandbox on loopback, allowlists it for the app's
process only (through the child's environment), and runs Streamlit until it exits.

The example case tells the secret-rotation story: the customer rotated their signing secret, the
captured request was signed with the old one, their endpoint now rejects our events (401) from a
known time in the log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from diagnostics.cases import CaseStore, open_store
from diagnostics.config import REPO_ROOT, Config
from diagnostics.logs.generate import generate_log
from diagnostics.pipeline.case import CapturedRequest, Case, LogSource, run_case
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle, start_sandbox
from diagnostics.signatures import sign_headers

DEMO_DIR = "demo"
INFO_FILE = "demo.json"
LOG_FILE = "deliveries.csv"
CATALOG_FILE = "catalog.yaml"
CATALOG_SOURCE = REPO_ROOT / "diagnostics" / "demo_data" / "catalog.yaml"
EXAMPLE_TICKET = "DEMO-1001"
EXAMPLE_CUSTOMER = "Shop Example Inc."
EXAMPLE_ENDPOINT = "ep_rotated"  # the generator's secret-rotation endpoint (2xx -> 401)
# A documented, fake "previous" secret: the example captured request was signed with it.
ROTATED_OUT_SECRET = "whsec_cm90YXRlZC1vdXQtZGVtby1zZWNyZXQtMDAwMQ=="  # noqa: S105 (demo value)
DEMO_LOG_ATTEMPTS = 30_000
SANDBOX_EXAMPLES = {
    "verifies our signature (demo secret)": "/verify/standard-webhooks",
    "accepts anything, verifies nothing": "/accept-all",
    "answers after 20 s (past the timeout)": "/slow/20000",
    "redirects (301)": "/redirect/301",
    "fails one request in three": "/flaky/3",
    "server error (500)": "/status/500",
}


@dataclass(frozen=True)
class DemoWorkspace:
    """Where the demo data lives, the sandbox it points at, and the example case."""

    root: Path
    log_path: Path
    catalog_path: Path | None
    sandbox_url: str | None = None
    example_case_id: int | None = None
    example_urls: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "log_path": str(self.log_path),
            "catalog_path": str(self.catalog_path) if self.catalog_path else None,
            "sandbox_url": self.sandbox_url,
            "example_case_id": self.example_case_id,
            "example_urls": dict(self.example_urls),
        }


def load_demo(config: Config) -> DemoWorkspace | None:
    """The demo workspace described in `<workspace>/demo/demo.json`, if one was built."""
    root = config.workspace / DEMO_DIR
    try:
        data = json.loads((root / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return DemoWorkspace(
        root=root,
        log_path=Path(data["log_path"]),
        catalog_path=Path(data["catalog_path"]) if data.get("catalog_path") else None,
        sandbox_url=data.get("sandbox_url"),
        example_case_id=data.get("example_case_id"),
        example_urls=data.get("example_urls") or {},
    )


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _write_log(root: Path, rebuild: bool) -> Path:
    path = root / LOG_FILE
    if path.exists() and not rebuild:
        return path
    tmp = root / f".{LOG_FILE}.tmp.csv"
    generate_log(seed=7, attempts=DEMO_LOG_ATTEMPTS).write(tmp, "csv")
    tmp.replace(path)
    return path


def _copy_catalog(root: Path) -> Path | None:
    if not CATALOG_SOURCE.exists():
        return None
    target = root / CATALOG_FILE
    shutil.copyfile(CATALOG_SOURCE, target)
    return target


def example_case(sandbox_url: str, log_path: Path) -> Case:
    """The secret-rotation ticket: a request signed with the old secret, the endpoint, its log."""
    body = json.dumps(
        {"id": "evt_demo_0001", "type": "invoice.paid", "api_version": "2025-06-01",
         "data": {"id": "in_1001", "object": "invoice", "amount": 4200, "currency": "usd"}},
        separators=(",", ":"),
    ).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        **sign_headers("standard-webhooks", ROTATED_OUT_SECRET, body, msg_id="msg_demo_0001"),
    }
    return Case(
        ticket=EXAMPLE_TICKET,
        customer=EXAMPLE_CUSTOMER,
        endpoint_url=sandbox_url.rstrip("/") + SANDBOX_EXAMPLES["verifies our signature (demo secret)"],
        profile="ours",
        secret=DEMO_SECRET,
        captured=CapturedRequest(headers=headers, body=body),
        log_source=LogSource(path=log_path, endpoint=EXAMPLE_ENDPOINT),
    )


def _existing_example(store: CaseStore) -> int | None:
    for record in store.find_cases(EXAMPLE_TICKET):
        if record.ticket == EXAMPLE_TICKET:
            return record.id
    return None


def build_demo(
    config: Config,
    *,
    sandbox_url: str | None = None,
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoWorkspace:
    """Write the demo data (kept across starts unless `rebuild`) and triage the example case once.

    With a sandbox URL the example case is run against it (loopback must be allowlisted in
    `config`); on later starts only its endpoint URL is pointed at the new sandbox port.
    """
    say = progress or (lambda _message: None)
    root = config.workspace / DEMO_DIR
    root.mkdir(parents=True, exist_ok=True)
    say("writing the demo delivery log")
    log_path = _write_log(root, rebuild)
    catalog_path = _copy_catalog(root)
    base = (sandbox_url or "").rstrip("/")
    examples = {label: base + path for label, path in SANDBOX_EXAMPLES.items()} if sandbox_url else {}
    case_id = None
    if sandbox_url:
        store = open_store(config)
        try:
            case_id = _existing_example(store)
            case = example_case(sandbox_url, log_path)
            if case_id is None:
                say(f"triaging the example case {EXAMPLE_TICKET}")
                case_id = run_case(case, config, store=store).case_id
            else:
                store.update_case(case_id, endpoint_url=case.endpoint_url)
        finally:
            store.close()
    demo = DemoWorkspace(root=root, log_path=log_path, catalog_path=catalog_path, sandbox_url=sandbox_url,
                         example_case_id=case_id, example_urls=examples)
    _write_atomically(root / INFO_FILE, json.dumps(demo.to_json(), indent=2))
    return demo


def _allow_sandbox(config: Config, sandbox: SandboxHandle) -> list[str]:
    """The sandbox's own ports (`127.0.0.1:PORT`), not all of loopback: the demo app must not be
    able to probe every local service."""
    allow = list(config.get("network", "allow") or [])
    urls = [sandbox.http_url, sandbox.https_url, *(getattr(sandbox, "tls_variants", None) or {}).values()]
    for url in filter(None, urls):
        entry = url.split("://", 1)[1].split("/", 1)[0]
        if entry not in allow:
            allow.append(entry)
    return allow


def streamlit_command(port: int) -> list[str]:
    """How the README starts the app (plus: no usage statistics, no file watcher)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]


def serve(config: Config, *, port: int, sandbox_port: int = 0, rebuild: bool = False) -> int:
    """Start the sandbox, build the demo workspace, run the app until it exits (or we are stopped)."""
    sandbox: SandboxHandle = start_sandbox(port=sandbox_port)
    child: subprocess.Popen[bytes] | None = None

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        allow = _allow_sandbox(config, sandbox)
        config.override("network", "allow", allow, source="demo (sandbox)")
        demo = build_demo(config, sandbox_url=sandbox.http_url, rebuild=rebuild,
                          progress=lambda m: print(f"demo: {m}", flush=True))
        env = {
            **os.environ,
            "DIAGNOSTICS_WORKSPACE": str(config.workspace),
            "DIAGNOSTICS_ALLOW": ",".join(allow),
        }
        print(f"demo: sandbox receiver at {sandbox.http_url} (allowlisted for the app only)", flush=True)
        print(f"demo: workspace {demo.root.parent}; open http://localhost:{port}", flush=True)
        child = subprocess.Popen(streamlit_command(port), cwd=REPO_ROOT, env=env)
        return child.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
