"""Host names as the resolver will see them: one place that says which names can be looked up.

httpx accepts hosts the resolver cannot encode (an empty label in `a..b.test`, a label of 64
characters), and `socket.getaddrinfo` then fails with a UnicodeError deep inside the probe. The
URL check and the guard both ask `hostname_problem` first, so such a URL is refused as invalid
before anything is sent. A single trailing dot is the fully qualified spelling of the same name
(`localhost.` is `localhost`, `127.0.0.1.` is 127.0.0.1): `lookup_name` strips it, so the guard
judges the address it would reach instead of reporting a DNS failure.
"""

from __future__ import annotations

import ipaddress

MAX_LABEL_OCTETS = 63
MAX_NAME_OCTETS = 253


def lookup_name(host: str) -> str:
    """The name to resolve and judge: brackets and zone kept off, one trailing dot removed."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        return text[1:-1]
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


def _is_ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def hostname_problem(host: str) -> str | None:
    """Why this host cannot be looked up, in words for the agent, or None when it can."""
    name = lookup_name(host)
    if not name:
        return "it has no host name"
    if _is_ip_literal(name):
        return None
    for label in name.split("."):
        if not label:
            return f"the host name {name[:80]!r} has an empty label"
        if len(label) > MAX_LABEL_OCTETS:
            return f"the host name label {label[:20]!r}... is longer than {MAX_LABEL_OCTETS} characters"
    try:
        encoded = name.encode("idna")  # what getaddrinfo does with the name
    except UnicodeError as exc:
        return f"the host name {name[:80]!r} cannot be encoded for DNS (IDNA: {exc})"
    if len(encoded) > MAX_NAME_OCTETS:
        return f"the host name is longer than {MAX_NAME_OCTETS} characters"
    return None
