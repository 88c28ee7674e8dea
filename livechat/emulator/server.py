"""``EmulatorServer``: the Live API emulator on one HTTPS+WSS port, in its own thread.

``start()`` generates TLS material, binds the socket (port 0 allowed), and runs
uvicorn in a named daemon thread with its own event loop; it returns once the
server listens. ``stop()`` closes every open Live session with 1001 "going
away", stops uvicorn, joins the thread (bounded) and removes temporary files.

Thread affinity: ``start``/``stop``/``set_options``/``sessions``/``wait_for``
are called from any thread except the server's own; everything the routes and
sessions do runs on the server thread's event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import uvicorn

from .app import build_app
from .context import ServerContext
from .errors import EmulatorStartError
from .options import EmulatorOptions
from .tls import TlsMaterial, generate_tls_material, server_ssl_context
from .transport import make_ws_protocol
from .voice import shared_synthesizer

logger = logging.getLogger(__name__)

THREAD_NAME = "livechat-emulator"
_START_TIMEOUT_S = 15.0
_GOING_AWAY_REASON = "going away"


class _RedactQueryStrings(logging.Filter):
    """Cut query strings out of uvicorn's log lines: they may carry ``key=`` or ``access_token=``."""

    _QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(self._QUERY.sub("?<redacted>", a) if isinstance(a, str) else a for a in args)
        return True


def _install_log_redaction() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _RedactQueryStrings) for f in target.filters):
            target.addFilter(_RedactQueryStrings())


class _NotifyingServer(uvicorn.Server):
    """A uvicorn server that signals a ``threading.Event`` once it listens."""

    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started_event = started
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        self._started_event.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Idle keep-alive TLS connections wait for the client's close_notify, which an
        # idle pooled client never sends: uvicorn would then sit out its whole graceful
        # timeout. Ask every connection to finish, give it a moment, then drop the rest.
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await asyncio.sleep(0.1)
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        await super().shutdown(sockets=sockets)


class EmulatorServer:
    """A local Live API server speaking the real wire protocol (see the package docstring)."""

    def __init__(self, api_key: str = "test-key", *, options: EmulatorOptions | None = None,
                 host: str = "127.0.0.1", port: int = 0, cert_dir: str | Path | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if not isinstance(api_key, str) or not api_key or api_key.startswith("auth_tokens/"):
            raise ValueError("api_key must be a non-empty string that is not an auth token name")
        self._api_key = api_key
        self._options = options or EmulatorOptions()
        self._host = host
        self._requested_port = port
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._clock = clock or time.time
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._server: _NotifyingServer | None = None
        self._context: ServerContext | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._temp_dir: Path | None = None
        self._tls: TlsMaterial | None = None
        self._port: int | None = None
        self._thread_error: BaseException | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "EmulatorServer":
        """Start listening (idempotent); return ``self``. Raises ``EmulatorStartError``."""
        with self._lock:
            if self._thread is not None:
                return self
            self._temp_dir = Path(tempfile.mkdtemp(prefix="livechat-emulator-"))
            try:
                self._start_locked()
            except BaseException:
                self._cleanup_files()
                raise
            return self

    def _start_locked(self) -> None:
        assert self._temp_dir is not None
        self._tls = generate_tls_material(self._temp_dir, self._cert_dir, hosts=(self._host,))
        sock = bind_listening_socket(self._host, self._requested_port)
        self._port = sock.getsockname()[1]
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{THREAD_NAME}-voice")
        self._context = ServerContext(api_key=self._api_key, options=self._options, clock=self._clock,
                                      executor=self._executor, synthesizer=shared_synthesizer())
        ssl_context = server_ssl_context(self._tls)
        _install_log_redaction()
        config = uvicorn.Config(
            build_app(self._context), lifespan="off", log_config=None, access_log=False,
            log_level=None, ws=make_ws_protocol(lambda: self.options.pong_delay_s),
            ssl_context_factory=lambda _config, _default: ssl_context,
            timeout_graceful_shutdown=2, ws_per_message_deflate=True)
        started = threading.Event()
        self._server = _NotifyingServer(config, started)
        self._thread = threading.Thread(target=self._run, args=(sock,), name=THREAD_NAME, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not started.wait(0.05):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                error = self._thread_error
                self._thread.join(timeout=2.0)
                self._thread = None
                self._shutdown_executor()
                raise EmulatorStartError(
                    f"the emulator did not start listening on {self._host}:{self._port} "
                    f"within {_START_TIMEOUT_S:.0f} s" + (f": {error!r}" if error else ""))
        logger.info("emulator listening on %s", self.base_url)

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from uvicorn on start-up failure included
            self._thread_error = exc
            logger.error("emulator server thread failed: %r", exc)
        finally:
            sock.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Close every session with 1001, stop uvicorn, join the thread, remove temp files."""
        with self._lock:
            thread, server = self._thread, self._server
            if thread is None or server is None:
                self._cleanup_files()
                return
            if server.loop is not None and thread.is_alive():
                future = asyncio.run_coroutine_threadsafe(self._close_sessions(), server.loop)
                try:
                    future.result(timeout=max(0.1, timeout / 2))
                except (concurrent.futures.TimeoutError, RuntimeError):
                    logger.warning("emulator sessions did not all close within %.1f s", timeout / 2)
            server.should_exit = True
            thread.join(timeout=timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout=1.0)
                if thread.is_alive():
                    logger.warning("emulator thread %s still alive after stop(%.1f)", thread.name, timeout)
            self._thread = None
            self._shutdown_executor()
            self._cleanup_files()

    async def _close_sessions(self) -> None:
        assert self._context is not None
        channels = list(self._context.active)
        await asyncio.gather(*(channel.close(1001, _GOING_AWAY_REASON, "server stopping") for channel in channels),
                             return_exceptions=True)

    def _shutdown_executor(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _cleanup_files(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ------------------------------------------------------------ properties and introspection

    @property
    def base_url(self) -> str:
        """``https://HOST:PORT`` (the SDK's ``base_url``); requires ``start()``."""
        if self._port is None:
            raise RuntimeError("EmulatorServer.base_url needs start() first")
        host = f"[{self._host}]" if _is_ipv6(self._host) else self._host
        return f"https://{host}:{self._port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmulatorServer.port needs start() first")
        return self._port

    @property
    def ca_file(self) -> str:
        """Path of the CA certificate PEM clients must trust; requires ``start()``."""
        if self._tls is None:
            raise RuntimeError("EmulatorServer.ca_file needs start() first")
        return str(self._tls.ca_file)

    @property
    def options(self) -> EmulatorOptions:
        """The current options (the context's copy once started)."""
        return self._context.options if self._context is not None else self._options

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def synthesis_engine(self) -> str:
        """"espeak-ng" or "tones": how reply audio is made on this machine."""
        return (self._context.synthesizer if self._context else shared_synthesizer()).engine

    def set_options(self, **changes: Any) -> EmulatorOptions:
        """Apply option changes for new connections and the next checks; return the new options."""
        new = self.options.replace(**changes)
        self._options = new
        if self._context is not None:
            self._context.options = new  # one attribute swap: readers see old or new, never a mix
        return new

    def sessions(self) -> list[dict]:
        """Session records, oldest first (same as ``GET /emulator/sessions``)."""
        return self._context.registry.snapshot() if self._context is not None else []

    def tokens(self) -> list[dict]:
        """Minted tokens with their bookkeeping (same as ``GET /emulator/tokens``)."""
        return self._context.tokens.snapshot() if self._context is not None else []

    def wait_for(self, predicate: Callable[[list[dict]], Any], timeout: float = 5.0) -> list[dict]:
        """Wait until ``predicate(sessions())`` is true; return that snapshot.

        An ``IndexError``/``KeyError`` from the predicate counts as "not yet".
        Raises ``TimeoutError`` (its ``sessions`` attribute holds the last
        snapshot) when ``timeout`` passes. Wakes on every record change, no polling.
        """
        if self._context is None:
            raise RuntimeError("EmulatorServer.wait_for needs start() first")
        registry = self._context.registry
        deadline = time.monotonic() + timeout
        while True:
            version = registry.version
            snapshot = registry.snapshot()
            try:
                done = predicate(snapshot)
            except (IndexError, KeyError):  # e.g. ``s[0]["ended"]`` before the first session exists
                done = False
            if done:
                return snapshot
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                error = TimeoutError(f"condition not met within {timeout} s; sessions: {snapshot!r:.4000}")
                error.sessions = snapshot  # type: ignore[attr-defined]
                raise error
            registry.wait_for_change(version, remaining)


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), ready for uvicorn.

    Raises ``EmulatorStartError`` when the address cannot be bound.
    """
    family = socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
    # (base_events._set_nodelay), and accepted sockets inherit the listener's proto. With
    # proto 0 Nagle's algorithm stayed on, and each small reply message waited for the
    # client's next packet to carry the ACK (15-20 ms; 40 ms with no uplink traffic).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmulatorStartError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    return sock


def _is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False
