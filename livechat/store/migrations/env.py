"""Alembic environment of the store, run in process by ``livechat.store.migrate``.

The caller hands over an open connection (``config.attributes["connection"]``); there is
no alembic.ini and no subprocess. ``render_as_batch`` lets ALTERs run on SQLite (table
copy), and each migration commits on its own (``transaction_per_migration``), so a failed
step leaves the database at the last good revision.
"""

from __future__ import annotations

from alembic import context

from livechat.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only livechat.store.migrate runs this file
    raise RuntimeError("run migrations through livechat.store.migrate, with a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
