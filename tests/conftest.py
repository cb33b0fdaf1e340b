"""Fixtures every test area may use: the real PostgreSQL server lives in tests/support."""

pytest_plugins = ["tests.support.postgres"]
