"""One Live session after setup: turns, speech detection, tools, interruptions, timers.

Everything is driven by the *effective* setup: transcriptions only when
``inputAudioTranscription`` / ``outputAudioTranscription`` are effective,
``sessionResumptionUpdate`` only when ``sessionResumption`` is, the effective
voice, the effective tools, the effective system instruction in every reply.

Input -> turn:

* realtime audio (PCM16, rate from the MIME type) goes through an energy VAD in
  sample time; end of speech (or ``audioStreamEnd``) makes an utterance whose
  transcription is a placeholder such as ``[speech 1.8 s]``. With automatic
  activity detection disabled, ``activityStart``/``activityEnd`` delimit it;
* ``realtimeInput.text`` and ``clientContent`` (``turnComplete``) are text turns;
* a ``--replies`` rule whose regex finds the question (``scripted.py``) decides the
  turn: its tool call, then its words with ``{result}`` filled in;
* a text ``call NAME {json}`` naming a declared function makes a tool call:
  BLOCKING (the turn waits for its ``toolResponse``) or NON_BLOCKING (3.8's
  default: the turn goes on, and the response's ``scheduling`` decides when its
  result is spoken; ``models.ModelRules`` holds each model's default).

A model turn is ``inputTranscription`` -> (``toolCall`` ... ``toolResponse``) ->
``outputTranscription`` pieces interleaved with 24 kHz audio chunks (paced in
real time unless ``realtime=False``) -> ``generationComplete`` ->
``turnComplete`` + ``usageMetadata`` -> ``sessionResumptionUpdate``. New user
input during a turn interrupts it: ``toolCallCancellation`` (if calls were
pending), ``interrupted``, ``turnComplete``, nothing more from that turn.

That is the default shape. The service's reported rough edges change it where
``behaviours.Behaviours`` (options, or ``like_service`` for the model) says so:
late or incremental input transcription, multipart and empty frames, usage at
generation start, no ``interrupted``, unresumable updates during calls, input
refused during a blocking call, a stall after a tool response, parallel calls in
separate messages, goAway deadline closes. Each is cited where it is acted on.

Thread affinity: server event-loop thread; speech synthesis runs on the
server's synthesis executor.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import behaviours, faults, replies, scripted, shaping, wire
from .audio import AudioFormatError, EnvelopeMeter, StreamResampler, decode_base64, pcm16_to_float, pcm_rate
from .auth_tokens import AuthToken
from .calls import CallBook
from .channel import Channel, ChannelClosed
from .context import ServerContext
from .errors import SessionRefused
from .handles import ConversationState
from .models import ModelRules, custom_vocabulary, function_behaviors, scheduling_of
from .records import SessionRecord
from .setup import (activity_detection, activity_interrupts, declared_functions, has_field,
                    system_instruction_text, voice_name)
from .vad import EnergyVad, SpeechEnded, SpeechStarted
from .voice import OUTPUT_MIME, OUTPUT_RATE

logger = logging.getLogger(__name__)

_EXPIRY_POLL_S = 0.25
TOKEN_EXPIRED_REASON = "The auth token has expired."
# Input other than a toolResponse while a blocking call is unanswered (autonomous-ai/autonomous-os
# #231 and PR #237; the text from livekit/agents #4545; "a toolResponse must come first":
# BerriAI/litellm PR #26590 review).
INPUT_DURING_CALL_REASON = "Operation is not implemented, or supported, or enabled."


class Conversation:
    """Runs one session until the connection closes (``run``)."""

    def __init__(self, *, context: ServerContext, channel: Channel, record: SessionRecord, setup: dict,
                 state: ConversationState, token: AuthToken | None, instruction_locked: bool,
                 rules: ModelRules) -> None:
        self._ctx = context
        self._channel = channel
        self._record = record
        self._setup = setup
        self._state = state
        self._token = token
        self._instruction_locked = instruction_locked
        self._instruction = system_instruction_text(setup)
        self._voice = voice_name(setup)
        self._tools = declared_functions(setup)
        self._rules = rules
        self._behaviors = function_behaviors(setup, rules)
        self._input_transcripts = has_field(setup, "inputAudioTranscription")
        self._output_transcripts = has_field(setup, "outputAudioTranscription")
        self._resumable = has_field(setup, "sessionResumption")
        detection = activity_detection(setup)
        self._manual_activity = bool(detection.get("disabled"))
        self._interrupts = activity_interrupts(setup)
        options = context.options
        silence_ms = detection.get("silenceDurationMs")
        self._vad = EnergyVad(
            threshold_dbfs=options.vad_threshold_dbfs, min_speech_ms=options.vad_min_speech_ms,
            silence_ms=int(silence_ms) if isinstance(silence_ms, (int, float)) and silence_ms > 0
            else options.vad_silence_ms)
        self._resampler: StreamResampler | None = None
        self._meter = EnvelopeMeter()
        self._activity_open = False
        self._activity_audio_s = 0.0
        self._turn_task: asyncio.Task | None = None
        self._turn_active = False  # between the turn's start and its turnComplete
        self._turn_lock = asyncio.Lock()
        self._calls = CallBook(record, state)
        self._scripted_says: dict[str, str] = {}  # non-blocking call id -> its scripted reply text
        self._helpers: set[asyncio.Task] = set()  # late deliveries (results, transcripts), cancelled at the end
        self._options_seen: object = None
        self._behaviours = behaviours.Behaviours()
        # stall_after_tool_response: cleared by a toolResponse, set by the next realtime input.
        self._input_after_response = asyncio.Event()
        self._input_after_response.set()

    def _now(self) -> behaviours.Behaviours:
        """The behaviours in force, re-resolved whenever ``set_options`` swapped the options."""
        options = self._ctx.options
        if options is not self._options_seen:
            self._options_seen, self._behaviours = options, behaviours.resolve(options, self._rules)
        return self._behaviours

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Send ``setupComplete``, then serve the session until either side closes."""
        helpers: list[asyncio.Task] = []
        try:
            self._record.set(model_family=self._rules.family, model_status=self._rules.status,
                             custom_vocabulary=custom_vocabulary(self._setup),
                             function_behaviors=self._behaviors, service_behaviours=self._now().active())
            await self._channel.send(wire.setup_complete())
            timers = faults.connection_timers(
                self._ctx.options, compression=has_field(self._setup, "contextWindowCompression"),
                session_age_s=max(0.0, self._ctx.clock() - self._state.started_at),
                go_away_close=self._now().go_away_close, model_close=self._now().model_close)
            helpers.append(asyncio.create_task(self._run_timers(timers), name=f"{self._record.id}-timers"))
            if self._token is not None:
                helpers.append(asyncio.create_task(self._watch_expiry(), name=f"{self._record.id}-expiry"))
            while True:
                frame = await self._channel.receive()
                if frame is None:
                    break
                self._check_token_expiry()
                kind, body = wire.parse_client_frame(frame)
                if kind is not None:
                    await self._handle(kind, body)
        except ChannelClosed:
            pass
        except SessionRefused as exc:
            await self._channel.close(exc.code, exc.reason, exc.detail)
        finally:
            await self._cancel_turn()
            helpers.extend(self._helpers)
            for task in helpers:
                task.cancel()
            for result in await asyncio.gather(*helpers, return_exceptions=True):
                if isinstance(result, Exception):
                    logger.error("%s: helper task failed: %r", self._record.id, result)

    async def _run_timers(self, timers: list[faults.Timer]) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            for timer in timers:
                await asyncio.sleep(max(0.0, start + timer.delay_s - loop.time()))
                if timer.action == "go_away":
                    await self._channel.send(wire.go_away(faults.duration_string(timer.time_left_s)))
                    self._record.set(go_away_sent=True)
                elif timer.action == "close":
                    await self._channel.close(timer.code, timer.reason, f"timer: {timer.reason}")
                    return
                elif timer.action == "go_away_deadline":
                    # LIVE_PROTOCOL 8.3: busy at the deadline -> 1011 Deadline expired; idle -> 1008 lingering.
                    busy = self._turn_active or bool(self._calls.blocking_pending)
                    code, reason = ((faults.DEADLINE_EXPIRED_CODE, faults.DEADLINE_EXPIRED_REASON) if busy
                                    else (faults.GO_AWAY_CLOSE_CODE, faults.GO_AWAY_CLOSE_REASON))
                    await self._channel.close(code, reason, f"timer: goAway deadline ({'busy' if busy else 'idle'})")
                    return
                elif timer.action == "spurious_interrupt":
                    await self._interrupt(spurious=True)
        except ChannelClosed:
            pass

    async def _watch_expiry(self) -> None:
        try:
            while not self._channel.closed:
                await asyncio.sleep(_EXPIRY_POLL_S)
                self._check_token_expiry()
        except SessionRefused as exc:
            await self._channel.close(exc.code, exc.reason, exc.detail)

    def _check_token_expiry(self) -> None:
        token = self._token
        if token is not None and self._ctx.clock() >= token.expire_time:
            raise SessionRefused(1008, TOKEN_EXPIRED_REASON, "the session's auth token passed its expireTime")

    # ------------------------------------------------------------ client messages

    async def _handle(self, kind: str, body: dict) -> None:
        if kind != "toolResponse" and self._now().refuse_input_during_tool_call and self._calls.blocking_pending:
            raise SessionRefused(1008, INPUT_DURING_CALL_REASON,
                                 f"{kind} while blocking call(s) {self._calls.blocking_pending} are unanswered "
                                 "(refuse_input_during_tool_call)")
        if kind == "realtimeInput":
            await self._realtime_input(body)
        elif kind == "clientContent":
            await self._client_content(body)
        elif kind == "toolResponse":
            await self._tool_response(body)
        elif kind == "contextUpdate":
            self._context_update(body)

    async def _realtime_input(self, body: dict) -> None:
        self._input_after_response.set()  # any realtime input lets a stalled tool turn go on
        blobs = [body["audio"]] if isinstance(body.get("audio"), dict) else []
        blobs += [blob for blob in body.get("mediaChunks") or [] if isinstance(blob, dict)]
        for blob in blobs:
            await self._audio(blob)
        if body.get("audioStreamEnd") and not self._manual_activity:
            ended = self._vad.flush()
            if ended is not None:
                await self._utterance(ended.duration_s)
        if body.get("activityStart") is not None:
            await self._activity_start()
        if body.get("activityEnd") is not None:
            await self._activity_end()
        text = body.get("text")
        # Whitespace only is a nudge, not a question: the pipecat workaround for 3.x's stall
        # after a tool response sends realtimeInput.text=" " (pipecat-ai/pipecat PR #4366).
        if isinstance(text, str) and text.strip():
            await self._start_turn(text, kind="text", prompt_audio_s=0.0)

    async def _audio(self, blob: dict) -> None:
        try:
            rate = pcm_rate(blob.get("mimeType"))
            if rate is None:
                logger.debug("%s: ignoring non-PCM media %r", self._record.id, blob.get("mimeType"))
                return
            pcm = decode_base64(blob.get("data") or "")
        except AudioFormatError as exc:
            raise SessionRefused(1007, wire.INVALID_ARGUMENT, f"realtimeInput audio: {exc}") from None
        samples = pcm16_to_float(pcm)
        if self._resampler is None or self._resampler.src_rate != rate:
            self._resampler = StreamResampler(rate)
        frames = self._meter.feed(self._resampler.process(samples))
        seconds = samples.size / rate
        self._record.add_audio(seconds, rate, frames)
        if self._manual_activity:
            if self._activity_open:
                self._activity_audio_s += seconds
            return
        for event in self._vad.feed(frames):
            if isinstance(event, SpeechStarted):
                if self._interrupts:
                    await self._interrupt()
            elif isinstance(event, SpeechEnded):
                await self._utterance(event.duration_s)

    async def _activity_start(self) -> None:
        if not self._manual_activity:
            return  # only meaningful with automatic activity detection disabled
        self._activity_open, self._activity_audio_s = True, 0.0
        if self._interrupts:
            await self._interrupt()

    async def _activity_end(self) -> None:
        if self._manual_activity and self._activity_open:
            self._activity_open = False
            await self._utterance(self._activity_audio_s)

    async def _utterance(self, duration_s: float) -> None:
        await self._start_turn(replies.speech_placeholder(duration_s), kind="audio", prompt_audio_s=duration_s)

    async def _client_content(self, body: dict) -> None:
        texts: list[str] = []
        for turn in body.get("turns") or []:
            if not isinstance(turn, dict):
                continue
            parts_text = [part["text"] for part in turn.get("parts") or []
                          if isinstance(part, dict) and isinstance(part.get("text"), str)]
            self._state.history_tokens += replies.text_tokens(" ".join(parts_text))
            if turn.get("role", "user") == "user":
                texts.extend(parts_text)
        if body.get("turnComplete"):
            await self._start_turn("\n".join(texts) or "[content]", kind="text", prompt_audio_s=0.0)

    async def _tool_response(self, body: dict) -> None:
        for response in body.get("functionResponses") or []:
            kind, name = self._calls.answer(response)
            if kind != "stale" and self._now().stall_after_tool_response and scheduling_of(response) != "SILENT":
                # pipecat-ai/pipecat PR #4366: 3.x runs no inference after a toolResponse
                # until some realtime input follows.
                self._input_after_response.clear()
            if kind == "background":
                assert name is not None
                await self._background_result(name, response)

    async def _background_result(self, name: str, response: dict) -> None:
        """A non-blocking call's result: its ``scheduling`` decides when it is spoken.

        3.8 model page (LIVE_PROTOCOL 8.1) and google-genai 3.6.1
        ``types.FunctionResponseScheduling``: SILENT only adds the result to the
        context; WHEN_IDLE (the default) speaks it once the current turn has
        ended; INTERRUPT cuts the current reply and speaks it at once.
        """
        scheduling = scheduling_of(response)
        self._record.update_tool_call(response["id"], response=response.get("response"), scheduling=scheduling)
        if scheduling == "SILENT":
            self._scripted_says.pop(response["id"], None)
            return
        say = self._scripted_says.pop(response["id"], None) if not response.get("willContinue") else (
            self._scripted_says.get(response["id"]))
        reply = (replies.tool_reply_text(name, response.get("response")) if say is None
                 else scripted.render_say(say, response.get("response")))
        if scheduling == "INTERRUPT":
            await self._start_turn("", kind="tool_result", prompt_audio_s=0.0, reply=reply)
            return
        task = asyncio.create_task(self._start_turn_when_idle(reply), name=f"{self._record.id}-when-idle")
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    async def _start_turn_when_idle(self, reply: str) -> None:
        while True:
            async with self._turn_lock:
                task = self._turn_task
                if task is None or task.done():
                    self._begin_turn_locked("", kind="tool_result", prompt_audio_s=0.0, reply=reply)
                    return
            await asyncio.wait({task})  # never cancels the turn it waits for

    def _context_update(self, body: dict) -> None:
        instruction = body.get("systemInstruction")
        if isinstance(instruction, dict) and not self._instruction_locked:
            self._setup["systemInstruction"] = instruction
            self._instruction = system_instruction_text(self._setup)
            self._record.set(effective_setup=self._setup)

    # ------------------------------------------------------------ turns

    async def _start_turn(self, text: str, *, kind: str, prompt_audio_s: float, reply: str | None = None) -> None:
        async with self._turn_lock:
            await self._interrupt_locked()
            self._begin_turn_locked(text, kind=kind, prompt_audio_s=prompt_audio_s, reply=reply)

    def _begin_turn_locked(self, text: str, *, kind: str, prompt_audio_s: float, reply: str | None) -> None:
        self._turn_active = True  # set before the task runs: an interruption must cancel it
        self._turn_task = asyncio.create_task(
            self._model_turn(text, kind=kind, prompt_audio_s=prompt_audio_s, reply=reply),
            name=f"{self._record.id}-turn")

    async def _interrupt(self, *, spurious: bool = False) -> None:
        async with self._turn_lock:
            await self._interrupt_locked(spurious=spurious)

    async def _interrupt_locked(self, *, spurious: bool = False) -> None:
        task = self._turn_task
        if task is not None and not task.done() and not self._turn_active:
            # Past turnComplete (sending its resumption update): let it finish, nothing to interrupt.
            await asyncio.gather(task, return_exceptions=True)
        active = task is not None and not task.done()
        if not active and not spurious:
            return
        if active:
            assert task is not None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        cancelled = self._calls.cancel_blocking()
        self._record.count("interruptions")
        if cancelled:
            await self._channel.send(wire.tool_call_cancellation(cancelled))
        if not self._now().no_interrupted_event:  # AVA-AI-Voice-Agent-for-Asterisk #385: not always sent
            await self._channel.send(wire.interrupted())
        await self._channel.send(wire.turn_complete())

    async def _cancel_turn(self) -> None:
        task = self._turn_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._calls.close()

    async def _model_turn(self, text: str, *, kind: str, prompt_audio_s: float, reply: str | None = None) -> None:
        """One model turn; ``reply`` given: a turn the model starts itself (a tool result), no user input."""
        self._state.turns += 1
        turn: dict[str, Any] = {"index": self._state.turns, "kind": kind, "input": text, "output": None,
                                "interrupted": False, "audio_out_seconds": 0.0}
        try:
            now = self._now()
            if self._input_transcripts and reply is None:
                await self._send_input_transcription(text, now)
            rule = scripted.find_reply(self._ctx.options.scripted_replies, text) if reply is None else None
            commands = replies.parse_tool_commands(text, self._tools) if kind == "text" and reply is None else []
            if rule is not None:
                reply = await self._scripted_turn(rule, turn, self._usage(text, kind, prompt_audio_s, 0.0))
            elif commands:
                reply = await self._run_tools(commands, turn, self._usage(text, kind, prompt_audio_s, 0.0))
            elif reply is None:
                reply = replies.reply_text(text, self._instruction)
            elif self._now().stall_after_tool_response:
                await self._wait_for_input(turn)  # a non-blocking call's result turn stalls too
            turn["output"] = reply
            loop = asyncio.get_running_loop()
            pcm = await loop.run_in_executor(self._ctx.executor, self._ctx.synthesizer.synthesize,
                                             reply, self._voice, self._ctx.options.speech_wpm)
            now = self._now()
            early_usage = None
            if now.usage_placement == "service":
                # LIVE_PROTOCOL 8.5: usage arrives at generation start; turnComplete carries an empty one.
                early_usage = self._usage(text, kind, prompt_audio_s, len(pcm) / (2 * OUTPUT_RATE))
            await self._speak(reply, pcm, turn, {"usageMetadata": early_usage} if early_usage else None)
            await self._channel.send(wire.generation_complete())
            if now.empty_frames:
                await self._channel.send(wire.empty_content())
            usage = early_usage or self._usage(text, kind, prompt_audio_s, turn["audio_out_seconds"])
            self._state.history_tokens += usage["totalTokenCount"] - replies.text_tokens(self._instruction)
            await self._channel.send(wire.turn_complete({} if early_usage else usage))
            self._turn_active = False
            if self._resumable:
                if now.unresumable_during_tool_calls and self._calls.any_pending:
                    await self._channel.send(wire.unresumable_update(empty_handle=True))
                else:
                    await self._channel.send(wire.resumption_update(self._ctx.handles.issue(self._state)))
        except asyncio.CancelledError:
            turn["interrupted"] = True
            raise
        except ChannelClosed:
            pass
        except Exception:
            logger.exception("%s: model turn failed", self._record.id)
            await self._channel.close(1011, "Internal error encountered.", "emulator bug: a model turn failed")
        finally:
            self._turn_active = False
            self._record.add_turn(turn)

    def _usage(self, text: str, kind: str, prompt_audio_s: float, response_audio_s: float) -> dict:
        prompt_tokens = (replies.text_tokens(self._instruction) + self._state.history_tokens
                         + (replies.text_tokens(text) if kind != "audio" else 0))
        return replies.usage_metadata(prompt_text_tokens=prompt_tokens, prompt_audio_s=prompt_audio_s,
                                      response_audio_s=response_audio_s)

    async def _send_input_transcription(self, text: str, now: behaviours.Behaviours) -> None:
        messages = shaping.input_transcription_messages(text, incremental=now.incremental_input_transcription)
        if now.late_input_transcription_s is None:
            for message in messages:
                await self._channel.send(message)
            return
        # LIVE_PROTOCOL 8.5: no ordering guarantee; 3.8 sent the user's line after the reply.
        task = asyncio.create_task(self._send_later(now.late_input_transcription_s, messages),
                                   name=f"{self._record.id}-late-transcription")
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    async def _send_later(self, delay_s: float, messages: list[dict]) -> None:
        await asyncio.sleep(delay_s)
        try:
            for message in messages:
                await self._channel.send(message)
        except ChannelClosed:
            pass

    async def _wait_for_input(self, turn: dict) -> None:
        if not self._input_after_response.is_set():
            turn["stalled"] = True
            self._record.count("stalls")
            await self._input_after_response.wait()

    async def _scripted_turn(self, rule: scripted.ScriptedReply, turn: dict, usage: dict) -> str:
        """A turn a ``--replies`` rule decides: its tool call (if any), then its words."""
        turn["scripted"] = rule.match.pattern
        if rule.call is None:
            return rule.say
        if rule.call.name not in self._tools:  # the service never calls an undeclared function
            return f"(The scripted reply calls {rule.call.name}, which this session does not declare.)"
        return await self._run_tools([rule.call], turn, usage, say=rule.say)

    async def _run_tools(self, commands: list[replies.ToolCommand], turn: dict, usage: dict,
                         say: str | None = None) -> str:
        """Call ``commands``; return the reply: pending note for non-blocking ones, results of blocking ones.

        ``say`` (a scripted reply) replaces the quoted result: said with ``{result}`` filled
        in once the response arrives, at once for a blocking call, when its result is
        spoken for a non-blocking one."""
        calls: list[tuple[str, str, dict]] = []
        background: list[str] = []
        waiting: list[tuple[str, str]] = []
        for command in commands:
            # NON_BLOCKING: the reply goes on while the call runs (3.8 default, LIVE_PROTOCOL 8.1).
            behavior = self._behaviors.get(command.name, "BLOCKING")
            call_id = self._calls.open(command, behavior)
            calls.append((call_id, command.name, command.args))
            if behavior == "BLOCKING":
                waiting.append((call_id, command.name))
            else:
                background.append(command.name)
                if say is not None:
                    self._scripted_says[call_id] = say
        turn["kind"] = "tool" if waiting else "tool_async"
        await self._send_tool_calls(calls, usage)
        parts = [replies.tool_pending_text(background)] if background else []
        for call_id, name in waiting:
            response = await self._calls.wait(call_id)
            parts.append(replies.tool_reply_text(name, response) if say is None else scripted.render_say(say, response))
        if waiting and self._now().stall_after_tool_response:
            await self._wait_for_input(turn)
        return " ".join(parts)

    async def _send_tool_calls(self, calls: list[tuple[str, str, dict]], usage: dict) -> None:
        now = self._now()
        # livekit/agents-js #1137 (fix PR #1138): 2.5 sends a parallel call in its own toolCall message.
        messages = [wire.tool_calls([call]) for call in calls] if now.separate_parallel_calls else [wire.tool_calls(calls)]
        for message in messages:
            if now.usage_placement == "service":
                message["usageMetadata"] = usage  # LIVE_PROTOCOL 8.5: toolCall frames may carry usage
            await self._channel.send(message)
        if now.unresumable_during_tool_calls and self._resumable:
            await self._channel.send(wire.unresumable_update(empty_handle=False))

    async def _speak(self, reply: str, pcm: bytes, turn: dict, first_extra: dict | None = None) -> None:
        options = self._ctx.options
        now = self._now()
        chunk_bytes = max(2, OUTPUT_RATE * 2 * options.speak_chunk_ms // 1000)
        chunks = [pcm[offset:offset + chunk_bytes] for offset in range(0, len(pcm), chunk_bytes)] or [b""]
        pieces = replies.split_transcript(reply, len(chunks)) if self._output_transcripts else []
        # Transcript piece j goes out just before the chunk where its share of the audio starts.
        due = {round(j * len(chunks) / len(pieces)): piece for j, piece in enumerate(pieces)} if pieces else {}
        loop = asyncio.get_running_loop()
        start = loop.time()
        position_s = 0.0
        for index, chunk in enumerate(chunks):
            if options.realtime:
                delay = start + position_s - options.pacing_lead_s - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # let an interruption in between chunks
            for message in shaping.chunk_messages(index, wire.audio_chunk(chunk, OUTPUT_MIME), due.get(index),
                                                  multipart=now.multipart_messages, empty_frames=now.empty_frames,
                                                  first_extra=first_extra):
                await self._channel.send(message)
            seconds = len(chunk) / (2 * OUTPUT_RATE)
            position_s += seconds
            turn["audio_out_seconds"] = round(turn["audio_out_seconds"] + seconds, 6)
            self._record.add_audio_out(seconds)
