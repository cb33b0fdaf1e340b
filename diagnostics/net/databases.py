"""Database URLs through the guard's address policy: where a URL came from decides what it may reach.

A URL a person types on the command line (or writes in diagnostics.toml) is the operator's choice:
they may point the tool at any database they can reach, as they could with psql. A URL that
arrives with a case, an upload or through the app is someone else's text, so it passes the same
address policy as a probe (the deny table of probing.md and the operator deny list), with its own
allowlist, `[databases] allow`, because the tool's databases are not the sandbox. Only a plain
network URL is accepted from such a source (unless it is the very URL the operator configured as
`[logs] url`, the operator's choice wherever it is used): no file databases, no Unix sockets, no
query keys that redirect the connection (`host=`, `hostaddr=`, `service=`), one host. For PostgreSQL the checked
address is pinned with libpq's `hostaddr` (TLS still verifies the name), so a second DNS answer
cannot rebind it; other dialects are checked, not pinned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.net.hostnames import hostname_problem, lookup_name

if TYPE_CHECKING:  # SQLAlchemy and the guard's HTTP stack load only when a database URL is used,
    # so that reading a log file starts fast (`analyze` imports this module through logs/).
    import sqlalchemy as sa
    from sqlalchemy.engine import URL

    from diagnostics.net.guard import AddressPolicy

# Dialects whose URL names a local file rather than a network address.
FILE_DIALECTS = frozenset({"sqlite", "duckdb"})
# Query keys a URL from an untrusted source may carry: none of them changes where it connects.
SAFE_QUERY_KEYS = frozenset({"sslmode", "connect_timeout", "application_name", "charset", "target_session_attrs"})
# Dialects for which the checked address is pinned, and the connect argument that pins it.
PIN_ARGUMENT = {"postgresql": "hostaddr"}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433, "oracle": 1521}


@dataclass(frozen=True)
class DatabasePolicy:
    """What a database URL from one origin may reach; `addresses` None means the operator's choice."""

    origin: str
    addresses: AddressPolicy | None = None
    operator_urls: frozenset[str] = frozenset()  # configured by the operator: used as given

    @classmethod
    def operator(cls) -> DatabasePolicy:
        """A URL from the command line or the configuration file: used as given."""
        return OPERATOR

    @classmethod
    def untrusted(cls, config: Config, origin: str = "case") -> DatabasePolicy:
        """A URL from a case, an upload or the app: the deny table, `[network] deny`, `[databases] allow`."""
        allow = config.get("databases", "allow", []) or []
        if isinstance(allow, str):
            allow = [allow]
        from diagnostics.net.guard import AddressPolicy

        addresses = AddressPolicy.build(allow, config.get("network", "deny", []) or [])
        configured = {str(config.get("logs", "url") or "").strip()} - {""}
        return cls(origin=origin, addresses=addresses, operator_urls=frozenset(configured))


OPERATOR = DatabasePolicy(origin="operator")


def parse_database_url(url: str, field: str = "source") -> URL:
    """A SQLAlchemy URL, or an InputError naming what is wrong (never a ValueError traceback)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url.strip())
    except sa.exc.ArgumentError:
        raise InputError(f"{shown_url(url)!r} is not a database URL (dialect://user@host:port/database)",
                         field=field) from None
    except ValueError as exc:
        raise InputError(f"{shown_url(url)!r} is not a usable database URL: the port is not a number ({exc})",
                         field=field) from None
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InputError(f"{shown_url(url)!r} is not a usable database URL: port {parsed.port} is not 1-65535",
                         field=field)
    return parsed


def shown_url(url: str) -> str:
    """The URL as it may be shown: password masked, even when the URL does not parse."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        return make_url(url.strip()).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        scheme, sep, rest = url.partition("://")
        userinfo, at, host = rest.rpartition("@")
        if not sep or not at or ":" not in userinfo:
            return url[:200]
        return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"[:200]


def check_database_url(url: str, policy: DatabasePolicy, field: str = "source") -> tuple[URL, dict[str, Any]]:
    """Parse the URL and apply the policy; returns the URL and the connect arguments that pin it.

    Nothing is sent to the database before this returns: a refusal is an InputError that says
    which rule refused and where the URL came from.
    """
    from diagnostics.net.guard import BlockedDestination, ResolutionFailed, resolve_blocking

    parsed = parse_database_url(url, field)
    if policy.addresses is None or url.strip() in policy.operator_urls:
        return parsed, {}
    shown = parsed.render_as_string(hide_password=True)

    def refuse(why: str) -> InputError:
        return InputError(f"the database URL {shown} (from the {policy.origin}) is refused: {why}", field=field)

    dialect = parsed.get_backend_name()
    if dialect in FILE_DIALECTS:
        raise refuse(f"a {dialect} file database is read only when the operator names it")
    unsafe = sorted(set(parsed.query) - SAFE_QUERY_KEYS)
    if unsafe:
        raise refuse(f"the query key(s) {', '.join(unsafe)} are not accepted from a {policy.origin}")
    host = parsed.host or ""
    if not host:
        raise refuse("it names no network host (a local socket)")
    if "," in host:
        raise refuse("give one host, not a list")
    if (problem := hostname_problem(host)) is not None:
        raise refuse(problem)
    port = parsed.port or DEFAULT_PORTS.get(dialect, 0)
    name = lookup_name(host)
    try:
        addresses = resolve_blocking(name, port)
    except ResolutionFailed as exc:
        raise refuse(f"DNS lookup failed ({exc.kind}): {exc.detail}") from None
    try:
        policy.addresses.check_all(host, addresses)
    except BlockedDestination as exc:
        raise refuse(exc.describe()) from None
    pin = PIN_ARGUMENT.get(dialect)
    return parsed, ({pin: addresses[0]} if pin else {})


def create_checked_engine(url: str, policy: DatabasePolicy, field: str = "source", **kwargs: Any) -> sa.Engine:
    """`sa.create_engine` after `check_database_url`, with the checked address pinned."""
    import sqlalchemy as sa

    parsed, connect_args = check_database_url(url, policy, field)
    if connect_args:
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), **connect_args}
    try:
        return sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError, ValueError) as exc:
        raise InputError(f"not a usable database URL: {str(exc).splitlines()[0][:200]}", field=field) from None
