"""Alembic environment: runs on the connection the case store hands over (no alembic.ini).

`diagnostics.cases.upgrade_schema` puts an open connection in `config.attributes["connection"]`;
running `alembic` by hand works too with `-x url=...`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from diagnostics.cases import Base

target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=sqlite:///path/cases.db upgrade head")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


run_migrations_online()
