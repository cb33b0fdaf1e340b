"""auto-disable-risk: under the profile's disable rule, when this endpoint will be turned off if
its current failure streak continues.

The streak is the run of failed attempts that lasts to the end of the log (from `_runs`). It
matters once it has MIN_STREAK_ATTEMPTS attempts over MIN_STREAK_HOURS, or when the rule itself
is closer. Rules (profiles.DisableRule): failing_for N hours (disable at streak start + N h),
consecutive_failures N (disable at the Nth failure), retries_exhausted (disable once an event
has exhausted its retries). A profile without a rule never disables: nothing to report.
"""

from __future__ import annotations

from datetime import timedelta

from diagnostics.analyzers.base import LogAnalysis, fmt_duration, fmt_time
from diagnostics.analyzers.retries import exhausted_events
from diagnostics.findings import Finding, Severity, Status

MIN_STREAK_ATTEMPTS = 10
MIN_STREAK_HOURS = 1.0
SOURCE = "analyzers.disable_risk"


def analyze(a: LogAnalysis) -> list[Finding]:
    rule = a.profile.disable_rule
    if rule is None:
        return [
            Finding(
                code="auto-disable-risk",
                status=Status.NOT_APPLICABLE,
                severity=Severity.INFO,
                title=f"{a.profile.label} does not disable failing endpoints",
                summary="This sender profile has no auto-disable rule.",
                subject=a.subject,
                source=SOURCE,
            )
        ]
    log_end = a.value(f"SELECT max(attempted_at) FROM {a.table}")
    streaks = a.rows(
        """SELECT endpoint, attempts, started, ended, dominant, epoch(ended) - epoch(started) AS seconds
            FROM _runs WHERE recovered_at IS NULL ORDER BY endpoint"""
    )
    exhausted: dict[str, int] = {}
    if rule.kind == "retries_exhausted":
        for e in exhausted_events(a):
            exhausted[e["endpoint"]] = exhausted.get(e["endpoint"], 0) + 1
    findings = []
    for s in streaks:
        long_enough = s["attempts"] >= MIN_STREAK_ATTEMPTS and s["seconds"] >= MIN_STREAK_HOURS * 3600
        if rule.kind == "failing_for" and rule.hours and long_enough:
            disable_at = s["started"] + timedelta(hours=float(rule.hours))
            when = (f"would already have been disabled at {fmt_time(disable_at)}" if disable_at <= log_end
                    else f"will be disabled at {fmt_time(disable_at)}")
        elif rule.kind == "consecutive_failures" and rule.count and (long_enough or s["attempts"] >= rule.count):
            left = int(rule.count) - int(s["attempts"])
            when = ("would already have been disabled" if left <= 0
                    else f"will be disabled after {left} more failed attempts")
        elif rule.kind == "retries_exhausted" and exhausted.get(s["endpoint"]) and long_enough:
            when = "may already be disabled: events have exhausted their retries"
        else:
            continue
        findings.append(_finding(a, s, when, rule.description or rule.kind))
    if rule.kind == "retries_exhausted":
        reported = {f.subject for f in findings}
        for endpoint, count in sorted(exhausted.items()):
            if endpoint not in reported:
                findings.append(
                    Finding(
                        code="auto-disable-risk",
                        status=Status.FAIL,
                        severity=Severity.CRITICAL,
                        title=f"{endpoint} may have been disabled: {count} events exhausted their retries",
                        summary=f"Under the {a.profile.label} rule ({rule.description or rule.kind}) an endpoint is "
                        "disabled once a delivery exhausts its retries; this happened to "
                        f"{count} events.",
                        subject=endpoint,
                        evidence=(("rule", rule.description or rule.kind), ("events exhausted", count)),
                        source=SOURCE,
                    )
                )
    if not findings:
        findings.append(
            Finding(
                code="auto-disable-risk",
                status=Status.PASS,
                severity=Severity.INFO,
                title="No endpoint is on course to be disabled",
                summary=f"No endpoint ends the log in a failure streak that the {a.profile.label} rule "
                f"({rule.description or rule.kind}) would act on.",
                subject=a.subject,
                source=SOURCE,
            )
        )
    return findings


def _finding(a: LogAnalysis, s: dict, when: str, rule: str) -> Finding:
    already = "already" in when
    return Finding(
        code="auto-disable-risk",
        status=Status.FAIL,
        severity=Severity.CRITICAL,
        title=f"{s['endpoint']} {when}",
        summary=f"Every attempt since {fmt_time(s['started'])} has failed ({s['attempts']} attempts over "
        f"{fmt_duration(s['seconds'])}, mostly {s['dominant']}). Under the {a.profile.label} rule ({rule}) it "
        f"{when}" + ("." if already else " unless a delivery succeeds before then."),
        subject=s["endpoint"],
        evidence=(
            ("failing since", fmt_time(s["started"])),
            ("failed attempts in a row", int(s["attempts"])),
            ("streak length", fmt_duration(s["seconds"])),
            ("dominant failure", s["dominant"]),
            ("disable rule", rule),
            ("projection", when),
        ),
        source=SOURCE,
    )
