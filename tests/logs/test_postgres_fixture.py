"""The shared PostgreSQL fixture starts a real server that answers SQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.mark.postgres
def test_postgres_fixture_answers_sql(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table if not exists fixture_probe (n int)"))
        conn.execute(sa.text("insert into fixture_probe values (41), (1)"))
        total = conn.execute(sa.text("select sum(n) from fixture_probe")).scalar_one()
        version = conn.execute(sa.text("show server_version")).scalar_one()
        conn.execute(sa.text("drop table fixture_probe"))
    engine.dispose()
    assert total == 42
    assert version.split(".")[0].isdigit()
    assert "127.0.0.1" in postgres_url
