"""`[platforms]` in diagnostics.toml: where each platform's API is, for `pull` and `redeliver --via`.

    [platforms.svix]
    base_url = "https://svix.internal:8071"       # self-hosted Svix
    [platforms.github]
    base_url = "https://github.example.com/api/v3" # GitHub Enterprise Server

A `--base-url` flag wins over the file, the file over the platform's public API. The host of a
base URL set in the file is the operator's own server (a self-hosted Svix or Convoy on the
company network): the SSRF guard lets connections to it through, as if it were in
`[network] allow`. A host given only by `--base-url` gets no such pass: it must be public, or
allowed in `[network] allow`, like any other destination.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.net.guard import AddressPolicy
from diagnostics.platforms import convoy, github, hookdeck, svix

DEFAULT_BASE_URLS = {
    "svix": svix.DEFAULT_BASE_URL,
    "github": github.DEFAULT_BASE_URL,
    "hookdeck": hookdeck.DEFAULT_BASE_URL,
    "convoy": convoy.DEFAULT_BASE_URL,
}
"""The public API of each platform: what a base URL defaults to."""


def configured(config: Config, platform: str) -> str | None:
    """`[platforms.<platform>] base_url`, checked to be an http(s) URL with a host."""
    table = config.get("platforms", platform) or {}
    if not isinstance(table, dict):
        raise InputError(f"[platforms.{platform}] must be a table with base_url", field=f"platforms.{platform}")
    url = str(table.get("base_url") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"[platforms.{platform}] base_url must be an http(s) URL with a host, not {url[:80]!r}",
                         field=f"platforms.{platform}.base_url")
    return url.rstrip("/")


def api_base_url(config: Config, platform: str, given: str | None = None) -> str:
    """The flag, else the configuration, else the platform's public API."""
    if given:
        return given.rstrip("/")
    return configured(config, platform) or DEFAULT_BASE_URLS[platform]


def api_policy(config: Config, allow: Iterable[str] = ()) -> AddressPolicy:
    """The guard's policy for platform APIs: `[network]` and `allow`, plus the hosts of the configured base URLs."""
    hosts = [urlsplit(url).hostname or "" for p in DEFAULT_BASE_URLS if (url := configured(config, p))]
    return AddressPolicy.from_config(config, [*hosts, *allow])
