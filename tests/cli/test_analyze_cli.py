"""`python -m diagnostics analyze`: findings out, exit 1 on a failed finding, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.logs.generate import generate_log

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "logs"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", "analyze", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_log(seed=2, attempts=15_000).write(tmp_path_factory.mktemp("cli") / "log.parquet")


def test_json_output_and_exit_code(parquet: Path) -> None:
    result = run(str(parquet), "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert {f["code"] for f in data["findings"] if f["status"] == "fail"} >= {"retry-exhausted", "status-change"}
    assert data["metrics"]["attempts"] == 15_000


def test_filters_and_profile(parquet: Path) -> None:
    result = run(str(parquet), "--endpoint", "ep_slow", "--since", "2026-03-03", "--until", "2026-03-04T00:00:00Z",
                 "--profile", "stripe", "--format", "json")
    assert result.returncode == 0, result.stderr  # slow for ours, fine for Stripe's 30 s timeout
    data = json.loads(result.stdout)
    assert [e["name"] for e in data["metrics"]["endpoints"]] == ["ep_slow"]
    assert data["metrics"]["profile"] == "stripe"
    assert not [f for f in data["findings"] if f["status"] in ("fail", "warn")]


def test_platform_export_with_forced_format_and_markdown_output(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = run(str(FIXTURES / "hookdeck_attempts.json"), "--source-format", "hookdeck", "--format", "markdown",
                 "--output", str(out))
    assert result.returncode == 1 and result.stdout == ""
    text = out.read_text()
    assert "redirect" in text.lower() and "des_7Qp" in text


def test_column_mapping_flag(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("id,hook,created\ne1,wh_1,2026-01-05T10:00:00Z\n")
    result = run(str(path), "--map", "event_id=id,endpoint=hook,attempted_at=created", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["endpoints"][0]["name"] == "wh_1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "missing.csv: delivery-log file not found"),
        (["{bad}", "--since", "yesterday"], "field '--since'"),
        (["{bad}", "--map", "event_id"], "is not canonical=source"),
        (["{bad}"], "line 2, column attempted_at"),
        (["{bad}", "--profile", "nope"], "unknown sender profile"),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,endpoint,attempted_at\ne1,ep,2026-01-05 10:00:00\n")
    result = run(*[a.replace("{bad}", str(bad)) for a in args])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_naive_utc_flag_accepts_naive_times(tmp_path: Path) -> None:
    path = tmp_path / "naive.csv"
    path.write_text("event_id,endpoint,attempted_at,status_code\ne1,ep,2026-01-05 10:00:00,200\n")
    assert run(str(path), "--naive-utc").returncode == 0


def test_fleet_view_and_details_file(parquet: Path, tmp_path: Path) -> None:
    details = tmp_path / "details.parquet"
    result = run(str(parquet), "--view", "fleet", "--details", str(details), "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["details"] == {"path": str(details), "rows": data["metrics"]["details"]["rows"]}
    assert details.stat().st_size > 0 and data["metrics"]["details"]["rows"] > 0
    assert any(f["subject"].startswith("fleet of") for f in data["findings"])
    bad = run(str(parquet), "--details", str(tmp_path / "missing" / "d.csv"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_analyzing_a_file_imports_no_database_dataframe_or_spark_library(parquet: Path) -> None:
    code = ("import sys; from diagnostics.cli import main; code = main(sys.argv[1:]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sqlalchemy', 'pyspark', 'sqlglot', "
            "'streamlit', 'httpx'}))")
    result = subprocess.run([sys.executable, "-c", code, "analyze", str(parquet), "--format", "json", "--output",
                             str(parquet.with_suffix(".json"))], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr
