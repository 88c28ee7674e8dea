"""Session records: what each Live connection did, for ``GET /emulator/sessions``.

One ``SessionRecord`` per WebSocket connection (refused ones included, with
``ended`` set and its ``detail`` explaining why). The schema is a contract with
the tests and the browser test; add keys, never rename them:

``id, endpoint, auth, token, api_version, model, started_at, client_setup,
effective_setup, audio_in_seconds, audio_in_rate, audio_in_envelope,
audio_out_seconds, turns, tool_calls, interruptions, resumed_from,
history_turns, go_away_sent, server_messages, client_messages, ended,
model_family, model_status, custom_vocabulary, function_behaviors, service_behaviours``

``service_behaviours`` names the service behaviours in force when the connection
opened (``behaviours.Behaviours.active()``). A turn that waited for realtime
input after a tool response (``stall_after_tool_response``) has ``stalled: true``,
and ``stalls`` counts the waits as they begin.

Each ``tool_calls`` entry: ``id, name, args, response, cancelled, behavior
(BLOCKING | NON_BLOCKING), scheduling`` (of a non-blocking call's response).

``ended`` is ``None`` while open, else ``{"reason", "code", "detail"}``: the
close reason and code the client saw (``code`` is ``None`` when the client
went away without one) and the emulator's own explanation.

Thread affinity: records are written on the server's event-loop thread and
read from any thread through ``SessionRegistry.snapshot()``; every access goes
through the registry's condition lock, and every write bumps ``version`` and
wakes ``wait_for_change`` callers.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from typing import Any, Callable

# 20 ms frames at 16 kHz, first 60 s of received audio.
ENVELOPE_MAX_FRAMES = 3000


class SessionRegistry:
    """All session records of one server, oldest first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._records: list[dict] = []
        self._version = 0
        self._next_id = 1

    def create(self, *, endpoint: str, auth: str, api_version: str, path: str) -> "SessionRecord":
        """Add a record for a new connection (server loop thread)."""
        with self._cond:
            record_id = f"session-{self._next_id}"
            self._next_id += 1
            data = {
                "id": record_id, "endpoint": endpoint, "auth": auth, "token": None,
                "api_version": api_version, "path": path, "model": None,
                "started_at": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
                "client_setup": None, "effective_setup": None,
                "audio_in_seconds": 0.0, "audio_in_rate": None, "audio_in_envelope": [],
                "audio_out_seconds": 0.0, "turns": [], "tool_calls": [], "interruptions": 0,
                "resumed_from": None, "history_turns": 0, "go_away_sent": False,
                "server_messages": 0, "client_messages": 0, "ended": None,
                "model_family": None, "model_status": None, "custom_vocabulary": None,
                "function_behaviors": {}, "service_behaviours": [], "stalls": 0,
            }
            self._records.append(data)
            self._bump()
        return SessionRecord(self, data)

    def snapshot(self) -> list[dict]:
        """Deep copies of every record (any thread)."""
        with self._cond:
            return copy.deepcopy(self._records)

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until ``version`` changes or ``timeout`` passes; return the current version."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != version, timeout=timeout)
            return self._version

    def update(self, data: dict, change: Callable[[dict], Any]) -> Any:
        """Apply ``change`` to one record's dict under the lock (server loop thread)."""
        with self._cond:
            result = change(data)
            self._bump()
            return result

    def read(self, data: dict, reader: Callable[[dict], Any]) -> Any:
        """Apply ``reader`` to one record's dict under the lock, without signalling a change."""
        with self._cond:
            return reader(data)

    def _bump(self) -> None:
        self._version += 1
        self._cond.notify_all()


class SessionRecord:
    """Typed writes to one record; each method is one atomic update (server loop thread)."""

    def __init__(self, registry: SessionRegistry, data: dict) -> None:
        self._registry = registry
        self._data = data
        self.id: str = data["id"]

    def set(self, **fields: Any) -> None:
        """Set top-level fields (deep-copied, so later mutation by the caller cannot leak in)."""
        copies = {key: copy.deepcopy(value) for key, value in fields.items()}
        self._registry.update(self._data, lambda d: d.update(copies))

    def get(self, key: str) -> Any:
        """Read one field (a deep copy)."""
        return self._registry.read(self._data, lambda d: copy.deepcopy(d.get(key)))

    def add_audio(self, seconds: float, rate: int, envelope: list[float]) -> None:
        def change(d: dict) -> None:
            d["audio_in_seconds"] = round(d["audio_in_seconds"] + seconds, 6)
            d["audio_in_rate"] = rate
            room = ENVELOPE_MAX_FRAMES - len(d["audio_in_envelope"])
            if room > 0:
                d["audio_in_envelope"].extend(envelope[:room])
        self._registry.update(self._data, change)

    def add_audio_out(self, seconds: float) -> None:
        self._registry.update(self._data, lambda d: d.__setitem__(
            "audio_out_seconds", round(d["audio_out_seconds"] + seconds, 6)))

    def add_turn(self, turn: dict) -> None:
        turn = copy.deepcopy(turn)
        self._registry.update(self._data, lambda d: d["turns"].append(turn))

    def add_tool_call(self, call: dict) -> None:
        call = copy.deepcopy(call)
        self._registry.update(self._data, lambda d: d["tool_calls"].append(call))

    def update_tool_call(self, call_id: str, **fields: Any) -> None:
        def change(d: dict) -> None:
            for call in d["tool_calls"]:
                if call["id"] == call_id:
                    call.update(copy.deepcopy(fields))
        self._registry.update(self._data, change)

    def count(self, key: str, amount: int = 1) -> None:
        self._registry.update(self._data, lambda d: d.__setitem__(key, d[key] + amount))

    def end(self, reason: str, code: int | None, detail: str | None = None) -> None:
        """Mark the record ended once; later calls keep the first reason."""
        def change(d: dict) -> None:
            if d["ended"] is None:
                d["ended"] = {"reason": reason, "code": code, "detail": detail or reason}
        self._registry.update(self._data, change)

    @property
    def ended(self) -> bool:
        return self._registry.read(self._data, lambda d: d["ended"] is not None)
