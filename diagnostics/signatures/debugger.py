"""The variant search: when a signature does not verify, find the smallest change to the
request that makes it verify, and say which one.

Axes (signatures.md section 3): other secrets (rotation, F3/F14), key derivation (F4), digest
decoding (F5), algorithm (F6), signed-content template (F7), URL (F8) and body transforms (F1,
F2, F9, F10, F11). The search is exact first, then one axis at a time in a fixed order, then
pairs of a key derivation with a body transform. Digest decodings cost nothing: every computed
digest is looked up in a table of every plausible reading of every entry.

Pure: bytes and strings in, a `SearchResult` out; no I/O, no clock except for the elapsed time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from diagnostics.errors import InputError
from diagnostics.signatures import digests, keys
from diagnostics.signatures.asymmetric import AsymmetricScheme
from diagnostics.signatures.base import Entry, Headers, Presented, Scheme, render_template, template_parts
from diagnostics.signatures.bodies import BodyVariant, body_signals, body_variants
from diagnostics.signatures.hmac_core import ALGORITHMS, HmacScheme, mac
from diagnostics.signatures.templates import template_variants
from diagnostics.signatures.twilio import Twilio, body_sha256, port_variants
from diagnostics.signatures.urls import url_variants

SECRET_FORMAT = "secret-format"  # noqa: S105 (an axis name)
DIGEST = "digest"
ALGORITHM = "algorithm"
TEMPLATE = "template"
URL = "url"
BODY = "body"
MIN_SIGNATURE_BYTES = 16  # shorter readings are not a digest or a signature
PAIR_BUDGET_BYTES = 256 * 1024 * 1024  # bytes hashed by the two-axis pass at most (keeps 5 MB under 3 s)


@dataclass(frozen=True)
class SignatureChange:
    """One difference between what the scheme specifies and what made the signature match."""

    axis: str
    label: str
    kind: str = ""
    value: str = ""


@dataclass(frozen=True)
class Hit:
    """A match: the changes needed (none for an exact match), the entry, secret and key used."""

    changes: tuple[SignatureChange, ...]
    entry: Entry
    secret_index: int
    key_label: str
    decoding: str
    signed_body: bytes

    @property
    def exact(self) -> bool:
        return not self.changes


@dataclass
class SearchResult:
    """What the search found and how much it tried."""

    hit: Hit | None
    tried: dict[str, int] = field(default_factory=dict)
    body_signals: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    body_hash_ok: bool | None = None
    pairs_skipped: bool = False

    @property
    def total_tried(self) -> int:
        return sum(self.tried.values())


@dataclass(frozen=True)
class _Target:
    entry: Entry
    decoding: str
    canonical: bool


class _Targets:
    """Every plausible reading of every entry, keyed by raw bytes for O(1) lookup."""

    def __init__(self, presented: Presented, encoding: str) -> None:
        self.by_bytes: dict[bytes, _Target] = {}
        for entry in presented.entries:
            if entry.digest is not None:
                self.by_bytes.setdefault(entry.digest, _Target(entry, _canonical_label(encoding, entry), True))
        for entry in presented.entries:
            for label, raw in digests.decodings(entry.text):
                self.by_bytes.setdefault(raw, _Target(entry, label, False))
        self.lengths = {len(raw) for raw in self.by_bytes}

    def lookup(self, computed: bytes) -> _Target | None:
        """A dict lookup, not constant-time: this diagnoses a captured request, it guards nothing."""
        return self.by_bytes.get(computed)


def _canonical_label(encoding: str, entry: Entry) -> str:
    prefix = f"{entry.version} " if entry.version else ""
    return f"{prefix}{'lowercase hex' if encoding == 'hex' else encoding} (as the scheme specifies)".strip()


def search(
    scheme: Scheme,
    presented: Presented,
    body: bytes,
    secrets: list[str],
    *,
    url: str | None = None,
    headers: Headers | None = None,
) -> SearchResult:
    """Exact verification, then the variant search; the first (smallest) match wins."""
    started = time.perf_counter()
    if not any(len(raw) >= MIN_SIGNATURE_BYTES for e in presented.entries for _, raw in digests.decodings(e.text)):
        raise InputError(
            f"the {presented.header} value is neither hex nor base64, so it holds no signature to check",
            field=presented.header,
        )
    engine = _engine(scheme, presented, secrets)
    if isinstance(engine, _AsymmetricEngine) and not engine.usable_keys():
        raise InputError(f"none of the keys given is usable: {scheme.key_hint} is expected", field="--secret")
    result = SearchResult(hit=None, body_signals=body_signals(body))
    if isinstance(scheme, Twilio) and url is not None:
        result.body_hash_ok = scheme.body_hash_ok(url, body)
    result.hit = engine.run(body, url, headers, result)
    if result.hit is not None and result.body_hash_ok is False and url is not None:
        # Twilio JSON: the URL signature holds, but the body is not the one whose hash was signed.
        variant = body_hash_variant(url, body)
        if variant is None:
            result.hit = None
        else:
            body_change = SignatureChange(BODY, variant.label, kind=variant.kind)
            result.hit = replace(result.hit, changes=(*result.hit.changes, body_change))
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


def _engine(scheme: Scheme, presented: Presented, secrets: list[str]) -> _Engine:
    if isinstance(scheme, AsymmetricScheme):
        return _AsymmetricEngine(scheme, presented, secrets)
    if isinstance(scheme, HmacScheme):
        return _HmacEngine(scheme, presented, secrets)
    raise TypeError(f"no search engine for {type(scheme).__name__}")


_Key = Any  # HMAC key bytes, or a public-key object


@dataclass(frozen=True)
class _Candidate:
    """One attempt: which axis it explores, the changes it stands for, and its inputs."""

    axis: str
    changes: tuple[SignatureChange, ...]
    secret_index: int
    key: _Key
    key_label: str
    template: str
    body: bytes
    url: str | None
    algorithm: str


class _Engine:
    """Walks the axes in order; subclasses say how keys are made and how a candidate is tested."""

    def __init__(self, scheme: Scheme, presented: Presented, secrets: list[str]) -> None:
        self.scheme = scheme
        self.presented = presented
        self.secrets = secrets
        self.template = scheme.template
        self.algorithm = getattr(scheme, "algorithm", "")

    # -- hooks -----------------------------------------------------------------------------
    def canonical_key(self, secret: str) -> _Key | None:
        raise NotImplementedError

    def key_variants(self, secret: str, canonical: _Key | None) -> list[tuple[str, _Key]]:
        return []

    def algorithms(self) -> list[str]:
        return []

    def test(self, key: _Key, content: bytes, algorithm: str) -> _Target | None:
        raise NotImplementedError

    def key_label(self) -> str:
        return self.scheme.key_hint

    # -- content ---------------------------------------------------------------------------
    def contents(self, template: str, body: bytes, url: str | None) -> list[bytes]:
        """The signed bytes for a template, body and URL (Twilio: each port form of the URL)."""
        scheme = self.scheme
        if isinstance(scheme, Twilio):
            if url is None:
                return []
            try:
                return [scheme.content(u, body) for u in port_variants(url)]
            except InputError:
                return []
        parts = scheme.parts(self.presented, url)
        if any(p not in parts and p != "body" for p in template_parts(template)):
            return []
        return [render_template(template, parts, body)]

    # -- the walk --------------------------------------------------------------------------
    def run(self, body: bytes, url: str | None, headers: Headers | None, result: SearchResult) -> Hit | None:
        """Try the candidates in order; the first that reproduces an entry is the smallest change."""
        for candidate in self.candidates(body, url, headers, result):
            result.tried[candidate.axis] = result.tried.get(candidate.axis, 0) + 1
            for content in self.contents(candidate.template, candidate.body, candidate.url):
                target = self.test(candidate.key, content, candidate.algorithm)
                if target is not None:
                    extra = () if target.canonical else (self._digest_change(target),)
                    return Hit(
                        candidate.changes + extra,
                        target.entry,
                        candidate.secret_index,
                        candidate.key_label,
                        target.decoding,
                        candidate.body,
                    )
        return None

    def candidates(
        self, body: bytes, url: str | None, headers: Headers | None, result: SearchResult
    ) -> Iterator[_Candidate]:
        """Every candidate, lazily, in the order that makes the first match the smallest change."""
        keyed = [(i, s, self.canonical_key(s)) for i, s in enumerate(self.secrets)]
        usable = [(i, k) for i, _, k in keyed if k is not None]
        canonical = self.key_label()
        base = _Candidate("exact", (), 0, None, canonical, self.template, body, url, self.algorithm)

        def each_key(candidate: _Candidate) -> Iterator[_Candidate]:
            for index, key in usable:
                yield replace(candidate, secret_index=index, key=key)

        # 0. exact, every secret (rotation: the secret index says which one matched)
        yield from each_key(base)
        # 1a. key derivations
        variants = {i: self.key_variants(s, k) for i, s, k in keyed}
        for index, options in variants.items():
            for label, key in options:
                change = (SignatureChange(SECRET_FORMAT, label, value=label),)
                yield replace(base, axis=SECRET_FORMAT, changes=change, secret_index=index, key=key, key_label=label)
        # 1b. algorithm (only those whose digest length some entry has)
        for algorithm in self.algorithms():
            label = f"HMAC-{algorithm.upper()} instead of HMAC-{self.algorithm.upper()}"
            change = (SignatureChange(ALGORITHM, label, value=algorithm),)
            yield from each_key(replace(base, axis=ALGORITHM, changes=change, algorithm=algorithm))
        # 1c. signed-content template
        if not isinstance(self.scheme, Twilio):
            available = [*self.scheme.parts(self.presented, url), "body"]
            for template, label in template_variants(self.template, available):
                change = (SignatureChange(TEMPLATE, label, value=template),)
                yield from each_key(replace(base, axis=TEMPLATE, changes=change, template=template))
        # 1d. URL
        if url is not None and (self.scheme.signs_url or "url" in template_parts(self.template)):
            for candidate_url, label in url_variants(url, headers):
                change = (SignatureChange(URL, label, value=candidate_url),)
                yield from each_key(replace(base, axis=URL, changes=change, url=candidate_url))
        # 1e. body transforms, generated lazily (the costly ones come last)
        seen_bodies: list[BodyVariant] = []
        for variant in self._bodies(body):
            seen_bodies.append(variant)
            change = (SignatureChange(BODY, variant.label, kind=variant.kind),)
            yield from each_key(replace(base, axis=BODY, changes=change, body=variant.body))
        # 2. a key derivation together with a body transform, while the budget allows
        pairs = sum(len(v) for v in variants.values()) * len(seen_bodies)
        result.pairs_skipped = pairs * max(len(body), 1) > PAIR_BUDGET_BYTES
        if not result.pairs_skipped:
            for variant in seen_bodies:
                for index, options in variants.items():
                    for label, key in options:
                        change = (
                            SignatureChange(SECRET_FORMAT, label, value=label),
                            SignatureChange(BODY, variant.label, kind=variant.kind),
                        )
                        yield _Candidate("pair", change, index, key, label, self.template, variant.body, url,
                                         self.algorithm)  # fmt: skip

    def _bodies(self, body: bytes) -> Iterator[BodyVariant]:
        if isinstance(self.scheme, Twilio):
            return iter(())  # form parameters are parsed, not hashed; JSON bodies are checked by hash
        return body_variants(body)

    def _digest_change(self, target: _Target) -> SignatureChange:
        entry = target.entry
        expected = getattr(self.scheme, "encoding", "base64")
        return SignatureChange(
            DIGEST,
            f"the header value read as {target.decoding}; the scheme specifies {expected}"
            + (f" after {entry.version!r}" if entry.version else ""),
            value=target.decoding,
        )


class _HmacEngine(_Engine):
    scheme: HmacScheme

    def __init__(self, scheme: HmacScheme, presented: Presented, secrets: list[str]) -> None:
        super().__init__(scheme, presented, secrets)
        self.targets = _Targets(presented, scheme.encoding)

    def canonical_key(self, secret: str) -> bytes | None:
        try:
            return self.scheme.key(secret)
        except InputError:
            return None

    def key_variants(self, secret: str, canonical: bytes | None) -> list[tuple[str, bytes]]:
        return [(v.label, v.key) for v in keys.key_variants(secret) if v.key != canonical]

    def algorithms(self) -> list[str]:
        by_length = {hashlib.new(a).digest_size: a for a in ALGORITHMS}
        return [by_length[n] for n in sorted(self.targets.lengths) if n in by_length and by_length[n] != self.algorithm]

    def test(self, key: bytes, content: bytes, algorithm: str) -> _Target | None:
        return self.targets.lookup(mac(key, content, algorithm))


class _AsymmetricEngine(_Engine):
    scheme: AsymmetricScheme

    def __init__(self, scheme: AsymmetricScheme, presented: Presented, secrets: list[str]) -> None:
        super().__init__(scheme, presented, secrets)
        self.signatures: list[tuple[bytes, _Target]] = []
        for entry in presented.entries:
            if entry.digest is not None:
                self.signatures.append((entry.digest, _Target(entry, "as the scheme specifies", True)))
            for label, raw in digests.decodings(entry.text):
                if raw != entry.digest:
                    self.signatures.append((raw, _Target(entry, label, False)))

    def canonical_key(self, secret: str) -> Any:
        try:
            return self.scheme.public_key(secret)
        except InputError:
            return None

    def usable_keys(self) -> list[Any]:
        return [key for key in (self.canonical_key(s) for s in self.secrets) if key is not None]

    def test(self, key: Any, content: bytes, algorithm: str) -> _Target | None:
        for signature, target in self.signatures:
            if self.scheme.check(key, signature, content):
                return target
        return None


def body_hash_variant(url: str, body: bytes) -> BodyVariant | None:
    """Twilio JSON: the body transform whose SHA-256 is the bodySHA256 the URL carries."""
    expected = (body_sha256(url) or "").lower()
    for variant in body_variants(body):
        if hashlib.sha256(variant.body).hexdigest() == expected:
            return variant
    return None
