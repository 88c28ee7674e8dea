"""A reachability probe for the local emulator, shown as the Settings page's health line.

One HTTP request to the endpoint's root with a short timeout: any HTTP answer (even
404) proves the server listens and, over https, that its certificate verifies against
the configured CA file. The app only probes the emulator it started itself on
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
    """Outcome of a probe: ``ok`` and a sentence for the page."""

    ok: bool
    detail: str


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
        return ProbeResult(False, f"{where} answered, but its certificate did not verify ({exc.reason}).")
    except (OSError, http.client.HTTPException) as exc:
        return ProbeResult(False, f"{where} did not answer ({type(exc).__name__}: {exc}).")
    finally:
        connection.close()
    return ProbeResult(True, f"{where} answers (HTTP {status}).")
