"""A Live connection from upgrade to conversation: credentials, setup, lock, resumption.

Order of checks, each refusal a close frame after the upgrade (never HTTP 4xx):

1. credentials (1008 / 1007) - the emulator first waits briefly for the
   client's setup frame, as the service's network latency effectively does,
   so the SDK reads the close as ``APIError`` instead of failing on ``send``;
2. the first frame must be ``{"setup": ...}`` with known fields (1007);
3. effective setup = merge(token setup, token mask, client setup);
4. model and modality of the effective setup (1008 / 1007 / 1011);
5. resumption (the handle in the *effective* setup: under a global lock it is the
   token's, and the client's copy is ignored like the rest of its setup) or a new
   session: token ``uses`` and
   ``newSessionExpireTime`` (1008);
6. ``setup_delay_s``, then the ``Conversation`` sends ``setupComplete``.

Thread affinity: server event-loop thread.
"""

from __future__ import annotations

import asyncio
import logging
import re

from starlette.websockets import WebSocket

from .auth_tokens import AuthToken
from .channel import Channel, ChannelClosed
from .context import ServerContext
from .conversation import Conversation
from .credentials import check_live_credentials, find_credentials
from .errors import SessionRefused
from .handles import UNAVAILABLE_REASON, ConversationState
from .models import MODELS
from .setup import check_model, has_field, merge_setup
from .transport import EXTENSION
from .wire import parse_setup_frame

logger = logging.getLogger(__name__)

LIVE_PATH = re.compile(
    r"^/*ws/google\.ai\.generativelanguage\.(v1alpha|v1beta|v1)\.GenerativeService\."
    r"(BidiGenerateContent|BidiGenerateContentConstrained)$")
# How long a refused client gets to send its setup before the close frame goes out.
_REFUSAL_GRACE_S = 2.0


def match_live_path(path: str) -> tuple[str, bool] | None:
    """(api_version, constrained) for a Live path (leading ``//`` accepted), else ``None``."""
    match = LIVE_PATH.match(path)
    if not match:
        return None
    return match.group(1), match.group(2).endswith("Constrained")


async def serve_live(websocket: WebSocket, context: ServerContext, api_version: str, constrained: bool) -> None:
    """Accept one Live WebSocket and run it to the end."""
    await websocket.accept()
    record = context.registry.create(endpoint="constrained" if constrained else "api_key", auth="none",
                                     api_version=api_version, path=websocket.scope.get("path", ""))
    abort = (websocket.scope.get("extensions") or {}).get(EXTENSION, {}).get("abort")
    channel = Channel(websocket, record, lambda: context.options, abort)
    context.active.add(channel)
    state: ConversationState | None = None
    try:
        query = dict(websocket.query_params)
        credentials = find_credentials(websocket.headers, query)
        try:
            identity = check_live_credentials(
                credentials, constrained=constrained, api_version=api_version, server_key=context.api_key,
                options=context.options, tokens=context.tokens, now=context.clock())
        except SessionRefused:
            await channel.receive(timeout=_REFUSAL_GRACE_S)
            raise
        token = identity.token
        record.set(auth=identity.auth, token=token.name if token else None)

        frame = await channel.receive()
        if frame is None:
            return
        raw_setup, client_setup = parse_setup_frame(frame)
        record.set(client_setup=raw_setup)
        effective = merge_setup(token.setup, token.field_mask, client_setup) if token else client_setup
        record.set(effective_setup=effective)
        model = check_model(effective, api_version)
        record.set(model=model)

        now = context.clock()
        handle = None
        if has_field(effective, "sessionResumption"):
            # The handle comes from the effective setup, like every other field: a
            # globally locked token must carry it in its constraints.
            handle = (effective.get("sessionResumption") or {}).get("handle") or None
        if handle:
            if context.options.refuse_resumption:
                raise SessionRefused(1011, UNAVAILABLE_REASON, "refuse_resumption fault")
            state = await context.handles.resume(handle, now=now)
            if token is not None:
                context.tokens.authenticate(token.name, now=now)  # still unexpired?
                context.tokens.note_resumed_session(token, record.id)
            record.set(resumed_from=state.last_session, history_turns=state.turns)
        else:
            if token is not None:
                context.tokens.admit_new_session(token, record.id, now=now)
            state = ConversationState(first_session=record.id, started_at=now)
        state.attach(record.id)

        if context.options.setup_delay_s > 0:
            await asyncio.sleep(context.options.setup_delay_s)
        conversation = Conversation(
            context=context, channel=channel, record=record, setup=effective, state=state, token=token,
            instruction_locked=_instruction_locked(token), rules=MODELS[model])
        await conversation.run()
    except SessionRefused as exc:
        logger.info("%s refused: %s", record.id, exc.detail)
        await channel.close(exc.code, exc.reason, exc.detail)
    except ChannelClosed:
        pass
    except Exception:  # an emulator bug: end the session the way the service reports its own faults
        logger.exception("%s: unexpected error", record.id)
        await channel.close(1011, "Internal error encountered.", "emulator bug: see the server log")
    finally:
        context.active.discard(channel)
        if state is not None:
            state.detach(record.id, now=context.clock())
        record.end("connection finished", None)


def _instruction_locked(token: AuthToken | None) -> bool:
    """Whether the token fixes the system instruction (a contextUpdate may not change it)."""
    if token is None or (token.setup is None and not token.field_mask):
        return False
    if not token.field_mask:
        return True  # global lock
    return any(path == "systemInstruction" or path.startswith("systemInstruction.") for path in token.field_mask)
