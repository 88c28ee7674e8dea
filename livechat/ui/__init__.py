"""Streamlit glue for Live Data Chat.

This package is the only place under ``livechat/`` allowed to import streamlit (some of
its modules do not need to, and don't). One job per module:

- ``shell``: page config, logging, first-visit dataset, emulator and sidebar, per run;
- ``slots``: the one owner of the session state (every key, its type and default);
- ``state``: typed accessors over the slots (handles, no logic);
- ``cache``: ``st.cache_data`` loaders keyed by content digest (table, profile, summary…);
- ``dataset``: the flows behind the uploader and the sheet selector;
- ``runtime``: the service configuration and the built-in offline emulator;
- ``ice``: the WebRTC ICE configuration (static servers, minted TURN credentials, relay check);
- ``shutdown``: SIGTERM ends calls cleanly (the process-wide registry of bridges and streams);
- ``replica``: this replica's id, and telling an analyst the balancer moved them;
- ``sidebar``, ``columns``, ``quick_charts``: rendering helpers for the pages;
- ``talk``, ``talk_style``: the Talk page's wiring and rendering, its stylesheet and voice skin;
- ``endpoint``, ``formatting``, ``health``, ``diagnostics``: plain helpers (no streamlit);
- ``talk_status``, ``next_steps``: the Talk page's state pill and "model is speaking" rules,
  and every error it can show with what to do next (plain data, no streamlit);
- ``_compat``: the one Streamlit internal touched (legacy ``pages/`` mode).

The core in ``livechat/`` never imports from here.
"""
