"""Objects shared by every session, by key, for exactly as long as some session holds them.

``st.cache_resource`` keeps up to N values alive after every session moved on: for a
parsed table (hundreds of MB of shared files) or a ToolBox (that table plus its SQL
worker process) that is memory no analyst uses. ``WeakShared`` hands the same object to
every session asking for the same key while any of them (or a running tool call) still
holds it, and forgets it the moment the last one lets go.

Any thread (guarded by a lock).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["WeakShared"]

T = TypeVar("T")


class WeakShared(Generic[T]):
    """Values by key, held weakly: the callers keep them alive, not this registry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: dict[str, weakref.ref[T]] = {}
        # One ``make`` at a time per registry: two sessions asking for the same new value
        # get one, and two big makes (a parse, a decode, a worker start) never add up.
        self._making = threading.Lock()

    def get(self, key: str) -> T | None:
        """The value under ``key`` while someone holds it, else None."""
        with self._lock:
            ref = self._refs.get(key)
            return ref() if ref is not None else None

    def put(self, key: str, value: T) -> None:
        """Share ``value`` under ``key`` (replacing whatever was there)."""

        def forget(ref: weakref.ref[T]) -> None:
            with self._lock:
                if self._refs.get(key) is ref:
                    del self._refs[key]

        with self._lock:
            self._refs[key] = weakref.ref(value, forget)

    def get_or_make(self, key: str, make: Callable[[], T]) -> T:
        """The value under ``key`` while someone holds it, else ``make()``'s, shared from now on.

        ``make`` runs under this registry's make lock (checked again inside it); what it
        raises propagates and nothing is shared."""
        value = self.get(key)
        if value is not None:
            return value
        with self._making:
            value = self.get(key)
            if value is None:
                value = make()
                self.put(key, value)
            return value

    def keys(self) -> list[str]:
        """The keys whose values are still held (diagnostics and tests)."""
        with self._lock:
            return [key for key, ref in self._refs.items() if ref() is not None]
