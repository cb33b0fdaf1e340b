"""Shared fixtures of the pipeline tests: a fresh workspace's configuration and its case store."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.cases import CaseStore
from diagnostics.config import Config, load_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(env={"DIAGNOSTICS_WORKSPACE": str(tmp_path / "ws")})


@pytest.fixture
def store(config: Config) -> CaseStore:
    return CaseStore(config.database_url)
