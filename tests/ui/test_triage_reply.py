"""Triage, Cases and the Signature lab as an agent uses them: a reply for the case's endpoint only,
reruns that show the new run, stale verdicts cleared, reopened cases restored, bad files as one line."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.demo import EXAMPLE_TICKET, ROTATED_OUT_SECRET, DemoWorkspace
from diagnostics.sandbox import DEMO_SECRET
from tests.ui.conftest import open_page
from tests.ui.test_pages import _captured_request, _errors


def _store() -> CaseStore:
    return CaseStore(load_config().database_url)


def _demo_urls(demo: DemoWorkspace) -> dict[str, str]:
    frame = pd.read_parquet(demo.log_path) if demo.log_path.suffix == ".parquet" else pd.read_csv(demo.log_path)
    return {str(k): str(v) for k, v in frame.groupby("endpoint")["url"].first().items()}


def test_unfiltered_demo_log_gives_a_reply_about_the_cases_endpoint_only(
    app: AppTest, demo_workspace: DemoWorkspace
) -> None:
    urls = _demo_urls(demo_workspace)
    # Given the demo log left unfiltered and the case's endpoint URL being ep_rotated's
    app.radio(key="triage-log-choice").set_value("Demo delivery log").run()
    app.text_input(key="triage-ticket").input("ZD-ONE-ENDPOINT")
    app.text_input(key="triage-url").input(urls["ep_rotated"])
    app.button(key="triage-run").click().run()
    assert not app.exception and not app.error, _errors(app)
    # Then the agent is told the log was narrowed, and the reply names no other endpoint
    assert any("narrowed to ep\\_rotated" in w.value for w in app.warning), [w.value for w in app.warning]
    run = _store().list_runs(next(iter(_store().find_cases("ZD-ONE-ENDPOINT"))).id)[0]
    reply = run.reports["reply"]
    assert reply.startswith("Hi,") and "&lt;" not in reply and "**" not in reply
    assert not [e for e in urls if e != "ep_rotated" and e in reply], reply
    shown = [c.value for c in app.code]
    assert reply.strip() in [c.strip() for c in shown]  # the plain-text reply is on the page, ready to copy
    assert any(c.startswith("# Internal notes") for c in shown)


def test_rerun_on_cases_shows_the_new_run_and_the_run_count(app: AppTest) -> None:
    open_page(app, "cases")
    example = next(iter(_store().find_cases(EXAMPLE_TICKET)))
    app.selectbox(key="cases-pick").set_value(example.id).run()
    before = _store().list_runs(example.id)
    app.button(key="cases-rerun").click().run()
    assert not app.exception and not app.error, _errors(app)
    after = _store().list_runs(example.id)
    assert len(after) == len(before) + 1
    newest = after[0].id
    assert app.selectbox(key="cases-show-run").value == newest
    assert app.selectbox(key="compare-newer").value == newest
    assert app.selectbox(key="compare-older").value == before[0].id
    table = app.dataframe[0].value
    assert int(table.loc[table["case"] == example.id, "runs"].iloc[0]) == len(after)
    assert any(f"Run #{newest}" in s.value.replace("\\", "") for s in app.success)
    # the rerun had no secret: the signature problem is not rechecked, and still open in the new reply
    assert "Still open from our earlier check" in after[0].reports["reply"]


def test_a_failed_signature_check_clears_the_previous_verdict(app: AppTest) -> None:
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(DEMO_SECRET))
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.button(key="sig-run").click().run()
    assert app.metric[0].value == "Valid signature"
    app.text_area(key="sig-request").input("just a body without headers")
    app.button(key="sig-run").click().run()
    assert not app.exception and app.error
    assert not app.metric  # no "Valid signature" left under the new error


def test_reopening_a_case_restores_its_delivery_log_choice(app: AppTest) -> None:
    example = next(iter(_store().find_cases(EXAMPLE_TICKET)))
    open_page(app, "cases")
    app.selectbox(key="cases-pick").set_value(example.id).run()
    app.button(key="cases-reopen").click().run()
    open_page(app, "triage")
    assert app.radio(key="triage-log-choice").value == "Demo delivery log"
    assert app.text_input(key="triage-log-endpoint").value == "ep_rotated"
    assert app.text_input(key="triage-url").value == example.endpoint_url
    assert app.text_input(key="triage-secret").value == ""


def test_page_errors_name_the_pages_fields_not_command_line_flags(app: AppTest) -> None:
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(ROTATED_OUT_SECRET))
    app.button(key="sig-run").click().run()
    errors = _errors(app)
    assert errors and not [e for e in errors if "--" in e], errors
    assert any("Signing secret" in e for e in errors), errors


def test_a_prose_csv_on_the_delivery_log_page_is_one_line(app: AppTest) -> None:
    open_page(app, "logs")
    app.selectbox(key="logs-choice").set_value("Upload a file").run()
    app.file_uploader(key="logs-upload").upload("ticket.csv", b"Dear support,\nplease help\n", "text/csv").run()
    assert not app.exception
    assert any("ticket.csv" in e and "first line is not a header" in e for e in _errors(app)), _errors(app)
    assert not [e for e in _errors(app) if "Binder" in e or "/" in e.split(":")[0]]


def test_a_pasted_ticket_fills_the_form_and_the_run_uses_it(app: AppTest, ui_sandbox) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    ticket = (Path(__file__).resolve().parents[1] / "fixtures" / "tickets" / "stripe_signature_node.txt").read_text()
    sandbox_url = ui_sandbox.url("/healthy")
    app.text_area(key="triage-ticket-text").input(ticket.replace("https://api.acme-shop.io/webhooks/stripe",
                                                                 sandbox_url))
    app.button(key="triage-read").click().run()
    assert not app.exception and not app.error
    assert app.text_input(key="triage-ticket").value == "ZD-20417"
    assert app.text_input(key="triage-url").value == sandbox_url
    assert app.selectbox(key="triage-profile").value == "stripe"
    assert app.text_area(key="triage-captured").value.startswith("POST /webhooks/stripe HTTP/1.1\nHost:")
    shown = "\n".join(df.value.to_csv() for df in app.dataframe)
    assert "evt_1PqR2sT3uVwXyZ0aBcDeFgHi" in shown and "signature" in shown
    assert any(t.value == "signature_failing" for t in app.text)
    app.button(key="triage-run").click().run()
    assert not app.exception and not app.error, _errors(app)
    case = next(iter(_store().find_cases("ZD-20417")))
    assert (case.endpoint_url, case.profile) == (sandbox_url, "stripe") and case.captured_request


def test_an_empty_ticket_paste_is_a_page_message(app: AppTest) -> None:
    app.button(key="triage-read").click().run()
    assert not app.exception
    assert any("Ticket text" in e and "empty" in e for e in _errors(app)), _errors(app)


def test_a_probe_that_cannot_run_clears_the_previous_results(app: AppTest, ui_sandbox) -> None:  # type: ignore[no-untyped-def]
    open_page(app, "probe")
    app.text_input(key="probe-url").input(ui_sandbox.url("/healthy"))
    app.number_input(key="probe-samples").set_value(1)
    app.button(key="probe-run").click().run()
    assert any("Results for http" in c.value.replace("\\", "") for c in app.caption) and not app.error
    # When the next probe cannot run (a secret of spaces), the error is alone on the page
    app.text_input(key="probe-secret").input("   ")
    app.button(key="probe-run").click().run()
    assert not app.exception
    errors = _errors(app)
    assert any("Signing secret" in e and "empty" in e for e in errors), errors
    assert not [c for c in app.caption if "Results for" in c.value.replace("\\", "")]
    assert not app.get("vega_lite_chart")
