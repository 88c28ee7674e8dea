"""Live Data Chat: entry point (page config, navigation, the sidebar every page shares).

Run with ``make run`` (``streamlit run app.py``). Layout only: the shell lives in
``livechat.ui.shell``, the flows in ``livechat.ui``, the core in ``livechat``.
"""

from pathlib import Path

import streamlit as st

from livechat.ui import shell

PAGES_DIR = Path(__file__).parent / "pages"

shell.render_shell()

pages = [st.Page(PAGES_DIR / "data.py", title="Data", icon=":material/table_chart:", default=True)]
# --- Talk page slot -------------------------------------------------------------------
# pages/talk.py (voice) is written separately; it joins the navigation once the file
# exists. The lead makes this entry unconditional when the page lands. Like every page,
# it should start with `shell.ensure_shell()` (see livechat/ui/shell.py for why).
if (PAGES_DIR / "talk.py").is_file():
    pages.append(st.Page(PAGES_DIR / "talk.py", title="Talk", icon=":material/mic:"))
# ---------------------------------------------------------------------------------------
pages.append(st.Page(PAGES_DIR / "settings.py", title="Settings & diagnostics", icon=":material/settings:"))

page = st.navigation(pages)
with shell.page_scope():
    page.run()
