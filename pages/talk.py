"""Talk page: speak to the dataset (or type), and see the conversation as it happens.

Layout only; the wiring lives in ``livechat.ui.talk`` and the audio path in
``livechat.voice.bridge``. The DOM contract the browser tests rely on is listed in
``livechat.ui.talk``.
"""

import streamlit as st

from livechat.ui import access_settings, definitions_talk, shell, talk, talk_style

shell.ensure_shell()  # the shell without app.py; the access gate if nobody is admitted (livechat/ui/shell.py)
talk_style.apply()
st.title("Talk")
st.caption(
    "Press START and ask about your data out loud, or type below. "
    "The model answers from the dataset on the Data page."
)

access_settings.render_key_warning()  # a server key open to anyone who can reach the page
opened = talk.open_page()
if opened is None:
    st.stop()
ctx, rtc_configuration = opened

question = st.chat_input(talk.CHAT_PLACEHOLDER, key=talk.CHAT_KEY) or definitions_talk.pending_question()
if question:
    talk.submit_question(ctx, question)

col_voice, col_options = st.columns([3, 2], vertical_alignment="center")
with col_options, st.expander("Audio options", icon=":material/tune:"):
    processing = st.toggle(
        "Browser audio processing",
        value=talk.audio_processing_default(),
        key=talk.PROCESSING_WIDGET_KEY,
        disabled=ctx.bridge.stream_active,
        help="Echo cancellation, noise suppression and automatic gain in the browser. "
        "Keep it on with loudspeakers: without echo cancellation the model hears itself. "
        "Takes effect at the next START.",
    )
    st.toggle("Play typed answers aloud", value=False, key=talk.AUTOPLAY_WIDGET_KEY)
with col_voice:
    talk.render_voice(ctx, processing=processing, rtc_configuration=rtc_configuration)

talk.render_first_questions(ctx)  # before the first question only
talk.live_panel()
talk.render_record(ctx)
talk.render_instruction(ctx)
