"""Lazy package exports: a stage package names its public API without importing it all.

Each stage package's ``__init__`` maps public names to the module that defines them.
Importing ``livechat.tools`` then costs nothing until a name is used, which matters for
the SQL worker process (it boots from ``livechat.tools.sql_worker`` and must not load
Altair or the Live SDK) and keeps start-up of light callers (the emulator CLI, scripts)
fast. ``from livechat.tools import ToolBox`` works as usual (PEP 562).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for *package*, resolving ``name -> submodule`` on first use."""

    def __getattr__(name: str) -> object:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
