"""The engines under test: DuckDB (the oracle), the suite's real PostgreSQL, one local SparkSession."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.services import missing_service


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for every Spark test (skipped locally, failed in CI, without pyspark or Java)."""
    if importlib.util.find_spec("pyspark") is None:
        missing_service("pyspark is not installed (pip install -r requirements-spark.txt)")
    if shutil.which("java") is None:
        missing_service("Java is not installed (run scripts/system-deps)")
    from diagnostics.engines.spark import session

    yield session("local[2]")
