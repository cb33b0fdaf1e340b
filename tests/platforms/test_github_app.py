"""A GitHub App's own webhook: its JWT (RS256, checked by the loopback server as GitHub checks
it), renewed before it expires, pulling `/app/hook/deliveries`, redelivering through
`/app/hook/deliveries/{id}/attempts`, and a bad id or key as one line naming it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.net.guard import AddressPolicy
from diagnostics.platforms import CONNECTORS
from diagnostics.platforms.github_app import LIFETIME_S, RENEW_AFTER_S, load_app_credentials
from diagnostics.recovery.redeliver_via import redeliver_via
from diagnostics.recovery.run import replay_plan
from tests.support.github_api import APP_ID, APP_KEY_PEM, DELIVERIES, Seen, serve_github, valid_app_jwt

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = AddressPolicy.build(allow=["127.0.0.1"])
ALL = ("never_reached", "ambiguous", "rejected", "pending")


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.pem"
    path.write_bytes(APP_KEY_PEM)
    return path


@pytest.fixture
def github_server() -> Iterator[tuple[str, Seen]]:
    with serve_github() as served:
        yield served


def _pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_the_apps_jwt_is_what_github_accepts_and_is_renewed_before_it_expires(key_file: Path) -> None:
    now = [1_800_000_000.0]
    credentials = load_app_credentials(APP_ID, str(key_file), clock=lambda: now[0])
    first = credentials.bearer()
    assert valid_app_jwt(f"Bearer {first}", now=now[0])
    assert credentials.bearer() == first  # reused while young
    now[0] += RENEW_AFTER_S + 1
    second = credentials.bearer()
    assert second != first and valid_app_jwt(f"Bearer {second}", now=now[0])
    assert not valid_app_jwt(f"Bearer {first}", now=now[0] + LIFETIME_S)  # the old one has expired by then
    assert "PRIVATE" not in repr(credentials) and first not in repr(credentials)


@pytest.mark.parametrize(("app_id", "content", "message"), [
    ("not an id", APP_KEY_PEM, "--app-id must be the GitHub App's numeric id"),
    (APP_ID, b"-----BEGIN NOTHING-----\n", "not an unencrypted PEM private key"),
    (APP_ID, _pem(ec.generate_private_key(ec.SECP256R1())), "is an RSA key; this one is not"),
])
def test_a_bad_app_id_or_key_is_one_line_naming_it(tmp_path: Path, app_id: str, content: bytes, message: str) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        load_app_credentials(app_id, str(path))
    assert "\n" not in str(info.value) and "PRIVATE KEY" not in str(info.value)
    with pytest.raises(InputError, match="cannot read the private key"):
        load_app_credentials(APP_ID, str(tmp_path / "missing.pem"))


def test_pull_an_apps_own_hook_with_its_jwt(github_server: tuple[str, Seen], key_file: Path, tmp_path: Path) -> None:
    base_url, seen = github_server

    async def no_sleep(seconds: float) -> None:
        pass

    output = tmp_path / "app.json"
    result = CONNECTORS["github"](output=str(output), policy=LOOPBACK, base_url=base_url, app_id=APP_ID,
                                  private_key=str(key_file), page_size=20, sleep=no_sleep)
    assert (result.attempts, result.done) == (len(DELIVERIES), True)
    assert all(r["path"] == "/app/hook/deliveries" for r in seen.requests)
    assert all(valid_app_jwt(r["auth"]) for r in seen.requests if r["query"].get("cursor") is not None)
    frame = load_attempts([str(output)]).to_pandas()
    assert set(frame["endpoint"]) == {f"app-{APP_ID}"}
    assert "PRIVATE KEY" not in output.read_text()


def test_another_key_is_refused_by_github_in_one_line(github_server: tuple[str, Seen], tmp_path: Path) -> None:
    base_url, _seen = github_server
    other = tmp_path / "other.pem"
    other.write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    with pytest.raises(InputError, match="GitHub refused the token") as info:
        CONNECTORS["github"](output=str(tmp_path / "x.json"), policy=LOOPBACK, base_url=base_url, app_id=APP_ID,
                             private_key=str(other))
    assert "\n" not in str(info.value) and not (tmp_path / "x.json").exists()


def test_redeliver_through_the_apps_hook(github_server: tuple[str, Seen], key_file: Path, tmp_path: Path) -> None:
    base_url, seen = github_server
    pulled = tmp_path / "app.json"
    CONNECTORS["github"](output=str(pulled), policy=LOOPBACK, base_url=base_url, app_id=APP_ID,
                         private_key=str(key_file))
    plan = tmp_path / "plan.json"
    outcome = replay_plan([str(pulled)], endpoint=f"app-{APP_ID}", config=load_config())
    plan.write_text(json.dumps({"metrics": {"plan": outcome.metrics["plan"]}}))
    events = outcome.metrics["plan"]["events"]
    run = redeliver_via(str(plan), "github", config=load_config(), token=None, base_url=base_url, categories=ALL,
                        scope={"app_id": APP_ID, "private_key": str(key_file)}, allow=["127.0.0.1"], rate=50)
    assert run.delivered == len(events) > 0 and run.to == f"github:app/{APP_ID}/hook"
    assert {c["path"].rsplit("/", 2)[0] for c in seen.resends} == {"/app/hook/deliveries"}
    assert len({c["path"] for c in seen.resends}) == len(events)


def test_pull_github_app_from_the_command_line(github_server: tuple[str, Seen], key_file: Path,
                                               tmp_path: Path) -> None:
    base_url, _seen = github_server
    output = tmp_path / "cli.json"
    env_config = tmp_path / "diagnostics.toml"
    env_config.write_text('[network]\nallow = ["127.0.0.1"]\n')
    done = subprocess.run([sys.executable, "-m", "diagnostics", "pull", "github", "--app-id", APP_ID,
                           "--private-key", str(key_file), "--base-url", base_url, "--output", str(output)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                          env={"DIAGNOSTICS_CONFIG": str(env_config), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert f"pulled {len(DELIVERIES)} attempts" in done.stdout and output.exists()
    missing = subprocess.run([sys.executable, "-m", "diagnostics", "pull", "github", "--app-id", APP_ID,
                              "--base-url", base_url, "--output", str(tmp_path / "no.json")],
                             capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                             env={"DIAGNOSTICS_CONFIG": str(env_config), "PATH": "/usr/bin:/bin"})
    assert missing.returncode == 2 and "--private-key" in missing.stderr
