"""No page leaves results on screen that its current inputs did not produce: a failed check, another
open case or a rejected upload clears what the page showed before."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.demo import ROTATED_OUT_SECRET
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle
from tests.ui.conftest import open_page
from tests.ui.test_pages import _captured_request, _errors


def _store() -> CaseStore:
    return CaseStore(load_config().database_url)


def _verdicts(app: AppTest) -> list[str]:
    return [m.value for m in app.metric if m.label == "Verdict"]


def _findings(app: AppTest) -> list[str]:
    """Finding expanders (labelled "SEVERITY · title  (code)"), not the page's own panels."""
    return [e.label for e in app.expander if e.label.endswith(")") and " · " in e.label]


def test_a_failed_signature_check_leaves_no_valid_verdict_under_its_error(app: AppTest) -> None:
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(DEMO_SECRET))
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.button(key="sig-run").click().run()
    assert _verdicts(app) == ["Valid signature"]
    # the next check fails: a request with a header line that is not one
    app.text_area(key="sig-request").input("not a header line\n\n{}")
    app.button(key="sig-run").click().run()
    assert not app.exception and _errors(app)
    assert _verdicts(app) == [] and not _findings(app)  # neither the verdict nor its findings remain
    app.switch_page("diagnostics/ui/pages/probe.py").run()
    open_page(app, "signature")
    assert _verdicts(app) == []  # and it does not come back on a later visit


def test_opening_another_case_clears_the_signature_verdict_and_its_saved_note(app: AppTest) -> None:
    first = _store().create_case(ticket="ZD-STALE-A")
    second = _store().create_case(ticket="ZD-STALE-B", endpoint_url="https://hooks.example.com/b",
                                  captured_request=None)
    app.session_state["case_id"] = first.id
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(ROTATED_OUT_SECRET))
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.button(key="sig-run").click().run()
    assert _verdicts(app) and any(f"of case #{first.id}" in s.value for s in app.success)
    app.session_state["case_id"] = second.id  # the agent reopened another case (Cases page)
    open_page(app, "signature")
    assert not app.exception
    assert _verdicts(app) == [] and not [s for s in app.success if "Saved as run" in s.value]


def test_closing_the_case_empties_the_signature_form_it_filled(app: AppTest) -> None:
    # Given a case whose captured request filled the Signature lab, and a secret typed for it
    captured = _captured_request(DEMO_SECRET)
    case = _store().create_case(ticket="ZD-STALE-FORM", endpoint_url="https://hooks.example.com/form",
                                captured_request={"headers": {"webhook-id": "msg_1"}, "body": "{}"})
    other = _store().create_case(ticket="ZD-STALE-FORM-2", endpoint_url="https://hooks.example.com/other",
                                 captured_request=None)
    app.session_state["case_id"] = case.id
    open_page(app, "signature")
    assert "webhook-id: msg_1" in app.text_area(key="sig-request").value
    app.text_area(key="sig-request").input(captured)
    app.text_input(key="sig-secret").input(DEMO_SECRET).run()
    # When the case is closed
    app.button(key="sidebar-close-case").click().run()
    open_page(app, "signature")
    # Then the form holds nothing of it, secret included
    assert not app.exception
    assert (app.text_area(key="sig-request").value, app.text_input(key="sig-url").value,
            app.text_input(key="sig-secret").value) == ("", "", "")
    # and a case without a captured request leaves the form empty too
    app.session_state["case_id"] = other.id
    open_page(app, "signature")
    assert app.text_area(key="sig-request").value == ""


def test_closing_the_case_clears_the_probe_results_made_for_it(app: AppTest, ui_sandbox: SandboxHandle) -> None:
    case = _store().create_case(ticket="ZD-STALE-PROBE", endpoint_url=ui_sandbox.url("/healthy"))
    app.session_state["case_id"] = case.id
    open_page(app, "probe")
    app.number_input(key="probe-samples").set_value(1)
    app.button(key="probe-run").click().run()
    assert any("Results for" in c.value.replace("\\", "") for c in app.caption)
    app.button(key="sidebar-close-case").click().run()
    open_page(app, "probe")
    assert not app.exception
    assert not [c for c in app.caption if "Results for" in c.value.replace("\\", "")]
    assert not [s for s in app.success if "Saved as run" in s.value]


def test_a_failed_triage_run_hides_the_cases_earlier_results(app: AppTest, ui_sandbox: SandboxHandle) -> None:
    app.text_input(key="triage-ticket").input("ZD-STALE-TRIAGE")
    app.text_input(key="triage-url").input(ui_sandbox.url("/healthy"))
    app.button(key="triage-run").click().run()
    assert not app.error, _errors(app)
    run_id = app.session_state["run_id"]
    assert any(h.value.endswith(f"run #{run_id}") for h in app.header) and _findings(app)
    # the next run cannot start: a captured request that is not one
    app.text_area(key="triage-captured").input("no headers here")
    app.button(key="triage-run").click().run()
    assert not app.exception and _errors(app)
    assert not [h for h in app.header if h.value.endswith(f"run #{run_id}")] and not _findings(app)
    assert any(f"last run (#{run_id}) is unchanged" in c.value for c in app.caption)


def test_a_rejected_upload_forgets_the_file_uploaded_before(app: AppTest) -> None:
    good = b"event_id,endpoint,attempted_at,status_code\nevt_1,ep_1,2026-03-02T10:00:00Z,200\n"
    open_page(app, "logs")
    app.selectbox(key="logs-choice").set_value("Upload a file").run()
    app.file_uploader(key="logs-upload").upload("good.csv", good, "text/csv").run()
    assert not app.exception and not app.error, _errors(app)
    assert any("Attempts (1 match)" in s.value for s in app.subheader), [s.value for s in app.subheader]
    app.file_uploader(key="logs-upload").upload("bad.csv", b"Dear support,\nhelp\n", "text/csv").run()
    assert _errors(app) and not [s for s in app.subheader if "Attempts" in s.value]
    app.file_uploader(key="logs-upload").clear().run()
    assert not [s for s in app.subheader if "Attempts" in s.value]  # good.csv does not come back
