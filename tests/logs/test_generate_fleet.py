"""The fleet log generator: deterministic, truth taken from its own rows, any size in bounded chunks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from diagnostics.logs.generate import DEFAULT_SCHEDULE_S
from diagnostics.logs.generate_fleet import INCIDENT_KIND, generate_fleet_log, write_fleet_parquet


def test_same_seed_same_log_and_the_truth_is_what_the_rows_say() -> None:
    a = generate_fleet_log(seed=9, attempts=30_000, endpoints=300, days=7)
    b = generate_fleet_log(seed=9, attempts=30_000, endpoints=300, days=7)
    assert a.table.equals(b.table)
    t = a.table
    start, end = (pa.scalar(x, type=t["attempted_at"].type) for x in (a.truth.incident_start, a.truth.incident_end))
    in_window = pc.and_(pc.greater_equal(t["attempted_at"], start), pc.less(t["attempted_at"], end))
    tls = pc.and_(in_window, pc.equal(t["error"], INCIDENT_KIND))
    assert set(pc.unique(pc.filter(t["endpoint"], tls)).to_pylist()) >= a.truth.incident_endpoints
    assert a.truth.incident_endpoints
    assert set(a.truth.lone_outages).isdisjoint(a.truth.incident_endpoints)
    # Every planted lost event really has one failed attempt per retry slot and no success.
    slots = len(DEFAULT_SCHEDULE_S) + 1
    assert a.truth.exhausted
    for endpoint, lost in a.truth.exhausted.items():
        attempts: dict[str, list[int | None]] = {}
        for row in pc.filter(t, pc.equal(t["endpoint"], endpoint)).select(["event_id", "status_code"]).to_pylist():
            attempts.setdefault(row["event_id"], []).append(row["status_code"])
        exhausted = [e for e, codes in attempts.items() if len(codes) == slots and 200 not in codes]
        assert len(exhausted) == lost


def test_a_big_file_is_written_in_chunks_with_distinct_event_ids(tmp_path: Path) -> None:
    path = write_fleet_parquet(tmp_path / "big.parquet", attempts=50_000, endpoints=200, chunk=20_000)
    table = pq.read_table(path, columns=["event_id", "endpoint"])
    assert 40_000 < table.num_rows < 60_000
    assert pc.count_distinct(table["endpoint"]).as_py() <= 200
    prefixes = {e.split("_")[1] for e in pc.unique(table["event_id"]).to_pylist()[:100_000]}
    assert prefixes == {"0", "1", "2"}
