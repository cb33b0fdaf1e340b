"""The demo workspace: generated log, catalog, example case triaged once, re-pointed on restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.cases import CaseStore
from diagnostics.cli import main
from diagnostics.config import Config, load_config
from diagnostics.demo import EXAMPLE_ENDPOINT, EXAMPLE_TICKET, build_demo, load_demo, streamlit_command
from diagnostics.findings import Status
from diagnostics.sandbox import DEMO_SECRET, start_sandbox


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path / "ws"), "DIAGNOSTICS_ALLOW": "127.0.0.1"})


def test_build_without_sandbox_writes_the_log_and_describes_it(config: Config) -> None:
    demo = build_demo(config)
    assert demo.log_path.exists() and demo.log_path.stat().st_size > 0
    assert load_demo(config) == demo
    assert demo.example_case_id is None and not demo.example_urls
    first_mtime = demo.log_path.stat().st_mtime_ns
    build_demo(config)  # kept across starts
    assert demo.log_path.stat().st_mtime_ns == first_mtime


def test_example_case_tells_the_secret_rotation_story_once(config: Config) -> None:
    with start_sandbox() as sandbox:
        demo = build_demo(config, sandbox_url=sandbox.http_url)
    store = CaseStore(config.database_url)
    case = store.get_case(demo.example_case_id)
    assert case.ticket == EXAMPLE_TICKET and case.log_source.endswith(f"(endpoint {EXAMPLE_ENDPOINT})")
    run = store.list_runs(case.id)[0]
    statuses = {f.code: f.status for f in run.findings}
    assert statuses["signature-enforced"] is Status.PASS  # the sandbox verifies with the demo secret
    assert statuses["signature-no-match"] is Status.FAIL  # the captured request used the old secret
    assert statuses["status-change"] is Status.FAIL  # 2xx -> 401 in the log
    assert all(DEMO_SECRET not in text for text in run.reports.values())
    # A restart with the sandbox on another port re-points the case, without a second case or run
    with start_sandbox() as sandbox:
        again = build_demo(config, sandbox_url=sandbox.http_url)
        assert again.example_case_id == case.id
        assert store.get_case(case.id).endpoint_url.startswith(sandbox.http_url)
    assert len(store.find_cases(EXAMPLE_TICKET)) == 1 and len(store.list_runs(case.id)) == 1


def test_demo_command_builds_without_serving(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DIAGNOSTICS_WORKSPACE", str(tmp_path / "ws"))
    assert main(["demo"]) == 0
    assert "delivery log" in capsys.readouterr().out
    assert (tmp_path / "ws" / "demo" / "deliveries.csv").exists()


def test_streamlit_is_started_as_the_readme_says() -> None:
    command = streamlit_command(8765)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app.py")
    assert command[5:9] == ["--server.headless", "true", "--server.port", "8765"]
