"""``ServerContext``: the state one emulator shares between its routes and sessions.

Thread affinity: created by ``EmulatorServer`` on the caller's thread, then
used on the server's event-loop thread; ``options`` may be replaced from any
thread (a single attribute swap of a frozen dataclass), so readers always call
``context.options`` for the current value instead of keeping a copy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .auth_tokens import TokenStore
from .handles import HandleStore
from .options import EmulatorOptions
from .records import SessionRegistry
from .voice import Synthesizer

if TYPE_CHECKING:
    from .channel import Channel


@dataclass
class ServerContext:
    """Shared state of one running emulator."""

    api_key: str
    options: EmulatorOptions
    clock: Callable[[], float]
    executor: ThreadPoolExecutor
    synthesizer: Synthesizer = field(default_factory=Synthesizer)
    tokens: TokenStore = field(default_factory=TokenStore)
    handles: HandleStore = field(default_factory=HandleStore)
    registry: SessionRegistry = field(default_factory=SessionRegistry)
    active: set["Channel"] = field(default_factory=set)
