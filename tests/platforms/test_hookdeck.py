"""The Hookdeck connector against a loopback server in Hookdeck's real API shape
(tests/support/hookdeck_api.py): the scope checked, events then attempts listed with
`pagination.next` cursors over several pages, a 429 with Retry-After in the middle, a token
check, an unknown scope, an HTML answer, and max_attempts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from diagnostics.errors import InputError
from diagnostics.findings import Status
from diagnostics.logs import load_attempts
from diagnostics.net.guard import AddressPolicy
from diagnostics.pipeline.logs import analyze_logs
from diagnostics.platforms import CONNECTORS
from diagnostics.platforms.hookdeck import DEFAULT_BASE_URL
from tests.support.hookdeck_api import (
    ATTEMPT_PAGE,
    ATTEMPTS,
    CONNECTION,
    DESTINATION,
    EVENT_PAGE,
    EVENTS,
    FIXTURE,
    TOKEN,
    Seen,
    serve_hookdeck,
)
from tests.support.openapi import description

LOOPBACK = AddressPolicy.build(allow=["127.0.0.1"])


@pytest.fixture
def hookdeck_server() -> Iterator[tuple[str, Seen]]:
    with serve_hookdeck() as served:
        yield served


def pull(base_url: str, output: Path, **options: Any) -> tuple[Any, list[float]]:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    options.setdefault("token", TOKEN)
    options.setdefault("policy", LOOPBACK)
    if "destination_id" not in options:
        options.setdefault("connection_id", CONNECTION)
    result = CONNECTORS["hookdeck"](output=str(output), base_url=base_url, sleep=no_sleep, **options)
    return result, waits


def test_the_served_objects_have_hookdeck_s_shape() -> None:
    assert not list(EVENT_PAGE.iter_errors({"models": EVENTS, "count": len(EVENTS), "pagination": {}}))
    assert not list(ATTEMPT_PAGE.iter_errors(json.loads(FIXTURE.read_text())))
    assert description("hookdeck-openapi.json")["servers"][0]["url"] == DEFAULT_BASE_URL


def test_pull_follows_both_cursors_and_waits_out_a_429(hookdeck_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    progress: list[tuple[int, int]] = []
    result, waits = pull(base_url, tmp_path / "hd.json", page_size=7, events_per_call=10,
                         progress=lambda p, n: progress.append((p, n)))
    assert result.done and result.next_cursor is None and result.attempts == len(ATTEMPTS)
    assert waits == [2.0] and result.waits == [2.0]
    paths = [r["path"] for r in seen.requests]
    assert paths[0] == f"/connections/{CONNECTION}"
    events = [r for r in seen.requests if r["path"] == "/events"]
    assert len(events) == 5 and all(r["query"]["webhook_id"] == [CONNECTION] for r in events)  # 30 events, 7 a page
    assert [("next" in r["query"]) for r in events] == [False, True, True, True, True]
    attempts = [r for r in seen.requests if r["path"] == "/attempts"]
    assert any("next" in r["query"] for r in attempts)  # a batch's attempts over more than one page
    assert all(len(r["query"].get("event_id[]", r["query"].get("event_id"))) <= 10 for r in attempts)
    assert progress[-1] == (result.pages, len(ATTEMPTS))
    assert len({r["client_port"] for r in seen.requests}) == 1  # one guarded connection, kept alive
    text = (tmp_path / "hd.json").read_text()
    assert TOKEN not in text
    document = json.loads(text)
    assert not list(ATTEMPT_PAGE.iter_errors(document))  # what we write is Hookdeck's own list shape
    assert document["count"] == len(ATTEMPTS) and "next" not in document["pagination"]
    pulled = load_attempts([str(tmp_path / "hd.json")])
    assert pulled.formats == {str(tmp_path / "hd.json"): "hookdeck"} and pulled.problem_total == 0
    frame = pulled.to_pandas()
    exported = load_attempts([str(FIXTURE)]).to_pandas()
    assert sorted(frame["attempt_id"]) == sorted(exported["attempt_id"])
    outcome = analyze_logs([str(tmp_path / "hd.json")])
    codes = {f.code: f.status for f in outcome.findings}
    assert outcome.metrics["profile"] == "hookdeck" and outcome.metrics["attempts"] == len(ATTEMPTS)
    assert codes["outage-window"] is Status.WARN and codes["high-failure-rate"] is Status.WARN
    assert codes["redirect-responses"] is Status.FAIL and codes["partial-export"] is Status.PASS


def test_a_destination_scope_filters_events_by_destination(hookdeck_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    seen.rate_limit_at = None
    result, _ = pull(base_url, tmp_path / "d.json", destination_id=DESTINATION)
    assert result.done and result.attempts == len(ATTEMPTS)
    assert seen.requests[0]["path"] == f"/destinations/{DESTINATION}"
    assert seen.requests[1]["query"]["destination_id"] == [DESTINATION]


def test_max_attempts_stops_the_pull_and_the_analysis_says_it_is_partial(hookdeck_server: tuple[str, Seen],
                                                                          tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    seen.rate_limit_at = None
    result, _ = pull(base_url, tmp_path / "first.json", page_size=7, events_per_call=10, max_attempts=12)
    assert (result.attempts, result.done) == (12, False) and result.next_cursor
    document = json.loads((tmp_path / "first.json").read_text())
    assert len(document["models"]) == 12 and document["pagination"]["next"] == result.next_cursor
    assert not list(ATTEMPT_PAGE.iter_errors(document))
    partial = next(f for f in analyze_logs([str(tmp_path / "first.json")]).findings if f.code == "partial-export")
    assert partial.status is Status.WARN and result.next_cursor in partial.summary


def test_since_and_until_narrow_events_on_hookdeck_and_attempts_here(hookdeck_server: tuple[str, Seen],
                                                                      tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    seen.rate_limit_at = None
    since, until = datetime(2026, 3, 2, 1, 0, 7, tzinfo=UTC), datetime(2026, 3, 2, 2, 30, 3, tzinfo=UTC)
    pull(base_url, tmp_path / "w.json", since=since, until=until)
    events = seen.requests[1]["query"]
    assert events["last_attempt_at[gte]"] == ["2026-03-02T01:00:07Z"] and events["created_at[lte]"] == [
        "2026-03-02T02:30:03Z"]
    expected = sorted(a["id"] for a in ATTEMPTS if since <= datetime.fromisoformat(a["delivered_at"]) < until)
    got = sorted(m["id"] for m in json.loads((tmp_path / "w.json").read_text())["models"])
    assert got == expected and 0 < len(got) < len(ATTEMPTS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "hk_expired"}, "Hookdeck refused the API key (401 UNAUTHORIZED Invalid API key): it is revoked "
                                  "or for another project; check the API key"),
        ({"connection_id": "web_missing"}, "Hookdeck connection 'web_missing' does not exist in this project (404"),
        ({"destination_id": "des_missing"}, "Hookdeck destination 'des_missing' does not exist in this project"),
        ({"connection_id": "web/../x"}, "--connection must be a Hookdeck connection id"),
        ({"token": " "}, "no Hookdeck API token given"),
    ],
)
def test_bad_token_or_scope_is_one_line_and_writes_nothing(hookdeck_server: tuple[str, Seen], tmp_path: Path,
                                                           options: dict[str, Any], message: str) -> None:
    base_url, _ = hookdeck_server
    with pytest.raises(InputError) as caught:
        pull(base_url, tmp_path / "out.json", **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "hk_expired" not in str(caught.value) and list(tmp_path.iterdir()) == []


def test_an_html_answer_is_named(hookdeck_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    seen.html = True
    with pytest.raises(InputError, match=r"answered with not JSON: is --base-url the Hookdeck API"):
        pull(base_url, tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []


def test_an_unapplied_event_filter_is_refused(hookdeck_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    seen.rate_limit_at, seen.ignore_event_filter = None, True
    with pytest.raises(InputError, match=r"attempts of events that were not asked for"):
        pull(base_url, tmp_path / "out.json", events_per_call=5)
    assert list(tmp_path.iterdir()) == []


def test_the_ssrf_guard_refuses_loopback_unless_allowed(hookdeck_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = hookdeck_server
    with pytest.raises(InputError, match=r"Hookdeck API address is refused by the SSRF guard"):
        pull(base_url, tmp_path / "out.json", policy=AddressPolicy.build())
    assert seen.requests == [] and list(tmp_path.iterdir()) == []
