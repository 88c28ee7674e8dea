"""Streamlit glue for Live Data Chat.

This package is the only place under ``livechat/`` allowed to import streamlit (some of
its modules do not need to, and don't). One job per module:

- ``shell``: page config, logging, first-visit dataset, emulator and sidebar, per run;
- ``state``: typed accessors over ``st.session_state`` (handles, no logic);
- ``cache``: ``st.cache_data`` loaders keyed by content digest (table, profile, summary…);
- ``dataset``: the flows behind the uploader and the sheet selector;
- ``runtime``: the service configuration and the built-in offline emulator;
- ``ice``: the WebRTC ICE configuration (static servers, minted TURN credentials, relay check);
- ``shutdown``: SIGTERM ends calls cleanly (the process-wide registry of bridges and streams);
- ``replica``: this replica's id, and telling an analyst the balancer moved them;
- ``sidebar``, ``columns``, ``quick_charts``: rendering helpers for the pages;
- ``endpoint``, ``formatting``, ``health``, ``diagnostics``: plain helpers (no streamlit);
- ``_compat``: the one Streamlit internal touched (legacy ``pages/`` mode).

The core in ``livechat/`` never imports from here.
"""
