"""Pulling a delivery log straight from a platform into the workspace, for the app's pages.

The same connectors as `python -m diagnostics pull` (`platforms.CONNECTORS`), with the scope a
page asks for described as data (`PULL_SCOPES`: field, label, connector argument), so the
Delivery log, Recovery and Triage pages render the same fields and this module maps them. The
file lands in `<workspace>/uploads/` under a name made of the platform, the scope and the
window; a pull that found nothing, or a file that does not read as a log, leaves nothing. The
token is used for the pull only: it is never written, logged or kept by the case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.pipeline.case import LogSource, read_log_file
from diagnostics.platforms import CONNECTORS
from diagnostics.platforms.common import PullResult
from diagnostics.platforms.settings import api_base_url, api_policy

DEFAULT_MAX_ATTEMPTS = 200_000  # a page pull stops here (the file then says it is partial)


@dataclass(frozen=True)
class ScopeField:
    """One field of a platform's scope: its connector argument, the page's label, an example."""

    argument: str
    label: str
    example: str
    alternative_to: str | None = None  # the argument this one replaces (Hookdeck destination for connection)
    required: bool = True  # False: the connector itself says which combination it needs (GitHub)
    key_file: bool = False  # an uploaded private key, read in memory for this pull only


PULL_SCOPES: dict[str, tuple[ScopeField, ...]] = {
    "svix": (ScopeField("app_id", "Svix app id", "app_2A..."),
             ScopeField("endpoint_id", "Svix endpoint id", "ep_2A...")),
    "github": (ScopeField("repo", "Repository (OWNER/NAME)", "acme/shop", required=False),
               ScopeField("org", "or organization (for an organization hook)", "acme", required=False),
               ScopeField("hook_id", "Hook id (numeric)", "123456", required=False),
               ScopeField("app_id", "or GitHub App id (the app's own hook)", "123456", required=False),
               ScopeField("private_key_pem", "the App's private key (.pem)", "", required=False, key_file=True)),
    "hookdeck": (ScopeField("connection_id", "Connection id", "web_..."),
                 ScopeField("destination_id", "or destination id", "des_...", alternative_to="connection_id")),
    "convoy": (ScopeField("project_id", "Project id", "01H..."), ScopeField("endpoint_id", "Endpoint id", "01H...")),
}
"""The scope each platform's pull takes, in the order the page shows it."""

PLATFORM_LABELS = {"svix": "Svix", "github": "GitHub", "hookdeck": "Hookdeck", "convoy": "Convoy"}

FIELD_FLAGS = {"--app": "Svix app id", "--endpoint": "Endpoint id", "--repo": "Repository (OWNER/NAME)",
               "--org": "or organization (for an organization hook)", "--hook": "Hook id (numeric)",
               "--connection": "Connection id", "--destination": "or destination id", "--project": "Project id",
               "--token": "API token", "--base-url": "API base URL", "--max-attempts": "At most this many attempts",
               "--app-id": "or GitHub App id (the app's own hook)", "--private-key": "the App's private key (.pem)"}
"""What the connectors' messages call each flag, as the pull fields are labelled on the pages."""


@dataclass
class PullRequest:
    """What a page asks to pull: the platform, its scope, the token (this pull only) and the window."""

    platform: str
    scope: dict[str, str] = field(default_factory=dict)
    token: str = field(default="", repr=False)
    private_key_pem: bytes | None = field(default=None, repr=False)  # a GitHub App's key, for this pull only
    since: datetime | None = None
    base_url: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


def _file_name(request: PullRequest, base_url: str) -> str:
    key = json.dumps({"platform": request.platform, "scope": request.scope, "base_url": base_url,
                      "since": request.since.isoformat() if request.since else None,
                      "max": request.max_attempts}, sort_keys=True)
    return f"pulled-{request.platform}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.json"


def pull_log(config: Config, request: PullRequest, *, endpoint: str | None = None,
             progress: Callable[[int, int], None] | None = None) -> tuple[LogSource, PullResult]:
    """Pull the scope's attempts into the workspace; the kept file as a LogSource, and what the pull did.

    Raises InputError (one line, worded with the connector's flags) for a missing scope field, a
    refused token, an unknown scope, or an API that does not answer; nothing is left behind.
    """
    if request.platform not in CONNECTORS:
        raise InputError(f"unknown platform {request.platform!r}", field="Platform")
    scope: dict[str, str] = {k: v.strip() for k, v in request.scope.items() if v and v.strip()}
    fields = PULL_SCOPES[request.platform]
    for spec in fields:
        alternatives = [other.argument for other in fields if other.alternative_to == spec.argument]
        needed = spec.required and spec.alternative_to is None
        if needed and not any(a in scope for a in (spec.argument, *alternatives)):
            raise InputError(f"fill in {spec.label!r} to pull from {PLATFORM_LABELS[request.platform]}",
                             field=spec.label)
    base_url = api_base_url(config, request.platform, request.base_url)
    uploads = config.workspace / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    final = uploads / _file_name(PullRequest(request.platform, scope, since=request.since, base_url=base_url,
                                             max_attempts=request.max_attempts), base_url)
    result = CONNECTORS[request.platform](
        token=request.token, output=str(final), policy=api_policy(config), base_url=base_url,
        since=request.since, max_attempts=request.max_attempts, progress=progress, **scope,
        **({"private_key_pem": request.private_key_pem} if request.private_key_pem else {}))
    try:
        if result.attempts == 0:
            raise InputError(f"{PLATFORM_LABELS[request.platform]} has no delivery attempts in this scope"
                             + (" since the chosen day" if request.since else ""), field="Platform")
        read_log_file(final, final.name).conn.close()
    except InputError:
        Path(final).unlink(missing_ok=True)
        raise
    return LogSource(path=final, endpoint=endpoint), result

