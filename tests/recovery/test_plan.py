"""The replay plan finds exactly the planted categories, with the retry budget of the schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.logs.schema import AttemptTable
from diagnostics.profiles import BUILTIN_PROFILES
from diagnostics.recovery.categories import CATEGORIES
from diagnostics.recovery.generate import NEIGHBOUR, SCRIPTS, TARGET
from diagnostics.recovery.plan import at
from diagnostics.recovery.run import plan_outcome
from tests.recovery.conftest import PlantedRecovery, ours
from tests.support.tiny_logs import T0


def by_category(events: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {c: set() for c in CATEGORIES}
    for e in events:
        found[e["category"]].add(e["event_id"])
    return found


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_category_is_exactly_the_planted_events(planted_recovery: PlantedRecovery, fmt: str) -> None:
    truth = planted_recovery.log.truth
    attempts = load_attempts([str(getattr(planted_recovery, fmt))])
    plan, outcome = plan_outcome(attempts, ours(), TARGET)
    assert by_category(plan.events) == truth.categories
    assert plan.totals == {c: len(truth.categories[c]) for c in CATEGORIES}
    assert plan.delivered == len(truth.delivered)
    assert all(plan.totals.values())  # every category is planted
    assert outcome.exit_code == 1


def test_connection_reset_after_refusals_is_ambiguous(planted_recovery: PlantedRecovery) -> None:
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    resets = [e for e in plan.events if e["error"] == "connection_reset" and e["category"] != "pending"]
    assert len(resets) == 3  # the "reset" script, planted three times
    assert {e["category"] for e in resets} == {"ambiguous"}
    assert {e["category"] for e in plan.events if e["error"] == "protocol"} == {"ambiguous"}
    assert {e["category"] for e in plan.events if e["error"] == "timeout" and e["attempts"] == 8} == {"ambiguous"}


def test_retries_left_is_pending_whatever_the_last_error(planted_recovery: PlantedRecovery) -> None:
    truth = planted_recovery.log.truth
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    pending = [e for e in plan.events if e["category"] == "pending"]
    last = {(e["status_code"], e["error"]) for e in pending}
    # refused and DNS would be never_reached, 500 rejected, reset and timeout ambiguous: all pending here
    assert last == {tuple(v["last_error"]) for v in truth.pending.values()}
    assert {(None, "dns"), (500, None), (None, "connection_reset"), (None, "connection_refused")} <= last


def test_the_latest_attempt_decides_whatever_its_trigger(planted_recovery: PlantedRecovery) -> None:
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    manual = [e for e in plan.events if "(manual" in e["evidence"]]
    assert len(manual) == 3 and {(e["category"], e["error"]) for e in manual} == {("never_reached", "dns")}
    assert all(e["attempts"] == 9 for e in manual)
    listed = {e["event_id"] for e in plan.events}
    assert not listed & planted_recovery.log.truth.delivered  # manual/replay/retry successes are delivered


def test_rejected_events_carry_their_last_status(planted_recovery: PlantedRecovery) -> None:
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    rejected = {e["event_id"]: e["status_code"] for e in plan.events if e["category"] == "rejected"}
    assert rejected == planted_recovery.log.truth.last_status
    assert set(rejected.values()) == {301, 401, 410, 500}


def test_pending_times_follow_the_profile_schedule(planted_recovery: PlantedRecovery) -> None:
    truth = planted_recovery.log.truth
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    pending = {e["event_id"]: e for e in plan.events if e["category"] == "pending"}
    for event_id, expected in truth.pending.items():
        assert at(pending[event_id]["next_retry_at"]) == expected["next_retry_at"]
        assert at(pending[event_id]["retries_exhausted_at"]) == expected["retries_exhausted_at"]
    assert not any("next_retry_at" in e for e in plan.events if e["category"] != "pending")
    oldest = min(truth.pending, key=lambda i: (truth.first_at[i], i))
    c = plan.countdown
    assert c["pending"] == len(truth.pending)
    assert c["oldest_pending_event_id"] == oldest
    assert c["oldest_pending_exhausted_at"] == truth.pending[oldest]["retries_exhausted_at"]
    assert c["last_pending_exhausted_at"] == max(v["retries_exhausted_at"] for v in truth.pending.values())
    assert c["next_retry_at"] == min(v["next_retry_at"] for v in truth.pending.values())


def test_failing_for_rule_disables_streak_start_plus_hours(planted_recovery: PlantedRecovery) -> None:
    truth = planted_recovery.log.truth
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    assert plan.countdown["streak_started_at"] == truth.streak_started_at
    assert plan.disable_at == truth.streak_started_at + timedelta(hours=120)
    assert plan.countdown["already_disabled"] is False
    # undelivered events attempted since the streak began: the pending ones (the scripted ones ended before)
    assert plan.countdown["events_at_risk"] == len(truth.pending)


def _streak_rows(p: PlantedRecovery) -> list[dict]:
    rows = [r for r in p.log.table.to_pylist() if r["endpoint"] == TARGET]
    return [r for r in rows if r["attempted_at"] >= p.log.truth.streak_started_at]


def test_consecutive_failures_rule_already_reached(planted_recovery: PlantedRecovery) -> None:
    from diagnostics.profiles import DisableRule

    plan, outcome = plan_outcome(planted_recovery.attempts(TARGET),
                                 ours(DisableRule("consecutive_failures", count=50)), TARGET)
    assert plan.disable_at == _streak_rows(planted_recovery)[49]["attempted_at"]
    assert plan.countdown["already_disabled"] is True
    summary = next(f for f in outcome.findings if f.code == "recovery-plan")
    assert ("auto-disable", f"would already have been disabled at {plan.disable_at:%Y-%m-%d %H:%M:%S} UTC") \
        in summary.evidence


def test_consecutive_failures_rule_projected_from_scheduled_retries(planted_recovery: PlantedRecovery) -> None:
    """With a longer streak needed, the Nth failure is the pending events' scheduled retries in time order."""
    from diagnostics.profiles import DisableRule

    truth, schedule = planted_recovery.log.truth, planted_recovery.log.retry_schedule_s
    streak = len(_streak_rows(planted_recovery))
    rows = [r for r in planted_recovery.log.table.to_pylist()
            if r["endpoint"] == TARGET and r["event_id"] in truth.pending]
    future = []
    for event_id in truth.pending:
        mine = [r for r in rows if r["event_id"] == event_id]
        n, last = len(mine), max(r["attempted_at"] for r in mine)
        offset = 0.0
        for delay in schedule[n - 1:]:
            offset += delay
            future.append(last + timedelta(seconds=offset))
    needed = 40
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET),
                           ours(DisableRule("consecutive_failures", count=streak + needed)), TARGET)
    assert plan.disable_at == sorted(future)[needed - 1]
    assert plan.countdown["already_disabled"] is False


def test_retries_exhausted_rule_uses_the_first_exhausted_event(planted_recovery: PlantedRecovery) -> None:
    from diagnostics.profiles import DisableRule

    truth = planted_recovery.log.truth
    exhausted = set().union(*(truth.categories[c] for c in ("never_reached", "ambiguous", "rejected")))
    autos = [r for r in planted_recovery.log.table.to_pylist()
             if r["endpoint"] == TARGET and r["event_id"] in exhausted and r["trigger"] == "auto" and r["attempt"] == 8]
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(DisableRule("retries_exhausted")), TARGET)
    assert plan.disable_at == min(r["attempted_at"] for r in autos)
    assert plan.countdown["already_disabled"] is True


def test_a_sender_without_retries_has_nothing_pending(planted_recovery: PlantedRecovery) -> None:
    """GitHub does not retry: the outage's events are judged by their single attempt."""
    truth = planted_recovery.log.truth
    plan, outcome = plan_outcome(planted_recovery.attempts(TARGET), BUILTIN_PROFILES["github"], TARGET)
    found = by_category(plan.events)
    assert not found["pending"] and "disable_at" not in plan.countdown
    expected = {"connection_refused": "never_reached", "dns": "never_reached", "connection_reset": "ambiguous",
                "timeout": "ambiguous"}
    for event_id, info in truth.pending.items():
        status, error = info["last_error"]
        category = "rejected" if status is not None else expected[error]
        assert event_id in found[category]
    assert not [f for f in outcome.findings if f.code == "replay-pending"]


def test_neighbour_endpoint_events_stay_out(planted_recovery: PlantedRecovery) -> None:
    truth = planted_recovery.log.truth
    whole = load_attempts([str(planted_recovery.parquet)])  # both endpoints in one table
    plan, _ = plan_outcome(whole, ours(), TARGET)
    listed = {e["event_id"] for e in plan.events}
    assert not listed & truth.neighbour_only_lost
    assert sorted(truth.categories["never_reached"])[0] in listed  # delivered at the neighbour, not here
    other, _ = plan_outcome(whole, ours(), NEIGHBOUR)
    assert {e["event_id"] for e in other.events} == truth.neighbour_only_lost | {sorted(truth.delivered)[0]}


def test_window_selects_events_first_sent_in_it(planted_recovery: PlantedRecovery) -> None:
    truth = planted_recovery.log.truth
    since, until = T0 + timedelta(hours=6), T0 + timedelta(hours=30)
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET, since=since, until=until)
    expected = {c: {i for i in ids if since <= truth.first_at[i] < until} for c, ids in truth.categories.items()}
    assert by_category(plan.events) == expected and any(expected.values())
    assert plan.delivered == sum(1 for i in truth.delivered if since <= truth.first_at[i] < until)


def test_a_success_after_the_window_counts_and_retries_before_it_use_the_budget(tiny: Callable) -> None:
    minute = 60
    attempts: AttemptTable = tiny([
        ("ep", "evt_a", 10, None, {"error": "timeout"}),
        ("ep", "evt_a", 10 + 5 * minute, 200),  # delivered after `until`
        ("ep", "evt_b", 10, None, {"error": "dns", "attempt": 1}),
        ("ep", "evt_b", 11, None, {"error": "dns", "attempt": 2}),
        ("ep", "evt_c", 5, 503),  # first sent before the window
    ])
    plan, _ = plan_outcome(attempts, ours(), "ep", since=T0 + timedelta(minutes=8), until=T0 + timedelta(minutes=60))
    assert [(e["event_id"], e["category"], e["attempts"]) for e in plan.events] == [("evt_b", "pending", 2)]
    assert at(plan.events[0]["next_retry_at"]) == T0 + timedelta(minutes=11, seconds=300)
    assert plan.delivered == 1


def test_status_without_retry_budget_and_unclassified_errors(tiny: Callable) -> None:
    rows = [("ep", f"evt_{k}", k, None, {"error": err, "attempt": 8})
            for k, err in enumerate(["other", "protocol", "tls", "blocked"])]
    rows.append(("ep", "evt_s", 9, 302, {"attempt": 8}))
    plan, _ = plan_outcome(tiny(rows), ours(), "ep")
    assert {e["event_id"]: e["category"] for e in plan.events} == {
        "evt_0": "ambiguous", "evt_1": "ambiguous", "evt_2": "never_reached", "evt_3": "never_reached",
        "evt_s": "rejected"}


def test_unknown_endpoint_and_inverted_window_are_input_errors(planted_recovery: PlantedRecovery) -> None:
    with pytest.raises(InputError, match="ep_nowhere"):
        plan_outcome(planted_recovery.attempts(), ours(), "ep_nowhere")
    with pytest.raises(InputError, match="--since"):
        plan_outcome(planted_recovery.attempts(), ours(), TARGET, since=T0 + timedelta(days=1), until=T0)


def test_json_has_the_listed_keys(planted_recovery: PlantedRecovery) -> None:
    _, outcome = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    data = outcome.to_dict()["metrics"]["plan"]
    assert {"endpoint", "since", "until", "totals", "events", "disable_at"} <= set(data)
    listed = {"event_id", "category", "attempts", "first_at", "last_at", "event_type", "status_code", "error"}
    for e in data["events"]:
        assert listed <= set(e)
        assert ("next_retry_at" in e and "retries_exhausted_at" in e) == (e["category"] == "pending")
        assert e["first_at"].endswith("Z")
    assert data["endpoint"] == TARGET and data["since"] is None
    assert sum(data["totals"].values()) == len(data["events"])


def test_scripts_cover_every_category() -> None:
    assert {category for category, _autos, _extras in SCRIPTS.values()} == {*CATEGORIES[:3], "delivered"}


def _evidence_in_python(row: dict, max_attempts: int) -> str:
    """The evidence line as a reader would write it by hand: the oracle of `plan.evidence_sql`."""
    from datetime import UTC

    when = row["last_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    what = f"HTTP {int(row['status_code'])}" if row["status_code"] is not None else (row["error"] or "no response")
    if row["duration_ms"] is not None:
        what += f" after {float(row['duration_ms']):.0f} ms"
    body = (row["response_body"] or "").strip().replace("\n", " ")
    if row["status_code"] is not None and body:
        what += f": {body[:120]}"
    return (f"latest attempt ({row['last_trigger'] or 'auto'}, #{row['last_attempt']}) at {when}: {what}; "
            f"{int(row['auto_used'])} of {max_attempts} automatic attempts used")


def test_evidence_lines_read_as_written_by_hand(planted_recovery: PlantedRecovery, tiny: Callable) -> None:
    """Written in SQL, the evidence line is the same text a Python formatter gives: durations
    rounded half to even as `:.0f` does, bodies stripped of any Unicode space, cut at 120
    characters, their newlines flattened."""
    from diagnostics.engines.embedded import DuckDBEngine
    from diagnostics.recovery.plan import PLAN_TABLE

    rows = [
        ("ep", "evt_half_even", 1, 500, {"duration_ms": 2.5, "response_body": "\u3000 oops\nline two\u00a0 "}),
        ("ep", "evt_half_up", 2, 503, {"duration_ms": 3.5, "response_body": "é" * 200}),
        ("ep", "evt_no_answer", 3, None, {"error": "", "duration_ms": None}),
        ("ep", "evt_blank_body", 4, 410, {"duration_ms": 0.4, "response_body": " \t\n "}),
        ("ep", "evt_manual", 5, 401, {"trigger": "manual", "duration_ms": 1999.5}),
    ]
    for attempts, endpoint in ((tiny(rows), "ep"), (planted_recovery.attempts(TARGET), TARGET)):
        plan, _ = plan_outcome(attempts, ours(), endpoint)
        judged = DuckDBEngine(attempts.conn, attempts.name).rows(f"SELECT * FROM {PLAN_TABLE} WHERE in_window")  # noqa: S608 - internal name
        expected = {r["event_id"]: _evidence_in_python(r, ours().max_attempts) for r in judged}
        assert {e["event_id"]: e["evidence"] for e in plan.events} == expected
        assert len(expected) == len(plan.events) > 0


def test_category_spans_follow_a_restricted_plan(planted_recovery: PlantedRecovery) -> None:
    """The first-sent and last-tried times of a category come from SQL for a whole plan and from
    the events that are left once the plan is restricted (a plan built from a reconciliation)."""
    plan, _ = plan_outcome(planted_recovery.attempts(TARGET), ours(), TARGET)
    for category in CATEGORIES:
        events = [e for e in plan.events if e["category"] == category]
        assert plan.span(category) == (min(at(e["first_at"]) for e in events), max(at(e["last_at"]) for e in events))
    pending = [e for e in plan.events if e["category"] == "pending"]
    kept = pending[len(pending) // 2:]
    plan.restrict({e["event_id"] for e in kept})
    assert plan.span("pending") == (min(at(e["first_at"]) for e in kept), max(at(e["last_at"]) for e in kept))
