"""Webhook signature schemes: sign, verify, and find out why a signature does not match.

Public entry points (other parts of the project call these):
    sign_headers(scheme, secret, body, *, msg_id, timestamp, url, options) -> headers to send
    scheme_names() -> canonical scheme names; scheme_formula(name) -> the formula in words
    get_scheme(name, options) -> Scheme; detect_scheme(Headers) -> Detection
The debugger (variant search) is `diagnostics.signatures.debugger.search`; the pipeline that
turns a captured request into an Outcome is `diagnostics.pipeline.signature.debug_signature`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnostics.signatures.base import Headers, Scheme
from diagnostics.signatures.registry import ALIASES, Detection, detect_scheme, get_scheme, scheme_formula, scheme_names


def sign_headers(
    scheme: str,
    secret: str,
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
    url: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The headers a sender using `scheme` attaches to `body` (timestamp defaults to now).

    `options` configures the generic `hmac` scheme (header, algorithm, encoding, prefix,
    template, timestamp_header, id_header, secret_encoding). For public-key schemes `secret`
    is the private key. Raises InputError for an unknown scheme, an empty secret, or a missing
    URL where the scheme signs the URL.
    """
    return get_scheme(scheme, options).sign(secret, body, msg_id=msg_id, timestamp=timestamp, url=url)


__all__ = [
    "ALIASES",
    "Detection",
    "Headers",
    "Scheme",
    "detect_scheme",
    "get_scheme",
    "scheme_formula",
    "scheme_names",
    "sign_headers",
]
