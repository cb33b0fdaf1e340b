"""Analysis engines: where the delivery-log analyzers' SQL runs.

`ENGINES` names each engine and the module that builds it; modules load only when chosen, so the
default path never imports Spark (or sqlglot). Recipe for a new engine: a module with an `Engine`
subclass (`base.py`), a line here, its dialect's features checked by
`tests/engines/test_portable_sql.py`, and a line in ARCHITECTURE.md.
"""

from __future__ import annotations

ENGINES: dict[str, str] = {
    "duckdb": "diagnostics.engines.embedded",
    "database": "diagnostics.engines.postgres",
    "spark": "diagnostics.engines.spark",
}
