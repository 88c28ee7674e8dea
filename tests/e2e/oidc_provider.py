"""A real OpenID Connect provider on 127.0.0.1 for the sign-in tests (``oidc-provider-mock``).

The provider serves discovery, its sign-in page (a button per predefined user), tokens,
userinfo and an end-session page; Streamlit's ``st.login`` talks to it through Authlib as
it would to Google or Entra. Runs on a werkzeug server thread owned by ``OidcProvider``:
``start()`` binds 127.0.0.1 on a free port, ``stop()`` shuts it down and joins the thread.

Threads: the test's main thread starts and stops it; requests are served on the server's
own threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import werkzeug.serving
from oidc_provider_mock import User, app as provider_app

from tests.e2e.errors import HarnessError

_STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Person:
    """A user the provider's page offers: their email and whether it is verified."""

    email: str
    name: str
    verified: bool = True

    def user(self) -> User:
        return User(sub=self.email, claims={"email": self.email, "email_verified": self.verified,
                                            "name": self.name})


class OidcProvider:
    """``oidc_provider_mock``'s Flask app served on 127.0.0.1 (start/stop idempotent)."""

    def __init__(self, people: tuple[Person, ...]) -> None:
        self._people = people
        self._server: werkzeug.serving.BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise HarnessError("OidcProvider.base_url needs start() first")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def start(self) -> "OidcProvider":
        if self._server is not None:
            return self
        app = provider_app(user_claims=[person.user() for person in self._people])
        self._server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(_STOP_TIMEOUT_S)
            if thread.is_alive():
                raise HarnessError("the OIDC provider's thread did not stop")

    def __enter__(self) -> "OidcProvider":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
