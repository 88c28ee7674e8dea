"""Energy-based voice activity detection on 20 ms frames, in sample time.

Decisions depend only on the audio (never on the wall clock), so a test that
pushes a whole WAV at once and a browser that streams it in real time see the
same utterance boundaries.

Speech starts once ``min_speech_ms`` of frames above ``threshold_dbfs`` have
accumulated with no silent gap longer than the gap tolerance in between; it
ends after ``silence_ms`` of frames below the threshold. The utterance spans
from its first loud frame to its last.
"""

from __future__ import annotations

from dataclasses import dataclass

from .audio import rms_to_dbfs

FRAME_S = 0.02
# Syllables leave short quiet gaps; a candidate start survives gaps up to this.
_START_GAP_TOLERANCE_S = 0.12


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began at ``at_s`` seconds of received audio."""

    at_s: float


@dataclass(frozen=True)
class SpeechEnded:
    """An utterance from ``start_s`` to ``end_s`` seconds of received audio."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class EnergyVad:
    """Frame-by-frame speech start/end detector (single-threaded use)."""

    def __init__(self, *, threshold_dbfs: float, min_speech_ms: int, silence_ms: int) -> None:
        self.threshold_dbfs = threshold_dbfs
        self._min_speech_frames = max(1, round(min_speech_ms / 1000 / FRAME_S))
        self._silence_frames = max(1, round(silence_ms / 1000 / FRAME_S))
        self._gap_frames = max(1, round(_START_GAP_TOLERANCE_S / FRAME_S))
        self._frame = 0  # index of the next frame
        self._speaking = False
        self._candidate_start: int | None = None
        self._loud_count = 0
        self._last_loud: int | None = None

    @property
    def speaking(self) -> bool:
        return self._speaking

    def feed(self, frame_rms: list[float]) -> list[SpeechStarted | SpeechEnded]:
        """Process frames (RMS, full scale 1.0); return the events they complete."""
        events: list[SpeechStarted | SpeechEnded] = []
        for rms in frame_rms:
            index = self._frame
            self._frame += 1
            loud = rms_to_dbfs(rms) > self.threshold_dbfs
            if self._speaking:
                if loud:
                    self._last_loud = index
                elif index - (self._last_loud or index) >= self._silence_frames:
                    events.append(self._end())
                continue
            if loud:
                if self._candidate_start is None or index - (self._last_loud or index) > self._gap_frames:
                    self._candidate_start, self._loud_count = index, 0
                self._loud_count += 1
                self._last_loud = index
                if self._loud_count >= self._min_speech_frames:
                    self._speaking = True
                    events.append(SpeechStarted(at_s=self._candidate_start * FRAME_S))
            elif self._candidate_start is not None and index - (self._last_loud or index) > self._gap_frames:
                self._candidate_start, self._loud_count = None, 0
        return events

    def flush(self) -> SpeechEnded | None:
        """End the current utterance now (``audioStreamEnd``); ``None`` if not speaking."""
        return self._end() if self._speaking else None

    def _end(self) -> SpeechEnded:
        assert self._candidate_start is not None and self._last_loud is not None
        event = SpeechEnded(start_s=self._candidate_start * FRAME_S, end_s=(self._last_loud + 1) * FRAME_S)
        self._speaking = False
        self._candidate_start, self._loud_count, self._last_loud = None, 0, None
        return event
