"""ICE consent freshness that a starved host does not mistake for a closed tab.

aiortc's ICE library (aioice 0.13) checks consent (RFC 7675) every ~5 s with a single
STUN request given 0.5 s to be answered, and closes the connection after
``CONSENT_FAILURES`` (6) misses in a row: ~30 s in which no check was answered within
half a second. RFC 7675 means "no response for 30 s"; on a loaded host (the app's and the
browser's threads descheduled for seconds) six half-second windows in a row are missed
while both ends are alive and media still flows. Measured here (issue 33): at load ~12
with two busy loops, "Consent to send expired" ended a call whose browser kept sending.

The call does not need it to notice a browser that left: a closed tab drops its Streamlit
connection (``livechat.voice.presence``), and a dead media path leaves no frames, which the
stall bound ends (``livechat.voice.stream``). So consent is kept as a late backstop:
``CONSENT_MISSES`` misses in a row (about two minutes) instead of six.

``relax_consent_checks()`` sets it once per process (idempotent; any thread) and raises
``ConsentPatchError`` if aioice no longer has the constant it relies on.
"""

from __future__ import annotations

import aioice.ice as _ice

__all__ = ["CONSENT_MISSES", "ConsentPatchError", "relax_consent_checks"]

CONSENT_MISSES = 24  # x ~5 s between checks: ~2 min without one answered in time


class ConsentPatchError(RuntimeError):
    """aioice no longer has (or uses) ``CONSENT_FAILURES``: re-check this patch."""


def relax_consent_checks(misses: int = CONSENT_MISSES) -> None:
    """Let ``misses`` consent checks in a row fail before aioice closes a connection."""
    consent = getattr(getattr(_ice, "Connection", None), "query_consent", None)
    code = getattr(consent, "__code__", None)
    if not isinstance(getattr(_ice, "CONSENT_FAILURES", None), int) or code is None \
            or "CONSENT_FAILURES" not in code.co_names:
        raise ConsentPatchError("aioice.ice.Connection.query_consent no longer reads CONSENT_FAILURES; "
                                "re-check livechat/voice/consent.py against the installed aioice")
    _ice.CONSENT_FAILURES = max(_ice.CONSENT_FAILURES, misses)
