"""Everything a page receives: HTTP response bodies and WebSocket frames (iframes included).

Playwright reports a page's sub-frame traffic (the streamlit-webrtc component's iframe)
on the page itself. Bodies are read after the conversation (``collect_bodies``) because
reading them inside an event handler would re-enter Playwright's sync dispatcher.

Threads: the test's main thread (Playwright's sync API calls the handlers there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass
class TrafficRecorder:
    """Records every HTTP response body and WebSocket frame received by a page (and its iframes)."""

    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    _responses: list[Any] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        # Playwright needs Python functions as handlers (not builtins such as list.append).
        page.on("response", self._on_response)
        page.on("websocket", self._on_websocket)

    def _on_response(self, response: Any) -> None:
        self._responses.append(response)

    def _on_websocket(self, websocket: Any) -> None:
        url = websocket.url

        def received(payload: str | bytes) -> None:
            self.frames.append((url, payload.encode() if isinstance(payload, str) else bytes(payload)))

        websocket.on("framereceived", received)

    def collect_bodies(self) -> None:
        """Read the bodies of the responses seen so far (call while the page is open)."""
        pending, self._responses = self._responses, []
        for response in pending:
            try:
                self.bodies.append((response.url, response.body()))
            except Exception as exc:  # redirects and aborted requests have no body
                self.unread.append(f"{response.status} {response.url}: {exc}")

    def find(self, needles: Iterable[str]) -> list[str]:
        """Where any needle occurs: ``'<needle> in <url>'`` lines (bodies and frames)."""
        found = []
        for needle in needles:
            raw = needle.encode()
            for kind, items in (("response", self.bodies), ("websocket frame", self.frames)):
                for url, data in items:
                    if raw in data:
                        found.append(f"{needle[:12]}… in {kind} from {url}")
        return found
