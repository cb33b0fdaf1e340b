"""auto-disable-risk: under the profile's disable rule, when this endpoint will be turned off if
its current failure streak continues.

The streak is the run of failed attempts that lasts to the end of the log (from `_runs`). It
matters once it has MIN_STREAK_ATTEMPTS attempts over MIN_STREAK_HOURS, or when the rule itself
is closer. Rules (profiles.DisableRule): failing_for N hours (disable at streak start + N h),
consecutive_failures N (disable at the Nth failure), retries_exhausted (disable once an event
has exhausted its retries). A profile without a rule never disables: nothing to report.
The rule is also written as SQL (`_problems_sql`), so a fleet is judged in one query and ranked
by the events at risk (events to the endpoint that have not succeeded since the streak began).
"""

from __future__ import annotations

from datetime import timedelta

from diagnostics.analyzers.base import LogAnalysis, fleet_finding, fmt_duration, fmt_time
from diagnostics.analyzers.retries import exhausted_table
from diagnostics.findings import Finding, Severity, Status
from diagnostics.profiles import DisableRule

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
    exhausted_table(a)
    problems = a.problems("auto-disable-risk", _problems_sql(a, rule))
    if a.fleet:
        return fleet_finding(
            a,
            code="auto-disable-risk",
            problems=problems,
            title="{endpoints} of {fleet} endpoints are on course to be disabled (" + a.profile.label + " rule)",
            summary="{endpoints} endpoints end the log in a failure streak that the " + a.profile.label
            + f" rule ({rule.description or rule.kind}) acts on; " + "{events} events to them have not been "
            "delivered since their streak began. The table ranks them by those events at risk.",
            source=SOURCE,
            pass_finding=_pass(a, rule),
        )
    log_end = a.value(f"SELECT max(attempted_at) FROM {a.table}")
    streaks = a.rows(
        """SELECT endpoint, attempts, started, ended, dominant, epoch(ended) - epoch(started) AS seconds
            FROM _runs WHERE recovered_at IS NULL ORDER BY endpoint"""
    )
    exhausted: dict[str, int] = {}
    if rule.kind == "retries_exhausted":
        exhausted = {r["endpoint"]: int(r["n"])
                     for r in a.rows("SELECT endpoint, count(*) AS n FROM _exhausted GROUP BY endpoint")}
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
        findings.append(_pass(a, rule))
    return findings


def _pass(a: LogAnalysis, rule: DisableRule) -> Finding:
    return Finding(
        code="auto-disable-risk",
        status=Status.PASS,
        severity=Severity.INFO,
        title="No endpoint is on course to be disabled",
        summary=f"No endpoint ends the log in a failure streak that the {a.profile.label} rule "
        f"({rule.description or rule.kind}) would act on.",
        subject=a.subject,
        source=SOURCE,
    )


def _problems_sql(a: LogAnalysis, rule: DisableRule) -> str:
    """Every endpoint the rule acts on, with its events at risk (PROBLEM_COLUMNS)."""
    long_enough = f"(s.attempts >= {MIN_STREAK_ATTEMPTS} AND s.seconds >= {MIN_STREAK_HOURS * 3600})"
    if rule.kind == "failing_for" and rule.hours:
        horizon = float(rule.hours) * 3600
        condition = long_enough
        detail = (f"CASE WHEN epoch(s.started) + {horizon} <= (SELECT epoch(max(attempted_at)) FROM {a.table}) "
                  "THEN 'would already have been disabled' ELSE 'will be disabled' END")
    elif rule.kind == "consecutive_failures" and rule.count:
        condition = f"({long_enough} OR s.attempts >= {int(rule.count)})"
        detail = (f"CASE WHEN s.attempts >= {int(rule.count)} THEN 'would already have been disabled' "
                  f"ELSE 'will be disabled after ' || CAST({int(rule.count)} - s.attempts AS VARCHAR) "
                  "|| ' more failed attempts' END")
    elif rule.kind == "retries_exhausted":
        condition = f"{long_enough} AND s.endpoint IN (SELECT endpoint FROM _exhausted)"
        detail = "'may already be disabled: events have exhausted their retries'"
    else:
        condition, detail = "FALSE", "''"
    streaks = f"""WITH s AS (
            SELECT endpoint, attempts, started, ended, epoch(ended) - epoch(started) AS seconds
            FROM _runs WHERE recovered_at IS NULL
        ), risk AS (
            SELECT e.endpoint, count(*) AS events FROM _event_details AS e JOIN s ON s.endpoint = e.endpoint
            WHERE e.successes = 0 AND e.last_at >= s.started GROUP BY e.endpoint
        )
        SELECT 'auto-disable-risk' AS code, s.endpoint, 'fail' AS status, 'critical' AS severity,
               coalesce(risk.events, 0) AS events, s.attempts, s.started AS first_at, s.ended AS last_at,
               {detail} AS detail
        FROM s LEFT JOIN risk ON risk.endpoint = s.endpoint WHERE {condition}"""
    if rule.kind != "retries_exhausted":
        return streaks
    return f"""{streaks}
        UNION ALL
        SELECT 'auto-disable-risk' AS code, x.endpoint, 'fail' AS status, 'critical' AS severity, count(*) AS events,
               sum(x.attempts) AS attempts, min(x.first_at) AS first_at, max(x.last_at) AS last_at,
               CAST(count(*) AS VARCHAR) || ' events exhausted their retries' AS detail
        FROM _exhausted AS x
        WHERE x.endpoint NOT IN (SELECT s2.endpoint FROM _runs AS s2 WHERE s2.recovered_at IS NULL
              AND s2.attempts >= {MIN_STREAK_ATTEMPTS}
              AND epoch(s2.ended) - epoch(s2.started) >= {MIN_STREAK_HOURS * 3600})
        GROUP BY x.endpoint"""


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
