"""Alembic environment: migrates the database given as ``sqlalchemy.url``."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from bot.store.models import Base

config = context.config


def run_migrations_online() -> None:
    connectable = sa.create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations_online()
