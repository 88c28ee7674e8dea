"""The running app's service configuration, and the built-in offline emulator.

``service_config()`` is what the operator configured (``st.secrets`` + environment).
When that names neither a key nor a base URL, ``effective_service_config()`` starts the
local Live API emulator once per server process (``offline_emulator()``) and returns a
configuration pointing at it, authenticated with a random per-process key.

Secrets stay on the server: the emulator key and any configured key live only in the
``ServiceConfig`` objects returned here (``repr`` hides them), never in session state,
query parameters, page elements or logs (the key is registered with ``livechat.redact``).

Called on session script threads; the emulator is shared by all sessions and stopped by
``stop_offline_emulator()`` (tests), when the resource cache is cleared, or at exit.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from livechat import redact
from livechat.config import ServiceConfig, resolve_service_config
from livechat.emulator import EmulatorOptions, EmulatorServer
from livechat.emulator.errors import EmulatorOptionsError

logger = logging.getLogger(__name__)

_EMULATOR_STOP_TIMEOUT_S = 5.0
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """Give ``livechat`` loggers a handler and mask secrets on every root handler.

    Streamlit configures only its own ``streamlit`` logger; without this our records
    would go to Python's last-resort handler, which no redaction filter sees.
    Idempotent: call it at the top of every run of ``app.py``.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        root.addHandler(handler)
    if logging.getLogger("livechat").level == logging.NOTSET:
        logging.getLogger("livechat").setLevel(logging.INFO)
    redact.install_redaction()


def secrets_mapping() -> Mapping[str, Any]:
    """``st.secrets`` as a plain dict, or an empty one when no secrets.toml exists."""
    try:
        return st.secrets.to_dict()
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        # No secrets file is a normal setup (environment variables or offline mode).
        return {}


def service_config() -> ServiceConfig:
    """The configured service: secrets win over environment variables of the same name.

    Raises ``livechat.config.ConfigError`` for an unusable value (e.g. an unreadable CA file).
    """
    return resolve_service_config(secrets_mapping(), os.environ)


def ice_server_count() -> int:
    """How many ICE servers ``st.secrets["ice_servers"]`` lists (0 when none); no credentials read."""
    servers = secrets_mapping().get("ice_servers")
    if isinstance(servers, Mapping):  # a single [ice_servers] table rather than an array
        return 1
    if isinstance(servers, (list, tuple)):
        return len(servers)
    return 0


class _RunningEmulator:
    """One started EmulatorServer and its per-process key; ``stop()`` is idempotent.

    Created on the first session's script thread; ``stop()`` may run on any thread
    (cache release, atexit, a test's teardown).
    """

    def __init__(self, server: EmulatorServer, api_key: str) -> None:
        self.server = server
        self.api_key = api_key
        self.base_url: str = server.base_url
        self.ca_file: str | None = server.ca_file
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        logger.info("Stopping the offline emulator at %s", self.base_url)
        self.server.stop()


# Emulators this process started and has not stopped: lets diagnostics and tests ask
# "is one running?" without starting one (the resource cache cannot be peeked).
_registry_lock = threading.Lock()
_running: list[_RunningEmulator] = []


def _release(emulator: _RunningEmulator) -> None:
    with _registry_lock:
        if emulator in _running:
            _running.remove(emulator)
    emulator.stop()


# How fast the built-in emulator speaks (words a minute): its natural rate unless the
# environment says otherwise; the test suite speaks faster, every reply being heard in
# real time.
EMULATOR_SPEECH_ENV = "LIVECHAT_EMULATOR_SPEECH_WPM"


def offline_emulator_options(environ: Mapping[str, str] = os.environ) -> EmulatorOptions:
    """The built-in emulator's options: real-time replies at ``LIVECHAT_EMULATOR_SPEECH_WPM``.

    An unusable rate is logged and the natural one used: it only changes how a test
    server's voice sounds."""
    raw = environ.get(EMULATOR_SPEECH_ENV, "").strip()
    if raw:
        try:
            return EmulatorOptions(realtime=True, speech_wpm=int(raw))
        except (ValueError, EmulatorOptionsError) as exc:
            logger.warning("%s=%r ignored: %s", EMULATOR_SPEECH_ENV, raw, exc)
    return EmulatorOptions(realtime=True)


@st.cache_resource(show_spinner="Starting the offline emulator…", on_release=_release)
def _offline_emulator_resource() -> _RunningEmulator:
    key = secrets.token_hex(24)
    redact.register_secret(key)
    server = EmulatorServer(api_key=key, options=offline_emulator_options())
    server.start()
    emulator = _RunningEmulator(server, key)
    with _registry_lock:
        _running.append(emulator)
    # Streamlit does not promise to release cached resources at shutdown.
    atexit.register(_release, emulator)
    logger.info("Offline emulator listening at %s", emulator.base_url)
    return emulator


def offline_emulator(configured: ServiceConfig | None = None) -> ServiceConfig:
    """Start (once per server process) the local emulator; return a config pointing at it.

    The model comes from ``configured`` (default: ``service_config()``), so GEMINI_MODEL
    still applies offline. The key is random per process and known only to the server.
    """
    base = configured if configured is not None else service_config()
    emulator = _offline_emulator_resource()
    return dataclasses.replace(
        base, api_key=emulator.api_key, base_url=emulator.base_url, ca_file=emulator.ca_file
    )


def effective_service_config() -> ServiceConfig:
    """The configured service, or the offline emulator when nothing is configured."""
    configured = service_config()
    return offline_emulator(configured) if configured.offline else configured


def running_emulator_urls() -> tuple[str, ...]:
    """Base URLs of emulators this process started and has not stopped (starts none)."""
    with _registry_lock:
        return tuple(e.base_url for e in _running if not e.stopped)


def stop_offline_emulator() -> None:
    """Stop the offline emulator if one runs; the next ``offline_emulator()`` starts a new one."""
    _offline_emulator_resource.clear()
    with _registry_lock:
        leftovers = list(_running)
    for emulator in leftovers:  # e.g. a cache entry already dropped without release
        _release(emulator)


def ensure_offline_emulator(configured: ServiceConfig) -> str | None:
    """Start the emulator when ``configured`` is offline; return None or why it could not start.

    For the app shell: a failed start is logged with its traceback and becomes one
    sentence for the sidebar, so the Data page still works without voice.
    """
    if not configured.offline:
        return None
    try:
        offline_emulator(configured)
    except Exception:
        logger.exception("The offline emulator did not start")
        return "The offline emulator did not start, so voice is unavailable. The details are in the server log."
    return None
