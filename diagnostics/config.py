"""Configuration: diagnostics.toml, then environment variables, then command-line flags.

Every value remembers where it came from (default, file, environment, flag) so the Settings page
and `python -m diagnostics config` can show it. Secrets never live here: the signing secret is
given per run (flag, stdin, or the app's password field).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.errors import InputError
from diagnostics.profiles import SenderProfile, get_profile, ours_from_config

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "diagnostics.toml"

# Environment variable -> (section, key, parser)
ENV_OVERRIDES: dict[str, tuple[str, str, Any]] = {
    "DIAGNOSTICS_DB_URL": ("database", "url", str),
    "DIAGNOSTICS_LOG_DB_URL": ("logs", "url", str),
    "DIAGNOSTICS_WORKSPACE": ("workspace", "path", str),
    "DIAGNOSTICS_ALLOW": ("network", "allow", lambda v: [s.strip() for s in v.split(",") if s.strip()]),
    "DIAGNOSTICS_DENY": ("network", "deny", lambda v: [s.strip() for s in v.split(",") if s.strip()]),
    "DIAGNOSTICS_PORTS": ("network", "ports", lambda v: [int(s) for s in v.split(",") if s.strip()]),
    "DIAGNOSTICS_MAX_PROBES_PER_TARGET": ("network", "max_probes_per_target_per_minute", int),
    "DIAGNOSTICS_TIMEOUT": ("sender", "timeout_seconds", float),
    "DIAGNOSTICS_SCHEME": ("signature", "scheme", str),
    "DIAGNOSTICS_TOLERANCE": ("signature", "tolerance_seconds", float),
    "DIAGNOSTICS_SPARK_MASTER": ("engines", "spark_master", str),
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "sender": {"label": "Our sender", "timeout_seconds": 15.0, "follow_redirects": False},
    "signature": {"scheme": "standard-webhooks", "tolerance_seconds": 300.0},
    "network": {
        "allow": [],
        "deny": [],
        "ports": [],
        "max_probes_per_target_per_minute": 120,
        "max_body_bytes": 65536,
        "max_redirect_hops": 5,
    },
    "database": {"url": ""},
    "logs": {"url": "", "table": "delivery_attempts"},
    "engines": {"spark_master": "local[*]"},
    "workspace": {"path": "workspace"},
}


@dataclass
class Config:
    """The merged configuration and where each value came from."""

    data: dict[str, dict[str, Any]]
    sources: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.data.get(section, {}).get(key, default)

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.data.get(name, {}))

    def source_of(self, section: str, key: str) -> str:
        return self.sources.get(f"{section}.{key}", "default")

    def override(self, section: str, key: str, value: Any, source: str = "flag") -> None:
        """Apply a command-line flag; None means the flag was not given."""
        if value is None:
            return
        self.data.setdefault(section, {})[key] = value
        self.sources[f"{section}.{key}"] = source

    @property
    def ours(self) -> SenderProfile:
        return ours_from_config(self.section("sender"), self.section("signature"))

    def profile(self, name: str | None) -> SenderProfile:
        return get_profile(name, self.ours)

    @property
    def workspace(self) -> Path:
        path = Path(self.get("workspace", "path", "workspace"))
        return path if path.is_absolute() else REPO_ROOT / path

    @property
    def database_url(self) -> str:
        url = self.get("database", "url") or ""
        return url or f"sqlite:///{self.workspace / 'cases.db'}"

    def flat(self) -> list[dict[str, Any]]:
        """Rows of section, key, value, source: what the Settings page and `config` show, with the
        password of every URL masked (database URLs carry one; the rows are for showing only)."""
        rows = []
        for section, values in sorted(self.data.items()):
            for key, value in sorted(values.items()):
                shown = mask_passwords(value)
                rows.append({"setting": f"{section}.{key}", "value": shown, "source": self.source_of(section, key)})
        return rows


# scheme://user:password@ -> the password up to the authority's last @ (the URL need not parse otherwise)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<password>[^\s/]*)@")


def mask_passwords(value: Any) -> Any:
    """The value with the password of every URL in it replaced by `***` (strings, lists, tables)."""
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", value)
    if isinstance(value, dict):
        return {k: mask_passwords(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_passwords(v) for v in value)
    return value


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the configuration: defaults, then the TOML file, then environment overrides."""
    env = dict(os.environ if env is None else env)
    data: dict[str, dict[str, Any]] = {k: dict(v) for k, v in DEFAULTS.items()}
    sources: dict[str, str] = {}
    chosen = Path(path) if path else Path(env["DIAGNOSTICS_CONFIG"]) if env.get("DIAGNOSTICS_CONFIG") else None
    if chosen is None and DEFAULT_CONFIG_PATH.exists():
        chosen = DEFAULT_CONFIG_PATH
    if chosen is not None:
        if not chosen.exists():
            raise InputError("configuration file not found", file=str(chosen))
        try:
            parsed = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"invalid TOML: {exc}", file=str(chosen)) from exc
        except UnicodeDecodeError as exc:
            raise InputError("configuration is not UTF-8 text", file=str(chosen)) from exc
        for section, values in parsed.items():
            if not isinstance(values, dict):
                raise InputError("top-level keys must be [sections]", file=str(chosen), field=section)
            data.setdefault(section, {}).update(values)
            for key in values:
                sources[f"{section}.{key}"] = chosen.name
    for var, (section, key, parse) in ENV_OVERRIDES.items():
        if env.get(var):
            try:
                data.setdefault(section, {})[key] = parse(env[var])
            except ValueError as exc:
                raise InputError(f"invalid value in environment variable {var}: {exc}") from exc
            sources[f"{section}.{key}"] = f"environment ({var})"
    return Config(data=data, sources=sources, path=chosen)
