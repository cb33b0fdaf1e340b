"""The three engines give the same findings on a planted-truth fleet log; DuckDB is the oracle."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diagnostics.analyzers import run_all
from diagnostics.config import load_config
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.findings import Finding
from diagnostics.logs import load_attempts
from diagnostics.logs.generate_fleet import FleetLog, generate_fleet_log
from tests.analyzers.conftest import ours
from tests.engines.loading import copy_to_postgres

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = (5, 300, 1800, 3600, 3600, 3600, 3600)  # short retries: lost events inside three days


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[FleetLog, Path]:
    log = generate_fleet_log(seed=5, attempts=30_000, endpoints=300, days=3.0, incident_endpoints=40,
                             incident_minutes=180, schedule_s=SCHEDULE)
    return log, log.write(tmp_path_factory.mktemp("fleet") / "fleet.parquet")


def _value(v: Any) -> Any:
    return round(v, 0) if isinstance(v, float) else v  # percentiles may differ in the last digit


def key(f: Finding) -> tuple[Any, ...]:
    return (f.code, f.status.value, f.subject.split(":")[0] if f.subject.startswith("fleet") else f.subject,
            tuple((k, _value(v)) for k, v in f.evidence))


def oracle(path: Path, view: str) -> list[tuple[Any, ...]]:
    attempts = load_attempts([str(path)])
    try:
        return sorted(map(key, run_all(DuckDBEngine(attempts.conn, attempts.name), ours(), "log", view=view).findings))
    finally:
        attempts.conn.close()


def judged(engine: Any, view: str) -> list[tuple[Any, ...]]:
    try:
        return sorted(map(key, run_all(engine, ours(), "log", table=engine.table, view=view).findings))
    finally:
        engine.close()


def test_the_oracle_finds_what_was_planted(fleet: tuple[FleetLog, Path]) -> None:
    found = {k[0]: k[1] for k in oracle(fleet[1], "auto")}
    assert found["fleet-incident"] == "fail"
    assert found["retry-exhausted"] == "fail"
    assert found["outage-window"] == "fail"


@pytest.mark.postgres
@pytest.mark.parametrize("view", ["auto", "endpoints"])
def test_postgres_gives_the_same_findings(fleet: tuple[FleetLog, Path], postgres_url: str, view: str) -> None:
    from diagnostics.engines.postgres import open_engine

    copy_to_postgres(postgres_url, "fleet_attempts", fleet[0].table)
    engine = open_engine([postgres_url], config=load_config(), table="fleet_attempts")
    assert judged(engine, view) == oracle(fleet[1], view)


@pytest.mark.spark
def test_spark_gives_the_same_findings(fleet: tuple[FleetLog, Path], spark: Any) -> None:
    from diagnostics.engines.spark import open_engine

    engine = open_engine([str(fleet[1])], config=load_config())
    assert judged(engine, "auto") == oracle(fleet[1], "auto")


@pytest.mark.postgres
def test_cli_engine_database_end_to_end(fleet: tuple[FleetLog, Path], postgres_url: str) -> None:
    copy_to_postgres(postgres_url, "fleet_cli", fleet[0].table)
    result = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", postgres_url, "--table", "fleet_cli",
                             "--engine", "database", "--format", "json"], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["engine"] == "database"
    assert data["metrics"]["attempts"] == fleet[0].table.num_rows
    assert {f["code"] for f in data["findings"] if f["status"] == "fail"} >= {"fleet-incident", "retry-exhausted"}


@pytest.mark.spark
def test_cli_engine_spark_end_to_end_with_a_table(fleet: tuple[FleetLog, Path], spark: Any,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from diagnostics.cli import main

    spark.read.parquet(str(fleet[1])).createOrReplaceTempView("fleet_table")
    code = main(["analyze", "--table", "fleet_table", "--engine", "spark", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["metrics"]["engine"] == "spark"
    assert data["metrics"]["attempts"] == fleet[0].table.num_rows
    assert {f["code"] for f in data["findings"] if f["status"] == "fail"} >= {"fleet-incident", "retry-exhausted"}


def test_the_default_path_never_imports_pyspark(fleet: tuple[FleetLog, Path]) -> None:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "diagnostics", "analyze", str(fleet[1]),
                             "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")]
    assert "diagnostics.analyzers" in imported
    assert not [m for m in imported if m.startswith(("pyspark", "py4j"))]
    assert not math.isnan(json.loads(result.stdout)["metrics"]["attempts"])


def test_spark_reads_a_file_name_as_a_path_never_a_glob(tmp_path: Path, spark: Any) -> None:
    """Issue 14: Hadoop expands `[1]` and `*` in paths; `log[1].parquet` must read that file only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from diagnostics.engines.spark import _read

    for name, event in (("log1.parquet", "decoy"), ("log[1].parquet", "evt_real")):
        pq.write_table(pa.table({"event_id": [event]}), tmp_path / name)
    frame, _, _ = _read(spark, [str(tmp_path / "log[1].parquet")], None)
    assert [row["event_id"] for row in frame.select("event_id").collect()] == ["evt_real"]
