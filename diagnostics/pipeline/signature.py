"""Signature runs: a captured request (body, headers, secrets) -> an Outcome that names the
verdict or the cause.

Orchestration only: choose the scheme (given or detected from the headers), read the headers,
run the exact check and the variant search, judge the timestamp, and gather findings and
metrics. The judgment itself lives in diagnostics.signatures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from diagnostics.errors import InputError
from diagnostics.findings import Outcome, fingerprint_secret
from diagnostics.redaction import redact_outcome
from diagnostics.signatures import Headers, detect_scheme, get_scheme
from diagnostics.signatures.base import Presented, Scheme, check_body, parse_timestamp
from diagnostics.signatures.debugger import SearchResult, search
from diagnostics.signatures.timestamps import TimeJudgment, judge
from diagnostics.signatures.verdicts import (
    CheckContext,
    hit_findings,
    no_match_finding,
    shape_findings,
    timestamp_finding,
)


def debug_signature(
    body: bytes,
    headers: Mapping[str, str] | list[tuple[str, str]],
    secrets: Sequence[str],
    *,
    scheme: str = "auto",
    url: str | None = None,
    now: float | None = None,
    tolerance_s: float | None = None,
    options: Mapping[str, Any] | None = None,
) -> Outcome:
    """Verify a captured request exactly; on a mismatch, name the smallest change that makes it match.

    Args:
        body: the request body exactly as captured.
        headers: the request headers (a mapping or (name, value) pairs; repeated names allowed).
        secrets: one or more secrets (rotation); for public-key schemes the public keys.
        scheme: a scheme name or "auto" to detect it from the headers.
        url: the URL the sender called (needed by URL-signing schemes such as Twilio and Square).
        now: the time to judge the timestamp against (unix seconds); defaults to the clock.
        tolerance_s: timestamp window; defaults to the scheme's own.
        options: settings of the generic `hmac` scheme.

    Raises:
        InputError: no secret, an empty secret, an unknown scheme, a missing or malformed header,
            a body over the size limit.
    """
    if isinstance(body, str):
        raise InputError("the body must be bytes (read the file in binary mode)", field="body")
    check_body(body)
    secret_list = _check_secrets(secrets)
    bag = headers if isinstance(headers, Headers) else Headers(headers)
    chosen, detection_reason, also_present = _choose(scheme, bag, options)
    presented = chosen.read(bag, body, url)
    signed_at = parse_timestamp(presented.timestamp, chosen.timestamp_unit) if presented.timestamp else None
    result = search(chosen, presented, body, secret_list, url=url, headers=bag)
    subject = f"the {chosen.label} signature of a {len(body):,}-byte webhook body"
    ctx = CheckContext(chosen, presented, body, secret_list, subject, chosen_because=detection_reason)

    findings = []
    judgment: TimeJudgment | None = None
    if result.hit is not None:
        findings.extend(hit_findings(ctx, result.hit))
        judgment = _judge_time(chosen, presented, signed_at, bag, now, tolerance_s)
        if judgment is not None:
            stale = timestamp_finding(ctx, judgment, presented.timestamp or "")
            if stale is not None:
                findings.append(stale)
    else:
        findings.append(no_match_finding(ctx, result))
    findings.extend(shape_findings(ctx))
    metrics = _metrics(chosen, presented, result, secret_list, detection_reason, also_present, judgment, scheme)
    outcome = Outcome(
        subject=subject, findings=findings, metrics=metrics, tables=_tables(presented, result), kind="signature"
    )
    return redact_outcome(outcome, secret_list)  # a body or header may carry a secret in any encoding


def _tables(presented: Presented, result: SearchResult) -> dict[str, list[dict[str, Any]]]:
    """The entries the header carried and what the search tried, for the HTML and text reports."""
    matched = result.hit.entry.index if result.hit else None
    entries = [
        {
            "entry": e.position,
            "version": e.version or "(none)",
            "decodes as the scheme specifies": "yes" if e.digest is not None else "no",
            "matched": "yes" if e.index == matched else "no",
        }
        for e in presented.entries
    ]
    tried = [{"axis": axis, "variants tried": count} for axis, count in result.tried.items()]
    return {"signature entries": entries, "variants tried": tried}


def _check_secrets(secrets: Sequence[str]) -> list[str]:
    if isinstance(secrets, str):
        secrets = [secrets]
    secret_list = list(secrets)
    if not secret_list:
        raise InputError("no secret given; pass --secret (or --secret - to read it from stdin)", field="--secret")
    for position, secret in enumerate(secret_list, start=1):
        if not isinstance(secret, str) or not secret.strip():
            raise InputError(f"secret {position} is empty", field="--secret")
    return secret_list


def _choose(name: str, headers: Headers, options: Mapping[str, Any] | None) -> tuple[Scheme, str, tuple[str, ...]]:
    if (name or "auto").lower() == "auto":
        detection = detect_scheme(headers, options)
        return get_scheme(detection.scheme, options), detection.reason, detection.also_present
    return get_scheme(name, options), "", ()


def _judge_time(
    scheme: Scheme,
    presented: Presented,
    signed_at: float | None,
    headers: Headers,
    now: float | None,
    tolerance_s: float | None,
) -> TimeJudgment | None:
    """Judge the signed timestamp, when the scheme signs one and has (or was given) a window."""
    window = tolerance_s if tolerance_s is not None else scheme.tolerance_s
    if signed_at is None or presented.timestamp is None or window is None:
        return None
    return judge(
        signed_at,
        presented.timestamp,
        time.time() if now is None else float(now),
        float(window),
        scheme.window,
        scheme.timestamp_unit,
        headers.get("Date"),
    )


def _metrics(
    scheme: Scheme,
    presented: Presented,
    result: SearchResult,
    secrets: list[str],
    detection_reason: str,
    also_present: tuple[str, ...],
    judgment: TimeJudgment | None,
    requested: str,
) -> dict[str, Any]:
    hit = result.hit
    metrics: dict[str, Any] = {
        "scheme": scheme.name,
        "scheme_requested": requested,
        "scheme_chosen_because": detection_reason or "named with --scheme",
        "other_signature_headers": list(also_present),
        "formula": scheme.formula,
        "signature_header": presented.header,
        "entries": [
            {"entry": e.position, "version": e.version, "decodes_canonically": e.digest is not None}
            for e in presented.entries
        ],
        "entries_skipped": list(presented.skipped),
        "secrets": [fingerprint_secret(s) for s in secrets],
        "verdict": "valid" if hit and hit.exact else "variant" if hit else "no-match",
        "variants_tried": result.tried,
        "search_ms": round(result.elapsed_ms, 2),
        "pair_search": "skipped: body too large for key x body pairs" if result.pairs_skipped else "done",
    }
    if hit is not None:
        metrics.update(
            {
                "matched_entry": hit.entry.position,
                "matched_secret": f"secret {hit.secret_index + 1}: {fingerprint_secret(secrets[hit.secret_index])}",
                "key_derivation": hit.key_label,
                "header_decoded_as": hit.decoding,
                "changes": [{"axis": c.axis, "kind": c.kind, "change": c.label} for c in hit.changes],
            }
        )
    if judgment is not None:
        metrics["timestamp"] = {
            "raw": presented.timestamp,
            "skew_s": round(judgment.skew_s, 3),
            "tolerance_s": judgment.tolerance_s,
            "window": judgment.window,
            "within": judgment.within,
            "cause": judgment.cause,
        }
    return metrics
