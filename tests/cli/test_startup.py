"""Start-up cost: the quick commands never import the heavy libraries they do not use.

`bench/bench_startup.py` measures the time; this keeps the reason for it from regressing: one
module-level import of the log loader, the report templates or `cryptography` on the path of
`schemes`, `playbook` or `verify` would add 50-250 ms to every call.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("duckdb", "pyarrow", "pandas", "numpy", "sqlalchemy", "jinja2", "markdown_it", "cryptography",
         "httpx", "streamlit", "pyspark")
BODY = b'{"type":"invoice.paid"}'


def heavy_modules_after(args: list[str], stdin: str = "") -> tuple[list[str], str]:
    """The heavy top-level packages loaded once `main(args)` returned, and what it printed."""
    code = ("import sys\nfrom diagnostics.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    result = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    *printed, modules = result.stdout.strip().splitlines()
    return eval(modules), "\n".join(printed)  # noqa: S307 (our own printed list)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["schemes"], ["schemes", "--format", "json"], ["playbook"], ["playbook", "signature-no-match"]],
)
def test_listing_commands_import_nothing_heavy(args: list[str]) -> None:
    modules, printed = heavy_modules_after(args)
    assert modules == [] and printed.strip()


def test_verify_of_an_hmac_signature_imports_nothing_heavy(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(BODY)
    args = ["verify", "--body-file", str(body), "--header", "webhook-id: msg_1", "--header",
            "webhook-timestamp: 1700000000", "--header",
            "webhook-signature: v1,eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=", "--secret", "-"]
    modules, printed = heavy_modules_after(args, stdin="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
    assert modules == [] and "signature" in printed.lower()


def test_analyze_of_a_csv_log_as_json_loads_neither_arrow_nor_templates(tmp_path: Path) -> None:
    """DuckDB does the work; Arrow/NumPy (platform JSON, databases) and Jinja2 (HTML) stay unloaded."""
    log = tmp_path / "log.csv"
    log.write_text("event_id,endpoint,attempted_at,status_code,duration_ms\n"
                   "evt_1,ep_1,2026-11-01T10:00:00Z,500,120\nevt_1,ep_1,2026-11-01T10:01:00Z,200,80\n")
    modules, _ = heavy_modules_after(["analyze", str(log), "--format", "json", "--output", str(tmp_path / "o.json")])
    assert modules == ["duckdb"]
    assert (tmp_path / "o.json").stat().st_size > 0
