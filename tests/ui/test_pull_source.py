"""Pulling a delivery log from a platform on the app's pages (Delivery log, Recovery, Triage),
against the loopback Hookdeck server in Hookdeck's API shape: the pulled log is analyzed and kept
with the case, a refused token is one message naming the page's own field, and the token is
never stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from tests.support.hookdeck_api import CONNECTION, TOKEN, serve_hookdeck
from tests.ui.conftest import open_page


@pytest.fixture
def hookdeck() -> Iterator[tuple[str, Any]]:
    with serve_hookdeck() as served:
        yield served


def _errors(app: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in app.error]


def _fill(app: AppTest, key: str, base_url: str, token: str) -> None:
    """The pull fields (the platform first: choosing it reruns the page, which drops uncommitted form fields)."""
    app.selectbox(key=f"{key}-platform").set_value("hookdeck").run()
    app.number_input(key=f"{key}-days").set_value(0)
    app.text_input(key=f"{key}-hookdeck-connection_id").input(CONNECTION)
    app.text_input(key=f"{key}-hookdeck-base-url").input(base_url)
    app.text_input(key=f"{key}-token").input(token)


@pytest.mark.parametrize("page", ["logs", "recovery"])
def test_a_log_pulled_from_hookdeck_is_the_pages_log(app: AppTest, hookdeck, page: str) -> None:
    base_url, seen = hookdeck
    open_page(app, page)
    app.selectbox(key=f"{page}-choice").set_value("Pull from a platform").run()
    _fill(app, f"{page}-pull", base_url, TOKEN)
    app.button(key=f"{page}-pull-run").click().run()
    assert not app.exception and not _errors(app), _errors(app)
    assert any("Pulled" in s.value for s in app.success)
    assert any(r["path"] == "/attempts" for r in seen.requests)
    pulled = list((load_config().workspace / "uploads").glob("pulled-hookdeck-*.json"))
    assert pulled and all(TOKEN not in p.read_text() for p in pulled)


def test_a_refused_token_is_one_message_in_the_pages_words(app: AppTest, hookdeck) -> None:
    base_url, _seen = hookdeck
    open_page(app, "logs")
    app.selectbox(key="logs-choice").set_value("Pull from a platform").run()
    _fill(app, "logs-pull", base_url, "not-the-token")
    app.button(key="logs-pull-run").click().run()
    errors = _errors(app)
    assert not app.exception and len(errors) == 1, errors
    assert "Hookdeck refused the API key" in errors[0] and "'API token'" in errors[0] and "--" not in errors[0]
    assert "not-the-token" not in errors[0]


def test_triage_pulls_the_log_and_keeps_it_with_the_case(app: AppTest, hookdeck) -> None:
    base_url, _seen = hookdeck
    app.radio(key="triage-log-choice").set_value("Pull from a platform").run()
    _fill(app, "triage-pull", base_url, TOKEN)
    app.text_input(key="triage-ticket").input("ZD-UI-PULL")
    app.button(key="triage-run").click().run()
    assert not app.exception and not _errors(app), _errors(app)
    store = CaseStore(load_config().database_url)
    case = next(c for c in store.find_cases("ZD-UI-PULL"))
    assert "pulled-hookdeck-" in case.log_source
    run = store.list_runs(case.id)[0]
    assert run.kinds == ("logs",) and all(TOKEN not in text for text in run.reports.values())


def test_a_github_apps_hook_is_pulled_with_its_uploaded_key(app: AppTest) -> None:
    from tests.support.github_api import APP_ID, APP_KEY_PEM, DELIVERIES, serve_github

    with serve_github() as (base_url, seen):
        open_page(app, "logs")
        app.selectbox(key="logs-choice").set_value("Pull from a platform").run()
        app.selectbox(key="logs-pull-platform").set_value("github").run()
        app.number_input(key="logs-pull-days").set_value(0)
        app.text_input(key="logs-pull-github-app_id").input(APP_ID)
        app.text_input(key="logs-pull-github-base-url").input(base_url)
        app.file_uploader(key="logs-pull-github-private_key_pem").upload("app.pem", APP_KEY_PEM, "text/plain")
        app.button(key="logs-pull-run").click().run()
        assert not app.exception and not _errors(app), _errors(app)
        assert any(f"Pulled {len(DELIVERIES)} attempts" in s.value for s in app.success)
        assert {r["path"] for r in seen.requests} == {"/app/hook/deliveries"}
    kept = "".join(p.read_text() for p in (load_config().workspace / "uploads").glob("pulled-github-*.json"))
    assert "PRIVATE KEY" not in kept
