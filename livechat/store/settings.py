"""Where the store is and how long it keeps things, from secrets and the environment.

Follows Streamlit's ``st.connection("sql")`` convention: ``[connections.livechat] url``
in ``secrets.toml`` (Streamlit's ``SQLConnection`` reads ``[connections.<name>]``), or
``LIVECHAT_DATABASE_URL``. Without either, an SQLite file ``livechat.db`` in the data
directory (``LIVECHAT_DATA_DIR``, default ``.livechat/`` in the working directory,
created on first use). ``retention_days`` (``[livechat] retention_days`` or
``LIVECHAT_RETENTION_DAYS``, default 30): conversations not touched for that long are
deleted; 0 keeps nothing on disk (an in-process database, records kept two hours, as
before the store existed).

Secrets are passed in as a plain mapping; this module never imports Streamlit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_RETENTION_DAYS",
    "MEMORY_TTL_S",
    "RETENTION_ENV",
    "StoreSettings",
    "StoreSettingsError",
    "resolve_store_settings",
]

DATABASE_URL_ENV = "LIVECHAT_DATABASE_URL"
DATA_DIR_ENV = "LIVECHAT_DATA_DIR"
RETENTION_ENV = "LIVECHAT_RETENTION_DAYS"
DEFAULT_DATA_DIR = ".livechat"
DEFAULT_RETENTION_DAYS = 30
DB_FILE = "livechat.db"
MEMORY_URL = "sqlite://"  # retention 0: one in-process database, gone with the process
MEMORY_TTL_S = 2 * 3600.0  # what records lived in memory for before the store existed
CONNECTION_NAME = "livechat"


class StoreSettingsError(ValueError):
    """A store setting is unusable; the message names the setting (never a password)."""


@dataclass(frozen=True)
class StoreSettings:
    """The resolved store location and retention."""

    url: str = MEMORY_URL
    retention_days: int = DEFAULT_RETENTION_DAYS
    data_dir: Path | None = None

    def __repr__(self) -> str:  # the URL may hold a password: show it masked
        return f"StoreSettings(url={self.display_url!r}, retention_days={self.retention_days})"

    @property
    def in_memory(self) -> bool:
        return self.retention_days == 0

    @property
    def keep_s(self) -> float:
        """How long an untouched conversation is kept, in seconds."""
        return MEMORY_TTL_S if self.in_memory else self.retention_days * 86400.0

    @property
    def display_url(self) -> str:
        """The URL with its password masked (for the page and the log)."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "(unparseable URL)"


def _section(secrets: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    try:
        value = secrets.get(name)
    except Exception:  # st.secrets without a secrets.toml
        return {}
    return value if isinstance(value, Mapping) else {}


def _retention(raw: object) -> int:
    if raw is None or raw == "":
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise StoreSettingsError(f"retention_days must be a whole number of days, got {raw!r}") from None
    if days < 0:
        raise StoreSettingsError(f"retention_days must be 0 or more, got {days}")
    return days


def resolve_store_settings(secrets: Mapping[str, Any], env: Mapping[str, str] | None = None,
                           *, cwd: Path | None = None) -> StoreSettings:
    """The store settings: secrets win over the environment; raises StoreSettingsError."""
    env = os.environ if env is None else env
    retention = _retention(_section(secrets, "livechat").get("retention_days", env.get(RETENTION_ENV)))
    if retention == 0:
        return StoreSettings(url=MEMORY_URL, retention_days=0)
    url = _section(_section(secrets, "connections"), CONNECTION_NAME).get("url") or env.get(DATABASE_URL_ENV)
    if url:
        try:
            make_url(str(url))
        except ArgumentError:
            raise StoreSettingsError(
                f"the database URL ([connections.{CONNECTION_NAME}] url or {DATABASE_URL_ENV}) "
                "is not a SQLAlchemy URL such as postgresql+psycopg://user@host/db") from None
        return StoreSettings(url=str(url), retention_days=retention)
    base = Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    if not base.is_absolute():
        base = (cwd or Path.cwd()) / base
    return StoreSettings(url=f"sqlite:///{base / DB_FILE}", retention_days=retention, data_dir=base)
