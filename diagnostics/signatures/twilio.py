"""Twilio: HMAC-SHA1 over the full URL plus the sorted form parameters, or, for JSON bodies,
over the URL carrying `bodySHA256=<hex sha256(body)>` with a separate body-hash check.

The URL is part of the signed bytes, so a proxy that turns https into http or a port that
appears or disappears breaks verification (F8). Like the SDK, exact verification accepts the
URL with the default port added or removed.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from diagnostics.errors import InputError
from diagnostics.signatures import digests
from diagnostics.signatures.base import Headers, Match, Presented, check_body, check_secret
from diagnostics.signatures.hmac_core import HmacScheme, mac, make_entries

DEFAULT_PORTS = {"https": 443, "http": 80}


def form_params(body: bytes) -> list[tuple[str, str]]:
    """Form parameters of a Twilio POST; the body must be UTF-8 form encoding."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"Twilio form bodies are UTF-8 text; byte {exc.start} is not valid UTF-8", field="body"
        ) from exc
    return parse_qsl(text, keep_blank_values=True)


def params_string(params: list[tuple[str, str]]) -> str:
    """name+value for every parameter, names sorted, values of a repeated name sorted (as the SDK)."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))


def port_variants(url: str) -> list[str]:
    """The URL as given, with its default port added, and with its port removed (as the SDK tries)."""
    parts = urlsplit(url)
    out = [url]
    host = parts.hostname or ""
    if parts.port is None and parts.scheme in DEFAULT_PORTS:
        out.append(urlunsplit(parts._replace(netloc=_netloc(parts, f"{host}:{DEFAULT_PORTS[parts.scheme]}"))))
    elif parts.port is not None:
        out.append(urlunsplit(parts._replace(netloc=_netloc(parts, host))))
    return out


def _netloc(parts, hostport: str) -> str:  # type: ignore[no-untyped-def]
    userinfo = parts.netloc.rpartition("@")[0]
    return f"{userinfo}@{hostport}" if userinfo else hostport


def body_sha256(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("bodySHA256")
    return values[0] if values else None


class Twilio(HmacScheme):
    name = "twilio"
    label = "Twilio"
    formula = (
        "X-Twilio-Signature: base64(HMAC-SHA1(auth token, full URL + every name+value of the form "
        "parameters sorted by name)); JSON bodies: HMAC over the URL whose bodySHA256 = hex(SHA-256(body))"
    )
    headers = ("X-Twilio-Signature",)
    algorithm = "sha1"
    encoding = "base64"
    template = "{url}{params}"
    signs_url = True

    def content(self, url: str, body: bytes) -> bytes:
        if body_sha256(url) is not None:
            return url.encode("utf-8")
        return (url + params_string(form_params(body))).encode("utf-8")

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None, timestamp: int | None, url: str | None
    ) -> dict[str, str]:
        check_secret(secret)
        check_body(body)
        if not url:
            raise InputError("the twilio scheme signs the URL; pass the endpoint URL", field="--url")
        if body_sha256(url) is None and body.lstrip()[:1] in (b"{", b"["):
            digest = hashlib.sha256(body).hexdigest()
            raise InputError(
                f"a JSON body is signed through the URL: send it to the URL with ?bodySHA256={digest} appended",
                field="--url",
            )
        signature = digests.encode(mac(self.key(secret), self.content(url, body), "sha1"), "base64")
        return {self.headers[0]: signature}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        value = headers.require(self.headers[0], self.name)
        if not url:
            raise InputError("Twilio signs the URL; pass the URL Twilio called with --url", field="--url")
        extra = {"json": body_sha256(url) is not None}
        if not extra["json"]:
            form_params(body)  # a form body must be UTF-8 text; say so now rather than "no match"
        return Presented(self.headers[0], make_entries([("", value)], self.encoding), extra=extra)

    def parts(self, presented: Presented, url: str | None) -> dict[str, bytes]:
        return {"url": (url or "").encode("utf-8")}

    def body_hash_ok(self, url: str, body: bytes) -> bool | None:
        """JSON variant: does the body match the bodySHA256 the URL carries? None for form bodies."""
        expected = body_sha256(url)
        if expected is None:
            return None
        return hmac.compare_digest(hashlib.sha256(body).hexdigest(), expected.lower())

    def verify(self, presented: Presented, body: bytes, secrets: list[str], url: str | None) -> Match | None:
        assert url is not None
        if self.body_hash_ok(url, body) is False:
            return None
        contents = [self.content(u, body) for u in port_variants(url)]
        for secret_index, secret in enumerate(secrets):
            key = self.key(secret)
            for content in contents:
                computed = mac(key, content, "sha1")
                for entry in presented.entries:
                    if entry.digest is not None and hmac.compare_digest(computed, entry.digest):
                        return Match(entry, secret_index, "the auth token as UTF-8 bytes")
        return None
