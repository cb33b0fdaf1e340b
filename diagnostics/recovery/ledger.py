"""The send ledger: every resend written down before the next one starts, so a killed run resumes.

A SQLite file beside the plan (`<plan>.ledger.sqlite`), in WAL mode with `synchronous=FULL`: a
row is durable once `record_*` returns. Before a request goes out its intent is recorded; its
answer is recorded as soon as it comes. A rerun skips every event with a 2xx. An event whose
intent has no answer was in flight when the run stopped: the receiver may or may not have it, so
it is resent (with the same event id, for the receiver to dedupe) and reported as such.
The secret is never written here; only the event id, times and the answer.

A resend run writes through `intent`/`answer` (async): the writes of every send waiting at that
moment are committed together in one transaction (one fsync, in a worker thread), and each send
goes on only once its own write is committed. Ten sends in flight then share a disk flush
instead of queueing for ten, and the event loop keeps serving the other sends meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, event_id TEXT NOT NULL, endpoint TEXT NOT NULL,
    url TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, status_code INTEGER, error TEXT,
    duration_ms REAL)"""


INTENT = "INSERT INTO sends (run_id, event_id, endpoint, url, started_at) VALUES (?, ?, ?, ?, ?)"
ANSWER = "UPDATE sends SET finished_at = ?, status_code = ?, error = ?, duration_ms = ? WHERE id = ?"


def ledger_path(plan_path: str) -> Path:
    return Path(plan_path).with_name(Path(plan_path).name + ".ledger.sqlite")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Ledger:
    """Append-only record of resends (thread-safe; one connection, each write its own transaction)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(SCHEMA)
        self._lock = threading.Lock()
        self._waiting: list[tuple[str, tuple[object, ...], asyncio.Future[int]]] = []
        self._flusher: asyncio.Future[None] | None = None

    def delivered(self) -> set[str]:
        """Events that already got a 2xx (never sent again)."""
        rows = self._conn.execute("SELECT DISTINCT event_id FROM sends WHERE status_code BETWEEN 200 AND 299")
        return {r[0] for r in rows}

    def in_flight(self) -> set[str]:
        """Events whose last send has no recorded answer (the run stopped meanwhile)."""
        rows = self._conn.execute(
            """SELECT event_id FROM sends s WHERE finished_at IS NULL AND id = (
                   SELECT max(id) FROM sends t WHERE t.event_id = s.event_id)""")
        return {r[0] for r in rows}

    def record_intent(self, run_id: str, event_id: str, endpoint: str, url: str) -> int:
        return self._commit([(INTENT, (run_id, event_id, endpoint, url, _now()))])[0]

    def record_answer(self, row: int, status_code: int | None, error: str | None, duration_ms: float) -> None:
        self._commit([(ANSWER, (_now(), status_code, error, round(duration_ms, 1), row))])

    async def intent(self, run_id: str, event_id: str, endpoint: str, url: str) -> int:
        """`record_intent`, committed together with the other writes waiting (returns once durable)."""
        return await self._grouped(INTENT, (run_id, event_id, endpoint, url, _now()))

    async def answer(self, row: int, status_code: int | None, error: str | None, duration_ms: float) -> None:
        await self._grouped(ANSWER, (_now(), status_code, error, round(duration_ms, 1), row))

    def _commit(self, writes: Sequence[tuple[str, tuple[object, ...]]]) -> list[int]:
        """Run `writes` in one transaction; the row id of each (durable when this returns)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                ids = [int(self._conn.execute(sql, params).lastrowid or 0) for sql, params in writes]
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return ids

    async def _grouped(self, sql: str, params: tuple[object, ...]) -> int:
        waiting = asyncio.get_running_loop().create_future()
        self._waiting.append((sql, params, waiting))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return await waiting

    async def _flush(self) -> None:
        """Commit what is waiting, then what arrived meanwhile, until nothing waits."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                ids = await asyncio.to_thread(self._commit, [(sql, params) for sql, params, _ in batch])
            except Exception as exc:  # handed to every waiting send
                for *_, waiting in batch:
                    waiting.set_exception(exc)
                continue
            for (*_, waiting), row in zip(batch, ids, strict=True):
                waiting.set_result(row)

    def rows(self, run_id: str | None = None) -> list[dict]:
        sql = "SELECT run_id, event_id, url, started_at, finished_at, status_code, error, duration_ms FROM sends"
        cursor = self._conn.execute(sql + (" WHERE run_id = ? ORDER BY id" if run_id else " ORDER BY id"),
                                    (run_id,) if run_id else ())
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor]

    def close(self) -> None:
        self._conn.close()
