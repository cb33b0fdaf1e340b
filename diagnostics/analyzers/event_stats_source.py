"""The per-type aggregates of `event_stats`, run inside the source database itself.

For a fleet-wide question over a month of all customers' deliveries, copying the rows out is the
expensive part. Here the same GROUP BYs are built with SQLAlchemy Core on top of the delivery-log
SELECT of `diagnostics.logs.sources.build_sql_select` (column mapping applied, endpoint and time
window in its WHERE clause) and compiled for the source's dialect, so only aggregates and the
bounded payload sample cross the wire. PostgreSQL and DuckDB compute every figure; SQLite has no
percentile function, so p95 latency and median payload size are left empty there.

Rows are not validated on this path (no per-row timestamp checks as in `load_attempts`): it
trusts the source's types, which is what a production attempt table provides.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from diagnostics.analyzers.event_stats import (
    PAYLOAD_SAMPLE_LIMIT,
    UNTYPED,
    LoggedPayload,
    LogStats,
    TypeStats,
    VersionUse,
)
from diagnostics.errors import InputError
from diagnostics.logs.sources import build_sql_select
from diagnostics.logs.timestamps import parse_timestamp

PERCENTILE_DIALECTS = frozenset({"postgresql", "duckdb"})


def _byte_length(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.func.octet_length(column)
    if dialect == "sqlite":
        return sa.func.length(sa.cast(column, sa.LargeBinary))
    return sa.func.length(column)


def _spread_key(column: Any, dialect: str) -> Any:
    """An order that spreads picks across the window: a hash where the database has one."""
    return sa.func.md5(column) if dialect in ("postgresql", "duckdb", "mysql") else column


def _when(value: Any) -> datetime | None:
    if value is None or (isinstance(value, datetime) and value.tzinfo):
        return value
    return parse_timestamp(value, naive_is_utc=True).astimezone(UTC)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def collect_source_stats(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    mapping: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    payload_limit: int = PAYLOAD_SAMPLE_LIMIT,
    executed: list[str] | None = None,
) -> LogStats:
    """Aggregate the delivery attempts where they live; `executed` receives the SQL sent."""
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise InputError(f"not a usable database URL: {exc}", field="source") from exc
    shown = engine.url.render_as_string(hide_password=True)
    dialect = engine.dialect.name
    try:
        base = build_sql_select(engine, table=table or (None if query else "delivery_attempts"), query=query,
                                mapping=mapping, endpoint=endpoint, since=since, until=until).subquery("a")
        statements = _statements(base, dialect, payload_limit)
        if executed is not None:
            executed.extend(str(s.compile(engine)) for s in statements.values())
        with engine.connect() as conn:
            results = {name: conn.execute(stmt).fetchall() for name, stmt in statements.items()}
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise InputError(f"the aggregate query failed: {first}", file=shown) from exc
    finally:
        engine.dispose()
    return _to_stats(results)


def _statements(a: Any, dialect: str, payload_limit: int) -> dict[str, Any]:
    etype = sa.func.coalesce(a.c.event_type, UNTYPED)
    ok = sa.case((a.c.status_code.between(200, 299), 1), else_=0)
    deliveries = (
        sa.select(
            etype.label("event_type"), a.c.event_id, a.c.endpoint,
            sa.func.count().label("attempts"), sa.func.max(ok).label("ok"),
            sa.func.max(_byte_length(a.c.payload, dialect)).label("payload_bytes"),
            sa.func.min(a.c.attempted_at).label("first_at"), sa.func.max(a.c.attempted_at).label("last_at"),
        )
        .group_by(etype, a.c.event_id, a.c.endpoint)
        .subquery("d")
    )
    percentiles = dialect in PERCENTILE_DIALECTS
    p95 = (
        sa.select(etype.label("event_type"),
                  sa.func.percentile_cont(0.95).within_group(a.c.duration_ms).label("p95_ms"))
        .where(a.c.duration_ms.is_not(None)).group_by(etype).subquery("l")
        if percentiles else None
    )
    d = deliveries.c
    median = (sa.func.percentile_cont(0.5).within_group(d.payload_bytes) if percentiles
              else sa.cast(sa.null(), sa.Float))
    type_stats = sa.select(
        d.event_type, sa.func.count().label("deliveries"), sa.func.count(sa.distinct(d.event_id)),
        sa.func.sum(d.attempts), sa.func.count(sa.distinct(d.endpoint)), sa.func.sum(d.ok),
        sa.func.max(p95.c.p95_ms) if p95 is not None else sa.cast(sa.null(), sa.Float),
        median, sa.func.min(d.first_at), sa.func.max(d.last_at),
    )
    type_stats = (type_stats.select_from(deliveries.outerjoin(p95, p95.c.event_type == d.event_type))
                  if p95 is not None else type_stats.select_from(deliveries))
    type_stats = type_stats.group_by(d.event_type).order_by(d.event_type)
    pairs = sa.select(a.c.endpoint, etype, sa.func.count(sa.distinct(a.c.event_id))).group_by(a.c.endpoint, etype)
    versions = (
        sa.select(etype, a.c.payload_version, a.c.endpoint, sa.func.count(sa.distinct(a.c.event_id)),
                  sa.func.min(a.c.attempted_at), sa.func.max(a.c.attempted_at))
        .where(a.c.payload_version.is_not(None), a.c.payload_version != "")
        .group_by(etype, a.c.payload_version, a.c.endpoint)
        .order_by(etype, a.c.payload_version, a.c.endpoint)
    )
    # The payload sample: rank events (ids only) per (type, version), then read the payloads of the
    # picked events alone, each at its first attempt in that version.
    has_payload = sa.and_(a.c.payload.is_not(None), a.c.payload != "")
    events = (
        sa.select(etype.label("event_type"), a.c.payload_version, a.c.event_id)
        .where(has_payload)
        .group_by(etype, a.c.payload_version, a.c.event_id)
        .subquery("e")
    )
    e = events.c
    ranked = (
        sa.select(e.event_type, e.payload_version, e.event_id,
                  sa.func.row_number().over(partition_by=[e.event_type, e.payload_version],
                                            order_by=_spread_key(e.event_id, dialect)).label("pick"),
                  sa.func.count().over(partition_by=[e.event_type, e.payload_version]).label("group_size"))
        .subquery("r")
    )
    picked = sa.select(ranked).where(ranked.c.pick <= payload_limit).subquery("p")
    p = picked.c
    version_key = sa.func.coalesce(a.c.payload_version, "")
    firsts = (
        sa.select(p.event_type, a.c.payload_version, a.c.event_id, a.c.endpoint, a.c.attempted_at, a.c.payload,
                  p.group_size,
                  sa.func.row_number().over(partition_by=[a.c.event_id, version_key],
                                            order_by=[a.c.attempted_at, a.c.endpoint]).label("nth"))
        .select_from(a.join(picked, sa.and_(a.c.event_id == p.event_id,
                                            version_key == sa.func.coalesce(p.payload_version, ""))))
        .where(has_payload)
        .subquery("f")
    )
    f = firsts.c
    payloads = (
        sa.select(f.event_type, f.payload_version, f.event_id, f.endpoint, f.attempted_at, f.payload, f.group_size)
        .where(f.nth == 1)
        .order_by(f.event_type, f.payload_version, f.attempted_at, f.event_id)
    )
    window = sa.select(sa.func.min(a.c.attempted_at), sa.func.max(a.c.attempted_at), sa.func.count())
    return {"types": type_stats, "pairs": pairs, "versions": versions, "payloads": payloads, "window": window}


def _to_stats(results: dict[str, list[Any]]) -> LogStats:
    stats = LogStats()
    for row in results["types"]:
        ts = TypeStats(
            event_type=row[0], deliveries=int(row[1]), events=int(row[2]), attempts=int(row[3]),
            endpoints=int(row[4]), succeeded=int(row[5] or 0), p95_ms=_float(row[6]),
            median_payload_bytes=_float(row[7]), first_seen=_when(row[8]), last_seen=_when(row[9]),
        )
        stats.types[ts.event_type] = ts
    for endpoint, event_type, count in results["pairs"]:
        stats.pairs[(endpoint, event_type)] = int(count)
    for row in results["versions"]:
        stats.versions.append(VersionUse(row[0], str(row[1]), row[2], int(row[3]), _when(row[4]), _when(row[5])))
    for row in results["payloads"]:
        version = row[1] if row[1] not in (None, "") else None
        stats.payloads.append(LoggedPayload(row[0], version, row[2], row[3], _when(row[4]), row[5]))
        stats.payload_groups[(row[0], version)] = int(row[6])
    start, end, count = results["window"][0]
    stats.window = (_when(start), _when(end))
    stats.total_attempts = int(count)
    return stats
