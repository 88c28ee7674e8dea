"""Where the store is: secrets win over the environment; SQLite under the data directory
by default; retention 0 keeps nothing on disk; a password never shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from livechat.store.settings import StoreSettingsError, resolve_store_settings


def test_default_is_an_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = resolve_store_settings({}, {}, cwd=tmp_path)
    assert settings.url == f"sqlite:///{tmp_path / '.livechat' / 'livechat.db'}"
    assert settings.retention_days == 30 and settings.keep_s == 30 * 86400
    assert resolve_store_settings({}, {"LIVECHAT_DATA_DIR": "/srv/lc"}).url == "sqlite:////srv/lc/livechat.db"


def test_secrets_connection_wins_over_the_environment() -> None:
    secrets = {"connections": {"livechat": {"url": "postgresql+psycopg://app:hunter2@db/live"}},
               "livechat": {"retention_days": 7}}
    settings = resolve_store_settings(secrets, {"LIVECHAT_DATABASE_URL": "sqlite:////x.db",
                                                "LIVECHAT_RETENTION_DAYS": "90"})
    assert settings.url.startswith("postgresql+psycopg://app:hunter2@db/")
    assert settings.retention_days == 7
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.display_url


def test_retention_zero_keeps_nothing_on_disk() -> None:
    settings = resolve_store_settings({}, {"LIVECHAT_RETENTION_DAYS": "0",
                                           "LIVECHAT_DATABASE_URL": "postgresql+psycopg://db/x"})
    assert settings.in_memory and settings.url == "sqlite://" and settings.keep_s == 7200


@pytest.mark.parametrize("env", [{"LIVECHAT_RETENTION_DAYS": "-1"}, {"LIVECHAT_RETENTION_DAYS": "a week"},
                                 {"LIVECHAT_DATABASE_URL": "not a url"}])
def test_unusable_settings_are_named(env: dict[str, str]) -> None:
    with pytest.raises(StoreSettingsError):
        resolve_store_settings({}, env)
