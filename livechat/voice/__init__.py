"""Stage 5: one browser session's WebRTC audio joined to one Live session.

``VoiceBridge`` (``bridge``) is the face; its parts: ``uplink`` (microphone frames to the
session, in chunks), ``downlink`` (20 ms reply frames to the browser), ``track`` and
``pacing`` (the outgoing track: each frame filled at its deadline on a steady grid, handed
straight to the sender), ``reply`` (reply audio queued, resampled once into playback on
the track's thread, the last reply kept), ``trace`` (stage marks for the latency
benchmark, opt-in), ``stream`` (the WebRTC stream's state and when it dropped), ``watchdog`` (the thread that notices a closed tab), ``sessions`` (one Live
session at a time), ``wav`` and ``errors``.

May import: live, audio and below.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "VoiceBridge": "bridge",
    "BridgeStats": "bridge",
    "BADGE_STATES": "bridge",
    "SessionFactory": "sessions",
    "TaggedEvent": "sessions",
    "BridgeClosedError": "errors",
    "BridgeConfigError": "errors",
    "DOWNLINK_RATE": "downlink",
    "DEFAULT_UPLINK_CHUNK_MS": "uplink",
    "STREAM_DROPPED_MESSAGE": "stream",
    "STREAM_STALLED_MESSAGE": "stream",
    "STREAM_GONE_MESSAGE": "stream",
    "BrowserSignals": "presence",
    "UplinkGaps": "gaps",
    "voice_ledger": "gaps",
    "pcm16_wav": "wav",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
