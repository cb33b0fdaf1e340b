"""The platform that wrote the export picks the sender profile unless --profile is given, and the
report says which profile judged the log and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.logs.profile_choice import choose_profile
from diagnostics.pipeline.logs import analyze_logs
from diagnostics.report import render_html, render_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def test_choice_rules() -> None:
    assert choose_profile(None, {"a.json": "github"}) == (
        "github", "the file is a GitHub export: GitHub's own timeout and retry rules; --profile changes that")
    assert choose_profile(None, {"a.json": "convoy", "b.json": "convoy"})[0] == "convoy"
    assert choose_profile("stripe", {"a.json": "github"}) == ("stripe", "--profile stripe was given")
    name, why = choose_profile(None, {"a.json": "svix", "b.json": "github"})
    assert name is None and "mix GitHub, Svix" in why
    name, why = choose_profile(None, {"a.json": "svix", "b.csv": "canonical"})
    assert name is None and "Svix and other sources" in why
    assert choose_profile(None, {"b.csv": "canonical"})[0] is None


def test_a_github_export_is_judged_by_github_which_never_retries() -> None:
    outcome = analyze_logs([fixture("github_deliveries.json")])
    assert outcome.metrics["profile"] == "github"
    assert outcome.metrics["profile_choice"]["reason"].startswith("the file is a GitHub export")
    exhausted = next(f for f in outcome.findings if f.code == "retry-exhausted")
    assert dict(exhausted.evidence)["still being retried (not lost yet)"] == 0
    ours = analyze_logs([fixture("github_deliveries.json")], profile="ours")
    assert ours.metrics["profile_choice"]["reason"] == "--profile ours was given"
    assert ours.metrics["profile"] != "github"


def test_a_convoy_export_is_judged_against_convoys_timeout() -> None:
    outcome = analyze_logs([fixture("convoy_attempts.json"), fixture("convoy_unanswered.json")])
    assert outcome.metrics["profile"] == "convoy"
    assert outcome.metrics["profile_choice"]["label"] == "Convoy"
    assert outcome.metrics["import"]["problem_total"] == 0 and outcome.metrics["attempts"] == 61


def test_the_report_says_which_profile_judged_and_why() -> None:
    outcome = analyze_logs([fixture("hookdeck_attempts.json")])
    text = render_text(outcome)
    assert "Judged by: the Hookdeck sender profile (the file is a Hookdeck export" in text
    html = render_html(outcome)
    assert "<strong>Sender profile:</strong> Hookdeck (the file is a Hookdeck export" in html
    canonical = render_text(analyze_logs([fixture("hookdeck_attempts.canonical.csv")]))
    assert "not a platform export and no --profile was given" in canonical


def test_an_unknown_profile_fails_before_reading() -> None:
    with pytest.raises(InputError, match="unknown sender profile"):
        analyze_logs([fixture("missing.json")], profile="nope")
