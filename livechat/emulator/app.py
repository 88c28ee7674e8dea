"""The emulator's Starlette application: REST routes and the Live WebSocket route.

* ``POST /v1alpha/auth_tokens``: mint a token (API key in ``x-goog-api-key`` or ``?key=``);
  every other version or spelling is a Google-style 404.
* ``/ws/google.ai.generativelanguage.{v1alpha|v1beta|v1}.GenerativeService.BidiGenerateContent[Constrained]``
  (leading ``//`` accepted): the Live API, see ``handshake``.
* ``GET /emulator/sessions`` / ``GET /emulator/tokens``: introspection for tests
  (token names appear, the server's API key never does).

Thread affinity: handlers run on the server's event-loop thread.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from .context import ServerContext
from .credentials import check_mint_credentials, find_credentials
from .errors import MintRejected
from .handshake import match_live_path, serve_live

logger = logging.getLogger(__name__)


def google_error(status: int, google_status: str, message: str) -> JSONResponse:
    """A response in Google's REST error envelope."""
    return JSONResponse({"error": {"code": status, "message": message, "status": google_status}},
                        status_code=status)


def not_found(path: str) -> JSONResponse:
    return google_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")


def build_app(context: ServerContext) -> Starlette:
    """The ASGI app serving ``context``."""

    async def mint(request: Request) -> Response:
        if request.path_params["version"] != "v1alpha":
            return not_found(request.url.path)
        try:
            check_mint_credentials(find_credentials(request.headers, dict(request.query_params)),
                                   server_key=context.api_key, options=context.options)
            token = context.tokens.mint(await request.body(), now=context.clock(),
                                        accept_nested_mask_paths=context.options.accept_nested_mask_paths)
        except MintRejected as exc:
            logger.info("mint refused: %s", exc)
            return JSONResponse(exc.to_json(), status_code=exc.http_status)
        return JSONResponse({"name": token.name})

    async def sessions(request: Request) -> Response:
        return JSONResponse({"sessions": context.registry.snapshot()})

    async def tokens(request: Request) -> Response:
        return JSONResponse({"tokens": context.tokens.snapshot()})

    async def live(websocket: WebSocket) -> None:
        matched = match_live_path(websocket.scope.get("path", ""))
        if matched is None:
            await websocket.send_denial_response(not_found(websocket.scope.get("path", "")))
            return
        await serve_live(websocket, context, *matched)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return not_found(request.url.path)
        if status == 405:
            return google_error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.url.path}")
        return google_error(status, "INTERNAL", "Internal error encountered.")

    return Starlette(
        routes=[
            Route("/{version}/auth_tokens", mint, methods=["POST"]),
            Route("/emulator/sessions", sessions, methods=["GET"]),
            Route("/emulator/tokens", tokens, methods=["GET"]),
            WebSocketRoute("/{path:path}", live),
        ],
        exception_handlers={HTTPException: http_error},
    )
