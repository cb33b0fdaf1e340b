"""Sender profiles: how a sender delivers, so every check judges an endpoint by the right rules.

Ours comes from `diagnostics.toml` ([sender] and [signature]); the others are built in with the
values in shared/reference/platforms.md section 8. A probe or an analyzer never hard-codes a
timeout: it asks the profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from diagnostics.errors import InputError


@dataclass(frozen=True)
class DisableRule:
    """When a sender turns a failing endpoint off.

    kind:
        "failing_for": disabled after every attempt has failed for `hours`.
        "consecutive_failures": disabled after `count` failed attempts in a row.
        "retries_exhausted": disabled once one event exhausts its retries.
    """

    kind: str
    hours: float | None = None
    count: int | None = None
    description: str = ""


@dataclass(frozen=True)
class SenderProfile:
    """Everything a check needs to know about one sender.

    Attributes:
        name: profile name used on the command line (`--profile`).
        label: human name shown in reports.
        timeout_s: total time the sender waits for a response.
        connect_timeout_s: time allowed for the TCP connection, when the sender sets one.
        success: the success rule in words; `is_success` applies it.
        follows_redirects: whether a 3xx is followed (most senders count it as a failure).
        retry_schedule_s: delays before each retry, relative to the previous attempt.
        retry_note: what is known about the schedule (source, precision).
        disable_rule: the auto-disable rule, or None when the sender never disables.
        scheme: the signature scheme the sender uses.
        tolerance_s: timestamp tolerance for schemes that sign a timestamp.
    """

    name: str
    label: str
    timeout_s: float
    connect_timeout_s: float | None = None
    success: str = "2xx only"
    follows_redirects: bool = False
    retry_schedule_s: tuple[float, ...] = ()
    retry_note: str = ""
    disable_rule: DisableRule | None = None
    scheme: str = "standard-webhooks"
    tolerance_s: float = 300.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_schedule_s)

    @property
    def retry_window_s(self) -> float:
        return float(sum(self.retry_schedule_s))

    def is_success(self, status_code: int | None) -> bool:
        """2xx only, as every profiled sender does; a 3xx is a failure unless redirects are followed."""
        return status_code is not None and 200 <= status_code <= 299

    def with_timeout(self, timeout_s: float | None) -> SenderProfile:
        return self if timeout_s is None else replace(self, timeout_s=float(timeout_s))


BUILTIN_PROFILES: dict[str, SenderProfile] = {
    p.name: p
    for p in (
        SenderProfile(
            name="svix",
            label="Svix Cloud",
            timeout_s=15.0,
            retry_schedule_s=(5, 300, 1800, 7200, 18000, 36000, 36000),
            retry_note="immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±20% jitter)",
            disable_rule=DisableRule(
                "failing_for", hours=120, description="disabled after 5 days of consistent failure"
            ),
            scheme="standard-webhooks",
        ),
        SenderProfile(
            name="stripe",
            label="Stripe",
            timeout_s=30.0,
            # Stripe publishes "exponential backoff for up to 3 days" but not the intervals.
            retry_schedule_s=(3600, 7200, 14400, 28800, 57600, 86400, 64800),
            retry_note="exponential backoff for up to 3 days; exact intervals are unpublished (approximated)",
            disable_rule=DisableRule(
                "failing_for", hours=72, description="disabled after failing for days (date given in Stripe's email)"
            ),
            scheme="stripe",
        ),
        SenderProfile(
            name="github",
            label="GitHub",
            timeout_s=10.0,
            retry_note="no automatic retries; manual redelivery for 3 days",
            disable_rule=None,
            scheme="github",
        ),
        SenderProfile(
            name="shopify",
            label="Shopify",
            timeout_s=5.0,
            connect_timeout_s=1.0,
            success="200-series",
            retry_schedule_s=(60, 120, 240, 480, 960, 1920, 3840, 6780),
            retry_note="8 retries over 4 hours with exponential backoff (intervals approximated)",
            disable_rule=DisableRule(
                "retries_exhausted", description="the subscription is removed after its retries fail"
            ),
            scheme="shopify",
        ),
        SenderProfile(
            name="convoy",
            label="Convoy",
            timeout_s=10.0,
            success="200-299",
            follows_redirects=True,
            retry_schedule_s=(100,) * 10,
            retry_note="linear, 100 s x 10 (project default)",
            disable_rule=DisableRule(
                "retries_exhausted", description="optional: endpoint set inactive when a delivery exhausts its retries"
            ),
            scheme="hmac",
        ),
        SenderProfile(
            name="hookdeck",
            label="Hookdeck",
            timeout_s=60.0,
            success="success range (2xx)",
            retry_schedule_s=(3600,) * 5,
            retry_note="per-connection rule (linear or exponential, up to 50); 5 hourly retries assumed",
            disable_rule=None,
            scheme="hmac",
        ),
    )
}


def ours_from_config(sender: dict[str, Any], signature: dict[str, Any]) -> SenderProfile:
    """Build our own profile from the [sender] and [signature] tables of diagnostics.toml."""
    disable = sender.get("disable")
    rule = None
    if disable:
        rule = DisableRule(
            kind=str(disable.get("kind", "failing_for")),
            hours=disable.get("hours"),
            count=disable.get("count"),
            description=str(disable.get("description", "")),
        )
    try:
        return SenderProfile(
            name="ours",
            label=str(sender.get("label", "Our sender")),
            timeout_s=float(sender.get("timeout_seconds", 15)),
            connect_timeout_s=(
                float(sender["connect_timeout_seconds"]) if "connect_timeout_seconds" in sender else None
            ),
            follows_redirects=bool(sender.get("follow_redirects", False)),
            retry_schedule_s=tuple(float(s) for s in sender.get("retry_schedule_seconds", ())),
            retry_note=str(sender.get("retry_note", "from diagnostics.toml")),
            disable_rule=rule,
            scheme=str(signature.get("scheme", "standard-webhooks")),
            tolerance_s=float(signature.get("tolerance_seconds", 300)),
        )
    except (TypeError, ValueError) as exc:
        raise InputError(f"invalid [sender] value: {exc}", file="diagnostics.toml") from exc


def get_profile(name: str | None, ours: SenderProfile) -> SenderProfile:
    """Look up a profile by name; None or "ours" is our own sender."""
    if name in (None, "", "ours"):
        return ours
    key = name.lower()
    if key in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[key]
    known = ", ".join(["ours", *BUILTIN_PROFILES])
    raise InputError(f"unknown sender profile {name!r}; known profiles: {known}", field="--profile")


def all_profiles(ours: SenderProfile) -> list[SenderProfile]:
    return [ours, *BUILTIN_PROFILES.values()]
