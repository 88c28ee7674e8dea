"""Applying the Live service's messages to the session: transcripts, reply audio, tool
calls, usage, resumption handles, turn boundaries and goAway.

One ``LiveServerMessage`` at a time, in arrival order, on the session's loop thread.
"""

from __future__ import annotations

import logging

from google.genai import types

from livechat.live.events import Event, Interrupted, SessionState, TurnFigures, Usage
from livechat.live.inputs import InputKind
from livechat.live.link import Link
from livechat.live.metrics import Counter, SessionCounters, TurnClock
from livechat.live.outbox import EventOutbox
from livechat.live.questions import TypedQuestions
from livechat.live.reconnect import ReconnectPolicy
from livechat.live.reply_audio import ReplyAudio
from livechat.live.seeding import TranscriptTracker
from livechat.live.tool_calls import ToolRunner

logger = logging.getLogger(__name__)


class MessageHandler:
    """Applies server messages of one session (loop thread)."""

    def __init__(
        self,
        *,
        name: str,
        outbox: EventOutbox,
        counters: SessionCounters,
        transcript: TranscriptTracker,
        reply_audio: ReplyAudio,
        tools: ToolRunner,
        policy: ReconnectPolicy,
        clock: TurnClock,
        questions: TypedQuestions | None = None,
    ) -> None:
        self._name = name
        self._outbox = outbox
        self._counters = counters
        self._transcript = transcript
        self._reply = reply_audio
        self._tools = tools
        self._policy = policy
        self._clock = clock
        self._questions = questions if questions is not None else TypedQuestions()

    def _emit(self, event: Event) -> None:
        self._outbox.emit(event)

    def handle(self, link: Link, msg: types.LiveServerMessage) -> None:
        """Apply one server message."""
        update = msg.session_resumption_update
        if update is not None and update.resumable and update.new_handle:
            self._policy.remember_handle(update.new_handle)
            link.handle_stale = False
        if msg.usage_metadata is not None:
            # Counted once per turn, at its end: the service may send usage at generation
            # start, on toolCall frames and an empty block on turnComplete (LIVE_PROTOCOL §8.5).
            usage = msg.usage_metadata
            self._clock.usage(usage.prompt_token_count or 0, usage.response_token_count or 0,
                              usage.total_token_count or 0)
        if msg.tool_call is not None:
            self._questions.reply_started()
            self._tools.start(link, msg.tool_call)
        if msg.tool_call_cancellation is not None:
            self._tools.cancel(link, msg.tool_call_cancellation.ids or [])
        content = msg.server_content
        if content is not None:
            self._content(link, content)
        if msg.go_away is not None and not link.go_away:
            link.go_away = True
            logger.info("live session %s: goAway (time left %s)", self._name,
                        msg.go_away.time_left)

    def _content(self, link: Link, content: types.LiveServerContent) -> None:
        heard = content.input_transcription.text if content.input_transcription else None
        if heard and not swallow_echo(link, heard):
            finished = bool(content.input_transcription.finished)
            late = self._transcript.add("user", heard, finished=finished)
            if not late:
                self._outbox.set_state(SessionState.LISTENING, "Hearing you")
                # A fresh transcript during a reply is the analyst talking over it.
                self._barge_in_locally()
        if content.interrupted:
            self._questions.turn_ended()
            # Barge-in: flush playback now (unless local evidence already did, for this reply).
            if self._reply.interrupt():
                self._counters.add(Counter.INTERRUPTIONS)
                self._emit(Interrupted())
            self._transcript.finish("model")
        if content.model_turn is not None:
            for part in content.model_turn.parts or []:
                blob = part.inline_data
                if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/"):
                    self._questions.reply_started()
                    if self._reply.play(blob.data, blob.mime_type or ""):
                        self._outbox.set_state(SessionState.RESPONDING, "Answering")
        if content.output_transcription is not None and content.output_transcription.text:
            self._questions.reply_started()
            self._transcript.add("model", content.output_transcription.text)
            self._outbox.set_state(SessionState.RESPONDING, "Answering")
        if content.turn_complete:
            self._questions.turn_ended()
            reply_id = self._transcript.open_id("model")
            self._transcript.finish_all()
            self._reply.end_of_turn()
            link.awaiting_reply = False
            if link.echo_seen and link.typed_echoes:
                # The echo arrived in this turn and is whole by now. One that has not
                # started yet is kept: a question typed during a reply is echoed after the
                # interrupted turn's turnComplete, at the start of its own turn.
                link.typed_echoes.popleft()
                link.echo_seen = ""
            link.handle_stale = True
            self._policy.turn_completed()
            self._counters.add(Counter.TURNS_COMPLETED)
            self._turn_figures(reply_id)
            self._outbox.set_state(SessionState.READY, "Your turn")

    def _turn_figures(self, reply_id: int | None) -> None:
        seconds, usage = self._clock.turn_complete()
        if usage is not None:
            self._emit(Usage(*usage))
        if seconds is not None or usage is not None:
            self._emit(TurnFigures(reply_id, None if seconds is None else round(seconds, 3),
                                   None if usage is None else usage[2]))

    def note_input(self, kind: InputKind) -> None:
        """The sender sent a typed question or a batch of speech (loop thread)."""
        self._clock.input_ended()
        if kind != "typed":
            self._transcript.note_speech()
        if kind == "sustained_speech":
            self._barge_in_locally()

    def _barge_in_locally(self) -> None:
        # Preview native-audio models may not send `interrupted` when the analyst talks
        # over the reply (hkjarral/AVA-AI-Voice-Agent-for-Asterisk #385): flush on local
        # evidence too, once per reply.
        if self._reply.local_barge_in():
            self._counters.add(Counter.INTERRUPTIONS)
            self._counters.add(Counter.LOCAL_BARGE_INS)
            self._emit(Interrupted())

    def busy(self, link: Link) -> bool:
        """True while a turn is under way on ``link`` (goAway then waits for its end).

        A late user transcript (of a question already answered) does not hold a goAway move.
        """
        user_speaking = self._transcript.is_open("user") and not self._transcript.user_line_is_late()
        return bool(link.awaiting_reply or link.tools or user_speaking
                    or self._transcript.is_open("model"))


def swallow_echo(link: Link, chunk: str) -> bool:
    """True when ``chunk`` is the service transcribing one of our typed questions back.

    Echoes come in the order the questions were sent, possibly late (after the next one was
    typed); a question whose echo never comes is skipped when a later one's echo starts.
    """
    if not link.typed_echoes:
        return False
    seen = link.echo_seen + chunk
    if _norm(link.typed_echoes[0]).startswith(_norm(seen)):
        link.echo_seen = seen
        if _norm(seen) == _norm(link.typed_echoes[0]):
            link.typed_echoes.popleft()
            link.echo_seen = ""
        return True
    for index in range(1, len(link.typed_echoes)):
        if _norm(link.typed_echoes[index]).startswith(_norm(chunk)):
            for _ in range(index):
                link.typed_echoes.popleft()
            link.echo_seen = ""
            return swallow_echo(link, chunk)
    link.typed_echoes.clear()  # real speech: stop matching
    link.echo_seen = ""
    return False


def _norm(text: str) -> str:
    return " ".join(text.split())
