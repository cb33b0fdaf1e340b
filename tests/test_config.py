"""Configuration: file, environment and flag layers, with where each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.config import load_config
from diagnostics.errors import InputError
from diagnostics.profiles import BUILTIN_PROFILES


def test_repository_config_loads_our_profile() -> None:
    config = load_config(env={})
    ours = config.ours
    assert ours.name == "ours" and ours.timeout_s == 15
    assert ours.scheme == "standard-webhooks" and ours.tolerance_s == 300
    assert ours.max_attempts == 8
    assert config.source_of("sender", "timeout_seconds") == "diagnostics.toml"


def test_environment_overrides_file_and_is_attributed(tmp_path: Path) -> None:
    config = load_config(env={"DIAGNOSTICS_DB_URL": "sqlite:///x.db", "DIAGNOSTICS_ALLOW": "127.0.0.1/32, localhost"})
    assert config.database_url == "sqlite:///x.db"
    assert config.get("network", "allow") == ["127.0.0.1/32", "localhost"]
    assert config.source_of("network", "allow") == "environment (DIAGNOSTICS_ALLOW)"


def test_flag_override_wins() -> None:
    config = load_config(env={})
    config.override("signature", "tolerance_seconds", 60.0)
    config.override("signature", "scheme", None)
    assert config.ours.tolerance_s == 60
    assert config.ours.scheme == "standard-webhooks"
    assert config.source_of("signature", "tolerance_seconds") == "flag"


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sender\ntimeout_seconds = 3\n")
    with pytest.raises(InputError, match=r"bad\.toml"):
        load_config(bad, env={})


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_builtin_profiles_carry_platform_timeouts() -> None:
    timeouts = {name: p.timeout_s for name, p in BUILTIN_PROFILES.items()}
    assert timeouts == {"svix": 15, "stripe": 30, "github": 10, "shopify": 5, "convoy": 10, "hookdeck": 60}
    assert BUILTIN_PROFILES["github"].max_attempts == 1
    assert BUILTIN_PROFILES["svix"].max_attempts == 8


def test_unknown_profile_lists_the_known_ones() -> None:
    config = load_config(env={})
    with pytest.raises(InputError, match="svix"):
        config.profile("sendgrid")


def test_probe_limits_from_the_environment() -> None:
    config = load_config(env={"DIAGNOSTICS_PORTS": "443, 8443", "DIAGNOSTICS_MAX_PROBES_PER_TARGET": "30"})
    assert config.get("network", "ports") == [443, 8443]
    assert config.get("network", "max_probes_per_target_per_minute") == 30
    with pytest.raises(InputError, match="DIAGNOSTICS_PORTS"):
        load_config(env={"DIAGNOSTICS_PORTS": "https"})


# --- Issue 14: passwords in URLs are masked wherever config is shown -------------------------

DB_PASSWORD = "PASSWORD-hunter2"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://wd:{DB_PASSWORD}@db.internal:5432/cases",
        f"postgresql+psycopg://wd:{DB_PASSWORD}@db.internal/logs?sslmode=require",
        f"postgresql://wd:{DB_PASSWORD}@db.internal:notaport/logs",  # masked although it does not parse
        f"mysql://:{DB_PASSWORD}@db/x",
    ],
)
def test_flat_rows_mask_url_passwords(url: str) -> None:
    config = load_config(env={"DIAGNOSTICS_DB_URL": url, "DIAGNOSTICS_LOG_DB_URL": url})
    shown = repr(config.flat())
    assert DB_PASSWORD not in shown and ":***@" in shown
    assert config.get("database", "url") == url  # the value itself is untouched


def test_config_command_masks_passwords(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: `config` printed database.url and logs.url with their passwords."""
    from diagnostics.cli import main

    monkeypatch.setenv("DIAGNOSTICS_DB_URL", f"postgresql://wd:{DB_PASSWORD}@db.internal/cases")
    monkeypatch.setenv("DIAGNOSTICS_LOG_DB_URL", f"postgresql://wd:{DB_PASSWORD}@db.internal/logs")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert DB_PASSWORD not in out
    assert "database.url = 'postgresql://wd:***@db.internal/cases'" in out
    assert "logs.url = 'postgresql://wd:***@db.internal/logs'" in out


def test_mask_passwords_leaves_urls_without_one_alone() -> None:
    from diagnostics.config import mask_passwords

    assert mask_passwords("sqlite:///workspace/cases.db") == "sqlite:///workspace/cases.db"
    assert mask_passwords(["https://u@h/x", 3]) == ["https://u@h/x", 3]
    assert mask_passwords("postgresql://wd:p@ss:w@rd@db:5432/x") == "postgresql://wd:***@db:5432/x"
