"""Each page's main flows through Streamlit's AppTest: inputs in, findings and downloads out,
bad input shown as a message (never an exception), secrets never stored."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.cases import CaseStore
from diagnostics.config import load_config
from diagnostics.demo import EXAMPLE_TICKET, ROTATED_OUT_SECRET, DemoWorkspace
from diagnostics.sandbox import DEMO_SECRET, SandboxHandle
from diagnostics.signatures import sign_headers
from tests.support.bad_files import BAD_FILE_IDS, BAD_FILES
from tests.ui.conftest import blank_form, open_page

PAGES = ("triage", "probe", "signature", "logs", "recovery", "coverage", "cases", "settings")


def _labels(app: AppTest) -> str:
    """Every expander label on the page (findings are expanders), as one text."""
    return "\n".join(e.label for e in app.expander)


def _errors(app: AppTest) -> list[str]:
    """Error messages as a person reads them (Markdown escapes removed)."""
    return [e.value.replace("\\", "") for e in app.error]


def _store() -> CaseStore:
    return CaseStore(load_config().database_url)


def _captured_request(secret: str) -> str:
    body = '{"id":"evt_ui_1","type":"invoice.paid"}'
    headers = sign_headers("standard-webhooks", secret, body.encode(), msg_id="msg_ui_1")
    return "\n".join(f"{k}: {v}" for k, v in headers.items()) + "\n\n" + body


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app: AppTest, page: str) -> None:
    open_page(app, page)
    assert not app.exception
    assert app.title and app.title[0].value


def test_triage_runs_every_check_and_offers_reply_and_downloads(app: AppTest, ui_sandbox: SandboxHandle) -> None:
    # Given a ticket with an endpoint, the secret, a captured request signed with an old secret, the demo log
    app.radio(key="triage-log-choice").set_value("Demo delivery log").run()
    app.text_input(key="triage-ticket").input("ZD-UI-1")
    app.text_input(key="triage-customer").input("UI Customer")
    app.text_input(key="triage-url").input(ui_sandbox.url("/accept-all"))
    app.text_input(key="triage-secret").input(DEMO_SECRET)
    app.text_area(key="triage-captured").input(_captured_request(ROTATED_OUT_SECRET))
    app.text_input(key="triage-log-endpoint").input("ep_outage")
    # When the agent presses the one button
    app.button(key="triage-run").click().run()
    # Then findings from all three parts are on the page, with the reply and three downloads
    assert not app.exception and not app.error
    labels = _labels(app)
    assert "signature-not-enforced" in labels  # probe
    assert "signature-no-match" in labels  # signature lab
    assert "outage-window" in labels  # delivery log
    assert any("Hi," in c.value for c in app.code)  # the Markdown reply, ready to copy
    assert len(app.get("vega_lite_chart")) == 1  # the probe's phase timings
    downloads = [e for e in app.get("download_button")]
    assert len(downloads) == 3
    # And the run is stored without the secret
    case = next(c for c in _store().find_cases("ZD-UI-1"))
    run = _store().list_runs(case.id)[0]
    assert run.kinds == ("probe", "signature", "logs")
    assert all(DEMO_SECRET not in text for text in run.reports.values())


def test_triage_with_nothing_to_check_shows_a_message(app: AppTest) -> None:
    app.text_input(key="triage-ticket").input("ZD-UI-EMPTY")
    app.button(key="triage-run").click().run()
    assert not app.exception
    assert any("nothing to check" in text for text in _errors(app))
    assert _store().find_cases("ZD-UI-EMPTY") == []


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=BAD_FILE_IDS)
def test_bad_uploads_show_a_message_and_leave_the_case_intact(
    app: AppTest, ui_sandbox: SandboxHandle, name: str, content: bytes, message: str
) -> None:
    # Given an existing case reopened from the Cases page
    store = _store()
    example = next(c for c in store.find_cases(EXAMPLE_TICKET))
    runs_before = len(store.list_runs(example.id))
    open_page(app, "cases")
    app.selectbox(key="cases-pick").set_value(example.id).run()
    app.button(key="cases-reopen").click().run()
    # When a bad delivery-log file is uploaded on Triage and the run is attempted
    open_page(app, "triage")
    app.radio(key="triage-log-choice").set_value("Upload a file").run()
    app.file_uploader(key="triage-upload").upload(name, content, "text/csv")
    app.button(key="triage-run").click().run()
    # Then a clear message names the problem, nothing ran, the case is unchanged
    assert not app.exception
    assert any(message in text for text in _errors(app)), _errors(app)
    after = store.get_case(example.id)
    assert len(store.list_runs(example.id)) == runs_before
    assert (after.endpoint_url, after.log_source) == (example.endpoint_url, example.log_source)


def _kept_uploads() -> list[str]:
    uploads = load_config().workspace / "uploads"
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


@pytest.mark.parametrize("page", ["logs", "recovery"])
@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=BAD_FILE_IDS)
def test_bad_log_uploads_are_one_message_naming_the_file_and_keep_nothing(
    app: AppTest, page: str, name: str, content: bytes, message: str
) -> None:
    # Given the page's delivery-log chooser on "Upload a file"
    open_page(app, page)
    app.selectbox(key=f"{page}-choice").set_value("Upload a file").run()
    kept_before = _kept_uploads()
    # When a bad file is uploaded
    app.file_uploader(key=f"{page}-upload").upload(name, content, "application/octet-stream").run()
    # Then one message names the file and the problem, with no server path, and nothing is kept
    assert not app.exception
    errors = _errors(app)
    assert len(errors) == 1 and message in errors[0] and name in errors[0], errors
    assert str(load_config().workspace) not in errors[0]
    assert _kept_uploads() == kept_before


THEIR_COLUMNS = b"id,hook,created,code\nevt_m1,ep_m,2026-03-02T10:00:00Z,500\nevt_m1,ep_m,2026-03-02T10:01:00Z,200\n"


@pytest.mark.parametrize("page", ["logs", "recovery"])
def test_a_file_with_its_own_column_names_is_mapped_in_the_pages_column_mapping_field(app: AppTest, page: str) -> None:
    # Given a CSV whose columns the customer named their own way, uploaded as it is
    open_page(app, page)
    app.selectbox(key=f"{page}-choice").set_value("Upload a file").run()
    app.file_uploader(key=f"{page}-upload").upload("theirs.csv", THEIR_COLUMNS, "text/csv").run()
    # Then the message names the page's own field, never a command-line flag
    errors = _errors(app)
    assert len(errors) == 1 and "'Column mapping'" in errors[0] and "--" not in errors[0], errors
    # When the agent maps the columns in that field
    app.text_input(key=f"{page}-mapping").input(
        "event_id=id, endpoint=hook, attempted_at=created, status_code=code").run()
    # Then the log loads: no error, and the kept upload is the canonical Parquet it maps to
    assert not app.exception and not _errors(app), _errors(app)
    assert any(name.endswith("-theirs.parquet") for name in _kept_uploads())


def test_triage_maps_an_uploaded_log_with_the_column_mapping_field(app: AppTest) -> None:
    app.radio(key="triage-log-choice").set_value("Upload a file").run()
    app.text_input(key="triage-ticket").input("ZD-UI-MAP")
    app.file_uploader(key="triage-upload").upload("theirs.csv", THEIR_COLUMNS, "text/csv")
    app.text_input(key="triage-mapping").input("event_id=id, endpoint=hook, attempted_at=created, status_code=code")
    app.button(key="triage-run").click().run()
    assert not app.exception and not _errors(app), _errors(app)
    case = next(c for c in _store().find_cases("ZD-UI-MAP"))
    assert case.log_source.endswith("-theirs.parquet")
    assert _store().list_runs(case.id)[0].kinds == ("logs",)


def test_a_malformed_column_mapping_is_named_as_the_pages_field(app: AppTest) -> None:
    open_page(app, "logs")
    app.selectbox(key="logs-choice").set_value("Upload a file").run()
    app.file_uploader(key="logs-upload").upload("theirs.csv", THEIR_COLUMNS, "text/csv").run()
    app.text_input(key="logs-mapping").input("event_id").run()
    assert _errors(app) == ["The file was not loaded: field 'Column mapping': entry 'event_id' is not "
                            "canonical=source (for example event_id=id)"]


def test_probe_page_draws_phase_timings_against_the_timeout(app: AppTest, ui_sandbox: SandboxHandle) -> None:
    open_page(app, "probe")
    app.text_input(key="probe-url").input(ui_sandbox.url("/slow/50"))
    app.number_input(key="probe-samples").set_value(2)
    app.button(key="probe-run").click().run()
    assert not app.exception and not app.error
    assert len(app.get("vega_lite_chart")) == 1
    assert "endpoint-healthy" in _labels(app) or "url-not-https" in _labels(app)


def test_probe_of_a_private_address_without_allowlist_is_refused_as_a_finding(app: AppTest) -> None:
    open_page(app, "probe")
    app.text_input(key="probe-url").input("http://169.254.169.254/latest/meta-data/")
    app.button(key="probe-run").click().run()
    assert not app.exception
    assert "(non-public-address)" in _labels(app)


def test_signature_lab_names_the_cause_and_signs_an_example(app: AppTest) -> None:
    open_page(app, "signature")
    app.text_area(key="sig-request").input(_captured_request(ROTATED_OUT_SECRET))
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.text_input(key="sig-previous").input(ROTATED_OUT_SECRET)
    app.button(key="sig-run").click().run()
    assert not app.exception and not app.error
    verdicts = {m.label: m.value for m in app.metric}
    assert verdicts["Scheme"] == "standard-webhooks"
    assert "signature-" in _labels(app)
    # The generator signs a body for the customer
    app.text_input(key="sign-secret").input(DEMO_SECRET)
    app.button(key="sign-run").click().run()
    assert not app.exception
    generated = [c.value for c in app.code if c.language == "json"]
    assert generated and "webhook-signature" in json.loads(generated[-1])


def test_signature_lab_bad_request_is_a_message(app: AppTest) -> None:
    open_page(app, "signature")
    app.text_area(key="sig-request").input("no headers here")
    app.text_input(key="sig-secret").input(DEMO_SECRET)
    app.button(key="sig-run").click().run()
    assert not app.exception
    assert any("Name: value" in text for text in _errors(app))


def test_delivery_log_filters_charts_and_redelivers(app: AppTest, demo_workspace: DemoWorkspace) -> None:
    # Given the example case open (its endpoint is the sandbox) and the whole demo log
    store = _store()
    example = next(c for c in store.find_cases(EXAMPLE_TICKET))
    open_page(app, "cases")
    app.selectbox(key="cases-pick").set_value(example.id).run()
    app.button(key="cases-reopen").click().run()
    assert app.session_state["case_id"] == example.id, [t.value for t in app.title]
    open_page(app, "logs")
    assert app.session_state["case_id"] == example.id
    app.selectbox(key="logs-choice").set_value("Demo delivery log (all endpoints)").run()
    assert not app.exception
    everything = _match_count(app)
    # When the agent filters to one endpoint and failures only
    app.multiselect(key="logs-endpoints").set_value(["ep_outage"]).run()
    app.multiselect(key="logs-outcomes").set_value(["no response", "http error"]).run()
    narrowed = _match_count(app)
    assert 0 < narrowed < everything
    assert len(app.get("vega_lite_chart")) == 2
    assert "outage-window" in _labels(app)
    # And redelivers a test event to the case's endpoint: the answer is recorded in the case
    app.session_state["secret"] = DEMO_SECRET  # as if given on Triage: held in this session only
    app.button(key="logs-redeliver-send").click().run()
    assert not app.exception and app.success, _errors(app)
    assert store.list_redeliveries(example.id)[0].status_code == 200


def _match_count(app: AppTest) -> int:
    header = next(h.value for h in app.subheader if h.value.startswith("Attempts ("))
    return int(header.split("(")[1].split()[0].replace(",", ""))


def test_coverage_page_shows_matrix_findings_and_downloads(app: AppTest, demo_workspace: DemoWorkspace) -> None:
    open_page(app, "coverage")
    assert not app.exception
    assert demo_workspace.catalog_path is not None  # the demo ships diagnostics/demo_data/catalog.yaml
    assert app.dataframe and len(app.get("download_button")) == 3 and app.get("vega_lite_chart")
    assert "(event-type-" in _labels(app)


def test_cases_page_searches_reruns_and_compares(app: AppTest) -> None:
    open_page(app, "cases")
    app.text_input(key="cases-search").input("demo-1001").run()
    options = app.selectbox(key="cases-pick").options
    assert len(options) == 1 and EXAMPLE_TICKET in options[0]
    runs_before = len(_store().list_runs(app.selectbox(key="cases-pick").value))
    app.button(key="cases-rerun").click().run()
    assert not app.exception and not app.error
    assert len(_store().list_runs(app.selectbox(key="cases-pick").value)) == runs_before + 1
    labels = [m.label for m in app.metric]
    assert labels[-4:] == ["Fixed", "New", "Still open", "Not rechecked"]
    # no secret is held in this session: the signature check did not rerun, so it is not "fixed"
    assert {m.label: m.value for m in app.metric}["Not rechecked"] == "1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://support:hunter2-db-password@db.internal/logs", "db.internal"),
        # issue 14: a URL that does not parse (`:notaport`) is masked too, without an exception
        ("postgresql://support:hunter2-db-password@db.internal:notaport/l", "support:***@db.internal:notaport"),
    ],
)
def test_settings_shows_sources_and_hides_passwords(
    demo_workspace: DemoWorkspace, monkeypatch, url: str, expected: str
) -> None:
    import streamlit as st

    monkeypatch.setenv("DIAGNOSTICS_LOG_DB_URL", url)
    st.cache_resource.clear()
    try:
        app = blank_form()
        open_page(app, "settings")
        assert not app.exception
        shown = "\n".join(df.value.to_csv() for df in app.dataframe)
        assert "hunter2-db-password" not in shown and "environment (DIAGNOSTICS_LOG_DB_URL)" in shown
        assert expected in shown
    finally:
        monkeypatch.delenv("DIAGNOSTICS_LOG_DB_URL")
        st.cache_resource.clear()


def test_signature_lab_starts_from_the_open_cases_captured_request(app: AppTest) -> None:
    example = next(c for c in _store().find_cases(EXAMPLE_TICKET))
    open_page(app, "cases")
    app.selectbox(key="cases-pick").set_value(example.id).run()
    app.button(key="cases-reopen").click().run()
    open_page(app, "signature")
    assert "webhook-signature:" in app.text_area(key="sig-request").value
    assert app.text_input(key="sig-secret").value == ""  # the secret is never prefilled


def test_a_huge_upload_is_refused_with_the_limit_named(demo_workspace: DemoWorkspace, tmp_path, monkeypatch) -> None:
    import streamlit as st

    # Given a configuration with a small upload limit (the default is 200 MB)
    config_file = tmp_path / "diagnostics.toml"
    config_file.write_text(f'[workspace]\npath = "{demo_workspace.root.parent}"\nmax_upload_bytes = 2000\n')
    monkeypatch.setenv("DIAGNOSTICS_CONFIG", str(config_file))
    st.cache_resource.clear()
    try:
        app = blank_form()
        app.radio(key="triage-log-choice").set_value("Upload a file").run()
        app.text_input(key="triage-ticket").input("ZD-HUGE")
        big = b"event_id,endpoint,attempted_at\n" + b"evt_1,ep_1,2026-03-02T10:00:00Z\n" * 200
        app.file_uploader(key="triage-upload").upload("big.csv", big, "text/csv")
        app.button(key="triage-run").click().run()
        assert not app.exception
        assert any("big.csv" in text and "larger than 2,000 bytes" in text for text in _errors(app)), _errors(app)
        assert _store().find_cases("ZD-HUGE") == []
    finally:
        monkeypatch.delenv("DIAGNOSTICS_CONFIG")
        st.cache_resource.clear()


def test_coverage_with_an_uploaded_catalog_and_a_broken_one(app: AppTest) -> None:
    from pathlib import Path

    demo_catalog = Path(__file__).resolve().parents[2] / "diagnostics" / "demo_data" / "catalog.yaml"
    open_page(app, "coverage")
    app.radio(key="coverage-catalog-choice").set_value("Upload a catalog").run()
    app.file_uploader(key="coverage-catalog").upload("catalog.yaml", demo_catalog.read_bytes()).run()
    assert not app.exception and not app.error, _errors(app)
    assert app.dataframe and "(event-type-" in _labels(app)
    app.file_uploader(key="coverage-catalog").upload("broken.yaml", b"event_types: [unclosed\n").run()
    assert not app.exception
    assert any("broken" in text or "yaml" in text.lower() for text in _errors(app)), _errors(app)


def test_a_captured_request_without_secret_is_kept_and_the_skip_explained(app: AppTest,
                                                                          ui_sandbox: SandboxHandle) -> None:
    app.text_input(key="triage-ticket").input("ZD-NOSECRET")
    app.text_input(key="triage-url").input(ui_sandbox.url("/healthy"))
    app.text_area(key="triage-captured").input(_captured_request(ROTATED_OUT_SECRET))
    app.button(key="triage-run").click().run()
    assert not app.exception and not app.error
    assert any("signing secret" in w.value.replace("\\", "") for w in app.warning)
    case = next(c for c in _store().find_cases("ZD-NOSECRET"))
    assert case.captured_request and "webhook-signature" in case.captured_request["headers"]
    assert _store().list_runs(case.id)[0].kinds == ("probe",)


@pytest.mark.postgres
def test_triage_picks_an_endpoint_in_the_configured_sql_source(
    demo_workspace: DemoWorkspace, postgres_url: str, tmp_path, monkeypatch
) -> None:
    import sqlalchemy as sa
    import streamlit as st

    from diagnostics.logs.generate import generate_log

    # Given our delivery-attempt table in PostgreSQL, configured as the SQL source
    frame = generate_log(seed=9, attempts=5000).table.to_pandas()
    frame = frame[frame["endpoint"].isin(["ep_rotated", "ep_healthy_2"])]
    engine = sa.create_engine(postgres_url)
    frame.to_sql("ui_attempts", engine, index=False, if_exists="replace", method="multi", chunksize=2000,
                 dtype={"attempted_at": sa.DateTime(timezone=True)})
    engine.dispose()
    config_file = tmp_path / "diagnostics.toml"
    config_file.write_text(f'[logs]\nurl = "{postgres_url}"\ntable = "ui_attempts"\n')
    monkeypatch.setenv("DIAGNOSTICS_CONFIG", str(config_file))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        app = blank_form()
        app.radio(key="triage-log-choice").set_value("Configured SQL source").run()
        app.text_input(key="triage-ticket").input("ZD-SQL-UI")
        picker = app.selectbox(key="triage-sql-endpoint")
        assert picker.options[0] == "(the endpoint whose URL is the case's)" and "ep_rotated" in picker.options
        picker.set_value("ep_rotated")
        app.button(key="triage-run").click().run()
        assert not app.exception and not app.error, _errors(app)
        assert "(status-change)" in _labels(app)
        case = next(c for c in _store().find_cases("ZD-SQL-UI"))
        assert case.log_source == "sql:ui_attempts (endpoint ep_rotated)"
    finally:
        monkeypatch.delenv("DIAGNOSTICS_CONFIG")
        st.cache_resource.clear()
        st.cache_data.clear()
