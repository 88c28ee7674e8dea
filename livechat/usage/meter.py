"""One Live session's budgets: checked before each mint, counted as it goes, ended in time.

``CallMeter`` is the ``livechat.live.guard.SessionGuard`` of one session of one analyst.
It keeps its own figures (connected voice time, tokens per turn, tool calls) and moves
them to the store (``ledger``) through the process's store writer: at least every
``HEARTBEAT_S`` while the call lives, after each turn, and at the end. Each of those
writes also reads back the analyst's day, the deployment's day and the analyst's other
open calls, so a call sees what other calls (on any replica) used within a heartbeat.

Before every mint it reads the store on the spot (one primary-key row, one small sum,
one count), adds what it has not written yet, and refuses with the limit's sentence.
A voice call also claims its open-call row there, so concurrent calls are counted at
once. When the store cannot be read the last figures read are used (the call goes on;
its counts are written once the store is back).

What is counted: voice minutes while the session is connected and carries voice (a
typed-only session that the analyst then speaks to counts from then on); tokens from
each turn's ``usageMetadata``; each answered tool call. Every call start and end, tool
call and refusal is one audit event.

Threads: ``before_mint`` a worker thread; ``connected``, ``tokens``, ``tool_call``,
``verdict`` the session's loop thread; ``mark_voice`` the script thread; ``ended`` any;
store jobs the writer's thread. One lock guards the figures.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from livechat.live.guard import LimitReached, Verdict
from livechat.store.audit import AuditEvent, EventKind, append_event
from livechat.store.repository import ConversationStore, StoreError
from livechat.usage import ledger
from livechat.usage.decide import Figures, Refusal, Standing, refusal, time_left
from livechat.usage.ledger import Delta
from livechat.usage.limits import Limits

__all__ = ["CallMeter", "StoreAccess"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_SQL_CHARS = 2_000  # the audit keeps the query, not an essay


class StoreAccess(Protocol):
    """What the meter needs of the process's ``StoreWriter``."""

    def submit(self, job: Callable[[ConversationStore], Any], *, key: str | None = None) -> bool: ...

    def read(self, fn: Callable[[ConversationStore], T], default: T) -> T: ...


class CallMeter:
    """Budgets of one session (see the module docstring)."""

    def __init__(self, *, store: StoreAccess, limits: Limits, analyst: str, model: str, voice: bool = False,
                 heartbeat_s: float = ledger.HEARTBEAT_S, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.call_id = uuid.uuid4().hex
        self._store = store
        self._limits = limits
        self._analyst = analyst
        self._model = model
        self._heartbeat_s = heartbeat_s
        self._clock = clock
        self._mono = monotonic
        self._lock = threading.Lock()
        self._voice = voice
        self._since: float | None = None  # connected since (monotonic)
        self._call_seconds = 0.0  # connected voice time of this call
        self._tokens = 0
        self._tool_calls = 0
        self._unwritten = Delta()  # counted here, not yet handed to the store
        self._writing = Delta()  # handed to a store write that has not finished
        self._standing: Standing | None = None  # the store's figures at the last read
        self._last_beat = self._mono()
        self._started = False  # the call_start event was written
        self._claimed = False  # a voice call's open-call row is written
        self._voice_checked = voice
        self._ended: str | None = None
        self._limit_hit: Refusal | None = None  # the limit that refused a token or ended the call

    # ------------------------------------------------------------------ the session's questions

    def before_mint(self) -> None:
        """Refuse the token (``LimitReached``) when a limit is reached; else claim the call.

        Worker thread: reads (and for a voice call writes) the store synchronously."""
        now = self._clock()
        standing = self._store.read(lambda store: ledger.read_standing(
            store, self._analyst, now=now, exclude_call=self.call_id), None)
        with self._lock:
            self._accrue()
            if standing is not None:
                self._standing = standing
            voice, seconds = self._voice, self._call_seconds
            found = refusal(self._limits, self._effective(), now=now, voice=voice, call_seconds=seconds)
        if found is not None:
            self._refused(found, during="mint")
            with self._lock:
                self._limit_hit = found
            raise LimitReached(found.message)
        if voice:
            self._claim(now)

    def verdict(self) -> Verdict | None:
        """How long the call may go on (loop thread; no I/O: a due heartbeat is queued)."""
        now = self._clock()
        with self._lock:
            self._accrue()
            beat = self._mono() - self._last_beat >= self._heartbeat_s
            if beat:
                self._last_beat = self._mono()
            effective = self._effective()
            voice, seconds = self._voice, self._call_seconds
            check_voice = voice and not self._voice_checked and self._standing is not None
            self._voice_checked = self._voice_checked or check_voice
        if beat:
            self._flush()
        if check_voice:  # a typed session became a voice call: the voice limits apply now
            found = refusal(self._limits, effective, now=now, voice=True, call_seconds=seconds)
            if found is not None:
                return self._ends(found, 0.0, during="voice start")
        left = time_left(self._limits, effective, now=now, voice=voice, call_seconds=seconds)
        if left is None:
            return None
        seconds_left, limit = left
        return self._ends(limit, seconds_left, during="call")

    def _ends(self, limit: Refusal, seconds_left: float, *, during: str) -> Verdict:
        """The verdict for ``limit``; at 0 the session ends for it (remembered, audited once)."""
        if seconds_left <= 0:
            with self._lock:
                first = self._limit_hit is None
                self._limit_hit = self._limit_hit or limit
            if first:
                self._refused(limit, during=during)
        return Verdict(seconds_left, limit.warning(seconds_left), limit.ending)

    # ------------------------------------------------------------------ what the session reports

    def connected(self, on: bool) -> None:
        """The session's connection is up (True) or not (loop thread)."""
        start = False
        with self._lock:
            self._accrue()
            if on and self._since is None:
                self._since = self._mono()
                start = not self._started
                self._started = True
            elif not on:
                self._since = None
        if start:
            self._audit(EventKind.CALL_START, {"call_id": self.call_id, "model": self._model,
                                               "voice": self._voice})

    def tokens(self, count: int) -> None:
        """A turn completed and cost ``count`` tokens (loop thread)."""
        if count <= 0:
            return
        with self._lock:
            self._tokens += count
            self._unwritten = self._unwritten + Delta(tokens=count)
        self._flush()

    def tool_call(self, name: str, args: dict[str, Any], result: dict[str, Any] | None) -> None:
        """A tool call was answered (loop thread)."""
        with self._lock:
            self._tool_calls += 1
            self._unwritten = self._unwritten + Delta(tool_calls=1)
        sql = args.get("query") or args.get("sql")
        rows = (result or {}).get("row_count")
        self._audit(EventKind.TOOL_CALL, {
            "call_id": self.call_id, "name": name, "sql": str(sql)[:MAX_SQL_CHARS] if sql else None,
            "rows": rows if isinstance(rows, int) else None, "error": bool((result or {}).get("error"))})
        self._flush()

    def mark_voice(self) -> None:
        """The analyst started speaking in this session (script thread): minutes count now."""
        with self._lock:
            if self._voice:
                return
            self._accrue()
            self._voice = True
            if self._since is not None:
                self._since = self._mono()
        self._flush()  # claims the open-call row

    def ended(self, reason: str) -> None:
        """The session ended (any thread): write what is left, close the call, audit it."""
        with self._lock:
            if self._ended is not None:
                return
            self._accrue()
            self._since = None
            self._ended = reason
            started, claimed = self._started, self._claimed
            summary = {"call_id": self.call_id, "model": self._model, "voice": self._voice,
                       "minutes": round(self._call_seconds / 60.0, 3), "tokens": self._tokens,
                       "tool_calls": self._tool_calls, "reason": reason[:300]}
        self._flush()
        if claimed:
            self._store.submit(lambda store: ledger.close_call(store, self.call_id))
        if started:
            self._audit(EventKind.CALL_END, summary)

    # ------------------------------------------------------------------ figures

    @property
    def figures(self) -> Figures:
        """This call's own figures so far (any thread)."""
        with self._lock:
            self._accrue()
            return Figures(seconds=self._call_seconds, tokens=self._tokens, tool_calls=self._tool_calls,
                           calls=1 if self._claimed else 0)

    @property
    def limit_hit(self) -> Refusal | None:
        """The limit that refused a token or ended the call (None while none has)."""
        with self._lock:
            return self._limit_hit

    @property
    def ended_reason(self) -> str | None:
        """Why the session ended (None while it runs)."""
        with self._lock:
            return self._ended

    def _accrue(self) -> None:
        """Move connected voice time into the figures (under the lock)."""
        if self._since is None:
            return
        now = self._mono()
        if self._voice and not self._ended:
            elapsed = now - self._since
            self._call_seconds += elapsed
            self._unwritten = self._unwritten + Delta(seconds=elapsed)
        self._since = now

    def _effective(self) -> Standing:
        """The store's figures plus what this call has not written yet (under the lock)."""
        return _plus(self._standing or Standing(), self._unwritten + self._writing)

    # ------------------------------------------------------------------ store writes

    def _claim(self, now: float) -> None:
        """Write the open-call row now (worker thread), so a concurrent mint sees it."""
        self._store.read(lambda store: self._claim_job(store, now), None)

    def _claim_job(self, store: ConversationStore, now: float) -> None:
        with self._lock:
            if self._claimed or self._ended is not None:
                return
        ledger.open_call(store, self.call_id, self._analyst, now=now)
        ledger.add_usage(store, self._analyst, Delta(calls=1), now=now)
        with self._lock:
            self._claimed = True

    def _flush(self) -> None:
        """Queue the write of what is unwritten (coalesced per call; never blocks)."""
        self._store.submit(self._write_job, key=f"usage:{self.call_id}")

    def _write_job(self, store: ConversationStore) -> None:
        """Writer thread: add the unwritten figures, keep the call open, read the day back."""
        now = self._clock()
        with self._lock:
            self._accrue()
            delta, self._unwritten = self._unwritten, Delta()
            self._writing = self._writing + delta
            live_voice = self._voice and self._ended is None
            claimed = self._claimed
        try:
            ledger.add_usage(store, self._analyst, delta, now=now)
        except StoreError:
            with self._lock:  # not written: counted again with the next write (the job is retried)
                self._writing = Delta()
                self._unwritten = self._unwritten + delta
            raise
        try:
            if live_voice and not claimed:
                self._claim_job(store, now)
            elif live_voice:
                ledger.open_call(store, self.call_id, self._analyst, now=now)
            standing = ledger.read_standing(store, self._analyst, now=now, exclude_call=self.call_id)
        except StoreError:
            with self._lock:  # written, but not read back: keep it in the figures by hand
                self._standing = _plus(self._standing or Standing(), delta)
                self._writing = Delta()
            raise
        with self._lock:
            self._standing = standing
            self._writing = Delta()

    def _refused(self, found: Refusal, *, during: str) -> None:
        logger.info("Budgets: %s refused for %s (%s)", during, self._analyst, found.limit)
        self._audit(EventKind.LIMIT_REFUSED, {"call_id": self.call_id, "limit": found.limit, "value": found.value,
                                              "resets_at": found.resets_at, "during": during})

    def _audit(self, kind: EventKind, details: dict[str, Any]) -> None:
        event = AuditEvent(kind, self._analyst, details, at=self._clock())
        self._store.submit(lambda store: append_event(store, event))


def _plus(standing: Standing, delta: Delta) -> Standing:
    mine = standing.analyst
    return Standing(analyst=Figures(seconds=mine.seconds + delta.seconds, tokens=mine.tokens + delta.tokens,
                                    tool_calls=mine.tool_calls + delta.tool_calls, calls=mine.calls + delta.calls),
                    deployment_seconds=standing.deployment_seconds + delta.seconds, open_calls=standing.open_calls)
