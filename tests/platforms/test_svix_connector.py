"""The Svix connector against a loopback server that serves Svix's real API shape
(tests/support/svix_api.py): iterator pagination, a 429 with Retry-After in the middle, a token
check, 404 and HTML answers. The pull goes through the official SDK and the SSRF guard (loopback
allowlisted, as for the sandbox).
"""

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
from diagnostics.platforms.retry_after import MAX_WAIT_S, retry_after_seconds
from tests.support.svix_api import APP, ATTEMPTS, ENDPOINT, FIXTURE, PAGE_SHAPE, TOKEN, Seen, serve_svix


@pytest.fixture
def svix_server() -> Iterator[tuple[str, Seen]]:
    with serve_svix() as served:
        yield served


LOOPBACK = AddressPolicy.build(allow=["127.0.0.1"])


def pull(base_url: str, output: Path, **options: Any) -> Any:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    options.setdefault("token", TOKEN)
    options.setdefault("app_id", APP)
    options.setdefault("policy", LOOPBACK)
    result = CONNECTORS["svix"](endpoint_id=ENDPOINT, output=str(output), base_url=base_url, sleep=no_sleep,
                                **options)
    return result, waits


def test_pull_follows_the_iterator_to_the_end_and_waits_out_a_429(svix_server: tuple[str, Seen],
                                                                    tmp_path: Path) -> None:
    base_url, seen = svix_server
    progress: list[tuple[int, int]] = []
    result, waits = pull(base_url, tmp_path / "pulled.json", page_size=20,
                         progress=lambda p, n: progress.append((p, n)))
    assert (result.attempts, result.pages, result.done) == (50, 3, True)
    assert waits == [2.0] and result.waits == [2.0]
    assert progress == [(1, 20), (2, 40), (3, 50)]
    iterators = [r["query"].get("iterator") for r in seen.requests]
    assert iterators == [None, ATTEMPTS[19]["id"], ATTEMPTS[19]["id"], ATTEMPTS[39]["id"]]  # the 429 repeated
    assert all(r["query"]["limit"] == "20" and r["query"]["with_content"] == "true" for r in seen.requests)
    text = (tmp_path / "pulled.json").read_text()
    assert TOKEN not in text
    pulled = load_attempts([str(tmp_path / "pulled.json")]).to_pandas()
    exported = load_attempts([str(FIXTURE)]).to_pandas()
    for column in ("event_id", "attempt_id", "status_code", "error", "trigger", "duration_ms"):
        left = [None if v != v else v for v in pulled[column].tolist()]
        right = [None if v != v else v for v in exported[column].tolist()]
        assert left == right, column
    assert list(pulled["attempted_at"]) == list(exported["attempted_at"])
    outcome = analyze_logs([str(tmp_path / "pulled.json")])
    assert {f.code: f.status for f in outcome.findings}["partial-export"] is Status.PASS


def test_max_attempts_stops_the_pull_and_the_analysis_says_it_is_partial(svix_server: tuple[str, Seen],
                                                                          tmp_path: Path) -> None:
    base_url, seen = svix_server
    seen.rate_limit_at = None
    result, _ = pull(base_url, tmp_path / "first.json", page_size=20, max_attempts=25)
    assert (result.attempts, result.pages, result.done) == (25, 2, False)
    assert result.next_cursor == ATTEMPTS[24]["id"]
    document = json.loads((tmp_path / "first.json").read_text())
    assert len(document["data"]) == 25 and document["done"] is False
    assert not list(PAGE_SHAPE.iter_errors(document))  # what we write is Svix's own list shape
    partial = next(f for f in analyze_logs([str(tmp_path / "first.json")]).findings if f.code == "partial-export")
    assert partial.status is Status.WARN and ATTEMPTS[24]["id"] in partial.summary


def test_since_and_until_are_sent_as_after_and_before(svix_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = svix_server
    seen.rate_limit_at = None
    pull(base_url, tmp_path / "w.json", since=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 3, tzinfo=UTC))
    assert seen.requests[0]["query"]["after"].startswith("2026-03-02T00:00:00")
    assert seen.requests[0]["query"]["before"].startswith("2026-03-03T00:00:00")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "expired-token"}, "Svix refused the API token (401 authentication_failed)"),
        ({"app_id": "app_missing"}, "Svix has no app 'app_missing' with endpoint"),
        ({"token": " "}, "no Svix API token given"),
    ],
)
def test_bad_token_or_scope_is_one_line_and_writes_nothing(svix_server: tuple[str, Seen], tmp_path: Path,
                                                           options: dict[str, Any], message: str) -> None:
    base_url, _ = svix_server
    with pytest.raises(InputError) as caught:
        pull(base_url, tmp_path / "out.json", **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "expired-token" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_an_html_answer_is_named(svix_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = svix_server
    seen.html = True
    with pytest.raises(InputError, match=r"answered with not JSON: is --base-url the Svix API"):
        pull(base_url, tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []


def test_the_ssrf_guard_refuses_loopback_unless_allowed(svix_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = svix_server
    with pytest.raises(InputError, match=r"refused by the SSRF guard .*loopback"):
        pull(base_url, tmp_path / "out.json", policy=AddressPolicy.build())
    assert seen.requests == [] and list(tmp_path.iterdir()) == []


def test_retry_after_values() -> None:
    now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Mon, 02 Mar 2026 12:00:10 GMT", now) == 10.0
    assert retry_after_seconds("99999") == MAX_WAIT_S
    assert retry_after_seconds("soon") == 1.0
