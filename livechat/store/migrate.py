"""Schema migrations, run in process when the store opens (MLflow's ``_upgrade_db`` shape).

``upgrade(engine)`` brings the database to the one head revision shipped in
``migrations/versions`` and ``verify(engine)`` refuses a database at any other revision
(one made by a newer release, say) with ``SchemaMismatchError``. An empty database is
simply migrated from the first revision. Several replicas may start together on one
PostgreSQL: a transaction-scoped advisory lock lets one migrate while the others wait.
An SQLite file is copied aside (``<file>.bak-<revision>``) before a migration changes
it, as JupyterHub does.

``python -m livechat.store.migrate`` migrates the configured store once (``deploy/serve``
does this before starting replicas).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

__all__ = ["SchemaMismatchError", "current_revision", "head_revision", "upgrade", "verify"]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_ID = 0x6C697665  # "live": the advisory lock all replicas agree on


class SchemaMismatchError(RuntimeError):
    """The database's schema revision is not the one this release ships."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The single head revision shipped (more than one head is a packaging bug)."""
    heads = ScriptDirectory.from_config(_config()).get_heads()
    if len(heads) != 1:
        raise SchemaMismatchError(f"the store's migrations have {len(heads)} heads, expected one: {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the head revision (a no-op when it is there already)."""
    head = head_revision()
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    current = current_revision(engine)
    if current == head:
        return
    if current is not None and current not in known:
        raise SchemaMismatchError(
            f"the database is at schema revision {current}, which this release does not know "
            "(made by a newer release?); it was left unchanged")
    _backup_sqlite(engine, current)
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    logger.info("Store schema migrated from %s to %s", current or "empty", head)


def verify(engine: Engine) -> None:
    """Raise SchemaMismatchError unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaMismatchError(f"the database is at schema revision {current}, this release needs {head}")


def _backup_sqlite(engine: Engine, current: str | None) -> None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if current is None or not database or database == ":memory:" or not os.path.exists(database):
        return
    target = f"{database}.bak-{current}"
    shutil.copy2(database, target)
    logger.info("Store file copied to %s before migrating", target)


if __name__ == "__main__":  # pragma: no cover - operator entry point
    import tomllib

    from livechat.store.engine import make_engine
    from livechat.store.settings import resolve_store_settings

    logging.basicConfig(level=logging.INFO)
    secrets_file = Path(".streamlit/secrets.toml")
    secrets = tomllib.loads(secrets_file.read_text()) if secrets_file.exists() else {}
    settings = resolve_store_settings(secrets)
    engine = make_engine(settings.url)
    try:
        upgrade(engine)
        verify(engine)
        print(f"Store at {settings.display_url} is at revision {head_revision()}")
    finally:
        engine.dispose()
