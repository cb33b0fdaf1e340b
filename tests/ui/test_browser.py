"""End to end in real Chromium, against the app started the way the README starts it.

`python -m diagnostics demo --serve --port P` runs in its own process group on a temp workspace;
Playwright drives Debian's Chromium (never a downloaded browser). The test triages a sandbox
endpoint and the demo log with hostile customer text everywhere (a URL with quotes and a
<script>, a payload with HTML, a ticket with an <img onerror>), downloads the HTML report, opens
it in the browser and checks that it renders the findings, that the hostile text is shown as
text, and that nothing executed. Screenshots of each page go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagnostics.demo import INFO_FILE, ROTATED_OUT_SECRET
from diagnostics.sandbox import DEMO_SECRET
from diagnostics.signatures import sign_headers
from tests.support.processes import stop_process_group
from tests.support.services import missing_service

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT_S = 90
XSS_MARK = "window.__pwned = 1"
HOSTILE_TICKET = '<img src=x onerror="window.__pwned = 1">ZD-XSS'
PAGES = {
    "triage": "",
    "probe": "probe",
    "signature": "signature",
    "logs": "logs",
    "recovery": "recovery",
    "coverage": "coverage",
    "cases": "cases",
    "settings": "settings",
}

READY = {"triage": "Run every check", "probe": "Sandbox endpoints to try",
         "signature": "Generate a correctly signed example", "logs": "Findings (whole log)",
         "recovery": "Plan the recovery",
         "coverage": "Coverage matrix", "cases": "Runs of case", "settings": "Sender profiles"}
"""Text each page shows once its script has run."""

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    missing_service("Debian's chromium is not installed (make test installs it)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the app did not become healthy in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """The demo app as `make run` starts it, on a temp workspace and a free port."""
    workspace = tmp_path_factory.mktemp("browser-workspace")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIAGNOSTICS_")}
    env["DIAGNOSTICS_WORKSPACE"] = str(workspace)
    log = workspace / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "diagnostics", "demo", "--serve", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, log)
        info = json.loads((workspace / "demo" / INFO_FILE).read_text())
        yield base, info
    finally:
        stop_process_group(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1800})
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.dialogs = dialogs  # type: ignore[attr-defined]
    yield tab
    context.close()


def _wait_for_app(tab, text: str) -> None:  # type: ignore[no-untyped-def]
    """Streamlit renders over its websocket: wait for the page's own text, not for a fixed time."""
    tab.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=60_000)


def _settle(tab) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script has finished and every chart and table has drawn (useful screenshots)."""
    tab.wait_for_function(
        """() => {
            const shown = sel => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length);
            // Streamlit draws skeletons (and a running status widget) until the script has run.
            return !document.querySelector('[data-testid=stSkeleton],[data-testid=stStatusWidgetRunningIcon]')
                && shown('[data-testid=stVegaLiteChart]').every(c => c.querySelector('canvas,svg'))
                // grids draw their canvas lazily, near the viewport: the landing page's demo case
                // has its findings' tables far below the fold, where none is drawn yet
                && (!shown('[data-testid=stDataFrame]').filter(d => d.getBoundingClientRect().top < innerHeight).length
                    || !!document.querySelector('[data-testid=data-grid-canvas]'));
        }""",
        timeout=30_000,
    )


def _blank_triage(tab, base: str) -> None:  # type: ignore[no-untyped-def]
    """The landing page, then the demo case it opens closed: a new case of the test's own."""
    tab.goto(base)
    _wait_for_app(tab, "Triage a ticket")
    tab.get_by_role("button", name="Close case").click()
    _wait_for_app(tab, "No case open")


def _captured_request() -> str:
    body = json.dumps({"id": "evt_xss", "type": "invoice.paid",
                       "note": f"<b>bold</b><script>{XSS_MARK}</script>"}, separators=(",", ":"))
    headers = sign_headers("standard-webhooks", ROTATED_OUT_SECRET, body.encode(), msg_id="msg_xss")
    return "\n".join(f"{k}: {v}" for k, v in headers.items()) + "\n\n" + body


def test_every_page_renders_and_is_screenshotted(served_app, page) -> None:  # type: ignore[no-untyped-def]
    base, _info = served_app
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in PAGES.items():
        page.goto(f"{base}/{path}")
        _wait_for_app(page, READY[name])
        _settle(page)
        assert page.locator("[data-testid='stException']").count() == 0, name
        page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)


def test_triage_in_the_browser_downloads_a_safe_html_report(served_app, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, info = served_app
    sandbox = info["sandbox_url"]
    hostile_url = f'{sandbox}/echo?q="><script>{XSS_MARK}</script>'
    _blank_triage(page, base)
    page.get_by_label("Ticket reference").fill(HOSTILE_TICKET)
    page.get_by_label("Customer").fill("<b>Mallory</b> & Co")
    page.get_by_label("Endpoint URL").fill(hostile_url)
    page.get_by_label("Signing secret (optional, used for this run only, never stored)").fill(DEMO_SECRET)
    page.get_by_label("Captured request (optional): headers, a blank line, then the body").fill(_captured_request())
    page.get_by_text("Demo delivery log", exact=True).click()
    page.get_by_label("Only this endpoint in the log (optional)").fill("ep_dupes")
    page.get_by_role("button", name="Run every check").click()
    download_button = page.get_by_role("button", name="Download HTML report")
    download_button.wait_for(state="visible", timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / "triage-results.png"), full_page=True)
    # The hostile text is on the page as text, and nothing ran
    assert page.get_by_text(HOSTILE_TICKET, exact=False).count() >= 1
    assert page.evaluate("window.__pwned") is None and not page.dialogs  # type: ignore[attr-defined]
    # Download the HTML report and open it in the browser
    with page.expect_download() as download_info:
        download_button.click()
    report = tmp_path / "report.html"
    download_info.value.save_as(report)
    html = report.read_text(encoding="utf-8")
    assert DEMO_SECRET not in html
    assert f"<script>{XSS_MARK}" not in html and "&lt;script&gt;" in html
    assert 'onerror="window' not in html
    page.goto(report.as_uri())
    page.locator("section.finding").first.wait_for(state="visible", timeout=10_000)
    codes = set(page.locator("section.finding").evaluate_all("els => els.map(e => e.dataset.code)"))
    # the quoted URL is refused as invalid (never requested), the request and the demo log are judged
    assert {"url-invalid", "signature-no-match", "duplicate-deliveries"} <= codes, " ".join(sorted(codes))
    assert page.get_by_text(HOSTILE_TICKET, exact=False).count() >= 1  # shown as text
    assert page.evaluate("window.__pwned") is None and not page.dialogs  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)


def _hostile_log(path: Path) -> Path:
    """A small canonical log whose endpoint answers 500 with a <script> body, then recovers."""
    rows = ["event_id,event_type,endpoint,url,attempt,attempted_at,status_code,error,duration_ms,response_body"]
    for i in range(30):
        status, body = (500, f"<script>{XSS_MARK}</script>") if i < 20 else (200, "<b>ok</b>")
        rows.append(f'evt_{i},invoice.paid,ep_x,"https://x.test/""q""",1,2026-03-02T10:{i:02d}:00Z,{status},,'
                    f'{40 + i},"{body}"')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_uploads_in_the_browser_bad_is_a_message_hostile_is_text(served_app, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _info = served_app
    empty = tmp_path / "deliveries.csv"
    empty.write_bytes(b"")
    page.goto(f"{base}/logs")
    _wait_for_app(page, "Delivery log")
    chooser = page.get_by_test_id("stSelectbox").filter(has_text="Delivery log").first
    chooser.locator("input").click()
    page.get_by_text("Upload a file", exact=True).click()
    upload = page.locator("input[type='file']")
    upload.set_input_files(str(empty))
    _wait_for_app(page, "the uploaded file is empty")
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "bad-upload.png"), full_page=True)
    # A log with hostile response bodies loads, is judged, and nothing in it executes
    upload.set_input_files(str(_hostile_log(tmp_path / "hostile.csv")))
    _wait_for_app(page, "Attempts (30 match)")
    _wait_for_app(page, "Findings (whole log)")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.evaluate("window.__pwned") is None and not page.dialogs  # type: ignore[attr-defined]
    # the response body is in the grid as literal text (the grid's accessible cells hold it)
    page.get_by_label("Search event id, URL, response or status code").fill("<script>")
    page.keyboard.press("Enter")
    _wait_for_app(page, "Attempts (20 match)")
    cell = page.locator("[data-testid^='glide-cell-']").filter(has_text=f"<script>{XSS_MARK}</script>").first
    cell.wait_for(state="attached", timeout=30_000)
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "hostile-log.png"), full_page=True)


def test_a_secret_typed_then_left_with_tab_is_used_by_the_run(served_app, page) -> None:  # type: ignore[no-untyped-def]
    from diagnostics.findings import fingerprint_secret

    base, info = served_app
    _blank_triage(page, base)
    page.get_by_label("Ticket reference").fill("ZD-TAB")
    page.get_by_label("Endpoint URL").fill(f"{info['sandbox_url']}/verify/standard-webhooks")
    secret = page.get_by_label("Signing secret (optional, used for this run only, never stored)")
    secret.click()
    page.keyboard.type(DEMO_SECRET)
    page.keyboard.press("Tab")
    page.get_by_role("button", name="Run every check").click()
    _wait_for_app(page, "secret used:")
    assert page.get_by_text(f"secret used: {fingerprint_secret(DEMO_SECRET)}", exact=False).count() == 1
    assert page.get_by_text("secret used: none", exact=False).count() == 0


def test_the_landing_page_opens_on_the_demo_case_with_its_secret(served_app, page) -> None:  # type: ignore[no-untyped-def]
    from diagnostics.demo import EXAMPLE_TICKET

    base, _info = served_app
    page.goto(base)
    _wait_for_app(page, "Triage a ticket")
    _wait_for_app(page, "demo workspace's example case")
    # the form's values arrive just after the page's text: wait for them, not a fixed time
    playwright_api.expect(page.get_by_label("Ticket reference")).to_have_value(EXAMPLE_TICKET, timeout=30_000)
    assert page.get_by_text(DEMO_SECRET, exact=True).first.is_visible()
    assert page.get_by_role("button", name="Close case").is_visible()  # the sidebar holds the demo case
    page.screenshot(path=str(ARTIFACTS / "landing-demo-case.png"), full_page=True)


def test_every_request_of_every_page_stays_on_the_apps_origin(served_app, page) -> None:  # type: ignore[no-untyped-def]
    base, _info = served_app
    origins: set[str] = set()
    page.on("request", lambda request: origins.add("/".join(request.url.split("/", 3)[:3])))
    for name, path in PAGES.items():
        page.goto(f"{base}/{path}")
        _wait_for_app(page, READY[name])
        _settle(page)
    others = {o for o in origins if o not in (base, base.replace("127.0.0.1", "localhost"))
              and not o.startswith(("data:", "blob:"))}
    assert not others, sorted(others)
    # a finished internal tool: no Deploy button for agents, and a menu without developer items
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    page.get_by_test_id("stMainMenu").click()
    menu = page.get_by_test_id("stMainMenuPopover")
    menu.wait_for(state="visible", timeout=10_000)
    assert "Print" in menu.inner_text()
    assert not [item for item in ("Rerun", "Clear cache", "Developer", "Deploy") if item in menu.inner_text()]


def test_a_pull_from_the_page_goes_through_the_ssrf_guard(served_app, page) -> None:  # type: ignore[no-untyped-def]
    from tests.support.hookdeck_api import CONNECTION, TOKEN, serve_hookdeck

    base, _info = served_app
    with serve_hookdeck() as (api, seen):  # a private address the app was not told to allow
        page.goto(f"{base}/logs")
        _wait_for_app(page, "Delivery log")
        chooser = page.get_by_test_id("stSelectbox").filter(has_text="Delivery log").first
        chooser.locator("input").click()
        page.get_by_text("Pull from a platform", exact=True).click()
        platform = page.get_by_test_id("stSelectbox").filter(has_text="Platform").first
        platform.locator("input").click()
        page.get_by_text("Hookdeck", exact=True).click()
        _wait_for_app(page, "Connection id")
        page.get_by_label("Connection id").fill(CONNECTION)
        page.get_by_label("API token (used for this pull only, never stored)").fill(TOKEN)
        page.get_by_label("API base URL (optional)").fill(api)
        page.get_by_role("button", name="Pull", exact=True).click()
        _wait_for_app(page, "refused by the SSRF guard")
        assert page.locator("[data-testid='stException']").count() == 0
        assert seen.requests == []  # the guard refused before any connection was made
        page.screenshot(path=str(ARTIFACTS / "pull-refused-by-guard.png"), full_page=True)
