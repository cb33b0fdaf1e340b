"""Delivery-log runs: load attempts (the only I/O), judge them, return one Outcome.

`analyze_logs` is what the CLI's `analyze` command, the app's Logs page and Python callers use;
`analyze_attempts` judges a table that is already loaded (the app keeps one per workspace).
With no source given, the database in the [logs] section of diagnostics.toml is read; a
database URL without --table or --query reads the [logs] table.

A log of many endpoints is reviewed as a fleet (one finding per code, endpoints ranked; the full
per-endpoint detail goes to `details`). With `endpoint`, a file is still loaded whole: the
analyzers judge that endpoint through a view, and the fleet-incident analyzer reads the whole log
so that the endpoint hears when its failures are part of a cross-customer incident. A database
source keeps the endpoint filter pushed down (only its rows cross the wire). Other engines
(`engine="database"`, `"spark"`) run the same analyzers where the data lives (`diagnostics.engines`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from diagnostics.analyzers import LogJudgment, run_all
from diagnostics.config import Config, load_config
from diagnostics.engines import ENGINES
from diagnostics.engines.base import check_details_path
from diagnostics.engines.embedded import DuckDBEngine
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, sort_findings
from diagnostics.logs import AttemptTable, load_attempts
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.logs.profile_choice import choose_profile
from diagnostics.logs.schema import sql_literal
from diagnostics.logs.sources import is_database_url
from diagnostics.net.databases import OPERATOR, DatabasePolicy
from diagnostics.profiles import SenderProfile

VIEWS = ("auto", "fleet", "endpoints")
SCOPE = "_scope"

MAX_PROBLEM_ROWS = 50


def check_view(view: str) -> None:
    """Refuse an unknown `--view` (before any file is read, when called by `analyze_logs`)."""
    if view not in VIEWS:
        raise InputError(f"unknown view {view!r}; known: {', '.join(VIEWS)}", field="--view")


def analyze_attempts(
    attempts: AttemptTable,
    profile: SenderProfile,
    *,
    endpoint: str | None = None,
    view: str = "auto",
    details: str | None = None,
    profile_reason: str = "chosen by the user",
) -> Outcome:
    """Judge loaded attempts: findings, metrics (JSON) and tables (reports).

    `endpoint` narrows the judgment to one endpoint of a whole loaded log (fleet incidents still
    read the whole log); `details` writes every per-endpoint problem to a .parquet or .csv file.
    """
    check_view(view)
    if attempts.row_count == 0:
        raise InputError("no delivery attempts to analyze (check the filters: --endpoint, --since, --until)")
    engine = DuckDBEngine(attempts.conn, attempts.name)
    table, subject = attempts.name, attempts.subject()
    if endpoint:
        scope = f"SELECT * FROM {attempts.name} WHERE endpoint = {sql_literal(endpoint)}"  # noqa: S608 - quoted
        attempts.conn.execute(f"CREATE OR REPLACE TEMP VIEW {SCOPE} AS {scope}")
        if not engine.value(f"SELECT count(*) FROM {SCOPE}"):  # noqa: S608 - internal name
            raise InputError(f"no delivery attempts to analyze for endpoint {endpoint!r} (check the filters: "
                             "--endpoint, --since, --until)", field="--endpoint")
        table, subject = SCOPE, f"endpoint {endpoint} in {subject}"
        attempts.filters["endpoint"] = endpoint
    judgment = run_all(engine, profile, subject, table=table, fleet_table=attempts.name,
                       view="endpoints" if endpoint else view, details_path=details,
                       import_facts={"exports": attempts.exports})
    judgment.metrics["profile_choice"] = {"name": profile.name, "label": profile.label, "reason": profile_reason}
    return _outcome(judgment, subject, attempts)


def _outcome(judgment: LogJudgment, subject: str, attempts: AttemptTable | None) -> Outcome:
    metrics = dict(judgment.metrics)
    tables = dict(judgment.tables)
    if attempts is None:
        return Outcome(subject=subject, findings=sort_findings(judgment.findings), metrics=metrics, tables=tables,
                       kind="delivery-log")
    metrics["import"] = {
        "sources": attempts.sources,
        "rows": attempts.row_count,
        "problem_total": attempts.problem_total,
        "problems": [
            {"file": p.file, "line": p.line, "column": p.column, "reason": p.reason} for p in attempts.problems
        ],
        "filters": {k: v for k, v in attempts.filters.items() if v is not None},
        "source_queries": attempts.source_queries,
    }
    if attempts.problems:
        tables["Rows not imported"] = [
            {"file": p.file, "line": p.line, "reason": p.reason} for p in attempts.problems[:MAX_PROBLEM_ROWS]
        ]
    return Outcome(
        subject=subject,
        findings=sort_findings(judgment.findings),
        metrics=metrics,
        tables=tables,
        kind="delivery-log",
    )


def analyze_logs(
    sources: Sequence[str] = (),
    *,
    config: Config | None = None,
    profile: SenderProfile | str | None = None,
    source_format: str = "auto",
    mapping: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    table: str | None = None,
    query: str | None = None,
    naive_is_utc: bool = False,
    strict: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    engine: str = "duckdb",
    view: str = "auto",
    details: str | None = None,
    spark_master: str | None = None,
    database_policy: DatabasePolicy = OPERATOR,
) -> Outcome:
    """Load the sources (files or database URLs) and analyze them under a sender profile."""
    config = config or load_config()
    if not isinstance(profile, SenderProfile):
        config.profile(profile)  # an unknown name fails before any file is read
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}", field="--engine")
    check_view(view)
    if details:
        check_details_path(details)
    if not sources and not (engine == "spark" and table):  # a Spark table needs no source
        url = config.get("logs", "url") or ""
        if not url:
            raise InputError("give a delivery-log file or database URL (or set [logs] url in diagnostics.toml)")
        sources = [url]
    if not query and any(is_database_url(s) for s in sources):
        table = table or config.get("logs", "table") or None
    config.override("engines", "spark_master", spark_master)
    if engine != "duckdb":
        chosen = profile if isinstance(profile, SenderProfile) else config.profile(profile)
        return _analyze_elsewhere(engine, list(sources), config=config, profile=chosen, mapping=mapping,
                                  endpoint=endpoint, since=since, until=until, table=table, query=query,
                                  view=view, details=details, database_policy=database_policy)
    pushed_down = any(is_database_url(s) for s in sources)
    attempts = load_attempts(
        list(sources),
        source_format=source_format,
        mapping=mapping,
        endpoint=endpoint if pushed_down else None,
        since=since,
        until=until,
        table=table,
        query=query,
        naive_is_utc=naive_is_utc,
        strict=strict,
        max_file_bytes=max_file_bytes,
        database_policy=database_policy,
    )
    try:
        if isinstance(profile, SenderProfile):
            chosen, reason = profile, "chosen by the user"
        else:
            name, reason = choose_profile(profile, attempts.formats)
            chosen = config.profile(name)
        return analyze_attempts(attempts, chosen, endpoint=None if pushed_down else endpoint, view=view,
                                details=details, profile_reason=reason)
    finally:
        attempts.conn.close()


def _analyze_elsewhere(name: str, sources: list[str], *, config: Config, profile: SenderProfile,
                       view: str, details: str | None, database_policy: DatabasePolicy,
                       **source: object) -> Outcome:
    """Run the analyzers on another engine (inside PostgreSQL, on Spark): only aggregates come back."""
    module = importlib.import_module(ENGINES[name])
    if name == "database":
        source["database_policy"] = database_policy
    engine = module.open_engine(sources, config=config, **source)
    try:
        subject = engine.subject() if hasattr(engine, "subject") else ", ".join(sources)
        judgment = run_all(engine, profile, subject, table=engine.table, view=view, details_path=details)
        judgment.metrics["engine"] = name
        if hasattr(engine, "import_metrics"):
            judgment.metrics["import"] = engine.import_metrics()
        return _outcome(judgment, subject, None)
    finally:
        engine.close()
