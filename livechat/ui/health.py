"""A reachability probe for the local emulator, shown as the Settings page's health line.

One HTTP request to the endpoint's root with a short timeout: any HTTP answer proves the
server listens and, over https, that its certificate verifies against the configured CA
file. The root of a Live API endpoint has no page (the emulator, like Google, answers 404
there), so the status code says nothing about health and the page's sentence leaves it
out (``health_sentence``): it says what was checked and what that means. The app only probes the emulator it started itself on
127.0.0.1; configured remote endpoints are checked by the first voice session instead.
No streamlit import; runs on the calling thread and blocks at most ``timeout_s`` per step.
"""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of a probe: ``ok``, a sentence for the page, and what was reached.

    ``where`` is ``host:port``; ``tls`` is True when the answer came over a verified TLS
    connection; ``status`` is the HTTP status of the answer (diagnostics only: any status
    means the server is there).
    """

    ok: bool
    detail: str
    where: str = ""
    tls: bool = False
    status: int | None = None


class ProbeError(ValueError):
    """A URL the probe cannot address."""


def probe_endpoint(base_url: str, ca_file: str | None, *, timeout_s: float = 2.0) -> ProbeResult:
    """GET ``base_url``'s root once; ok when any HTTP response arrives in time."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"the probe needs an http:// or https:// URL with a host, got {base_url!r}")
    host, port = parts.hostname, parts.port
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        connection = http.client.HTTPSConnection(host, port, timeout=timeout_s, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    where = f"{host}:{port}" if port else host
    try:
        connection.request("GET", "/")
        status = connection.getresponse().status
    except ssl.SSLError as exc:
        return ProbeResult(False, f"{where} answered, but its certificate did not verify ({exc.reason}).",
                           where=where)
    except (OSError, http.client.HTTPException) as exc:
        return ProbeResult(False, f"{where} did not answer ({type(exc).__name__}: {exc}).", where=where)
    finally:
        connection.close()
    tls = parts.scheme == "https"
    checked = " over HTTPS, with a certificate that verifies against its CA file" if tls else ""
    return ProbeResult(True, f"answers on {where}{checked}", where=where, tls=tls, status=status)


def health_sentence(subject: str, result: ProbeResult) -> str:
    """The Settings page's health line: what was checked and what it means.

    ``subject`` names the server ("the offline emulator"). A healthy answer reads as
    good news, with no raw HTTP status (a 404 at the root is the normal answer).
    """
    if result.ok:
        return f"{subject} {result.detail}: voice sessions can connect."
    return f"{subject} failed the check: {result.detail} Voice sessions cannot connect until this is fixed."
