"""Run a platform API handler on a loopback port for the length of a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], seen: Any) -> Iterator[tuple[str, Any]]:
    """(base URL, seen): a subclass of `handler` with `seen` as its shared state, served on 127.0.0.1."""
    bound = type("Handler", (handler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
