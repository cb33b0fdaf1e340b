"""URL variants for URL-signing schemes (Twilio, Square, a generic template with {url}): the
ways the URL the sender signed differs from the one the receiver rebuilt (F8).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from diagnostics.signatures.base import Headers

DEFAULT_PORTS = {"https": 443, "http": 80}


def _with(
    url: str, *, scheme: str | None = None, netloc: str | None = None, path: str | None = None, query: str | None = None
) -> str:
    p = urlsplit(url)
    return urlunsplit(
        p._replace(
            scheme=p.scheme if scheme is None else scheme,
            netloc=p.netloc if netloc is None else netloc,
            path=p.path if path is None else path,
            query=p.query if query is None else query,
        )
    )


def url_variants(url: str, headers: Headers | None = None) -> list[tuple[str, str]]:
    """(candidate URL the sender signed, what differs), without the URL itself."""
    p = urlsplit(url)
    host = p.hostname or ""
    out: list[tuple[str, str]] = []
    swapped = {"https": "http", "http": "https"}.get(p.scheme)
    if swapped:
        out.append((_with(url, scheme=swapped), f"{swapped}:// instead of {p.scheme}:// (a TLS-terminating proxy?)"))
    if p.port is None and p.scheme in DEFAULT_PORTS:
        out.append((_with(url, netloc=f"{host}:{DEFAULT_PORTS[p.scheme]}"), "with the default port written out"))
    elif p.port is not None:
        out.append((_with(url, netloc=host), f"without the port :{p.port}"))
        if swapped:
            out.append((_with(url, scheme=swapped, netloc=host), f"{swapped}:// and without the port :{p.port}"))
    path = p.path or "/"
    toggled = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    out.append((_with(url, path=toggled), "with the trailing slash " + ("removed" if path.endswith("/") else "added")))
    if swapped:
        out.append((_with(url, scheme=swapped, path=toggled), f"{swapped}:// and the trailing slash toggled"))
    if p.query:
        out.append((_with(url, query=""), "without the query string"))
    if headers is not None:
        proto = (headers.get("X-Forwarded-Proto") or "").split(",")[0].strip()
        fwd_host = (headers.get("X-Forwarded-Host") or headers.get("Host") or "").split(",")[0].strip()
        if proto in DEFAULT_PORTS or fwd_host:
            rebuilt = _with(url, scheme=proto or None, netloc=fwd_host or None)
            out.append((rebuilt, "rebuilt from X-Forwarded-Proto / X-Forwarded-Host / Host"))
    seen = {url}
    unique = []
    for candidate, label in out:
        if candidate not in seen:
            seen.add(candidate)
            unique.append((candidate, label))
    return unique
