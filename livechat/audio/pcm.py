"""Audio conversion between browser WebRTC frames and the Live API's PCM16 streams.

Uplink: whatever the browser sends (measured here: ``s16`` packed, 48 kHz, stereo,
960 samples per 20 ms frame; other browsers may send mono, 44.1 kHz, ``s16p`` or
``fltp``) becomes 16 kHz mono PCM16 bytes for ``sendRealtimeInput``. Downlink: the
model's 24 kHz mono PCM16 reply becomes WebRTC output frames of an exact length.

All resampling is PyAV's ``av.AudioResampler`` (libswresample behind an FFmpeg filter
graph). Its filter holds a few samples of latency; the streaming converters keep one
resampler alive per stream so that tail is carried into the next frame instead of
being lost, which keeps long streams continuous and their sample count on the rate
ratio.

Threads: ``UplinkConverter`` and ``DownlinkConverter`` are thread-confined: create one
per stream direction and call it only from the thread that runs that stream (the
WebRTC media worker / aiortc loop). The module-level functions are stateless and safe
from any thread.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction

import av
import numpy as np

__all__ = [
    "AudioConversionError",
    "BROWSER_RATE",
    "DownlinkConverter",
    "FRAME_SECONDS",
    "PcmStreamResampler",
    "REPLY_RATE",
    "SESSION_INPUT_RATE",
    "UplinkConverter",
    "frame_to_mono_pcm16",
    "pcm_rms",
    "resample_pcm16",
    "rms_dbfs",
    "s16_frame",
    "samples_per_frame",
]

logger = logging.getLogger(__name__)

SESSION_INPUT_RATE = 16_000  # what the Live API expects from the microphone
REPLY_RATE = 24_000  # what native-audio models send back
BROWSER_RATE = 48_000  # what Chromium's WebRTC stack hands us (and wants back)
FRAME_SECONDS = 0.02  # WebRTC audio ptime: 20 ms

_S16 = 2  # bytes per PCM16 sample

# libswresample spreads mono onto stereo at 1/sqrt(2) per side (-3 dB); the reply
# should play at the level the model sent, on both ears, so undo that gain.
_UPMIX_OPTIONS = {"rematrix_volume": repr(math.sqrt(2.0))}


class AudioConversionError(ValueError):
    """A conversion was asked for with an impossible rate, channel count or size."""


def _check_rate(name: str, rate: int) -> None:
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise AudioConversionError(f"{name} must be a positive integer (Hz), got {rate!r}")


def samples_per_frame(rate: int, seconds: float = FRAME_SECONDS) -> int:
    """Samples per channel in one frame of ``seconds`` at ``rate`` (960 at 48 kHz, 20 ms)."""
    _check_rate("rate", rate)
    return int(round(rate * seconds))


def _packed_s16_bytes(frame: av.AudioFrame) -> bytes:
    """The PCM16 payload of a packed ``s16`` frame, without the plane's alignment padding."""
    n = frame.samples * frame.layout.nb_channels * _S16
    plane = frame.planes[0]
    # A plane's buffer is linesize bytes, which FFmpeg may round up for alignment.
    if plane.buffer_size == n:
        return bytes(plane)
    return bytes(memoryview(plane)[:n])


def s16_frame(
    pcm: bytes | bytearray | memoryview, layout: str, rate: int, channels: int = 1
) -> av.AudioFrame:
    """A packed ``s16`` frame over ``pcm`` (length a whole number of ``channels``-sample sets).

    Filling a fresh frame's plane costs half of ``from_ndarray`` (measured 1.4 vs 3.1 us); the
    downlink calls this 50 times a second per stream on the shared aiortc loop."""
    frame = av.AudioFrame(format="s16", layout=layout, samples=len(pcm) // (_S16 * channels))
    frame.planes[0].update(pcm)
    frame.sample_rate = rate
    return frame


# FFmpeg's default layout for each channel count (av.AudioLayout takes names, not counts).
_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1"}


def _layout_for(channels: int) -> str:
    if isinstance(channels, bool) or channels not in _DEFAULT_LAYOUTS:
        raise AudioConversionError(
            f"channels must be an integer from 1 to {max(_DEFAULT_LAYOUTS)}, got {channels!r}"
        )
    return _DEFAULT_LAYOUTS[channels]


def resample_pcm16(pcm: bytes, from_rate: int, to_rate: int, *, channels: int = 1) -> bytes:
    """Resample a whole interleaved PCM16 chunk to mono PCM16 at ``to_rate`` (any thread).

    Stateless and one-shot: the resampler is flushed, so the output holds every input
    sample (``len ≈ len(pcm) * to_rate / from_rate / channels``). Multi-channel input is
    down-mixed, not just its first channel kept. A trailing partial sample (odd byte,
    incomplete channel set) is ignored. For a continuous stream cut into chunks prefer
    ``PcmStreamResampler``, which does not restart the filter at every chunk edge.
    """
    _check_rate("from_rate", from_rate)
    _check_rate("to_rate", to_rate)
    layout = _layout_for(channels)
    usable = len(pcm) - len(pcm) % (_S16 * channels)
    if usable <= 0:
        return b""
    if channels == 1 and from_rate == to_rate:
        return bytes(pcm[:usable])
    resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
    frame = s16_frame(memoryview(pcm)[:usable], layout, from_rate, channels)
    out = resampler.resample(frame)
    out += resampler.resample(None)
    return b"".join(_packed_s16_bytes(f) for f in out)


class PcmStreamResampler:
    """Streaming bytes→bytes PCM16 resampler for one continuous stream (thread-confined).

    Unlike ``resample_pcm16`` it keeps the filter state between chunks, so chunk edges
    add no clicks and no lost samples; ``flush()`` drains the filter's tail at the end.
    Input is interleaved PCM16 with ``channels`` channels; output is mono PCM16.
    """

    def __init__(self, from_rate: int, to_rate: int, *, channels: int = 1) -> None:
        _check_rate("from_rate", from_rate)
        _check_rate("to_rate", to_rate)
        self._layout = _layout_for(channels)
        self._block = _S16 * channels
        self._from_rate = from_rate
        self._to_rate = to_rate
        self._carry = b""
        self._resampler: av.AudioResampler | None = None

    @property
    def to_rate(self) -> int:
        """Output sample rate (Hz)."""
        return self._to_rate

    def convert(self, pcm: bytes | bytearray | memoryview) -> bytes:
        """Resample the next chunk of the stream; an incomplete sample set waits for the next."""
        data = self._carry + bytes(pcm) if self._carry else pcm
        usable = len(data) - len(data) % self._block
        self._carry = bytes(data[usable:])
        if usable == 0:
            return b""
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self._to_rate)
        frame = s16_frame(
            memoryview(data)[:usable], self._layout, self._from_rate, self._block // _S16
        )
        return b"".join(_packed_s16_bytes(f) for f in self._resampler.resample(frame))

    def flush(self) -> bytes:
        """End of stream: return the filter's remaining samples and start afresh."""
        resampler, self._resampler, self._carry = self._resampler, None, b""
        if resampler is None:
            return b""
        return b"".join(_packed_s16_bytes(f) for f in resampler.resample(None))


def frame_to_mono_pcm16(frame: av.AudioFrame) -> bytes:
    """One frame, any format/layout, as mono PCM16 at the frame's own rate (any thread)."""
    if frame.samples == 0:
        return b""
    if frame.format.name == "s16" and frame.layout.nb_channels == 1:
        return _packed_s16_bytes(frame)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=frame.sample_rate)
    out = resampler.resample(frame)
    out += resampler.resample(None)
    return b"".join(_packed_s16_bytes(f) for f in out)


def pcm_rms(pcm: bytes | bytearray | memoryview) -> float:
    """RMS level of PCM16 audio as a fraction of full scale, 0.0..1.0 (any thread)."""
    usable = len(pcm) - len(pcm) % _S16
    if usable == 0:
        return 0.0
    samples = np.frombuffer(pcm, dtype="<i2", count=usable // _S16).astype(np.float64)
    return min(1.0, float(np.sqrt(np.mean(samples * samples))) / 32768.0)


def rms_dbfs(pcm: bytes | bytearray | memoryview) -> float:
    """RMS level in dBFS, ``-inf`` (silence or empty) .. 0.0 (any thread)."""
    level = pcm_rms(pcm)
    return 20.0 * math.log10(level) if level > 0.0 else -math.inf


class UplinkConverter:
    """Browser WebRTC frames → mono PCM16 bytes at ``target_rate`` (thread-confined).

    Call ``convert`` from the one thread that receives the stream's frames (the
    streamlit-webrtc sink callback / aiortc loop). Format, rate and layout are read
    from each frame; when they change mid-stream the old resampler's tail is flushed
    into the output and a new one is built, so nothing is lost at the switch.
    ``convert`` never raises on a malformed frame: it returns ``b""`` and counts it in
    ``rejected_frames``.
    """

    def __init__(self, *, target_rate: int = SESSION_INPUT_RATE) -> None:
        _check_rate("target_rate", target_rate)
        self._target_rate = target_rate
        self._resampler: av.AudioResampler | None = None
        self._key: tuple[str, str, int] | None = None
        self.frames = 0
        self.rejected_frames = 0

    @property
    def target_rate(self) -> int:
        """Output sample rate (Hz)."""
        return self._target_rate

    def convert(self, frame: av.AudioFrame) -> bytes:
        """Convert one frame; returns the PCM16 mono bytes the resampler produced for it."""
        self.frames += 1
        try:
            key = (frame.format.name, frame.layout.name, frame.sample_rate)
            if frame.samples <= 0 or key[2] <= 0 or frame.layout.nb_channels <= 0:
                self.rejected_frames += 1
                return b""
            head = b""
            if key != self._key:
                head = self._drain()
                self._resampler = av.AudioResampler(
                    format="s16", layout="mono", rate=self._target_rate
                )
                self._key = key
            out = self._resampler.resample(frame)  # type: ignore[union-attr]
        except Exception as exc:  # a broken frame must not kill the media worker
            self.rejected_frames += 1
            if self.rejected_frames == 1 or self.rejected_frames % 500 == 0:
                logger.warning(
                    "uplink: dropped an audio frame it could not convert (%d so far): %s",
                    self.rejected_frames,
                    exc,
                )
            # The filter graph may be half-configured: start afresh on the next frame.
            self._resampler = None
            self._key = None
            return b""
        if len(out) == 1 and not head:
            return _packed_s16_bytes(out[0])
        return head + b"".join(_packed_s16_bytes(f) for f in out)

    def flush(self) -> bytes:
        """End of stream: return the samples still held in the resampler's filter."""
        return self._drain()

    def _drain(self) -> bytes:
        resampler, self._resampler, self._key = self._resampler, None, None
        if resampler is None:
            return b""
        try:
            return b"".join(_packed_s16_bytes(f) for f in resampler.resample(None))
        except Exception:  # a resampler that failed mid-stream has no tail worth keeping
            logger.debug("uplink: resampler flush failed", exc_info=True)
            return b""


class DownlinkConverter:
    """Mono PCM16 at ``source_rate`` (model replies) → WebRTC output audio (thread-confined).

    Two ways out, one per wiring in ``shared/E2E.md``; use one of them per instance:

    - ``to_frame``: for an ``audio_frame_callback``. Every call returns one ``s16``
      packed frame of exactly ``samples`` samples per channel in ``rate``/``layout``.
      The resampler is set to that frame size, so its output is cut into exact
      frames with no gaps; this adds one frame of latency (20 ms) at stream start.
      When no full frame is ready (start-up, or the caller fed too little) the frame
      is silence of the right length.
    - ``to_pcm``: for a PCM source track fed with mono bytes at another rate.

    Call from the media worker that produces the output frames.
    """

    # More converted audio than this waiting means the caller feeds faster than it
    # drains; drop the oldest frames rather than let latency grow without bound.
    MAX_READY_FRAMES = 50

    def __init__(self, *, source_rate: int = REPLY_RATE) -> None:
        _check_rate("source_rate", source_rate)
        self._source_rate = source_rate
        self._carry = b""
        self._resampler: av.AudioResampler | None = None
        self._key: tuple[int, str, int] | None = None
        self._time_base = Fraction(1, BROWSER_RATE)
        self._ready: list[av.AudioFrame] = []
        self._pcm_resampler: PcmStreamResampler | None = None
        self.dropped_frames = 0
        self.silent_frames = 0

    @property
    def source_rate(self) -> int:
        """Input sample rate (Hz)."""
        return self._source_rate

    def to_frame(
        self,
        pcm: bytes | bytearray | memoryview,
        *,
        rate: int,
        layout: str,
        samples: int,
        pts: int | None,
    ) -> av.AudioFrame:
        """Feed ``pcm`` and return the next output frame (exactly ``samples`` per channel).

        ``pcm`` should be one frame's worth at the source rate (``samples * source_rate
        / rate`` samples; e.g. 960 bytes for 20 ms of 24 kHz), which is what
        ``PlaybackBuffer.read`` hands out, silence included, so the stream never stalls.
        """
        key = (rate, layout, samples)
        if key != self._key:
            _check_rate("rate", rate)
            if not isinstance(samples, int) or samples <= 0:
                raise AudioConversionError(
                    f"samples must be a positive integer, got {samples!r}"
                )
            try:
                channels = av.AudioLayout(layout).nb_channels
            except (TypeError, ValueError) as exc:
                raise AudioConversionError(
                    f"layout must be an FFmpeg channel layout name such as 'stereo', got {layout!r}"
                ) from exc
            self._resampler = av.AudioResampler(
                format="s16",
                layout=layout,
                rate=rate,
                frame_size=samples,
                options=_UPMIX_OPTIONS if channels == 2 else None,
            )
            self._key = key
            self._time_base = Fraction(1, rate)
            self._ready.clear()
        data = self._carry + bytes(pcm) if self._carry else pcm
        if len(data) & 1:
            self._carry = bytes(data[-1:])
            data = memoryview(data)[:-1]
        else:
            self._carry = b""
        if data:
            self._ready += self._resampler.resample(  # type: ignore[union-attr]
                s16_frame(data, "mono", self._source_rate)
            )
            excess = len(self._ready) - self.MAX_READY_FRAMES
            if excess > 0:
                del self._ready[:excess]
                self.dropped_frames += excess
        if self._ready:
            frame = self._ready.pop(0)
        else:
            self.silent_frames += 1
            frame = av.AudioFrame(format="s16", layout=layout, samples=samples)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = self._time_base
        return frame

    def to_pcm(self, pcm: bytes | bytearray | memoryview, *, rate: int = BROWSER_RATE) -> bytes:
        """Resample an arbitrary-length chunk to mono PCM16 at ``rate``, continuously."""
        if self._pcm_resampler is None or self._pcm_resampler.to_rate != rate:
            self._pcm_resampler = PcmStreamResampler(self._source_rate, rate)
        return self._pcm_resampler.convert(pcm)

    def reset(self) -> None:
        """Drop everything in flight (barge-in): converted frames and filter state."""
        self._resampler = None
        self._key = None
        self._ready.clear()
        self._carry = b""
        self._pcm_resampler = None
