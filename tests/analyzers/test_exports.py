"""partial-export: pages of a paginated platform export are flagged with what to run for the rest
(fixtures: tests/fixtures/logs/build_api_exports.py, shapes checked by tests/logs/test_api_shapes.py)."""

from __future__ import annotations

from pathlib import Path

from diagnostics.analyzers import exports
from diagnostics.analyzers.base import LogAnalysis, prepare
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.findings import Severity, Status
from diagnostics.logs import load_attempts
from diagnostics.pipeline.logs import analyze_logs
from diagnostics.profiles import BUILTIN_PROFILES
from diagnostics.report import render_html, render_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def judged(*names: str) -> LogAnalysis:
    attempts = load_attempts([str(FIXTURES / n) for n in names])
    analysis = prepare(DuckDBEngine(attempts.conn, attempts.name), BUILTIN_PROFILES["svix"], attempts.subject())
    analysis.import_facts = {"exports": attempts.exports}
    return analysis


def test_a_svix_page_with_done_false_is_flagged_with_its_iterator() -> None:
    [finding] = exports.analyze(judged("svix_page_partial.json"))
    assert (finding.code, finding.status, finding.severity) == ("partial-export", Status.WARN, Severity.MEDIUM)
    assert finding.title == "The export is one page of a longer list"
    evidence = dict(finding.evidence)
    assert evidence["next cursor"] == "atmpt_000000000000000000000000019"
    assert "iterator=atmpt_000000000000000000000000019" in finding.summary
    assert finding.samples[0]["platform"] == "svix"


def test_a_hookdeck_page_with_a_next_cursor_is_flagged() -> None:
    [finding] = exports.analyze(judged("hookdeck_page_partial.json"))
    assert finding.status is Status.WARN
    assert dict(finding.evidence)["next cursor"] == "atm_00019"
    assert "next=atm_00019" in finding.summary


def test_complete_pages_pass_and_files_without_pages_say_nothing() -> None:
    [finding] = exports.analyze(judged("svix_attempts.json", "hookdeck_attempts.json"))
    assert finding.status is Status.PASS and dict(finding.evidence)["exports checked"] == 2
    assert exports.analyze(judged("github_deliveries.json")) == []  # a bare array: nothing to judge
    assert exports.analyze(judged("svix_attempts.canonical.csv")) == []


def test_one_partial_file_among_complete_ones_is_named() -> None:
    [finding] = exports.analyze(judged("svix_attempts.json", "svix_page_partial.json"))
    assert finding.title == "1 of 2 export files stop before the end of their list"
    assert [s["source"] for s in finding.samples] == [str(FIXTURES / "svix_page_partial.json")]


def test_the_pipeline_reports_it_with_its_playbook() -> None:
    outcome = analyze_logs([str(FIXTURES / "svix_page_partial.json")])
    codes = {f.code: f.status for f in outcome.findings}
    assert codes["partial-export"] is Status.WARN
    html = render_html(outcome)
    assert "follow `iterator` until a page says done: true" in html  # the playbook's fix
    assert "partial-export" in render_text(outcome)
