"""`sandbox`: run the misbehaving loopback receiver in the foreground (demo, training, tests)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.sandbox import DEMO_SECRET, TLS_VARIANTS, start_sandbox

SCENARIOS = (
    ("/healthy", "200 at once"),
    ("/slow/<ms>", "200 after <ms> milliseconds"),
    ("/status/<code>", "answers with that status"),
    ("/redirect/<code>?to=URL", "a redirect (default 301 to /healthy)"),
    ("/hang", "accepts the connection, never answers"),
    ("/reset", "resets the connection"),
    ("/reset-mid", "starts answering, then resets"),
    ("/trickle/<ms>", "sends the body one byte every <ms> ms (default 1000)"),
    ("/huge", "a 1 GiB body"),
    ("/garbage", "answers something that is not HTTP"),
    ("/accept-all", "200 to anything, verifies nothing"),
    ("/verify/<scheme>", "verifies the signature with the demo secret"),
    ("/flaky/<n>", "fails one request in <n>"),
    ("/echo", "returns the request it received"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sandbox", help=COMMANDS["sandbox"].help)
    parser.add_argument("--port", type=int, default=0, help="HTTP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--tls", action="store_true", help="also serve HTTPS from a local test CA (and broken certs)")
    parser.add_argument("--tls-port", type=int, default=0, help="HTTPS port with --tls (default: a free one)")
    parser.add_argument("--ca-out", metavar="FILE", help="with --tls, write the test CA here (default: workspace)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    for name in ("port", "tls_port"):
        value = getattr(args, name)
        if not 0 <= value <= 65535:
            raise InputError("the port must be between 0 and 65535", field=f"--{name.replace('_', '-')}")
    try:
        handle = start_sandbox(
            port=args.port, tls=args.tls, tls_port=args.tls_port, hmac_options=config.get("signature", "hmac")
        )
    except OSError as exc:
        raise InputError(f"cannot listen: {exc.strerror or exc}", field="--port") from exc
    out = sys.stdout
    out.write(f"sandbox listening on {handle.http_url}\n")
    if handle.https_url and handle.certificates:
        ca_path = Path(args.ca_out) if args.ca_out else config.workspace / "sandbox-ca.pem"
        ca_path.parent.mkdir(parents=True, exist_ok=True)
        ca_path.write_bytes(handle.certificates.ca_pem)
        out.write(f"HTTPS on {handle.https_url} (test CA: {ca_path}; probe with --ca-file {ca_path})\n")
        for variant in TLS_VARIANTS:
            out.write(f"  {variant:<21} {handle.tls_variants[variant]}\n")
    out.write("scenarios:\n")
    for path, what in SCENARIOS:
        out.write(f"  {path:<26} {what}\n")
    out.write(f"demo secret for /verify/<scheme>: {DEMO_SECRET}\n")
    out.write(f"probe it with: python -m diagnostics probe {handle.http_url}/healthy --allow 127.0.0.1\n")
    out.flush()
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0
