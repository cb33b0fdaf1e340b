"""The Endpoint probe and the Signature lab keep their runs in the open case (never the secret),
and store nothing when no case is open."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.demo import ROTATED_OUT_SECRET
from diagnostics.findings import fingerprint_secret
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle
from tests.ui.conftest import open_page
from tests.ui.test_pages import _captured_request


def _store() -> CaseStore:
    return CaseStore(load_config().database_url)


def _open_new_case(app: AppTest, ticket: str, endpoint_url: str = "") -> int:
    """A fresh case made the session's open case, as the sidebar holds it after Triage or Cases."""
    case = _store().create_case(ticket=ticket, endpoint_url=endpoint_url)
    app.session_state["case_id"] = case.id
    return case.id


def _saved(app: AppTest) -> list[str]:
    return [s.value for s in app.success if s.value.startswith("Saved as run #")]


def _all_runs() -> int:
    return sum(c.run_count for c in _store().find_cases(limit=10_000))


def test_probe_with_an_open_case_records_a_run(app: AppTest, ui_sandbox: SandboxHandle) -> None:
    case_id = _open_new_case(app, "ZD-PROBE-RUN", ui_sandbox.url("/healthy"))
    open_page(app, "probe")
    assert app.text_input(key="probe-url").value == ui_sandbox.url("/healthy")
    app.number_input(key="probe-samples").set_value(1)
    app.text_input(key="probe-secret").input(DEMO_SECRET)
    app.button(key="probe-run").click().run()
    assert not app.exception and not app.error
    runs = _store().list_runs(case_id)
    assert len(runs) == 1 and runs[0].kinds == ("probe",)
    assert _saved(app) == [f"Saved as run #{runs[0].id} of case #{case_id}"]
    assert runs[0].secret_fingerprint == fingerprint_secret(DEMO_SECRET)
    assert all(DEMO_SECRET not in text for text in runs[0].reports.values())


def test_signature_lab_with_an_open_case_records_a_run(app: AppTest) -> None:
    case_id = _open_new_case(app, "ZD-SIG-RUN")
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(ROTATED_OUT_SECRET))
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.text_input(key="sig-previous").input(ROTATED_OUT_SECRET)
    app.button(key="sig-run").click().run()
    assert not app.exception and not app.error
    runs = _store().list_runs(case_id)
    assert len(runs) == 1 and runs[0].kinds == ("signature",)
    assert _saved(app) == [f"Saved as run #{runs[0].id} of case #{case_id}"]
    stored = "\n".join([*runs[0].reports.values(), str(runs[0].metrics), *(str(f) for f in runs[0].findings)])
    assert DEMO_SECRET not in stored and ROTATED_OUT_SECRET not in stored


def test_without_an_open_case_no_run_is_stored(app: AppTest, ui_sandbox: SandboxHandle) -> None:
    before = _all_runs()
    open_page(app, "probe")
    app.text_input(key="probe-url").input(ui_sandbox.url("/healthy"))
    app.number_input(key="probe-samples").set_value(1)
    app.button(key="probe-run").click().run()
    assert not app.exception and app.expander and not _saved(app)
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(DEMO_SECRET))
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.button(key="sig-run").click().run()
    assert not app.exception and app.metric and not _saved(app)
    assert _all_runs() == before
