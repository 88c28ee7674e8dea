"""Stage 5: one browser session's WebRTC audio joined to one Live session.

May import: live, audio and below.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "VoiceBridge": "bridge",
    "SessionFactory": "bridge",
    "TaggedEvent": "bridge",
    "BridgeStats": "bridge",
    "BridgeClosedError": "bridge",
    "BridgeConfigError": "bridge",
    "DOWNLINK_RATE": "bridge",
    "BADGE_STATES": "bridge",
    "pcm16_wav": "bridge",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
