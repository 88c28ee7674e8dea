"""Live Data Chat: entry point (page config, navigation, the sidebar every page shares).

Run with ``make run`` (``streamlit run app.py``). Layout only: the shell lives in
``livechat.ui.shell``, the flows in ``livechat.ui``, the core in ``livechat``.
"""

from pathlib import Path

import streamlit as st

from livechat.ui import shell, webrtc_compat

PAGES_DIR = Path(__file__).parent / "pages"

shell.render_shell()  # when nobody is admitted, the page draws the access gate (livechat/ui/access.py)

TALK_URL_PATH = "talk"

pages = [
    st.Page(PAGES_DIR / "data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page(PAGES_DIR / "talk.py", title="Talk", icon=":material/mic:", url_path=TALK_URL_PATH),
    st.Page(PAGES_DIR / "settings.py", title="Settings & diagnostics", icon=":material/settings:"),
]

admitted = shell.admitted()
# Hidden for someone not admitted: the page shows them only the sign-in, refusal or key page.
page = st.navigation(pages, position="sidebar" if admitted else "hidden")
# streamlit-webrtc's stale-stream check counts runs of pages without the voice component
# (see livechat/ui/webrtc_compat.py for the race this replaces).
webrtc_compat.note_page_run(admitted and page.url_path == TALK_URL_PATH)
with shell.page_scope():
    page.run()
