"""The Recovery page through Streamlit's AppTest on the demo workspace: plan an endpoint's
recovery, reconcile the customer's records, dry-run then resend to the sandbox receiver (which
verifies our signature), every send recorded in the case, a second resend skipping what got a 2xx."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.demo import EXAMPLE_TICKET, DemoWorkspace
from diagnostics.recovery.casework import RESEND_MODE
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle
from diagnostics.ui.logsource import DEMO_LOG
from tests.ui.conftest import open_page

ENDPOINT = "ep_exhaust"  # the demo's retry-exhaustion endpoint: rejected and pending events


def _store() -> CaseStore:
    return CaseStore(load_config().database_url)


def _labels(app: AppTest) -> str:
    """Finding titles as a person reads them (Markdown escapes removed)."""
    return "\n".join(e.label.replace("\\", "") for e in app.expander)


def _errors(app: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in app.error]


def _plan(app: AppTest, endpoint: str = ENDPOINT) -> AppTest:
    open_page(app, "recovery")
    app.selectbox(key="recovery-choice").set_value(DEMO_LOG).run()
    app.selectbox(key="recovery-endpoint").set_value(endpoint)
    return app.button(key="recovery-plan").click().run()


def _open_example_case(app: AppTest) -> int:
    example = next(c for c in _store().find_cases(EXAMPLE_TICKET))
    open_page(app, "cases")
    app.selectbox(key="cases-pick").set_value(example.id).run()
    app.button(key="cases-reopen").click().run()
    return example.id


def test_plan_shows_categories_countdown_reply_and_exports(app: AppTest) -> None:
    _plan(app)
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["rejected"]) > 0 and int(metrics["pending"]) > 0
    assert "(recovery-plan)" in _labels(app) and "(replay-rejected)" in _labels(app)
    downloads = {b.label.split(" (")[0] for b in app.get("download_button")}
    assert {"ids", "csv", "github", "Download HTML report", "Download JSON"} <= downloads
    assert any("rejected" in c.value for c in app.code)  # the customer reply names what to do


def test_a_new_endpoint_clears_the_old_plan_until_planned_again(app: AppTest) -> None:
    _plan(app)
    assert app.metric
    app.selectbox(key="recovery-endpoint").set_value("ep_healthy_0")
    app.button(key="recovery-plan").click().run()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["rejected"] == "0" and "(replay-rejected)" not in _labels(app)


def test_reconcile_then_plan_only_the_missed_events(app: AppTest) -> None:
    _plan(app)
    rejected = int({m.label: m.value for m in app.metric}["rejected"])
    # the customer has none of the undelivered events: every one of them is missed
    app.file_uploader(key="recovery-received").upload("received.txt", b"evt_not_ours_1\n", "text/plain")
    app.button(key="recovery-reconcile").click().run()
    assert not app.exception and not app.error, _errors(app)
    assert "(reconcile-missed)" in _labels(app) and "(reconcile-unknown-ids)" in _labels(app)
    app.button(key="recovery-plan-missed").click().run()
    assert not app.exception
    assert any("only the events the customer" in i.value for i in app.info)
    assert int({m.label: m.value for m in app.metric}["rejected"]) == rejected


def test_dry_run_then_resend_records_each_send_and_a_rerun_skips_them(
    app: AppTest, demo_workspace: DemoWorkspace, ui_sandbox: SandboxHandle
) -> None:
    case_id = _open_example_case(app)
    before = len(_store().list_redeliveries(case_id))
    _plan(app)
    rejected = int({m.label: m.value for m in app.metric}["rejected"])
    receiver = ui_sandbox.http_url + "/verify/standard-webhooks"
    app.text_input(key="recovery-to").set_value(receiver)
    app.multiselect(key="recovery-categories").set_value(["rejected"])
    app.number_input(key="recovery-rate").set_value(50.0)
    app.button(key="recovery-send").click().run()  # dry run: the default
    assert not app.exception and not app.error, _errors(app)
    assert f"Dry run: {rejected} events would be resent" in _labels(app)
    assert len(_store().list_redeliveries(case_id)) == before
    # When the agent resends for real, signed with the secret typed for this run only
    app.text_input(key="recovery-secret").set_value(DEMO_SECRET)
    app.checkbox(key="recovery-dry").uncheck()
    app.button(key="recovery-send").click().run()
    assert not app.exception and not app.error, _errors(app)
    sends = [r for r in _store().list_redeliveries(case_id) if r.mode == RESEND_MODE]
    assert len(sends) == rejected and all(r.status_code == 200 for r in sends)  # the sandbox verified each
    assert app.success
    # Then a second resend of the same plan sends nothing: every event already answered 2xx
    app.button(key="recovery-send").click().run()
    assert "Nothing to resend" in _labels(app)
    assert len([r for r in _store().list_redeliveries(case_id) if r.mode == RESEND_MODE]) == rejected
    stored = json.dumps([r.__dict__ for r in _store().list_redeliveries(case_id)], default=str)
    assert DEMO_SECRET not in stored


def test_a_real_resend_without_a_case_or_to_a_refused_address_sends_nothing(app: AppTest) -> None:
    app.session_state["case_id"] = None
    _plan(app)
    app.text_input(key="recovery-to").set_value("http://169.254.169.254/latest")
    app.button(key="recovery-send").click().run()
    assert not app.exception
    assert any("guard refuses" in e for e in _errors(app)), _errors(app)
    app.text_input(key="recovery-to").set_value("https://hooks.example.com/in")
    app.checkbox(key="recovery-dry").uncheck()
    app.button(key="recovery-send").click().run()
    assert any("open a case first" in e for e in _errors(app)), _errors(app)
