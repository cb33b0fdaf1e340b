"""A GitHub App's own credentials, for its webhook (`/app/hook/deliveries`).

A GitHub App's webhook is reached with a JSON Web Token the app signs with its private key
(RS256): `iat` 60 s in the past (GitHub's allowance for clock drift), `exp` at most ten minutes
ahead, `iss` the app's id or client id. A token lives nine minutes; `AppCredentials.bearer`
makes a new one when the current one is older than five, so a long pull or resend never sends
an expired token. The private key is read from the file the operator names, held in memory for
the run, and never written, logged or shown.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from diagnostics.errors import InputError

LIFETIME_S = 540  # nine minutes: GitHub refuses an `exp` more than ten minutes ahead
DRIFT_S = 60  # `iat` this far in the past, for a clock behind GitHub's
RENEW_AFTER_S = 300
MAX_KEY_BYTES = 16 * 1024
_APP_ID = re.compile(r"^(?:\d{1,12}|Iv[0-9A-Za-z.]{2,40})$")  # a numeric app id or a client id (Iv1.…, Iv23…)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def app_jwt(app_id: str, key: rsa.RSAPrivateKey, now: float) -> str:
    """The app's JWT as GitHub asks for it (RS256; iat, exp, iss)."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iat": int(now) - DRIFT_S, "exp": int(now) + LIFETIME_S, "iss": app_id}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64url(signature)}"


@dataclass
class AppCredentials:
    """A GitHub App's id and private key: a fresh JWT whenever one is needed."""

    app_id: str
    key: rsa.RSAPrivateKey = field(repr=False)
    clock: Callable[[], float] = time.time
    _token: str = field(default="", repr=False)
    _made_at: float = 0.0

    def bearer(self) -> str:
        now = self.clock()
        if not self._token or now - self._made_at > RENEW_AFTER_S:
            self._token, self._made_at = app_jwt(self.app_id, self.key, now), now
        return self._token


def load_app_credentials(app_id: str, key_path: str | None = None, clock: Callable[[], float] = time.time, *,
                         key_pem: bytes | None = None) -> AppCredentials:
    """The app id checked and its PEM private key read (from `key_path`, or `key_pem` uploaded on a
    page); a bad id or key is one line naming it."""
    app_id = str(app_id or "").strip()
    if not _APP_ID.match(app_id):
        raise InputError(f"--app-id must be the GitHub App's numeric id or client id (Iv...), not {app_id[:40]!r}",
                         field="--app-id")
    shown = key_path or "the uploaded key"
    data = key_pem if key_pem is not None else _read_key(str(key_path))
    if len(data) > MAX_KEY_BYTES:
        raise InputError("the file is too large to be a private key", file=shown, field="--private-key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError("not an unencrypted PEM private key: download the app's private key (.pem) from the app's "
                         "settings on GitHub", file=shown, field="--private-key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError("a GitHub App's private key is an RSA key; this one is not", file=shown,
                         field="--private-key")
    return AppCredentials(app_id=app_id, key=key, clock=clock)


def _read_key(key_path: str) -> bytes:
    path = Path(key_path)
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise InputError("the file is too large to be a private key", file=key_path, field="--private-key")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the private key ({exc.strerror})", file=key_path,
                         field="--private-key") from None
