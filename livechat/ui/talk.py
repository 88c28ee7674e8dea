"""Talk page helpers: the voice component, the session wiring, and the live transcript.

``pages/talk.py`` holds the layout and calls these. What the browser tests rely on (the
DOM contract, keep it exact): the page lives at ``/talk``; ``webrtc_streamer(key="voice",
mode=SENDRECV)`` audio only, with the library's START/STOP; the badge is a markdown
``Session: <state>`` inside a container keyed ``session-state``; the transcript is
``st.chat_message("user"/"assistant")`` inside a container keyed ``transcript``; tool
calls are expanders labelled ``Tool: <name>…``; charts are ``st.altair_chart`` in the
transcript; the chat input's placeholder is "Ask about your data";
the badge's state is also a class: the container keyed ``pill-<state>`` inside
``session-state`` (the coloured pill); ``model-speaking`` is shown while reply audio plays;
``LIVECHAT_AUDIO_PROCESSING=off`` turns the browser's echoCancellation, noiseSuppression
and autoGainControl off by default.

Threads: everything here runs on the session's script thread (page runs, the live
fragment's runs, widget callbacks). The bridge's media callbacks, handed to
streamlit-webrtc here, run on aiortc's loop (see ``livechat.voice.bridge``).
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_webrtc import (
    WebRtcMode,
    WebRtcStreamerContext,
    create_audio_sink_track,
    webrtc_streamer,
)
from streamlit_webrtc.shutdown import SessionShutdownObserver

from livechat.voice.bridge import SessionFactory, TaggedEvent, VoiceBridge
from livechat.config import ConfigError, ServiceConfig
from livechat.live.events import Notice
from livechat.live.guard import SessionGuard
from livechat.live.session import LiveSession, ReplyAudioSink, SessionOptions
from livechat.live.tokens import LiveSettings
from livechat.summary.token_estimate import estimate_tokens
from livechat.tools.toolbox import response_scheduling
from livechat.usage.limits import LimitsError
from livechat.conversation.transcript import Transcript
from livechat.ui import (access, browser_signals, budgets, conversations, definitions, definitions_talk,
                         figures_view, ice, model_tables, record, runtime, shutdown, slots, state, tables, talk_style,
                         transcript_view, visitor_key, webrtc_compat)
from livechat.ui.next_steps import Situation, page_message
from livechat.ui.state import CurrentDataset
# Part of the page's DOM contract, defined with the transcript view; named here too.
from livechat.ui.transcript_view import TOOL_LABEL_PREFIX, TRANSCRIPT_KEY, tool_label  # noqa: F401

from livechat.ui.talk_status import latest_reply, meter_live, model_speaking, pill_for

logger = logging.getLogger(__name__)

# --- the DOM contract -------------------------------------------------------------------
VOICE_KEY = slots.VOICE_COMPONENT.key  # "voice"
BADGE_KEY = talk_style.BADGE_KEY  # "session-state", mirrored into a role="status" region
CHAT_PLACEHOLDER = "Ask about your data"
AUDIO_PROCESSING_ENV = "LIVECHAT_AUDIO_PROCESSING"
STALL_TIMEOUT_ENV = "LIVECHAT_UPLINK_STALL_S"
# ------------------------------------------------------------------------------------------

SINK_KEY = slots.UPLINK_TRACK.key
# Keys declared in livechat.ui.slots; named here for the page and the tests.
CHAT_KEY = slots.TALK_QUESTION_WIDGET.key
PROCESSING_WIDGET_KEY = slots.PROCESSING_WIDGET.key
AUTOPLAY_WIDGET_KEY = slots.AUTOPLAY_WIDGET.key
BRIDGE_STATE_KEY = slots.BRIDGE.key
# The component's own texts we change: its device button becomes the microphone picker.
TRANSLATIONS = {"select_device": talk_style.MIC_LABEL}
# The reply stream's <audio> plays without a player bar: nothing to pause or seek in a live stream.
AUDIO_HTML_ATTRS = {"autoPlay": True, "controls": False}
POLL_SECONDS = 0.4
_OFF_WORDS = frozenset({"off", "0", "false", "no", "disabled"})
_PROCESSING_FIELDS = ("echoCancellation", "noiseSuppression", "autoGainControl")


# ----------------------------------------------------------------------------- pure helpers


def audio_processing_default(env: Mapping[str, str] | None = None) -> bool:
    """Whether the browser's echo cancellation, noise suppression and gain control start on.

    On unless ``LIVECHAT_AUDIO_PROCESSING`` is off/0/false/no (the browser tests use it).
    """
    value = (os.environ if env is None else env).get(AUDIO_PROCESSING_ENV, "")
    return value.strip().lower() not in _OFF_WORDS


DEFAULT_STALL_TIMEOUT_S = 15.0


def uplink_stall_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds without a microphone frame, and no other sign of the browser, before a call
    ends (``LIVECHAT_UPLINK_STALL_S``, default 15; docs/voice-lifecycle.md).

    A closed tab does not wait for it: the browser's own signals end the call within ~1 s.
    Shorter gaps only pause the uplink. Unusable values (not a number, <= 0, > 600) mean
    the default.
    """
    raw = (os.environ if env is None else env).get(STALL_TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_STALL_TIMEOUT_S
    except ValueError:
        return DEFAULT_STALL_TIMEOUT_S
    return value if 0 < value <= 600 else DEFAULT_STALL_TIMEOUT_S


def media_constraints(processing: bool) -> dict[str, Any]:
    """getUserMedia constraints: audio only, the three processing switches explicit."""
    return {"audio": {name: bool(processing) for name in _PROCESSING_FIELDS}, "video": False}


def webrtc_kwargs(
    *,
    rtc_configuration: Mapping[str, Any],
    processing: bool,
    sink: Any,
    source: Any,
) -> dict[str, Any]:
    """The keyword arguments of the Talk page's ``webrtc_streamer`` call.

    The ICE configuration goes to both peers (streamlit-webrtc 0.79 takes
    ``frontend_rtc_configuration`` and ``server_rtc_configuration``), always with an
    explicit ``iceServers`` list so the library never looks servers up on the internet.
    """
    if not isinstance(rtc_configuration.get("iceServers"), list):
        raise ice.IceConfigError(
            f"rtc_configuration must have an iceServers list, got {dict(rtc_configuration)!r}"
        )
    return {
        "key": VOICE_KEY,
        "mode": WebRtcMode.SENDRECV,
        "frontend_rtc_configuration": copy.deepcopy(dict(rtc_configuration)),
        "server_rtc_configuration": copy.deepcopy(dict(rtc_configuration)),
        "media_stream_constraints": media_constraints(processing),
        "sink_audio_track": sink,
        "source_audio_track": source,
        "audio_html_attrs": dict(AUDIO_HTML_ATTRS),
        "translations": dict(TRANSLATIONS),
    }


def session_factory(
    config: ServiceConfig, settings: LiveSettings, tool_executor: Any, *, name: str,
    guard: Callable[[], SessionGuard | None] | None = None,
) -> SessionFactory:
    """A factory of LiveSessions for the bridge (no I/O until the bridge starts one).

    ``guard`` makes each session's budgets guard (``livechat.ui.budgets``)."""

    def make(sink: ReplyAudioSink) -> LiveSession:
        return LiveSession(config=config, settings=settings, audio_sink=sink,
                           tool_executor=tool_executor, options=SessionOptions(name=name),
                           tool_scheduling=response_scheduling, guard=None if guard is None else guard())

    return make


def level_fraction(rms: float) -> float:
    """Meter position 0..1 for an RMS level: -60 dBFS (empty) to 0 dBFS (full)."""
    if rms <= 0.0:
        return 0.0
    return min(1.0, max(0.0, (20.0 * math.log10(rms) + 60.0) / 60.0))


# ----------------------------------------------------------------------------- session-state handles


@dataclass(frozen=True)
class TalkContext:
    """What one run of the Talk page works with."""

    dataset: CurrentDataset
    budget: int
    config: ServiceConfig
    settings: LiveSettings
    key: str
    factory: SessionFactory
    bridge: VoiceBridge
    transcript: Transcript


def get_transcript() -> Transcript:
    """The browser session's transcript: kept across reloads by ``livechat.ui.record``."""
    return record.session_transcript(state.current_dataset())


def get_bridge() -> VoiceBridge:
    """The browser session's VoiceBridge; a new one (and its shutdown watch) after close().

    A ``SessionShutdownObserver`` closes the bridge when the tab closes (or the app
    navigates away from this page), which ends its Live session within ~2 s.
    """
    bridge = slots.BRIDGE.get()
    if bridge is not None and not bridge.closed:
        return bridge
    if bridge is not None:
        # Closed by the navigation watch: the last events of its session (the reply it was
        # giving, the error that ended it) still belong to this conversation.
        get_transcript().apply(bridge.poll_events())
    count = slots.BRIDGE_COUNT.get() + 1
    slots.BRIDGE_COUNT.set(count)
    bridge = VoiceBridge(name=f"voice-{count}", stall_timeout_s=uplink_stall_timeout())
    old = slots.BRIDGE_OBSERVER.get()
    if old is not None:
        old.stop()
    slots.BRIDGE.set(bridge)
    slots.BRIDGE_OBSERVER.set(SessionShutdownObserver(bridge.close))
    shutdown.register_bridge(bridge)  # SIGTERM closes it cleanly (livechat.ui.shutdown)
    return bridge


def prepare(dataset: CurrentDataset, config: ServiceConfig) -> TalkContext:
    """Everything a Talk-page run needs for ``dataset`` and the effective ``config``.

    The model gets what ``model_tables`` says it sees (the ticked tables of the session's
    set; a single upload is a set of one); a change starts a new session, said in the
    transcript.
    """
    budget = state.instruction_budget()
    seen = model_tables.current()
    if seen is None:  # never with a dataset: a load makes its set (livechat.ui.tables)
        raise LookupError("the dataset has no table set")
    settings, toolbox, key = seen.wiring(budget, config)
    # The analyst's definitions: their section, words, run_trusted_query and a key of their own.
    settings, executor, key = definitions.wire(settings, toolbox, key, seen, budget)
    bridge = get_bridge()
    # Budgets: every session is metered for this browser session's analyst; a session
    # started by the voice stream (not by a typed question) is a voice call from the start.
    analyst, limits = access.current_analyst(), budgets.current_limits()

    def meter() -> SessionGuard:
        return budgets.make_meter(analyst, limits, settings.model, voice=bridge.stream_active)

    ctx = TalkContext(
        dataset=dataset,
        budget=budget,
        config=config,
        settings=settings,
        key=key,
        factory=session_factory(config, settings, executor, name=f"live-{bridge.name}", guard=meter),
        bridge=bridge,
        transcript=get_transcript(),
    )
    tables.note_set_change(
        seen.key, seen.names, restart=lambda: _restart_live_session(ctx), transcript=ctx.transcript)
    return ctx


def _restart_live_session(ctx: TalkContext) -> bool:
    """Replace a running session by one for ``ctx.key`` (new instruction); False if none runs."""
    session = ctx.bridge.session
    if session is None or session.state.is_final:
        return False
    ctx.bridge.ensure_session(ctx.factory, ctx.key)
    return True


def open_page() -> tuple[TalkContext, dict[str, Any]] | None:
    """Prepare a Talk-page run, or show why it cannot run and return None (then stop).

    Returns the context and the RTC configuration. Every failure becomes one sentence on
    the page (never a traceback); a run that stops here does not render the voice
    component, which ``webrtc_compat`` must be told.
    """
    webrtc_compat.install()  # before anything of streamlit-webrtc runs in this session
    if shutdown.draining():  # SIGTERM: no new voice session; keep showing the conversation
        webrtc_compat.note_page_run(False)
        st.warning(shutdown.DRAINING_MESSAGE)
        live_panel()
        return None
    dataset = state.current_dataset()
    if dataset is None:
        webrtc_compat.note_page_run(False)
        st.info("Load a dataset on the Data page first.")
        return None
    try:
        # The owner's key, or under key_policy = "visitor" the analyst's own (livechat/ui/access.py).
        config = access.mint_config(runtime.effective_service_config())
        if config is None:  # a visitor's key is needed first (the transcript shows once it is in)
            webrtc_compat.note_page_run(False)
            record.render_restore_note(get_transcript())
            visitor_key.render_key_form(gate=False)
            return None
        rtc_configuration = ice.ice_configuration()
        return prepare(dataset, config), rtc_configuration
    except ice.IceConfigError as exc:
        webrtc_compat.note_page_run(False)
        st.error(page_message(Situation.ICE, str(exc)))
    except ice.ManagedTurnError as exc:  # no relay: no component, rather than connecting for ever
        webrtc_compat.note_page_run(False)
        st.error(page_message(Situation.RELAY, str(exc)))
    except (ConfigError, LimitsError) as exc:
        webrtc_compat.note_page_run(False)
        st.error(page_message(Situation.CONFIG, str(exc)))
    except Exception:
        webrtc_compat.note_page_run(False)
        logger.exception("The Talk page could not be prepared")
        st.error(page_message(Situation.PREPARE))
    return None


# ----------------------------------------------------------------------------- actions


def submit_question(ctx: TalkContext, question: str) -> None:
    """Send a typed question: to the running session, or a new text-only one."""
    text = question.strip()
    if not text:
        return
    if shutdown.draining():
        ctx.transcript.add_error(shutdown.DRAINING_MESSAGE)
        return
    try:
        ctx.bridge.send_text(text, ctx.factory, ctx.key)
    except Exception as exc:  # never a traceback on the analyst's screen
        logger.exception("The typed question could not be sent")
        ctx.transcript.add_error(page_message(Situation.SEND, str(exc)))


def render_first_questions(ctx: TalkContext) -> None:
    """Questions worth asking, as buttons, until the conversation's first question."""
    try:
        seen = model_tables.current()
        if seen is not None:
            definitions_talk.render_first_questions(seen, ctx.transcript)
    except Exception:  # a suggestion must never cost the page
        logger.exception("The first questions could not be made")


def render_voice(ctx: TalkContext, *, processing: bool,
                 rtc_configuration: Mapping[str, Any]) -> WebRtcStreamerContext | None:
    """The webrtc component (START/STOP) wired to the bridge, then the session reconciled.

    Returns None (after an st.error) when the component itself failed, e.g. a signalling
    timeout. Streamlit's rerun/stop requests are BaseExceptions and pass through.
    """
    webrtc_compat.install()
    bridge = ctx.bridge
    try:
        # Bound methods of the bridge kept in session state: every rerun hands the keyed
        # tracks the same object's methods (E2E.md: a module-level target goes stale).
        sink = create_audio_sink_track(bridge.on_uplink_frame, key=SINK_KEY, on_ended=bridge.on_uplink_ended)
        # The bridge's own track: filled at each frame's deadline, sent without a relay queue
        # (livechat/voice/track.py; webrtc_compat installs the direct send).
        source = bridge.source_track
        kwargs = webrtc_kwargs(rtc_configuration=rtc_configuration, processing=processing, sink=sink, source=source)
        # A limit ended the call: the component stops its stream (and is left alone once it has).
        stopping = budgets.voice_stop_wanted()
        if stopping:
            kwargs["desired_playing_state"] = False
        streamer = webrtc_streamer(**kwargs)
        budgets.note_voice_state(playing=streamer.state.playing, signalling=streamer.state.signalling)
    except Exception as exc:
        logger.exception("The voice component failed")
        st.error(page_message(Situation.COMPONENT, f"({type(exc).__name__})"))
        return None
    shutdown.register_stream(bridge, streamer)
    bridge.watch_browser(browser_signals.browser_signals(streamer))
    try:
        bridge.sync_stream(playing=streamer.state.playing and not stopping,
                           signalling=streamer.state.signalling and not stopping,
                           factory=ctx.factory, key=ctx.key)
        meter = budgets.meter_of(bridge.session)
        if meter is not None and bridge.stream_active:
            meter.mark_voice()  # a typed session the analyst now speaks to: minutes count
    except Exception as exc:
        logger.exception("The voice session could not start")
        ctx.transcript.add_error(page_message(Situation.SESSION_START, str(exc)))
    return streamer


# ----------------------------------------------------------------------------- rendering


def render_badge(status: str) -> None:
    """The state pill: exactly ``Session: <state>`` in the ``session-state`` container.

    The pill's colour and icon come from the inner container's class ``st-key-pill-<state>``
    (``talk_style``); the icon is drawn by CSS so the text stays exactly the contract.
    """
    with st.container(key=BADGE_KEY):
        with st.container(key=talk_style.pill_key(status)):
            st.markdown(f"Session: {status}")


def render_speaking(speaking: bool) -> None:
    """Show "The model is speaking" while reply audio plays to the browser (else nothing)."""
    if speaking:
        with st.container(key=talk_style.SPEAKING_KEY):
            st.markdown("The model is speaking")


def playback_speaking(bridge: VoiceBridge) -> bool:
    """Whether reply audio is playing now, from the playback counters (not the badge)."""
    current = bridge.stats().playback
    previous = slots.PLAYBACK_SEEN.get()
    slots.PLAYBACK_SEEN.set(current)
    return model_speaking(previous, current,
                          streaming=bridge.stream_active)


def render_status(bridge: VoiceBridge, status: str) -> None:
    """The status row: the pill, "the model is speaking", and what the state means."""
    with st.container(key=talk_style.STATUS_ROW_KEY, horizontal=True, vertical_alignment="center"):
        render_badge(status)
        render_speaking(playback_speaking(bridge))
        caption = pill_for(status).caption
        if caption:
            st.caption(caption, width="content")


def _chart_source(spec: dict[str, Any], df: pd.DataFrame) -> pd.DataFrame:
    """What a chart draws from: a table of the set, or its query's result; else ``df``."""
    seen = model_tables.current()
    return df if seen is None else seen.chart_frame(spec, df)


def render_level(bridge: VoiceBridge, status: str) -> None:
    """The microphone input meter: it moves only while the session listens."""
    with st.container(key=talk_style.MIC_LEVEL_KEY):
        if not meter_live(status):
            waiting = "paused while the model answers" if status == "responding" else "not listening"
            st.progress(0.0, text=f"Microphone: {waiting}")
            return
        if bridge.uplink_paused:  # frames are late; the call waits for them (voice-lifecycle.md)
            st.progress(0.0, text="Microphone: audio delayed, waiting for it (the call stays open)")
            return
        rms = bridge.input_level
        dbfs = 20.0 * math.log10(rms) if rms > 0 else None
        label = f"Microphone: {dbfs:.0f} dBFS" if dbfs is not None else "Microphone: no input"
        st.progress(level_fraction(rms), text=label)


def render_reply_announcer(transcript: Transcript) -> None:
    """The latest finished reply, not shown, mirrored into a live region (``a11y``): read
    once by a screen reader when it is complete. The streaming text in the transcript is
    not a live region, so it is not read letter by letter."""
    with st.container(key=talk_style.REPLY_ANNOUNCER_KEY):
        # Always one element, empty before the first reply: Streamlit draws no empty container.
        st.text(latest_reply(transcript.entries) or "")


def render_last_reply(bridge: VoiceBridge) -> None:
    """Without a voice stream, the last spoken reply as an audio player."""
    if bridge.stream_active:
        return
    wav = bridge.last_reply_wav()
    if wav is None:
        return
    autoplay = slots.AUTOPLAY_WIDGET.get()
    st.audio(wav, format="audio/wav", autoplay=autoplay)


@st.fragment(run_every=POLL_SECONDS)
def live_panel() -> None:
    """Badge, level meter and transcript, refreshed from the session every POLL_SECONDS."""
    if shutdown.draining():
        render_draining()
        return
    bridge = get_bridge()
    transcript = get_transcript()
    bridge.check_stream()
    transcript.apply(bridge.poll_events())
    budgets.stop_if_limit_ended(bridge.session, streaming=bridge.stream_active)
    figures_view.check_figures(transcript, bridge)  # replies completed since the last run, once each
    relay = ice.relay_watch(VOICE_KEY)
    if relay is not None:  # relay forced and none found: say so instead of "connecting" for ever
        transcript.add_error(f"Voice could not connect: {relay}.")
        bridge.stop_session()
    conversations.save_progress()  # the fragment's changes, without waiting for a full run
    status = bridge.status()
    render_status(bridge, status)
    render_level(bridge, status)
    transcript_view.render_transcript(transcript, state.current_dataset(), chart_source=_chart_source)
    render_reply_announcer(transcript)
    render_last_reply(bridge)


def render_draining() -> None:
    """The conversation while the server shuts down: the notice, the badge ``closed``."""
    transcript = get_transcript()
    bridge = slots.BRIDGE.get()
    if bridge is not None:
        transcript.apply(bridge.poll_events())
        figures_view.check_figures(transcript, bridge)
        if shutdown.acknowledge(bridge):
            transcript.apply([TaggedEvent(0, Notice(shutdown.SHUTDOWN_NOTICE))])
        conversations.save_progress()
    render_badge("closed")
    transcript_view.render_transcript(transcript, state.current_dataset(), chart_source=_chart_source)


def instruction_in_use(ctx: TalkContext) -> tuple[str, bool]:
    """The running session's instruction (and True), else the one the next session gets."""
    session = ctx.bridge.session
    if session is not None and not session.state.is_final:
        return session.effective_instruction, True
    return ctx.settings.system_instruction, False


def render_instruction(ctx: TalkContext) -> None:
    """The instruction in use, one click away, with its token estimate."""
    instruction, live = instruction_in_use(ctx)
    where = "in use by the current session" if live else "the next session will use"
    with st.expander(f"Instruction {where} (about {estimate_tokens(instruction):,} tokens)"):
        st.code(instruction, language=None, wrap_lines=True)


def render_record(ctx: TalkContext) -> None:
    """The conversation record: a note after a reload, and the report downloads.

    The downloads sit in the sidebar: in the page body they would move with every line
    the live transcript adds above them.
    """
    record.render_restore_note(ctx.transcript)
    instruction, _ = instruction_in_use(ctx)
    with st.sidebar:
        st.subheader("Conversation record")
        df = ctx.dataset.table.df
        record.render_downloads(ctx.transcript, ctx.dataset, instruction, ctx.config.model,
                                chart_source=lambda spec: _chart_source(spec, df))
