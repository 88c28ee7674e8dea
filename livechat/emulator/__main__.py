"""Run the emulator alone: ``python -m livechat.emulator --port 8765 --api-key KEY``.

Prints the base URL (``https://127.0.0.1:PORT``) on one line, writes
``--cert-dir``/ca.pem when given, and serves until SIGINT or SIGTERM. Every
``EmulatorOptions`` field is a flag (``--close-after-messages 5``,
``--refuse-auth``, ``--no-realtime`` ...); ``--replies FILE`` scripts what the model
says to which question (``scripted.py``). Without ``--api-key`` the key comes from
``EMULATOR_API_KEY``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from typing import Sequence

from .errors import EmulatorError
from .options import EmulatorOptions
from .server import EmulatorServer

_TYPES = {"int": int, "float": float, "int | None": int, "float | None": float, "str": str, "str | None": str}
# Flags whose meaning "(default …)" does not tell.
_HELP = {
    "replies": "JSON Lines file of scripted replies, one rule a line: "
               '{"match": "<regex on the question text>", "call": {"name": ..., "args": {...}} (optional), '
               '"say": "<reply text>"}. The first rule matching the question (typed text, or "[speech N s]" '
               "for speech) decides the turn: with call, the emulator makes that tool call, waits for the "
               "response, then says say with {result} replaced by the response's JSON; no match: the echo reply",
}
_CHOICES = {"usage_placement": ("turn_complete", "service"), "go_away_close": ("lingering", "deadline", "service")}


def build_parser() -> argparse.ArgumentParser:
    """The CLI parser; option flags are generated from ``EmulatorOptions``."""
    parser = argparse.ArgumentParser(prog="python -m livechat.emulator",
                                     description="Local Gemini Live API emulator (HTTPS + WSS on one port).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)")
    parser.add_argument("--api-key", default=None, help="the API key clients must present "
                        "(default: $EMULATOR_API_KEY)")
    parser.add_argument("--cert-dir", default=None, help="directory to write ca.pem into (default: a temp dir)")
    parser.add_argument("--log-level", default="WARNING", help="logging level for stderr (default WARNING)")
    group = parser.add_argument_group("behaviour and faults (EmulatorOptions fields)")
    for field in dataclasses.fields(EmulatorOptions):
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        if field.type == "bool" and field.name.startswith("no_"):
            # BooleanOptionalAction would read "--no-interrupted-event" as "set it to False".
            group.add_argument(flag, dest=field.name, action="store_true", default=default,
                               help=f"(default {default})")
            group.add_argument("--" + field.name[3:].replace("_", "-"), dest=field.name, action="store_false",
                               help=f"the opposite of {flag}")
        elif field.type == "bool":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                               help=f"(default {default})")
        elif field.type.startswith("tuple"):
            group.add_argument(flag, nargs="+", default=list(default), help=f"(default {' '.join(default)})")
        else:
            group.add_argument(flag, type=_TYPES[field.type], default=default, choices=_CHOICES.get(field.name),
                               metavar="FILE" if field.name == "replies" else None,
                               help=" ".join(filter(None, (_HELP.get(field.name), f"(default {default})"))))
    return parser


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    """``EmulatorOptions`` from parsed CLI arguments (validated)."""
    return EmulatorOptions(**{field.name: getattr(args, field.name) for field in dataclasses.fields(EmulatorOptions)})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api_key = args.api_key or os.environ.get("EMULATOR_API_KEY")
    if not api_key:
        print("error: no API key: pass --api-key or set EMULATOR_API_KEY", file=sys.stderr)
        return 2
    try:
        options = options_from_args(args)
        server = EmulatorServer(api_key, options=options, host=args.host, port=args.port, cert_dir=args.cert_dir)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        server.start()
    except (EmulatorError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        print(server.base_url, flush=True)
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
