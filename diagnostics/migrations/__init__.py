"""Alembic migrations of the case store; `diagnostics.cases.upgrade_schema` runs them to head."""
