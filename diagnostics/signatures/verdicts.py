"""Findings from a signature check: the verdict, the named cause, the evidence behind it.

Pure: a `SearchResult` (and the request facts it was computed from) in, Findings out. Every
secret appears only as `fingerprint_secret(...)`. Each cause has its own code and playbook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from diagnostics.findings import Finding, Severity, Status, fingerprint_secret
from diagnostics.signatures import keys
from diagnostics.signatures.base import Presented, Scheme
from diagnostics.signatures.debugger import (
    ALGORITHM,
    BODY,
    DIGEST,
    SECRET_FORMAT,
    TEMPLATE,
    URL,
    Hit,
    SearchResult,
    SignatureChange,
)
from diagnostics.signatures.timestamps import TimeJudgment

SOURCE = "signatures.debugger"


@dataclass(frozen=True)
class CheckContext:
    """The facts a verdict talks about."""

    scheme: Scheme
    presented: Presented
    body: bytes
    secrets: list[str]
    subject: str
    chosen_because: str = ""


def _secret_line(ctx: CheckContext, index: int) -> str:
    return f"secret {index + 1} of {len(ctx.secrets)}: {fingerprint_secret(ctx.secrets[index])}"


def _entry_line(hit: Hit) -> str:
    entry = hit.entry
    version = f" ({entry.version})" if entry.version else ""
    return f"{entry.position}{version}"


def _base_evidence(ctx: CheckContext, hit: Hit) -> list[tuple[str, object]]:
    skipped = (
        [
            (
                "entries a parser must skip",
                ", ".join(ctx.presented.skipped) + " (unknown versions must not cause a reject)",
            )
        ]
        if ctx.presented.skipped
        else []
    )
    return [
        ("scheme", ctx.scheme.name),
        ("scheme chosen because", ctx.chosen_because or "named explicitly"),
        ("formula", ctx.scheme.formula),
        ("signature header", ctx.presented.header),
        ("matching entry", _entry_line(hit)),
        ("header decoded as", hit.decoding),
        ("matching secret", _secret_line(ctx, hit.secret_index)),
        ("key derivation", hit.key_label),
        ("body size", f"{len(ctx.body):,} bytes"),
        *skipped,
    ]


def valid_finding(ctx: CheckContext, hit: Hit) -> Finding:
    rotation = ""
    if hit.entry.total > 1:
        rotation = (
            f" The header carries {hit.entry.total} entries and {hit.entry.position} matched; verification code "
            "that checks only the first entry fails during key rotation."
        )
    return Finding(
        code="signature-valid",
        status=Status.PASS,
        severity=Severity.INFO,
        title="The signature is valid for this body and secret",
        summary=(
            f"The {ctx.scheme.label} signature verifies exactly over the raw body with the canonical key derivation."
            + rotation
            + " If the customer's code still rejects it, their code is changing the body or the secret before hashing."
        ),
        subject=ctx.subject,
        evidence=tuple(_base_evidence(ctx, hit)),
        source=SOURCE,
    )


def old_secret_finding(ctx: CheckContext, hit: Hit) -> Finding:
    return Finding(
        code="signature-old-secret-matched",
        status=Status.WARN,
        severity=Severity.MEDIUM,
        title=f"Only secret {hit.secret_index + 1} of {len(ctx.secrets)} matches, not the first one given",
        summary=(
            f"The signature matched {_secret_line(ctx, hit.secret_index)}, while the first secret given "
            f"({fingerprint_secret(ctx.secrets[0])}) does not match. During a rotation the receiver must accept both "
            "secrets, or it still holds the older one."
        ),
        subject=ctx.subject,
        evidence=tuple(_base_evidence(ctx, hit)),
        source=SOURCE,
    )


def _change_summary(hit: Hit, change: SignatureChange) -> str:
    return f"The signature matches only after this change: {change.label}."


def _body_reserialized(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    quirk = "provider quirk" in change.label
    return Finding(
        code="signature-body-reserialized",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The body was parsed and re-serialized before the signature was checked",
        summary=(
            f"The signature matches when the same JSON is written as {change.label}: that is how it was sent. "
            "The body that was checked is a copy that a framework parsed and wrote out again."
            + (" The sender's exact bytes cannot be rebuilt from parsed JSON: verify the raw body." if quirk else "")
        ),
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("serialization that matches", change.label)),
        source=SOURCE,
    )


def _body_whitespace(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-body-whitespace-changed",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="Whitespace or line endings in the body changed before the signature was checked",
        summary=f"The signature matches the body with {change.label}: the bytes that were checked differ from the "
        "bytes that were sent by exactly this whitespace edit.",
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("edit that makes it match", change.label)),
        source=SOURCE,
    )


def _body_encoding(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-body-encoding-changed",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The body's character encoding changed before the signature was checked",
        summary=f"The signature matches the body as {change.label}. This fails only for payloads that contain "
        "non-ASCII characters (accents, emoji), which is why it looks intermittent.",
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("encoding that matches", change.label)),
        source=SOURCE,
    )


def _body_wrapped(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-body-wrapped",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The body was wrapped (base64, form field or gzip) by the platform in front of the code",
        summary=f"The signature matches the body {change.label}. The platform in front of the code handed it a "
        "different representation of the bytes that were signed.",
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("unwrapping that matches", change.label)),
        source=SOURCE,
    )


def _secret_format(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-secret-format",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The secret is right, but it is turned into the key the wrong way",
        summary=(
            f"The signature matches when the key is {change.label}, but {ctx.scheme.name} specifies "
            f"{_canonical_key(ctx)}. The secret is correct; the verification code (or the sender) derives the key "
            "differently."
        ),
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("scheme's key derivation", _canonical_key(ctx))),
        source=SOURCE,
    )


def _canonical_key(ctx: CheckContext) -> str:
    derivation = getattr(ctx.scheme, "derivation", "")
    return keys.DERIVATIONS.get(derivation, ("", ctx.scheme.key_hint or "the secret as configured"))[1]


def _digest_encoding(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-digest-encoding",
        status=Status.FAIL,
        severity=Severity.MEDIUM,
        title="The signature is correct but written in a different encoding than expected",
        summary=f"The digest matches when {change.label}. Comparing encoded strings fails; decode the header "
        "and compare raw digest bytes.",
        subject=ctx.subject,
        evidence=tuple(_base_evidence(ctx, hit)),
        source=SOURCE,
    )


def _wrong_algorithm(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-wrong-algorithm",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The signature uses a different hash algorithm than expected",
        summary=f"The signature is {len(hit.entry.digest or b'') or 'a'}-byte and matches with {change.label}. "
        "Use the header and algorithm that belong together.",
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("algorithm that matches", change.value)),
        source=SOURCE,
    )


def _content_template(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-content-template",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The signed content is assembled differently from the scheme",
        summary=f"The signature matches the content {change.label}. The parts and separators must be joined "
        "exactly as the scheme's formula says.",
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("template that matches", change.value)),
        source=SOURCE,
    )


def _url_mismatch(ctx: CheckContext, hit: Hit, change: SignatureChange) -> Finding:
    return Finding(
        code="signature-url-mismatch",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="The URL used for verification differs from the URL that was signed",
        summary=f"The signature matches the URL {change.value!r} ({change.label}). Rebuild the URL exactly as "
        "the sender called it.",
        subject=ctx.subject,
        evidence=(*_base_evidence(ctx, hit), ("URL that matches", change.value)),
        source=SOURCE,
    )


_BODY_BUILDERS: dict[str, Callable[[CheckContext, Hit, SignatureChange], Finding]] = {
    "reserialized": _body_reserialized,
    "whitespace": _body_whitespace,
    "encoding": _body_encoding,
    "wrapped": _body_wrapped,
}
_AXIS_BUILDERS: dict[str, Callable[[CheckContext, Hit, SignatureChange], Finding]] = {
    SECRET_FORMAT: _secret_format,
    DIGEST: _digest_encoding,
    ALGORITHM: _wrong_algorithm,
    TEMPLATE: _content_template,
    URL: _url_mismatch,
}


def hit_findings(ctx: CheckContext, hit: Hit) -> list[Finding]:
    """The verdict for a match: valid, or one finding per change that was needed."""
    findings: list[Finding] = []
    if hit.exact:
        findings.append(valid_finding(ctx, hit))
    for change in hit.changes:
        builder = _BODY_BUILDERS[change.kind] if change.axis == BODY else _AXIS_BUILDERS[change.axis]
        findings.append(builder(ctx, hit, change))
    if hit.secret_index > 0:
        findings.append(old_secret_finding(ctx, hit))
    return findings


def no_match_finding(ctx: CheckContext, result: SearchResult) -> Finding:
    """Nothing matched: rank the likely causes and ask for the raw bytes."""
    signals = result.body_signals
    key_cause = (
        "a different secret (test vs live, another endpoint's secret, an old secret)"
        if ctx.scheme.family == "hmac"
        else "a different public key (another application's, or test vs live)"
    )
    altered = "the body was changed before it was hashed" + (f" (the body {'; '.join(signals)})" if signals else "")
    scheme = f"a different scheme or sender than {ctx.scheme.name}" + (
        f" (chosen because {ctx.chosen_because})" if ctx.chosen_because else ""
    )
    ranked = [altered, key_cause, scheme] if signals else [key_cause, altered, scheme]
    if result.body_hash_ok is False:
        ranked.insert(0, "the body is not the one whose SHA-256 the URL's bodySHA256 carries")
    lead = "the body looks untouched, so the secret is the most likely cause" if not signals else ranked[0]
    return Finding(
        code="signature-no-match",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="No secret and no known variation of the request reproduces the signature",
        summary=(
            f"Tried {result.total_tried} variants ({_tried_text(result)}) with {len(ctx.secrets)} secret(s); none "
            f"matches. Most likely: {lead}. Get the raw request bytes as they arrived (a request bin or the "
            "delivery log) to tell a wrong secret from an altered body."
        ),
        subject=ctx.subject,
        evidence=(
            ("scheme", ctx.scheme.name),
            ("scheme chosen because", ctx.chosen_because or "named explicitly"),
            ("formula", ctx.scheme.formula),
            ("signature header", ctx.presented.header),
            ("entries", len(ctx.presented.entries)),
            *((f"likely cause {i}", cause) for i, cause in enumerate(ranked, start=1)),
            *((f"secret {i + 1}", fingerprint_secret(s)) for i, s in enumerate(ctx.secrets)),
            ("body size", f"{len(ctx.body):,} bytes"),
        ),
        source=SOURCE,
    )


def _tried_text(result: SearchResult) -> str:
    return ", ".join(f"{axis} {count}" for axis, count in result.tried.items())


def timestamp_finding(ctx: CheckContext, judgment: TimeJudgment, raw: str) -> Finding | None:
    """Only a timestamp outside the window is a finding; inside, the valid finding says enough."""
    if judgment.within:
        return None
    direction = "only too-old timestamps are rejected" if judgment.window == "past" else "checked both ways"
    evidence: list[tuple[str, object]] = [
        ("timestamp as sent", raw),
        ("skew (now - timestamp)", f"{judgment.skew_s:.0f} s"),
        ("tolerance", f"{judgment.tolerance_s:g} s ({direction})"),
        ("likely cause", judgment.cause),
    ]
    if judgment.date_skew_s is not None:
        evidence.append(("Date header - timestamp", f"{judgment.date_skew_s:.0f} s"))
    return Finding(
        code="signature-timestamp-stale",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=f"The signature holds, but the timestamp is outside the {judgment.tolerance_s:g} s window",
        summary=f"The timestamp is {judgment.skew_s:.0f} s from now; {judgment.explanation}.",
        subject=ctx.subject,
        evidence=tuple(evidence),
        source=SOURCE,
    )


def shape_findings(ctx: CheckContext) -> list[Finding]:
    """The secret's own shape (an API key, a short key, whitespace or quotes), one finding per secret."""
    findings = []
    derivation = getattr(ctx.scheme, "derivation", "")
    for index, secret in enumerate(ctx.secrets):
        if ctx.scheme.family != "hmac":
            continue
        problems = keys.shape_problems(secret, ctx.scheme.name, derivation)
        if not problems:
            continue
        findings.append(
            Finding(
                code="signature-secret-shape",
                status=Status.WARN,
                severity=Severity.MEDIUM,
                title=f"Secret {index + 1} does not look like a {ctx.scheme.label} signing secret",
                summary=_sentence("; ".join(p.detail for p in problems)),
                subject=ctx.subject,
                evidence=(
                    ("secret", _secret_line(ctx, index)),
                    *((p.problem, p.detail) for p in problems),
                ),
                source=SOURCE,
            )
        )
    return findings


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
