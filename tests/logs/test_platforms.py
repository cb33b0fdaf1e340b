"""Each platform export is detected, mapped field by field, and analyzed to the same findings as
the canonical version of the same attempts (tests/fixtures/logs, see build_fixtures.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from diagnostics.errors import InputError
from diagnostics.findings import Outcome, Status
from diagnostics.logs import load_attempts
from diagnostics.logs.detect import detect_format
from diagnostics.logs.taxonomy import classify_error_text, hookdeck_error_kind
from diagnostics.pipeline.logs import analyze_logs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
EXPORTS = {
    "svix": "svix_attempts",
    "hookdeck": "hookdeck_attempts",
    "convoy": "convoy_attempts",
    "github": "github_deliveries",
}


def comparable(outcome: Outcome, source: str) -> list[tuple[Any, ...]]:
    """Findings without the file name that only the subject of log-wide findings carries."""
    return sorted(
        (f.code, f.status.value, f.severity.value, f.subject.replace(source, "<log>"), f.title.replace(source, "<log>"),
         f.evidence, tuple(tuple(sorted(s.items())) for s in f.samples))
        for f in outcome.findings
        if f.code != "partial-export"  # a fact about the export's pages, which the twin has not
    )


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_export_is_detected(platform: str) -> None:
    assert detect_format(str(FIXTURES / f"{EXPORTS[platform]}.json")) == (platform, "json")
    assert detect_format(str(FIXTURES / f"{EXPORTS[platform]}.canonical.csv")) == ("canonical", "csv")


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_export_and_canonical_twin_give_the_same_findings(platform: str) -> None:
    export = str(FIXTURES / f"{EXPORTS[platform]}.json")
    twin = str(FIXTURES / f"{EXPORTS[platform]}.canonical.csv")
    # The export picks its platform's profile by itself (test_profile_choice.py); the twin is told.
    from_export = analyze_logs([export])
    from_twin = analyze_logs([twin], profile=platform)
    assert from_export.metrics["profile"] == from_twin.metrics["profile"] == platform
    assert from_export.metrics["import"]["problem_total"] == 0
    assert from_export.metrics["attempts"] == from_twin.metrics["attempts"] == 50
    assert comparable(from_export, export) == comparable(from_twin, twin)
    # The story in the fixtures: a timeout then a retry, a redirect, a 40-minute outage.
    failing = {f.code for f in from_export.findings if f.status in (Status.FAIL, Status.WARN)}
    assert {"duplicate-deliveries", "redirect-responses", "outage-window"} <= failing
    assert from_export.metrics["endpoints"] == from_twin.metrics["endpoints"]


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_export_rows_match_the_twin_column_by_column(platform: str) -> None:
    export = load_attempts([str(FIXTURES / f"{EXPORTS[platform]}.json")]).to_pandas()
    twin_path = FIXTURES / f"{EXPORTS[platform]}.canonical.csv"
    twin = load_attempts([str(twin_path)]).to_pandas()
    header = twin_path.read_text().split("\n", 1)[0].split(",")
    for column in header:  # the ids and headers only the export carries are checked in test_export_ids.py
        left = [None if v != v or v is None else v for v in export[column].tolist()]  # NaN -> None
        right = [None if v != v or v is None else v for v in twin[column].tolist()]
        assert left == right, column


def test_svix_status_zero_means_no_response_and_reads_the_error_text() -> None:
    frame = load_attempts([str(FIXTURES / "svix_attempts.json")]).to_pandas()
    no_response = frame[frame["status_code"].isna()]
    assert set(no_response["error"]) == {"timeout", "connection_refused"}
    assert no_response["response_body"].isna().all()
    assert set(frame["trigger"]) == {"auto", "manual"}


def test_forced_format_must_fit_the_file() -> None:
    with pytest.raises(InputError, match="looks like csv"):
        load_attempts([str(FIXTURES / "svix_attempts.canonical.csv")], source_format="svix")
    with pytest.raises(InputError, match="--map applies"):
        load_attempts([str(FIXTURES / "svix_attempts.json")], mapping={"event_id": "msgId"})


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("request timed out", "timeout"),
        ("error resolving name: no record", "dns"),
        ("requests to this IP range are blocked (see the server configuration)", "blocked"),
        ("dial tcp 1.2.3.4:443: connect: connection refused", "connection_refused"),
        ("context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "timeout"),
        ("x509: certificate signed by unknown authority", "tls"),
        ("Peer certificate cannot be authenticated with given CA certificates", "tls"),
        ("failed to connect to host", "dns"),
        ("failed to connect to network", "connection_refused"),
        ("read: connection reset by peer", "connection_reset"),
        ("something odd", "other"),
        ("", None),
    ],
)
def test_free_text_errors_map_to_the_taxonomy(text: str, kind: str | None) -> None:
    assert classify_error_text(text) == kind


def test_hookdeck_codes_map_to_the_taxonomy() -> None:
    assert hookdeck_error_kind("TIMEOUT") == "timeout"
    assert hookdeck_error_kind("SSL_CERT_EXPIRED") == "tls"
    assert hookdeck_error_kind("DNS_LOOKUP_FAILED") == "dns"
    assert hookdeck_error_kind("CLI_UNAVAILABLE") == "connection_refused"
    assert hookdeck_error_kind("SOMETHING_NEW") == "other"
    assert hookdeck_error_kind(None) is None
