"""Log redaction: masks API keys and ephemeral token names in every log record.

Secrets reach logs through third-party code too: websockets logs the ``Authorization:
Token auth_tokens/...`` header at DEBUG, httpx logs request URLs, and exception texts can
quote request bodies. ``RedactingFilter`` rewrites a record's final message (and its
formatted traceback) before any handler writes it. Install it on handlers, not on loggers:
a logger's filters do not see records propagated from child loggers.

Masked: every value passed to ``register_secret`` (the configured API key), anything shaped
like a Google API key (``AIza`` + 35 characters) and any ``auth_tokens/<name>``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "***"
# Shorter strings would mask ordinary words (and an empty string would match everywhere).
MIN_SECRET_LENGTH = 6

_PATTERNS = (
    re.compile(r"auth_tokens/[A-Za-z0-9._~+/=-]+"),
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Mask ``value`` in every log record from now on. Any thread; idempotent."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with registered secrets, ``extra`` values, API keys and token names masked."""
    with _lock:
        secrets = sorted(_secrets.union(s for s in extra if len(s) >= MIN_SECRET_LENGTH),
                         key=len, reverse=True)
    # Longest first, so a secret that contains another is masked whole.
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub("auth_tokens/" + MASK, text)
    return _PATTERNS[1].sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A ``logging.Filter`` that masks secrets in the record; never drops a record.

    Runs on whichever thread logs. It formats the message once (``msg % args``), masks it
    and stores the result with ``args = None`` so later formatting cannot reintroduce a
    secret from an argument. Tracebacks are formatted into ``exc_text`` and masked too.
    """

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._extra = tuple(extra_secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact_text(message, self._extra)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self._extra)
            # The formatter uses exc_text when set; exc_info alone would be re-formatted raw.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self._extra)
        return True


def install_redaction(
    handlers: Iterable[logging.Handler] | None = None,
) -> RedactingFilter:
    """Attach one ``RedactingFilter`` to ``handlers`` (default: the root logger's handlers).

    Idempotent per handler. Call it after logging is configured (the app does, at start-up).
    """
    targets = list(logging.getLogger().handlers if handlers is None else handlers)
    chosen: RedactingFilter | None = None
    for handler in targets:
        existing = next((f for f in handler.filters if isinstance(f, RedactingFilter)), None)
        if existing is not None:
            chosen = chosen or existing
    chosen = chosen or RedactingFilter()
    for handler in targets:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(chosen)
    return chosen
