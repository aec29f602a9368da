"""Who may talk to a flowwright listener (the proxy, the replay): ``Host`` and ``Origin``.

They listen on 127.0.0.1, which any page in the user's browser can reach: a DNS name rebound
to 127.0.0.1 gives itself away in ``Host``, another site's page opening a WebSocket in
``Origin``. The rules are the reference server's: ``Host`` a loopback name (any port);
``Origin`` absent (not a browser), a loopback page, or a page of this very listener.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

__all__ = ["SHOWN_CHARS", "host_refusal", "is_loopback", "origin_refusal", "shown"]

SHOWN_CHARS = 100
"""How much of a client's text (a refused ``Host`` or ``Origin``) a refusal quotes: the
header is the client's to make long, and each refusal is logged."""


def host_refusal(host: str | None) -> str | None:
    """Why a request with this ``Host`` is refused (HTTP 421); None when it may go on."""
    name = _host_name(host or "")
    if name is not None and is_loopback(name):
        return None
    return (
        f"Host {shown(host)} is not allowed: flowwright answers to loopback names only "
        "(a guard against DNS rebinding)"
    )


def origin_refusal(origin: str | None, host: str | None) -> str | None:
    """Why a request from this ``Origin`` is refused (HTTP 403); None when it may go on."""
    if origin is None:
        return None
    try:
        page = urllib.parse.urlsplit(origin.lower())
        page.port  # noqa: B018 - validates the port
    except ValueError:
        page = urllib.parse.urlsplit("")
    own = page.netloc == (host or "").lower()
    if page.scheme in ("http", "https") and page.hostname and (is_loopback(page.hostname) or own):
        return None
    return f"Origin {shown(origin)} is not allowed: only pages on loopback hosts may connect"


def _host_name(host: str) -> str | None:
    try:
        url = urllib.parse.urlsplit("//" + host)
        url.port  # noqa: B018 - validates the port
    except ValueError:
        return None
    if not url.hostname or url.username is not None or url.path or url.query or url.fragment:
        return None
    return url.hostname


def is_loopback(name: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``): a name only this
    machine answers to."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def shown(value: str | None) -> str:
    """``value`` quoted, cut to :data:`SHOWN_CHARS` characters with the length it had: a
    client's text as an answer or a log line repeats it, bounded whatever the client sent."""
    if value is None or len(value) <= SHOWN_CHARS:
        return repr(value)
    return f"{value[:SHOWN_CHARS]!r}... ({len(value)} characters)"
