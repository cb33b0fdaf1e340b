"""A real PostgreSQL server for the tests, started once per session from the Debian binaries.

`initdb` runs into a temporary folder as a non-root user (PostgreSQL refuses to run as root:
when the tests run as root, the `postgres` system user owns the folder and runs the server via
`runuser`). The server listens on a free loopback port with its unix socket inside the folder,
so it never touches a system cluster. Tests ask for the `postgres_url` fixture and are marked
`@pytest.mark.postgres`; when no PostgreSQL binaries are installed they are skipped with the
reason locally and fail in CI (tests/support/services.py); `make test` installs them through
scripts/system-deps.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import missing_service

DATABASE = "webhook_doctor_test"
SUPERUSER = "postgres"
START_TIMEOUT_S = 30.0


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb, or $PG_BINDIR."""
    explicit = os.environ.get("PG_BINDIR")
    if explicit and (Path(explicit) / "initdb").exists():
        return Path(explicit)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One throwaway cluster: initdb, start, create a database, stop and delete."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wd-pg-"))
        self.datadir = self.root / "data"
        self.port = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: hand the folder to the postgres system user.
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, check=check, timeout=120
        )

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.datadir),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        last_error = ""
        for _ in range(5):  # the free port can be taken between probing and binding: retry
            self.port = _free_port()
            result = self._run(
                str(self.bindir / "pg_ctl"),
                "-D", str(self.datadir),
                "-l", str(self.root / "server.log"),
                "-w", "-t", str(int(START_TIMEOUT_S)),
                "-o", f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off",
                "start",
                check=False,
            )
            if result.returncode == 0:
                break
            last_error = result.stderr + self._server_log()
        else:
            raise RuntimeError(f"PostgreSQL did not start: {last_error}")
        self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE
        )

    def _server_log(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace") if log.exists() else ""

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        if self.datadir.exists() and (self.datadir / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of an empty database on a real, throwaway PostgreSQL server."""
    bindir = find_bindir()
    if bindir is None:
        missing_service("PostgreSQL is not installed (run scripts/system-deps or `make test`)")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()
