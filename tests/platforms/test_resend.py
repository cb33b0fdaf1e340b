"""`redeliver --via`: a plan's events resent with each platform's own call, against loopback
servers in the platforms' API shapes (tests/support/*_api.py): the calls asserted there (method,
path, token, Svix's idempotency key), a 429 with Retry-After waited out, a rerun that resends
nothing, and a bad token or scope that sends and stores nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.platforms.resend import RESENDERS
from diagnostics.platforms.settings import DEFAULT_BASE_URLS, api_base_url, api_policy
from diagnostics.recovery.ledger import ledger_path
from diagnostics.recovery.redeliver_via import redeliver_via
from diagnostics.recovery.run import replay_plan
from tests.support import convoy_api, github_api, hookdeck_api, svix_api

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Platform:
    name: str
    fixture: Path
    endpoint: str
    token: str
    serve: Callable[[], AbstractContextManager[tuple[str, Any]]]
    scope: dict[str, str]
    call: Callable[[dict[str, Any]], tuple[str, str]]  # a plan event -> the (method, path) expected for it


def _github_path(event: dict[str, Any]) -> tuple[str, str]:
    latest = max((d for d in github_api.DELIVERIES if d["guid"] == event["event_id"]),
                 key=lambda d: (d["delivered_at"], d["id"]))
    return "POST", f"/repos/{github_api.REPO}/hooks/{github_api.HOOK}/deliveries/{latest['id']}/attempts"


def _convoy_path(event: dict[str, Any]) -> tuple[str, str]:
    uid = next(a["msg_id"] for a in convoy_api.ATTEMPTS if (a.get("event_id") or a["msg_id"]) == event["event_id"])
    return "PUT", f"{convoy_api.ROOT}/eventdeliveries/{uid}/resend"


PLATFORMS = {
    "svix": Platform("svix", svix_api.FIXTURE, svix_api.ENDPOINT, svix_api.TOKEN, svix_api.serve_svix,
                     {"app": svix_api.APP},
                     lambda e: ("POST", f"/api/v1/app/{svix_api.APP}/msg/{e['event_id']}/endpoint/"
                                        f"{svix_api.ENDPOINT}/resend")),
    "github": Platform("github", github_api.FIXTURE, "github:github_deliveries", github_api.TOKEN,
                       github_api.serve_github, {"repo": github_api.REPO, "hook": str(github_api.HOOK)}, _github_path),
    "hookdeck": Platform("hookdeck", hookdeck_api.FIXTURE, hookdeck_api.DESTINATION, hookdeck_api.TOKEN,
                         hookdeck_api.serve_hookdeck, {}, lambda e: ("POST", f"/events/{e['event_id']}/retry")),
    "convoy": Platform("convoy", convoy_api.FIXTURE, convoy_api.ENDPOINT, convoy_api.TOKEN, convoy_api.serve_convoy,
                       {}, _convoy_path),
}


def write_plan(platform: Platform, folder: Path) -> tuple[Path, list[dict[str, Any]]]:
    outcome = replay_plan([str(platform.fixture)], endpoint=platform.endpoint, config=load_config())
    plan = outcome.metrics["plan"]
    assert plan["events"], f"the {platform.name} fixture has no undelivered event to resend"
    path = folder / "plan.json"
    path.write_text(json.dumps({"metrics": {"plan": plan}}))
    return path, plan["events"]


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


@pytest.fixture
def served(platform: Platform) -> Iterator[tuple[str, Any]]:
    with platform.serve() as (base, seen):
        yield base, seen


def test_every_platform_has_a_resender_and_a_loopback_case() -> None:
    from diagnostics.cli.recovery import VIA_PLATFORMS

    assert sorted(RESENDERS) == sorted(PLATFORMS) == list(VIA_PLATFORMS)


def test_resends_each_selected_event_with_the_platforms_own_call(platform: Platform, served, tmp_path: Path) -> None:
    base, seen = served
    plan, events = write_plan(platform, tmp_path)
    # When the plan is resent through the platform (every category, so every undelivered event)
    run = redeliver_via(str(plan), platform.name, config=load_config(), token=platform.token, scope=platform.scope,
                        base_url=base, categories=("never_reached", "ambiguous", "rejected", "pending"),
                        rate=50, allow=["127.0.0.1"])
    # Then each event got exactly its platform call, the 429 was waited out, and all were accepted
    expected = sorted(platform.call(e) for e in events)
    accepted = [(c["method"], c["path"]) for c in seen.resends]
    assert len(accepted) == len(expected) + 1  # one call answered 429 and asked again
    assert sorted(set(accepted)) == sorted(set(expected)) and len(set(accepted)) == len(expected)
    assert all(c["auth"] == f"Bearer {platform.token}" for c in seen.resends)
    assert run.delivered == len(events) and not run.stopped and not run.without_payload
    assert run.via == RESENDERS[platform.name].label and run.to.startswith(f"{platform.name}:")
    if platform.name == "svix":  # the same key for the same message, so Svix dedupes a rerun's resend
        keys = {c["path"]: c["idempotency_key"] for c in seen.resends}
        assert all(k and k.startswith("webhook-doctor-") for k in keys.values())
        assert len(set(keys.values())) == len(expected)
    # And a rerun of the same plan sends nothing: the platform accepted every event already
    again = redeliver_via(str(plan), platform.name, config=load_config(), token=platform.token, scope=platform.scope,
                          base_url=base, categories=("never_reached", "ambiguous", "rejected", "pending"),
                          allow=["127.0.0.1"])
    assert again.to_send == [] and len(again.already_delivered) == len(events)
    assert len(seen.resends) == len(expected) + 1


def test_a_bad_token_is_one_line_naming_the_platform_and_sends_and_stores_nothing(
        platform: Platform, served, tmp_path: Path) -> None:
    base, seen = served
    plan, _ = write_plan(platform, tmp_path)
    with pytest.raises(InputError) as info:
        redeliver_via(str(plan), platform.name, config=load_config(), token="wrong-token", scope=platform.scope,
                      base_url=base, categories=("never_reached", "ambiguous", "rejected", "pending"),
                      allow=["127.0.0.1"])
    assert RESENDERS[platform.name].label in str(info.value) and info.value.field == "--token"
    assert "\n" not in str(info.value) and "wrong-token" not in str(info.value)
    assert seen.resends == [] and not ledger_path(str(plan)).exists()


def test_a_scope_that_does_not_exist_sends_and_stores_nothing(tmp_path: Path) -> None:
    svix = PLATFORMS["svix"]
    with svix.serve() as (base, seen):
        plan, _ = write_plan(svix, tmp_path)
        with pytest.raises(InputError, match="Svix has no app 'app_other'"):
            redeliver_via(str(plan), "svix", config=load_config(), token=svix.token, scope={"app": "app_other"},
                          base_url=base, categories=("rejected", "never_reached", "ambiguous", "pending"),
                          allow=["127.0.0.1"])
        assert seen.resends == [] and not ledger_path(str(plan)).exists()


def test_an_api_that_answers_html_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    hookdeck = PLATFORMS["hookdeck"]
    with hookdeck.serve() as (base, seen):
        seen.html = True  # a dashboard or a proxy's login page where the API should be
        plan, _ = write_plan(hookdeck, tmp_path)
        with pytest.raises(InputError, match="answered with not JSON: is --base-url the Hookdeck API"):
            redeliver_via(str(plan), "hookdeck", config=load_config(), token=hookdeck.token, scope={},
                          base_url=base, categories=("rejected", "never_reached", "ambiguous", "pending"),
                          allow=["127.0.0.1"])
        assert seen.resends == [] and not ledger_path(str(plan)).exists()


def test_a_platform_scope_must_be_given_and_the_dry_run_calls_nothing(tmp_path: Path) -> None:
    github = PLATFORMS["github"]
    with github.serve() as (base, seen):
        plan, events = write_plan(github, tmp_path)
        with pytest.raises(InputError, match="--repo or --org"):
            redeliver_via(str(plan), "github", config=load_config(), token=github.token, scope={}, base_url=base,
                          categories=("rejected", "never_reached", "ambiguous", "pending"), allow=["127.0.0.1"])
        dry = redeliver_via(str(plan), "github", config=load_config(), token=None, scope=github.scope, base_url=base,
                            dry_run=True, categories=("rejected", "never_reached", "ambiguous", "pending"))
        assert len(dry.to_send) == len(events) and seen.resends == [] and seen.requests == []


def test_the_platforms_api_host_comes_from_the_configuration(tmp_path: Path) -> None:
    config_file = tmp_path / "diagnostics.toml"
    config_file.write_text('[platforms.svix]\nbase_url = "http://svix.internal:8071/"\n')
    config = load_config(config_file)
    assert api_base_url(config, "svix") == "http://svix.internal:8071"
    assert api_base_url(config, "svix", "https://api.eu.svix.com") == "https://api.eu.svix.com"
    assert api_base_url(config, "convoy") == DEFAULT_BASE_URLS["convoy"] == "https://us.getconvoy.cloud/api"
    policy = api_policy(config)
    assert policy.host_allowed("svix.internal") and not policy.host_allowed("api.svix.com")
    config_file.write_text('[platforms.convoy]\nbase_url = "ftp://convoy"\n')
    with pytest.raises(InputError, match=r"\[platforms.convoy\] base_url must be an http\(s\) URL"):
        api_base_url(load_config(config_file), "convoy")


def test_redeliver_via_from_the_command_line(tmp_path: Path) -> None:
    hookdeck = PLATFORMS["hookdeck"]
    with hookdeck.serve() as (base, seen):
        plan, events = write_plan(hookdeck, tmp_path)
        command = [sys.executable, "-m", "diagnostics", "redeliver", "--plan", str(plan), "--via", "hookdeck",
                   "--token", "-", "--base-url", base, "--allow", "127.0.0.1", "--categories", "all",
                   "--format", "json"]
        done = subprocess.run(command, input=hookdeck.token + "\n", capture_output=True, text=True, cwd=ROOT,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)["metrics"]["redeliver"]
        assert result["via"] == "Hookdeck" and result["delivered"] == len(events)
        assert hookdeck.token not in done.stdout + done.stderr
        refused = subprocess.run([*command[:8], "--token", hookdeck.token, *command[10:]], capture_output=True,
                                 text=True, cwd=ROOT, timeout=120, check=False)
        assert refused.returncode == 2 and "standard input" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert len(seen.resends) == len(events) + 1  # the 429 asked again; the refused run called nothing


BULK_PATHS = {"svix": f"/api/v1/app/{svix_api.APP}/endpoint/{svix_api.ENDPOINT}/recover",
              "hookdeck": "/bulk/events/retry", "convoy": f"{convoy_api.ROOT}/eventdeliveries/forceresend"}


@pytest.mark.parametrize("name", sorted(BULK_PATHS))
def test_bulk_resends_the_selection_in_the_platforms_bulk_call(name: str, tmp_path: Path) -> None:
    platform = PLATFORMS[name]
    with platform.serve() as (base, seen):
        plan, events = write_plan(platform, tmp_path)
        run = redeliver_via(str(plan), name, config=load_config(), token=platform.token, scope=platform.scope,
                            base_url=base, categories=("never_reached", "ambiguous", "rejected", "pending"),
                            allow=["127.0.0.1"], bulk=True)
        calls = [c for c in seen.resends if c["path"] == BULK_PATHS[name]]
        assert len(calls) == len(seen.resends) == 2  # the first answered 429, asked again after Retry-After
        body = calls[-1].get("body")
        if name == "hookdeck":
            assert sorted(body["query"]["id"]) == sorted(e["event_id"] for e in events)
        elif name == "convoy":
            assert sorted(body["ids"]) == sorted(p.rsplit("/", 2)[-2] for _, p in map(platform.call, events))
        else:  # Svix recovers a window: from the first selected event's first attempt to just after the last
            firsts = sorted(e["first_at"] for e in events)
            assert body["since"][:19] == firsts[0][:19] and body["until"][:19] >= firsts[-1][:19]
        assert run.delivered == len(events) and run.bulk is not None and run.bulk["calls"] == 1
        again = redeliver_via(str(plan), name, config=load_config(), token=platform.token, scope=platform.scope,
                              base_url=base, categories=("never_reached", "ambiguous", "rejected", "pending"),
                              allow=["127.0.0.1"], bulk=True)
        assert again.to_send == [] and len(seen.resends) == 2


def test_github_has_no_bulk_call(tmp_path: Path) -> None:
    github = PLATFORMS["github"]
    plan, _ = write_plan(github, tmp_path)
    with pytest.raises(InputError, match="GitHub has no bulk resend call"):
        redeliver_via(str(plan), "github", config=load_config(), token=github.token, scope=github.scope, bulk=True)
