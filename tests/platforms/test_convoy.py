"""The Convoy connector against a loopback server in Convoy's real API shape
(tests/support/convoy_api.py): the endpoint checked, event deliveries followed over several pages
(`has_next_page`, `next_page_cursor`), each delivery's attempts, a 429 with Retry-After in the
middle, a token check, an unknown scope, an HTML answer, and max_attempts."""

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
from diagnostics.platforms.convoy import DEFAULT_BASE_URL
from tests.support.convoy_api import (
    ATTEMPTS,
    DELIVERIES,
    ENDPOINT,
    FIXTURE,
    PROJECT,
    PULLED_SHAPE,
    ROOT,
    TOKEN,
    Seen,
    serve_convoy,
)
from tests.support.openapi import description

LOOPBACK = AddressPolicy.build(allow=["127.0.0.1"])


@pytest.fixture
def convoy_server() -> Iterator[tuple[str, Seen]]:
    with serve_convoy() as served:
        yield served


def pull(base_url: str, output: Path, **options: Any) -> tuple[Any, list[float]]:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    options.setdefault("token", TOKEN)
    options.setdefault("policy", LOOPBACK)
    options.setdefault("project_id", PROJECT)
    options.setdefault("endpoint_id", ENDPOINT)
    result = CONNECTORS["convoy"](output=str(output), base_url=base_url, sleep=no_sleep, **options)
    return result, waits


def test_the_default_base_url_is_convoy_cloud() -> None:
    assert description("convoy-openapi3.json")["servers"][0]["url"] == DEFAULT_BASE_URL


def test_pull_follows_the_deliveries_cursor_and_waits_out_a_429(convoy_server: tuple[str, Seen],
                                                                 tmp_path: Path) -> None:
    base_url, seen = convoy_server
    progress: list[tuple[int, int]] = []
    result, waits = pull(base_url, tmp_path / "convoy.json", page_size=8, progress=lambda p, n: progress.append((p, n)))
    assert result.done and result.next_cursor is None and result.attempts == len(ATTEMPTS)
    assert waits == [2.0] and result.waits == [2.0]
    assert seen.requests[0]["path"] == f"{ROOT}/endpoints/{ENDPOINT}"
    pages = [r for r in seen.requests if r["path"] == f"{ROOT}/eventdeliveries"]
    assert len(pages) == 4 and all(r["query"]["endpointId"] == [ENDPOINT] for r in pages)  # 30 deliveries, 8 a page
    assert [r["query"].get("next_page_cursor") for r in pages] == [None, [DELIVERIES[7]["uid"]],
                                                                   [DELIVERIES[15]["uid"]], [DELIVERIES[23]["uid"]]]
    assert len([r for r in seen.requests if r["path"].endswith("/deliveryattempts")]) == len(DELIVERIES) + 1  # 429
    assert progress[-1] == (result.pages, len(ATTEMPTS))
    text = (tmp_path / "convoy.json").read_text()
    assert TOKEN not in text
    document = json.loads(text)
    assert not list(PULLED_SHAPE.iter_errors(document)) and document["data"]["pagination"]["has_next_page"] is False
    pulled = load_attempts([str(tmp_path / "convoy.json")])
    assert pulled.formats == {str(tmp_path / "convoy.json"): "convoy"} and pulled.problem_total == 0
    frame = pulled.to_pandas()
    exported = load_attempts([str(FIXTURE)]).to_pandas()
    assert sorted(frame["attempt_id"]) == sorted(exported["attempt_id"])
    assert set(frame["event_type"]) == {"order.created"}  # joined from the delivery
    by_delivery = {d["uid"]: d["event_id"] for d in DELIVERIES}
    ids = [json.loads(n) for n in frame["native_ids"]]
    assert all(i["event_id"] == by_delivery[i["event_delivery_id"]] for i in ids)
    outcome = analyze_logs([str(tmp_path / "convoy.json")])
    codes = {f.code: f.status for f in outcome.findings}
    assert outcome.metrics["profile"] == "convoy" and outcome.metrics["attempts"] == len(ATTEMPTS)
    assert codes["outage-window"] is Status.WARN and codes["high-failure-rate"] is Status.WARN
    assert codes["redirect-responses"] is Status.FAIL and codes["partial-export"] is Status.PASS


def test_max_attempts_stops_the_pull_and_the_analysis_says_it_is_partial(convoy_server: tuple[str, Seen],
                                                                          tmp_path: Path) -> None:
    base_url, seen = convoy_server
    seen.rate_limit_at = None
    result, _ = pull(base_url, tmp_path / "first.json", page_size=8, max_attempts=12)
    assert (result.attempts, result.done) == (12, False) and result.next_cursor
    document = json.loads((tmp_path / "first.json").read_text())
    assert len(document["data"]["content"]) == 12 and not list(PULLED_SHAPE.iter_errors(document))
    pagination = document["data"]["pagination"]
    assert pagination["has_next_page"] is True and pagination["next_page_cursor"] == result.next_cursor
    partial = next(f for f in analyze_logs([str(tmp_path / "first.json")]).findings if f.code == "partial-export")
    assert partial.status is Status.WARN and result.next_cursor in partial.summary


def test_a_plain_attempt_list_still_carries_no_paging_facts() -> None:
    codes = {f.code for f in analyze_logs([str(FIXTURE)]).findings}
    assert "partial-export" not in codes


def test_since_and_until_go_to_convoy_and_narrow_the_attempts(convoy_server: tuple[str, Seen],
                                                               tmp_path: Path) -> None:
    base_url, seen = convoy_server
    seen.rate_limit_at = None
    since, until = datetime(2026, 3, 2, 1, 0, 7, tzinfo=UTC), datetime(2026, 3, 2, 2, 30, 3, tzinfo=UTC)
    pull(base_url, tmp_path / "w.json", since=since, until=until)
    query = seen.requests[1]["query"]
    assert query["startDate"] == ["2026-03-01T01:00:07"] and query["endDate"] == ["2026-03-02T02:30:03"]
    asked = {r["path"].split("/")[-2] for r in seen.requests if r["path"].endswith("/deliveryattempts")}
    assert asked == {d["uid"] for d in DELIVERIES if since <= datetime.fromisoformat(d["updated_at"])
                     and d["created_at"][:19] <= query["endDate"][0]}  # settled deliveries are not asked
    expected = sorted(a["uid"] for a in ATTEMPTS if since <= datetime.fromisoformat(a["requested_at"]) < until)
    got = sorted(a["uid"] for a in json.loads((tmp_path / "w.json").read_text())["data"]["content"])
    assert got == expected and 0 < len(got) < len(ATTEMPTS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "CO.expired"}, "Convoy refused the API key (401 Invalid API Key): it is revoked or for another "
                                  "project; check the API key"),
        ({"endpoint_id": "01HMISSING"}, "Convoy has no endpoint '01HMISSING' in project '01HPROJECT' (404 endpoint "
                                        "not found)"),
        ({"project_id": "01HOTHER"}, "Convoy has no endpoint '01HENDPOINT' in project '01HOTHER' (404"),
        ({"project_id": "../x"}, "--project must be a Convoy id"),
        ({"token": ""}, "no Convoy API token given"),
    ],
)
def test_bad_token_or_scope_is_one_line_and_writes_nothing(convoy_server: tuple[str, Seen], tmp_path: Path,
                                                           options: dict[str, Any], message: str) -> None:
    base_url, _ = convoy_server
    with pytest.raises(InputError) as caught:
        pull(base_url, tmp_path / "out.json", **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "CO.expired" not in str(caught.value) and list(tmp_path.iterdir()) == []


def test_an_html_answer_is_named(convoy_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = convoy_server
    seen.html = True
    with pytest.raises(InputError, match=r"answered with not JSON: is --base-url the Convoy API \(the API root"):
        pull(base_url, tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []


def test_the_ssrf_guard_refuses_loopback_unless_allowed(convoy_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = convoy_server
    with pytest.raises(InputError, match=r"Convoy API address is refused by the SSRF guard"):
        pull(base_url, tmp_path / "out.json", policy=AddressPolicy.build())
    assert seen.requests == [] and list(tmp_path.iterdir()) == []
