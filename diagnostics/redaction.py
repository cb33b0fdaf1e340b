"""Redaction: a secret must not reach any output or the case store in any of its encodings.

Replacing only the raw string misses the secret once an output format has escaped it: an
endpoint that reflects `s3cr&t"<x>` shows up as `s3cr&amp;t&quot;&lt;x&gt;` in HTML, with
backslashes in JSON and percent signs in a URL. `secret_forms` lists every spelling the project's
renderers and the usual transports give a secret (raw, HTML as html.escape and as Jinja2 writes
it, our Markdown and table-cell escaping, terminal-safe text, JSON with and without ASCII escapes,
URL-encoded, CSV-quoted, two of those stacked, and base64/hex of the key bytes: of the string, and
of the key inside a `whsec_` or base64 secret). `Redactor` replaces them all in one regex pass,
longest first, with the secret's fingerprint. Outcomes are redacted before any renderer sees
them (`redact_outcome`), so truncation can never leave part of a secret behind; the case store
redacts again what it writes, as a second line of defence.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

from markupsafe import escape as jinja_escape

from diagnostics.findings import Finding, Outcome, fingerprint_secret
from diagnostics.neutralize import csv_cell, md_cell, md_text, terminal_text

MIN_FORM_CHARS = 6  # shorter encodings (of short keys) would redact ordinary words
WHSEC = "whsec_"

ENCODERS: dict[str, Callable[[str], str]] = {
    "html": lambda s: html.escape(s, quote=True),
    "html-text": lambda s: html.escape(s, quote=False),
    "jinja": lambda s: str(jinja_escape(s)),
    "markdown": md_text,
    "markdown-cell": md_cell,
    "terminal": terminal_text,
    "json": lambda s: json.dumps(s)[1:-1],
    "json-utf8": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "url": lambda s: quote(s, safe=""),
    "url-path": quote,
    "url-form": quote_plus,
    "csv": lambda s: csv_cell(s).replace('"', '""'),
}


def _b64_forms(raw: bytes) -> set[str]:
    std = base64.b64encode(raw).decode("ascii")
    url = base64.urlsafe_b64encode(raw).decode("ascii")
    return {std, std.rstrip("="), url, url.rstrip("="), raw.hex(), raw.hex().upper()}


def _key_bytes(secret: str) -> list[bytes]:
    """The key bytes a secret stands for: its UTF-8, and the decoded base64 body when it has one."""
    keys = [secret.encode("utf-8")]
    body = secret[len(WHSEC):] if secret.startswith(WHSEC) else secret
    stripped = body.strip().rstrip("=")
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            decoded = decode(stripped + "=" * (-len(stripped) % 4))
        except (binascii.Error, ValueError):
            continue
        if decoded and decoded not in keys:
            keys.append(decoded)
    if body != secret:
        keys.append(body.encode("utf-8"))
    return keys


@lru_cache(maxsize=64)
def secret_forms(secret: str) -> frozenset[str]:
    """Every spelling of `secret` an output or the store could carry (the raw one always)."""
    if not secret:
        return frozenset()
    base = {secret}
    if secret.startswith(WHSEC) and len(secret) > len(WHSEC):
        base.add(secret[len(WHSEC):])
    forms = set(base)
    for text in base:
        once = {encode(text) for encode in ENCODERS.values()}
        forms |= once
        forms |= {encode(value) for value in once for encode in ENCODERS.values()}
    for key in _key_bytes(secret):
        forms |= _b64_forms(key)
    return frozenset(f for f in forms if f == secret or len(f) >= MIN_FORM_CHARS)


class Redactor:
    """Replaces every form of every secret by `[secret <fingerprint>]`, in one pass per string."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in dict.fromkeys(secrets) if s]
        owner: dict[str, str] = {}
        for secret in self.secrets:
            for form in secret_forms(secret):
                owner.setdefault(form, secret)
        self._owner = owner
        ordered = sorted(owner, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: f"[secret {fingerprint_secret(self._owner[m.group(0)])}]", value)

    def value(self, value: Any) -> Any:
        """Strings inside mappings, lists and tuples, recursively (keys too); other values as they are."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def finding(self, finding: Finding) -> Finding:
        return replace(
            finding,
            title=self.text(finding.title),
            summary=self.text(finding.summary),
            subject=self.text(finding.subject),
            evidence=tuple((self.text(k), self.value(v)) for k, v in finding.evidence),
            samples=tuple(self.value(dict(s)) for s in finding.samples),
        )

    def outcome(self, outcome: Outcome) -> Outcome:
        if self._pattern is None:
            return outcome
        return replace(
            outcome,
            subject=self.text(outcome.subject),
            findings=[self.finding(f) for f in outcome.findings],
            metrics=self.value(outcome.metrics),
            tables={k: self.value(rows) for k, rows in outcome.tables.items()},
        )


def redact(value: Any, forbidden: Sequence[str]) -> Any:
    """Every form of every forbidden secret inside strings (recursively) replaced by its fingerprint."""
    return Redactor(forbidden).value(value)


def redact_outcome(outcome: Outcome, forbidden: Sequence[str | None]) -> Outcome:
    """The outcome with no form of any forbidden secret left: call before rendering or storing."""
    return Redactor(s for s in forbidden if s).outcome(outcome)
