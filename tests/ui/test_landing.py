"""The landing page as a new agent meets it: in demo mode the demo case is open with its inputs and
its signing secret; outside demo mode, or with another case open, no demo secret anywhere; and the
app shows no developer toolbar."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.demo import EXAMPLE_TICKET, DemoWorkspace
from diagnostics.sandbox import DEMO_SECRET
from tests.ui.conftest import APP, landing, open_page

STREAMLIT_CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def _shows_the_demo_secret(app: AppTest) -> bool:
    return any(DEMO_SECRET in c.value for c in app.code) or any(DEMO_SECRET in t.value for t in app.text)


def test_the_landing_page_opens_on_the_demo_case_with_its_inputs_and_secret(demo_workspace: DemoWorkspace) -> None:
    app = landing(demo_workspace)
    assert not app.exception and not app.error
    example = CaseStore(load_config().database_url).get_case(demo_workspace.example_case_id or 0)
    assert app.session_state["case_id"] == example.id
    assert app.text_input(key="triage-ticket").value == EXAMPLE_TICKET
    assert app.text_input(key="triage-url").value == example.endpoint_url
    assert app.text_area(key="triage-captured").value.startswith("Content-Type: application/json")
    assert app.radio(key="triage-log-choice").value == "Demo delivery log"
    assert app.text_input(key="triage-secret").value == ""  # shown to copy, never prefilled
    assert any(h.value.startswith(f"Case #{example.id} · run #") for h in app.header)  # its latest run
    assert [c.value for c in app.code if DEMO_SECRET in c.value] == [DEMO_SECRET]
    assert any("demo workspace's example case" in c.value and "not a customer's" in c.value for c in app.caption)
    assert any(m.value.startswith(f"**Case #{example.id}**") for m in app.sidebar.markdown)  # the sidebar too


def test_closing_the_demo_case_gives_a_blank_form_without_the_secret(demo_workspace: DemoWorkspace) -> None:
    app = landing(demo_workspace)
    app.button(key="sidebar-close-case").click().run()
    assert "case_id" not in app.session_state
    assert app.text_input(key="triage-ticket").value == "" and app.text_input(key="triage-url").value == ""
    assert app.radio(key="triage-log-choice").value == "No delivery log"
    assert not _shows_the_demo_secret(app)
    open_page(app, "probe")
    app.switch_page("diagnostics/ui/pages/triage.py").run()
    assert "case_id" not in app.session_state  # landed once per session: closed stays closed
    app.button(key="triage-open-demo").click().run()
    assert app.session_state["case_id"] == demo_workspace.example_case_id
    assert app.text_input(key="triage-ticket").value == EXAMPLE_TICKET and _shows_the_demo_secret(app)


def test_another_open_case_never_shows_the_demo_secret(demo_workspace: DemoWorkspace) -> None:
    other = CaseStore(load_config().database_url).create_case(ticket="ZD-NOT-DEMO", customer="Real Customer")
    app = AppTest.from_file(APP, default_timeout=60)
    app.session_state["case_id"] = other.id  # a session that reopened a customer's case
    app.run()
    assert not app.exception
    assert app.session_state["case_id"] == other.id  # landing never replaces the agent's case
    assert app.text_input(key="triage-ticket").value == "ZD-NOT-DEMO"
    assert not _shows_the_demo_secret(app)
    assert app.button(key="triage-open-demo")  # the demo case stays one click away


def test_outside_demo_mode_the_landing_page_is_a_blank_form_and_no_secret(
    demo_workspace: DemoWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a workspace the demo was never built in, holding a customer's case
    monkeypatch.setenv("DIAGNOSTICS_WORKSPACE", str(tmp_path / "plain"))
    st.cache_resource.clear()
    try:
        CaseStore(load_config().database_url).create_case(ticket="ZD-PLAIN")
        app = AppTest.from_file(APP, default_timeout=60).run()
        assert not app.exception
        assert "case_id" not in app.session_state
        assert app.text_input(key="triage-ticket").value == ""
        assert not _shows_the_demo_secret(app)
        assert not [e for e in app.expander if "Demo workspace" in e.label]
    finally:
        monkeypatch.undo()
        st.cache_resource.clear()


def test_the_app_shows_no_deploy_button_or_developer_menu() -> None:
    settings = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    assert settings["client"]["toolbarMode"] == "viewer"
    assert settings["browser"]["gatherUsageStats"] is False
