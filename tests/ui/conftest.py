"""A demo workspace for the app tests: a temp workspace, the sandbox on loopback (allowlisted),
the generated log and the example case, built once for the tests/ui package (the environment is restored afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from diagnostics.config import load_config
from diagnostics.demo import DemoWorkspace, build_demo
from diagnostics.sandbox import SandboxHandle, start_sandbox

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = "diagnostics/ui/pages"


@pytest.fixture(scope="package")
def ui_sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox() as handle:
        yield handle


@pytest.fixture(scope="package")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory, ui_sandbox: SandboxHandle) -> Iterator[DemoWorkspace]:
    workspace = tmp_path_factory.mktemp("ui-workspace")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIAGNOSTICS_WORKSPACE", str(workspace))
        patch.setenv("DIAGNOSTICS_ALLOW", "127.0.0.1")
        patch.delenv("DIAGNOSTICS_DB_URL", raising=False)
        patch.delenv("DIAGNOSTICS_CONFIG", raising=False)
        demo = build_demo(load_config(), sandbox_url=ui_sandbox.http_url)
        st.cache_resource.clear()
        yield demo
    st.cache_resource.clear()


def landing(demo_workspace: DemoWorkspace) -> AppTest:
    """A new session's first look at the app: in demo mode the landing page opens on the demo case."""
    return AppTest.from_file(APP, default_timeout=60).run()


def blank_form() -> AppTest:
    """A new session with the demo case closed (the sidebar's Close case): a blank Triage form, so
    a test's run starts a case of its own instead of changing the demo case."""
    app = AppTest.from_file(APP, default_timeout=60).run()
    if "case_id" in app.session_state:
        app.button(key="sidebar-close-case").click().run()
    assert "case_id" not in app.session_state
    return app


@pytest.fixture
def app(demo_workspace: DemoWorkspace) -> AppTest:
    """The landing page with the demo case closed: a blank Triage form."""
    return blank_form()


def open_page(app: AppTest, page: str) -> AppTest:
    return app.switch_page(f"{PAGES}/{page}.py").run()
