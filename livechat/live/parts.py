"""The one place a Live session's collaborators are built and wired to each other.

A session is a small team: counters, the event outbox, the input queue and its sender, the
transcript tracker, the tool runner, the reconnect policy and the message handler. Each
takes the others it needs in its constructor; ``compose_parts`` builds them in dependency
order, so nothing is patched after construction and the wiring reads top to bottom.
Construction only (no I/O); any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat.live.guard import GuardFeed, SessionGuard
from livechat.live.inputs import InputQueue, InputSender
from livechat.live.messages import MessageHandler
from livechat.live.metrics import SessionCounters, TurnClock
from livechat.live.models import POST_TOOL_RESPONSE_INPUT, model_info
from livechat.live.options import SessionOptions
from livechat.live.outbox import EventOutbox
from livechat.live.questions import TypedQuestions
from livechat.live.reconnect import ReconnectPolicy
from livechat.live.reply_audio import ReplyAudio, ReplyAudioSink
from livechat.live.seeding import TranscriptTracker
from livechat.live.tokens import LiveSettings, tool_behaviors
from livechat.live.tool_calls import Spawn, ToolExecutor, ToolRunner, ToolScheduling

__all__ = ["SessionParts", "compose_parts"]


@dataclass(frozen=True)
class SessionParts:
    """A session's collaborators, wired (see ``compose_parts``)."""

    counters: SessionCounters
    outbox: EventOutbox
    inputs: InputQueue
    transcript: TranscriptTracker
    tools: ToolRunner
    policy: ReconnectPolicy
    messages: MessageHandler
    sender: InputSender
    spawn: Spawn  # starts a task owned by the session
    guard: SessionGuard | None = None  # budgets: checked before each mint, told what is used


def compose_parts(
    *,
    settings: LiveSettings,
    options: SessionOptions,
    audio_sink: ReplyAudioSink,
    tool_executor: ToolExecutor | None,
    tool_scheduling: ToolScheduling | None,
    spawn: Spawn,
    guard: SessionGuard | None = None,
) -> SessionParts:
    """Build one session's collaborators; ``spawn`` starts a task owned by the session."""
    name = options.name
    counters = SessionCounters()
    outbox = EventOutbox(name=name, max_events=options.max_events, counters=counters,
                         observer=None if guard is None else GuardFeed(guard))
    inputs = InputQueue(audio_buffer_seconds=options.audio_buffer_seconds, counters=counters)
    transcript = TranscriptTracker(outbox.emit)
    # The model's row decides how calls behave and what input rules apply around them.
    rules = model_info(settings.model)
    tools = ToolRunner(
        executor=tool_executor, workers=options.tool_workers, name=name, emit=outbox.emit,
        counters=counters, spawn=spawn, wake_sender=inputs.wake_now,
        behaviors=tool_behaviors(settings), default_behavior=rules.default_tool_behavior,
        scheduling=tool_scheduling,
    )
    policy = ReconnectPolicy(
        settings=settings, transcript=transcript, max_reconnects=options.max_reconnects,
        backoff_s=options.reconnect_backoff_s, backoff_max_s=options.reconnect_backoff_max_s,
        seed_max_turns=options.seed_max_turns, seed_max_chars=options.seed_max_chars, name=name,
    )
    questions = TypedQuestions()  # asked again after a lost connection
    turn_clock = TurnClock()
    messages = MessageHandler(
        name=name, outbox=outbox, counters=counters, transcript=transcript,
        reply_audio=ReplyAudio(audio_sink, on_first_audio=turn_clock.reply_audio),
        tools=tools, policy=policy, clock=turn_clock, questions=questions,
    )
    sender = InputSender(
        queue=inputs, tools=tools, transcript=transcript, counters=counters, questions=questions,
        input_after_tool_response=(POST_TOOL_RESPONSE_INPUT
                                   if rules.needs_input_after_tool_response else None),
        on_input=messages.note_input,
    )
    return SessionParts(counters=counters, outbox=outbox, inputs=inputs, transcript=transcript,
                        tools=tools, policy=policy, messages=messages, sender=sender,
                        spawn=spawn, guard=guard)
