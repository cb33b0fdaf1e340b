"""What a probe run observed, handed from the pipeline to the pure checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from diagnostics.net.probe import Exchange

SOURCE = "checks.probe"


@dataclass
class ProbeObservations:
    """All exchanges of one probe run.

    Attributes:
        url: the endpoint URL as given.
        samples: the test-event exchanges (`--samples` of them), in order.
        redirect_chain: hops followed, for diagnosis only, after a sample answered 3xx.
        enforcement: signature-enforcement exchanges by variant (signed, tampered, unsigned, stale).
        enforcement_skipped: variants that do not apply to the scheme, with the reason.
        scheme: the signature scheme used, when the event was signed.
        secret_fingerprint: what we show instead of the secret.
        now: when the run happened (certificate lifetimes are judged against it).
    """

    url: str
    samples: list[Exchange] = field(default_factory=list)
    redirect_chain: list[Exchange] = field(default_factory=list)
    enforcement: dict[str, Exchange] = field(default_factory=dict)
    enforcement_skipped: dict[str, str] = field(default_factory=dict)
    scheme: str | None = None
    secret_fingerprint: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def sample_row(exchange: Exchange) -> dict[str, Any]:
    """One sample as a Finding sample row: what happened and how long each phase took."""
    row: dict[str, Any] = {"sample": exchange.label, "address": exchange.connected_address or ""}
    row["status"] = exchange.status_code if exchange.status_code is not None else ""
    row["error"] = exchange.error or ""
    row.update(exchange.timings())
    return row


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def share(count: int, total: int) -> str:
    """'all 3 samples' or '1 of 3 samples'."""
    if total == 1:
        return "the one sample" if count == 1 else "no sample"
    if total == 2 and count == 2:
        return "both samples"
    noun = "samples"
    return f"all {total} {noun}" if count == total else f"{count} of {total} {noun}"
