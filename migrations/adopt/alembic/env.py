"""Alembic environment of the adoption tests' project: online against
DATABASE_URL (or sqlalchemy.url), offline (--sql) as Alembic writes it."""
import os

from alembic import context
from sqlalchemy import create_engine

config = context.config
url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url).connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
