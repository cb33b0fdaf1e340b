"""Real loopback servers for the probe tests: counting listeners and small stdlib HTTP servers."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from diagnostics.config import Config, load_config
from diagnostics.profiles import SenderProfile

TEST_PROFILE = SenderProfile(
    name="test",
    label="Test sender",
    timeout_s=1.0,
    retry_schedule_s=(5.0, 60.0),
    retry_note="5 s, then 1 min (test profile)",
)


def clean_config() -> Config:
    """The repository's configuration, without any allowlist from the environment."""
    return load_config(env={})


@dataclass
class CountingListener:
    """A TCP listener that only counts connections: proof that the guard sent no packet."""

    host: str
    port: int
    connections: int = 0
    _sock: socket.socket | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()


@contextmanager
def counting_listener(host: str = "127.0.0.1", port: int = 0) -> Iterator[CountingListener]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    sock.settimeout(0.2)
    listener = CountingListener(host=host, port=sock.getsockname()[1], _sock=sock)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            listener.connections += 1
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def http_server(handle: Handler, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """A stdlib threading HTTP server whose POST/GET handler is `handle`; yields its base URL."""

    class _Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            handle(self)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, port), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def reply(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    length = int(handler.headers.get("Content-Length") or 0)
    if length:
        handler.rfile.read(length)
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
