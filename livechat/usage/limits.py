"""The budgets an operator sets: ``[limits]`` in secrets, ``LIVECHAT_<NAME>`` in the environment.

Every limit is optional (unset or blank: no limit). Per analyst per UTC day:
``voice_minutes_per_day``, ``tokens_per_day``, ``tool_calls_per_day``; per call:
``max_call_minutes``; per analyst at once: ``max_concurrent_calls``; for the whole
deployment per UTC day: ``voice_minutes_per_day_total``. Minutes may be fractional;
the counts are whole numbers. 0 is a limit too (nothing of that kind is allowed).

Secrets win over the environment, as for the other settings (``livechat.config``).
Secrets are passed in as a plain mapping; this module never imports Streamlit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ENV_PREFIX", "LIMIT_NAMES", "SECTION", "Limits", "LimitsError", "resolve_limits"]

SECTION = "limits"
ENV_PREFIX = "LIVECHAT_"  # LIVECHAT_VOICE_MINUTES_PER_DAY, LIVECHAT_MAX_CALL_MINUTES, ...
_MINUTES = frozenset({"voice_minutes_per_day", "max_call_minutes", "voice_minutes_per_day_total"})


class LimitsError(ValueError):
    """A limit's value is unusable; the message names the setting and the value."""


@dataclass(frozen=True)
class Limits:
    """The resolved limits; None means no limit of that kind."""

    voice_minutes_per_day: float | None = None
    tokens_per_day: int | None = None
    tool_calls_per_day: int | None = None
    max_call_minutes: float | None = None
    max_concurrent_calls: int | None = None
    voice_minutes_per_day_total: float | None = None

    @property
    def any(self) -> bool:
        """True when at least one limit is set."""
        return any(getattr(self, name) is not None for name in LIMIT_NAMES)

    def items(self) -> list[tuple[str, float | int]]:
        """The limits that are set, as (name, value), in declaration order."""
        return [(name, getattr(self, name)) for name in LIMIT_NAMES if getattr(self, name) is not None]


LIMIT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Limits))


def _parse(name: str, raw: object) -> float | int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    minutes = name in _MINUTES
    kind = "a number of minutes" if minutes else "a whole number"
    if isinstance(raw, bool):
        raise LimitsError(f"{name} must be {kind}, got {raw!r}")
    try:
        value = float(str(raw).strip()) if minutes else _whole(raw)
    except ValueError:
        raise LimitsError(f"{name} must be {kind}, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise LimitsError(f"{name} must be 0 or more, got {raw!r}")
    return value


def _whole(raw: object) -> int:
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError(raw)
        return int(raw)
    return int(str(raw).strip())


def _section(secrets: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        value = secrets.get(SECTION)
    except (KeyError, FileNotFoundError):  # st.secrets without a secrets.toml
        return {}
    return value if isinstance(value, Mapping) else {}


def resolve_limits(secrets: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Limits:
    """The limits from ``secrets[SECTION]``, else ``LIVECHAT_<NAME>``; raises LimitsError.

    An unknown name in the section is refused too: a typo must not leave a budget unset."""
    env = os.environ if env is None else env
    section = _section(secrets)
    unknown = sorted(set(section) - set(LIMIT_NAMES))
    if unknown:
        raise LimitsError(f"[{SECTION}] has unknown setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(LIMIT_NAMES)}")
    values: dict[str, Any] = {}
    for name in LIMIT_NAMES:
        raw = section.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raw = env.get(f"{ENV_PREFIX}{name.upper()}")
        values[name] = _parse(name, raw)
    return Limits(**values)
