"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`.

The key is the whole `whsec_...` string as UTF-8, prefix included and never base64-decoded,
which is the opposite of Standard Webhooks. Only `v1` entries count; `v0` is ignored. The
library rejects only timestamps that are too old (300 s); a future timestamp passes.
"""

from __future__ import annotations

from diagnostics.errors import InputError
from diagnostics.signatures.base import Entry, Headers, Presented
from diagnostics.signatures.digests import decode_canonical
from diagnostics.signatures.hmac_core import HmacScheme


class Stripe(HmacScheme):
    name = "stripe"
    label = "Stripe"
    formula = (
        'Stripe-Signature: "t=" + ts + ",v1=" + '
        'hex(HMAC-SHA256(whole "whsec_..." secret as UTF-8, ts + "." + raw body))'
    )
    headers = ("Stripe-Signature",)
    template = "{timestamp}.{body}"
    tolerance_s = 300.0
    window = "past"

    def format(self, encoded: str, parts: dict[str, bytes]) -> dict[str, str]:
        return {self.headers[0]: f"t={parts['timestamp'].decode()},v1={encoded}"}

    def read(self, headers: Headers, body: bytes, url: str | None) -> Presented:
        header = self.headers[0]
        value = headers.require(header, self.name)
        items = [item.strip() for item in value.split(",") if item.strip()]
        pairs = []
        for item in items:
            key, eq, val = item.partition("=")
            if not eq:
                raise InputError(f"{header} element {item[:30]!r} is not key=value", field=header)
            pairs.append((key, val))
        timestamps = [v for k, v in pairs if k == "t"]
        numbered = [(pos, k, v) for pos, (k, v) in enumerate((p for p in pairs if p[0] != "t"), start=1)]
        signed = [(pos, v) for pos, k, v in numbered if k == "v1"]
        if not timestamps or not signed:
            raise InputError(
                f"{header} must contain t=<unix> and at least one v1=<hex>; got {value[:60]!r}", field=header
            )
        entries = tuple(
            Entry(index=pos, total=len(numbered), version="v1", text=v, digest=decode_canonical(v, self.encoding))
            for pos, v in signed
        )
        skipped = tuple(f"{k}= entry" for k, _ in pairs if k not in ("t", "v1"))
        return Presented(header, entries, timestamp=timestamps[0], skipped=skipped)
