"""Live signature enforcement: does the endpoint accept only correctly signed events?

The pipeline sends one correctly signed event and forgeries: the same signature over a tampered
body, no signature at all, and (for schemes that sign a timestamp) a stale timestamp. An
endpoint that accepts a forgery can be fed fake webhooks by anyone who knows its URL.
"""

from __future__ import annotations

from typing import Any

from diagnostics.checks.observations import SOURCE, ProbeObservations, sample_row
from diagnostics.findings import Finding, Severity, Status
from diagnostics.net.probe import Exchange

FORGERIES = {
    "tampered": "a tampered body with the original signature",
    "unsigned": "no signature at all",
    "stale": "a correctly signed event with a timestamp outside the tolerance (a replay)",
}


def _accepted(exchange: Exchange) -> bool:
    return exchange.error is None and exchange.status_code is not None and 200 <= exchange.status_code <= 299


def _outcome(exchange: Exchange) -> str:
    if exchange.error is not None:
        return f"no answer ({exchange.error})"
    return f"{exchange.status_code} ({'accepted' if _accepted(exchange) else 'rejected'})"


def check_signature_enforcement(observations: ProbeObservations) -> list[Finding]:
    signed = observations.enforcement.get("signed")
    if signed is None:
        return []
    scheme = observations.scheme or "unknown"
    variants = {name: ex for name, ex in observations.enforcement.items() if name in FORGERIES}
    evidence: list[tuple[str, Any]] = [
        ("Scheme", scheme),
        ("Secret", observations.secret_fingerprint or "(not shown)"),
        ("Correctly signed event", _outcome(signed)),
    ]
    evidence += [(f"Forgery: {FORGERIES[name]}", _outcome(ex)) for name, ex in variants.items()]
    evidence += [(f"Not tested: {FORGERIES.get(n, n)}", why) for n, why in observations.enforcement_skipped.items()]
    rows = [sample_row(ex) for ex in observations.enforcement.values()]
    common = {"subject": observations.url, "evidence": evidence, "samples": rows, "source": SOURCE}
    if signed.error is not None:
        return [
            Finding(
                code="signature-enforced",
                status=Status.ERROR,
                severity=Severity.MEDIUM,
                title="Signature enforcement could not be tested",
                summary=f"The correctly signed test event got no answer ({signed.error}), so enforcement is unknown.",
                **common,
            )
        ]
    accepted = [name for name, ex in variants.items() if _accepted(ex)]
    if not _accepted(signed):
        also = " The forgeries were rejected too, so enforcement cannot be judged until the valid event passes."
        return [
            Finding(
                code="signature-rejected",
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"The endpoint rejects a correctly signed {scheme} event ({signed.status_code})",
                summary=(
                    f"Our correctly signed test event got {signed.status_code}. Usually the endpoint uses a different "
                    "secret, or re-serializes the JSON body before verifying; use the signature debugger on a "
                    "captured request to see which."
                    + (also if not accepted else "")
                ),
                **common,
            )
        ]
    if accepted:
        forged = [FORGERIES[name] for name in accepted]
        serious = any(name in ("tampered", "unsigned") for name in accepted)
        return [
            Finding(
                code="signature-not-enforced",
                status=Status.FAIL,
                severity=Severity.HIGH if serious else Severity.MEDIUM,
                title="The endpoint accepts forged webhooks",
                summary=(
                    f"The endpoint accepted {'; '.join(forged)}. "
                    + (
                        "Anyone who knows the URL can send it fake events."
                        if serious
                        else "It verifies signatures but not their age, so a captured event can be replayed."
                    )
                ),
                **common,
            )
        ]
    return [
        Finding(
            code="signature-enforced",
            status=Status.PASS,
            severity=Severity.INFO,
            title="The endpoint verifies webhook signatures",
            summary=(
                f"It accepted the correctly signed {scheme} event ({signed.status_code}) and rejected "
                f"{len(variants)} forgeries."
            ),
            **common,
        )
    ]
