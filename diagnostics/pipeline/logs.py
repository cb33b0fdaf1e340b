"""Delivery-log runs: load attempts (the only I/O), judge them, return one Outcome.

`analyze_logs` is what the CLI's `analyze` command, the app's Logs page and Python callers use;
`analyze_attempts` judges a table that is already loaded (the app keeps one per workspace).
With no source given, the database in the [logs] section of diagnostics.toml is read; a
database URL without --table or --query reads the [logs] table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from diagnostics.analyzers import run_all
from diagnostics.config import Config, load_config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, sort_findings
from diagnostics.logs import AttemptTable, load_attempts
from diagnostics.logs.files import DEFAULT_MAX_FILE_BYTES
from diagnostics.logs.sources import is_database_url
from diagnostics.profiles import SenderProfile

MAX_PROBLEM_ROWS = 50


def analyze_attempts(attempts: AttemptTable, profile: SenderProfile) -> Outcome:
    """Judge loaded attempts: findings, metrics (JSON) and tables (reports)."""
    if attempts.row_count == 0:
        raise InputError("no delivery attempts to analyze (check the filters: --endpoint, --since, --until)")
    judgment = run_all(attempts, profile)
    metrics = dict(judgment.metrics)
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
    tables = dict(judgment.tables)
    if attempts.problems:
        tables["Rows not imported"] = [
            {"file": p.file, "line": p.line, "reason": p.reason} for p in attempts.problems[:MAX_PROBLEM_ROWS]
        ]
    return Outcome(
        subject=attempts.subject(),
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
) -> Outcome:
    """Load the sources (files or database URLs) and analyze them under a sender profile."""
    config = config or load_config()
    chosen = profile if isinstance(profile, SenderProfile) else config.profile(profile)
    if not sources:
        url = config.get("logs", "url") or ""
        if not url:
            raise InputError("give a delivery-log file or database URL (or set [logs] url in diagnostics.toml)")
        sources = [url]
    if not query and any(is_database_url(s) for s in sources):
        table = table or config.get("logs", "table") or None
    attempts = load_attempts(
        list(sources),
        source_format=source_format,
        mapping=mapping,
        endpoint=endpoint,
        since=since,
        until=until,
        table=table,
        query=query,
        naive_is_utc=naive_is_utc,
        strict=strict,
        max_file_bytes=max_file_bytes,
    )
    try:
        return analyze_attempts(attempts, chosen)
    finally:
        attempts.conn.close()
