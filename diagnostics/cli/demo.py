"""`demo [--serve] [--port P]`: build the demo workspace, and with --serve start the app on it."""

from __future__ import annotations

import argparse

from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.demo import build_demo, serve


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help=COMMANDS["demo"].help,
    )
    parser.add_argument("--serve", action="store_true", help="start the sandbox receiver and the Streamlit app")
    parser.add_argument("--port", type=int, default=8501, help="port of the app (default 8501)")
    parser.add_argument("--sandbox-port", type=int, default=0, help="port of the sandbox receiver (default: free)")
    parser.add_argument("--rebuild", action="store_true", help="generate the demo delivery log again")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace, config: Config) -> int:
    if args.serve:
        return serve(config, port=args.port, sandbox_port=args.sandbox_port, rebuild=args.rebuild)
    demo = build_demo(config, rebuild=args.rebuild, progress=lambda m: print(f"demo: {m}"))
    print(f"demo workspace: {demo.root}")
    print(f"  delivery log: {demo.log_path}")
    print(f"  event catalog: {demo.catalog_path or '(not available)'}")
    print("  run with --serve to start the sandbox receiver, triage the example case and open the app")
    return 0
