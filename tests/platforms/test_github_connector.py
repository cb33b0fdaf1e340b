"""The GitHub connector against a loopback server in GitHub's hook-delivery shape
(tests/support/github_api.py): Link-header cursor pagination, the secondary rate limit (403 with
Retry-After) in the middle, a token check, 404, and a next link to another host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.net.guard import AddressPolicy
from diagnostics.pipeline.logs import analyze_logs
from diagnostics.platforms import CONNECTORS
from diagnostics.platforms.github import scope_path
from tests.support.github_api import DELIVERIES, FIXTURE, HOOK, REPO, TOKEN, Seen, serve_github

LOOPBACK = AddressPolicy.build(allow=["127.0.0.1"])


@pytest.fixture
def github_server() -> Iterator[tuple[str, Seen]]:
    with serve_github() as served:
        yield served


def pull(base_url: str, output: Path, **options: Any) -> tuple[Any, list[float]]:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    options.setdefault("token", TOKEN)
    options.setdefault("repo", REPO)
    options.setdefault("hook_id", str(HOOK))
    options.setdefault("policy", LOOPBACK)
    result = CONNECTORS["github"](output=str(output), base_url=base_url, sleep=no_sleep, **options)
    return result, waits


def test_pull_follows_link_headers_and_waits_out_the_secondary_rate_limit(github_server: tuple[str, Seen],
                                                                         tmp_path: Path) -> None:
    base_url, seen = github_server
    result, waits = pull(base_url, tmp_path / "gh.json", page_size=20)
    assert (result.attempts, result.pages, result.done) == (50, 3, True)
    assert waits == [3.0]
    assert [r["query"].get("cursor") is not None for r in seen.requests] == [False, True, True, True]
    assert all(r["version"] == "2022-11-28" and r["accept"] == "application/vnd.github+json" for r in seen.requests)
    text = (tmp_path / "gh.json").read_text()
    assert TOKEN not in text
    pulled = load_attempts([str(tmp_path / "gh.json")])
    assert pulled.formats == {str(tmp_path / "gh.json"): "github"} and pulled.problem_total == 0
    frame = pulled.to_pandas()
    exported = load_attempts([str(FIXTURE)]).to_pandas()
    assert sorted(frame["attempt_id"]) == sorted(exported["attempt_id"])
    assert set(frame["endpoint"]) == {str(HOOK)}  # the hook id named by the connector
    assert json.loads(frame["native_ids"][0])["hook_id"] == HOOK
    outcome = analyze_logs([str(tmp_path / "gh.json")])
    assert outcome.metrics["profile"] == "github" and outcome.metrics["attempts"] == 50


def test_max_attempts_and_the_time_window(github_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = github_server
    seen.limit_at = None
    result, _ = pull(base_url, tmp_path / "first.json", page_size=20, max_attempts=25)
    assert (result.attempts, result.pages, result.done) == (25, 2, False)
    assert "cursor=" in (result.next_cursor or "")
    since = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    until = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    seen.requests.clear()
    window, _ = pull(base_url, tmp_path / "window.json", page_size=20, since=since, until=until)
    expected = [d["id"] for d in DELIVERIES if since <= datetime.fromisoformat(d["delivered_at"]) < until]
    assert [d["id"] for d in json.loads((tmp_path / "window.json").read_text())] == expected
    assert window.done and len(seen.requests) == 1  # stopped at the first older delivery


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "ghp_expired"}, "GitHub refused the token (401 Bad credentials)"),
        ({"hook_id": "99"}, "GitHub has no such hook that this token can see (404 Not Found)"),
        ({"repo": "acme/../x"}, "--repo must be OWNER/NAME"),
        ({"repo": "acme/.."}, "--repo must be OWNER/NAME"),
        ({"hook_id": "abc"}, "--hook must be the hook's numeric id"),
    ],
)
def test_bad_token_or_scope_is_one_line_and_writes_nothing(github_server: tuple[str, Seen], tmp_path: Path,
                                                           options: dict[str, Any], message: str) -> None:
    base_url, _ = github_server
    with pytest.raises(InputError) as caught:
        pull(base_url, tmp_path / "out.json", **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_next_link_to_another_host_is_refused(github_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = github_server
    seen.limit_at, seen.hostile = None, True
    with pytest.raises(InputError, match=r"next page is on another host \(evil\.example:8443\)"):
        pull(base_url, tmp_path / "out.json", page_size=20)
    assert len(seen.requests) == 1 and list(tmp_path.iterdir()) == []


def test_the_ssrf_guard_refuses_loopback_unless_allowed(github_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, seen = github_server
    with pytest.raises(InputError, match=r"GitHub API address is refused by the SSRF guard"):
        pull(base_url, tmp_path / "out.json", policy=AddressPolicy.build())
    assert seen.requests == []


def test_org_hooks_have_their_own_path() -> None:
    assert scope_path(repo=None, org="acme", hook_id="7") == "/orgs/acme/hooks/7/deliveries"
    with pytest.raises(InputError, match="either --repo OWNER/NAME or --org ORG"):
        scope_path(repo="a/b", org="acme", hook_id="7")
