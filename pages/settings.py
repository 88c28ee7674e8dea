"""Settings & diagnostics page: where voice sessions go, what is configured, what is installed.

Layout only. Shows whether a key is set, never the key; the CA file by path; ICE servers
by count, never their credentials; a managed TURN service (Cloudflare, Twilio) by name.
"""

import pandas as pd
import streamlit as st

from livechat.config import ConfigError
from livechat.ui import access_settings, figures_view, ice, replica, runtime, shell
from livechat.ui.diagnostics import memory_sentence, package_versions
from livechat.ui.endpoint import endpoint_label
from livechat.ui.health import health_sentence, probe_endpoint
from livechat.ui.model_panel import render_model_section
from livechat.ui.talk import uplink_stall_timeout
from livechat.ui.usage_view import render_usage
from livechat.ui.voice_health import render_voice_health

shell.ensure_shell()  # the shell without app.py; the access gate if nobody is admitted (livechat/ui/shell.py)

st.title("Settings & diagnostics")

try:
    configured = runtime.service_config()
except ConfigError as exc:
    st.error(f"The service configuration is not usable: {exc}")
    st.stop()

st.header("Voice endpoint")  # h2 under the h1 title: headings in order
st.markdown(f"**Endpoint mode:** {endpoint_label(configured)}")
st.markdown(f"**Model:** `{configured.model}`")
render_model_section(configured.model)
st.markdown(f"**API key:** {'set' if configured.has_api_key else 'not set'}")
st.markdown(
    f"**CA file:** `{configured.ca_file}`" if configured.ca_file else "**CA file:** none (system trust store)"
)
ice_count = runtime.ice_server_count()
st.markdown(
    f"**ICE servers:** {ice_count} configured"
    if ice_count
    else "**ICE servers:** none configured (fine for local use; a hosted app needs TURN)"
)

try:
    turn = ice.turn_settings()
    managed = ice.managed_turn_status()
    if managed is not None:  # names the service, never a credential
        st.markdown(f"**TURN:** {managed.label}")
        if managed.servers_text is not None:
            st.markdown(f"**TURN servers:** {managed.servers_text}")
        if managed.error is not None:
            st.error(f"TURN: {managed.error}")
    else:
        st.markdown(
            f"**TURN credentials:** minted per session for {len(turn.urls)} URL(s)"
            if turn.mints_credentials else "**TURN credentials:** not minted (no turn_urls)"
        )
    st.markdown(f"**ICE transport policy:** {turn.transport_policy}")
except (ConfigError, ice.IceConfigError) as exc:
    st.error(f"The TURN settings are not usable: {exc}")
st.markdown(f"**Replica:** `{replica.replica_id()}`")

emulator_problem = runtime.ensure_offline_emulator(configured)
if emulator_problem is not None:
    st.error(f"Health: {emulator_problem}")
elif configured.offline:
    effective = runtime.offline_emulator(configured)
    st.markdown(f"**Emulator base URL:** `{effective.base_url}`")
    probe = probe_endpoint(effective.base_url, effective.ca_file)
    sentence = f"Health: {health_sentence('the offline emulator', probe)}"
    if probe.ok:
        st.success(sentence)
    else:
        st.error(sentence)
else:
    key_note = "an API key is set" if configured.has_api_key else "no API key is set"
    st.info(
        f"Health: configured ({key_note}). This page does not contact the service; "
        "the first voice session checks the connection."
    )

access_settings.render_access_section()  # who can reach it; the key warning (livechat/ui/access_settings.py)

st.header("Voice calls on this server")
render_voice_health(uplink_stall_timeout())

render_usage()  # admins: who used what, the deployment's cap, the audit trail as CSV

st.header("Memory")
st.markdown(memory_sentence())

st.header("Transcript")
figures_view.render_marks_setting()

st.header("Installed versions")
versions = package_versions()
st.dataframe(
    pd.DataFrame({"package": list(versions), "version": list(versions.values())}),
    hide_index=True,
)
