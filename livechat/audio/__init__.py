"""PCM primitives shared by the Live session and the voice bridge: resampling between
browser frames and the Live API's PCM16, and the reply-audio playback buffer.

May import: nothing of livechat but the cross-cutting helpers. It sits below both `live`
(typed questions' reply audio) and `voice` (the WebRTC bridge), so neither points up at the other.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "AudioConversionError": "pcm",
    "BROWSER_RATE": "pcm",
    "DownlinkConverter": "pcm",
    "FRAME_SECONDS": "pcm",
    "PcmStreamResampler": "pcm",
    "REPLY_RATE": "pcm",
    "SESSION_INPUT_RATE": "pcm",
    "UplinkConverter": "pcm",
    "frame_to_mono_pcm16": "pcm",
    "pcm_rms": "pcm",
    "resample_pcm16": "pcm",
    "rms_dbfs": "pcm",
    "samples_per_frame": "pcm",
    "PlaybackBuffer": "playback",
    "PlaybackConfigError": "playback",
    "PlaybackReadError": "playback",
    "PlaybackStats": "playback",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
