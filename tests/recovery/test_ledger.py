"""The send ledger: durable writes, and the group commit that lets concurrent sends share a flush."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from diagnostics.recovery.ledger import Ledger


def test_concurrent_writes_share_commits_and_all_land(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger(tmp_path / "plan.json.ledger.sqlite")
    commits: list[int] = []
    commit = Ledger._commit

    def counted(self: Ledger, writes: list) -> list[int]:
        commits.append(len(writes))
        return commit(self, writes)

    monkeypatch.setattr(Ledger, "_commit", counted)

    async def send(n: int) -> None:
        row = await ledger.intent("run1", f"evt_{n}", "ep", "https://hooks.example.com")
        await ledger.answer(row, 200 if n % 2 else 500, None, 12.0)

    async def main() -> None:
        await asyncio.gather(*(send(n) for n in range(20)))

    asyncio.run(main())
    assert sum(commits) == 40 and len(commits) < 40  # every write, in fewer transactions
    ledger.close()
    reopened = Ledger(tmp_path / "plan.json.ledger.sqlite")  # what a rerun reads
    assert reopened.delivered() == {f"evt_{n}" for n in range(1, 20, 2)}
    assert reopened.in_flight() == set()
    assert len(reopened.rows("run1")) == 20


def test_a_failed_commit_fails_every_send_waiting_on_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger(tmp_path / "plan.json.ledger.sqlite")

    def full_disk(self: Ledger, writes: list) -> list[int]:
        raise OSError("disk full")

    monkeypatch.setattr(Ledger, "_commit", full_disk)

    async def main() -> list[object]:
        return await asyncio.gather(*(ledger.intent("r", f"evt_{n}", "ep", "u") for n in range(3)),
                                    return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, OSError) for r in results)  # no send starts without its intent on disk
    ledger.close()


def test_an_intent_without_answer_is_in_flight(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.record_intent("r", "evt_1", "ep", "u")
    done = ledger.record_intent("r", "evt_2", "ep", "u")
    ledger.record_answer(done, 204, None, 3.0)
    assert ledger.in_flight() == {"evt_1"} and ledger.delivered() == {"evt_2"}
    ledger.close()
