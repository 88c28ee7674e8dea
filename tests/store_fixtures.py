"""Store fixtures (a pytest plugin, loaded by tests/conftest.py): every store test runs
against SQLite and a real PostgreSQL.

* ``postgres_server``: one private PostgreSQL per test session (``tests/postgres_server``),
  stopped at the end. When it cannot start, tests that need it fail with the reason
  when ``CI=true`` and skip locally.
* ``store_url``: parametrised ``sqlite`` (a file in the test's tmp dir) and ``postgresql``
  (a fresh database on the session's server).
* ``conversation_store``: a ``ConversationStore`` opened (migrated) on ``store_url``, closed
  after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer, PostgresUnavailable
from tests.requirements_gate import unavailable

ENGINES = ("sqlite", "postgresql")


def _unavailable(reason: str) -> None:
    unavailable(f"PostgreSQL is required: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | str]:
    try:
        server = PostgresServer().start()
    except (PostgresUnavailable, OSError) as exc:
        yield str(exc)  # every test that needs it fails (CI) or skips with this reason
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's PostgreSQL."""
    if isinstance(postgres_server, str):
        _unavailable(postgres_server)
    return postgres_server.new_database()


@pytest.fixture(params=ENGINES)
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def conversation_store(store_url):
    from livechat.store import ConversationStore

    store = ConversationStore.open(store_url)
    try:
        yield store
    finally:
        store.close()
