"""Where the first reply audio spends its time, stage by stage (for ``bench_e2e.py``, issue 32).

Three sources, all on the machine's wall clock (``time.time()`` / the browser's epoch ms):

- the emulator (in the benchmark's process): a hook on ``Channel.send`` stamps the first
  message of each reply that carries audio (``sent``), after it was written to the socket;
- the app: ``LIVECHAT_VOICE_TRACE`` makes it append stage marks (``livechat.voice.trace``):
  ``received`` (the chunk handed to the bridge), ``buffered`` (resampled, in the playback
  buffer), ``taken`` (the first frame holding it read by the track at its deadline), ``sent``
  (the RTP packet of that frame left; its RTP timestamp), and the same for the first *loud*
  frame (``loud``, with its onset after the first sample);
- the browser: :data:`INIT_SCRIPT` polls every audio receiver's
  ``getSynchronizationSources()`` every ~5 ms and keeps (rtpTimestamp, timestamp) each time
  the played-out RTP timestamp changes; the time a given RTP timestamp was played out is read
  from the first entry at or after it, less the samples between them. It also samples
  ``getStats`` (``jitterBufferTargetDelay``, ``jitterBufferEmittedCount``, ...) every 50 ms.

:func:`stages` joins them for one run; :func:`summary_lines` prints p50/p95 per stage.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RTP_RATE = 48_000  # Opus RTP clock

# Runs in every frame after the harness's own init script (which records window.__pcs).
INIT_SCRIPT = """(() => {
  if (window.__latencyProbe) return;
  window.__latencyProbe = true;
  window.__ssrc = [];   // [Date.now(), performance.timeOrigin, rtpTimestamp, timestamp, audioLevel]
  window.__neteq = [];  // [Date.now(), targetDelay, emitted, jitterBufferDelay, minimumDelay, concealed, inserted]
  let last = null;
  setInterval(() => {
    const pcs = window.__pcs || [];
    if (pcs.length === 0) return;
    const pc = pcs[pcs.length - 1];
    let receivers = [];
    try { receivers = pc.getReceivers(); } catch (e) { return; }
    for (const r of receivers) {
      if (!r.track || r.track.kind !== 'audio') continue;
      let sources = [];
      try { sources = r.getSynchronizationSources(); } catch (e) { continue; }
      for (const s of sources) {
        if (s.rtpTimestamp === last) continue;
        last = s.rtpTimestamp;
        window.__ssrc.push([Date.now(), performance.timeOrigin, s.rtpTimestamp,
                            s.timestamp, s.audioLevel === undefined ? -1 : s.audioLevel]);
      }
    }
    if (window.__ssrc.length > 40000) window.__ssrc.splice(0, 10000);
  }, 4);
  let busy = false;
  setInterval(async () => {
    const pcs = window.__pcs || [];
    if (busy || pcs.length === 0) return;
    busy = true;
    try {
      const stats = await pcs[pcs.length - 1].getStats();
      stats.forEach((v) => {
        if (v.type === 'inbound-rtp' && v.kind === 'audio') {
          window.__neteq.push([Date.now(), v.jitterBufferTargetDelay || 0, v.jitterBufferEmittedCount || 0,
                               v.jitterBufferDelay || 0, v.jitterBufferMinimumDelay || 0,
                               v.concealedSamples || 0, v.insertedSamplesForDeceleration || 0]);
        }
      });
    } catch (e) { } finally { busy = false; }
  }, 50);
})();"""


class EmulatorSends:
    """Stamps the first audio message of each reply the in-process emulator sends."""

    def __init__(self) -> None:
        self.first_audio: list[float] = []  # wall time after each reply's first audio message left
        self._new_reply = True
        self._installed = False

    def install(self) -> None:
        from livechat.emulator import channel as emulator_channel

        if self._installed:
            return
        chan = emulator_channel.Channel
        original = chan.send
        probe = self

        async def send(channel: Any, message: dict) -> None:
            await original(channel, message)
            content = message.get("serverContent") or {}
            parts = (content.get("modelTurn") or {}).get("parts") or []
            if probe._new_reply and any((p.get("inlineData") or {}).get("data") for p in parts):
                probe.first_audio.append(time.time())
                probe._new_reply = False
            if content.get("turnComplete") or content.get("interrupted"):
                probe._new_reply = True

        chan.send = send  # type: ignore[method-assign]
        self._installed = True

    def reset(self) -> None:
        self.first_audio.clear()
        self._new_reply = True


@dataclass
class Stages:
    """One run's first reply, in seconds (None where a mark was missing)."""

    emulator_sent: float | None = None
    received: float | None = None
    buffered: float | None = None
    taken: float | None = None
    rtp_sent: float | None = None
    played: float | None = None
    loud_onset_s: float | None = None
    loud_played: float | None = None
    stalls: int = 0
    target_delay_ms: float | None = None  # NetEq's mean target delay during the reply
    jitter_delay_ms: float | None = None  # NetEq's mean jitter-buffer delay during the reply
    notes: list[str] = field(default_factory=list)

    def deltas(self) -> dict[str, float | None]:
        """Each stage's share (s), and the total: first reply chunk sent -> its first sample played."""
        chain = [("service -> received", self.emulator_sent, self.received),
                 ("received -> buffered", self.received, self.buffered),
                 ("buffered -> taken by recv()", self.buffered, self.taken),
                 ("taken -> RTP sent", self.taken, self.rtp_sent),
                 ("RTP sent -> played out", self.rtp_sent, self.played)]
        out: dict[str, float | None] = {
            name: (b - a) if a is not None and b is not None else None for name, a, b in chain}
        out["TOTAL first chunk -> played"] = (
            self.played - self.emulator_sent if self.played is not None and self.emulator_sent is not None else None)
        return out


def read_trace(path: Path) -> list[dict]:
    if not path.exists():
        return []
    marks = []
    for line in path.read_text().splitlines():
        try:
            marks.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by the app's exit
    return marks


def played_at(ssrc_rows: list[list[float]], rtp: int) -> float | None:
    """Epoch seconds at which the sample with RTP timestamp ``rtp`` was played out."""
    for row in ssrc_rows:
        r, stamp = int(row[2]), float(row[3])
        ahead = (r - rtp) % (1 << 32)
        if ahead < (1 << 31):  # r is at or after rtp
            if stamp < 1e12:  # relative to the page's time origin: make it epoch ms
                stamp += float(row[1])
            return stamp / 1000.0 - ahead / RTP_RATE
    return None


def _neteq(rows: list[list[float]], start: float, end: float) -> tuple[float | None, float | None]:
    inside = [r for r in rows if start * 1000 <= r[0] <= end * 1000]
    if len(inside) < 2 or inside[-1][2] <= inside[0][2]:
        return None, None
    emitted = inside[-1][2] - inside[0][2]
    return ((inside[-1][1] - inside[0][1]) / emitted * 1000.0, (inside[-1][3] - inside[0][3]) / emitted * 1000.0)


def stages(marks: list[dict], emulator_first: float | None, ssrc_rows: list[list[float]],
           neteq_rows: list[list[float]], heard: float | None = None) -> Stages:
    """Join the three sources for the run's first reply.

    ``heard``: when the old measure saw the reply's energy rise; NetEq's window starts there
    when the app left no trace (an app from before it), so its figures still compare.
    """
    out = Stages(emulator_sent=emulator_first)

    def first(stage: str, **match: Any) -> dict | None:
        return next((m for m in marks if m.get("stage") == stage
                     and all(m.get(k) == v for k, v in match.items())), None)

    for name in ("received", "buffered", "taken"):
        mark = first(name)
        setattr(out, name, mark["t"] if mark else None)
    out.stalls = sum(1 for m in marks if m.get("stage") == "stall")
    sent = first("sent", of="taken")
    if sent is not None:
        out.rtp_sent = sent["t"]
        out.played = played_at(ssrc_rows, int(sent["rtp"]))
        if out.played is None:
            out.notes.append("the browser never played the reply's first RTP timestamp")
    loud, loud_sent = first("loud"), first("sent", of="loud")
    if loud is not None and loud_sent is not None:
        out.loud_onset_s = float(loud["onset_ms"]) / 1000.0
        out.loud_played = played_at(ssrc_rows, int(loud_sent["rtp"]))
    start = out.played if out.played is not None else heard
    if start is not None:
        out.target_delay_ms, out.jitter_delay_ms = _neteq(neteq_rows, start, start + 2.0)
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_lines(runs: list[Stages]) -> list[str]:
    """p50/p95 (ms) of each stage's share, the total, and NetEq's figures during replies."""
    lines = ["stage (first reply chunk, issue 32)          p50 ms   p95 ms   n"]
    names = list(Stages().deltas())
    for name in names:
        values = [d[name] for d in (r.deltas() for r in runs) if d[name] is not None]
        if values:
            lines.append(f"  {name:<40} {_pct(values, .5) * 1000:7.1f}  {_pct(values, .95) * 1000:7.1f}  {len(values)}")
    loud = [r.loud_played - r.emulator_sent - r.loud_onset_s for r in runs
            if r.loud_played is not None and r.emulator_sent is not None and r.loud_onset_s is not None]
    if loud:
        lines.append(f"  {'first loud sample (less its onset)':<40} {_pct(loud, .5) * 1000:7.1f}  "
                     f"{_pct(loud, .95) * 1000:7.1f}  {len(loud)}")
    for label, attr in (("NetEq target delay during reply", "target_delay_ms"),
                        ("NetEq jitter-buffer delay during reply", "jitter_delay_ms")):
        values = [getattr(r, attr) / 1000.0 for r in runs if getattr(r, attr) is not None]
        if values:
            lines.append(f"  {label:<40} {_pct(values, .5) * 1000:7.1f}  {_pct(values, .95) * 1000:7.1f}  {len(values)}")
    onsets = [r.loud_onset_s for r in runs if r.loud_onset_s is not None]
    if onsets:
        lines.append(f"  quiet onset of the reply (not latency)   {_pct(onsets, .5) * 1000:7.1f}  "
                     f"{_pct(onsets, .95) * 1000:7.1f}  {len(onsets)}")
    lines.append(f"  track stalls (grid jumps) in these runs: {sum(r.stalls for r in runs)}")
    return lines
