"""Small pages for the web helpers' own tests: a socket client, static HTML served locally."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

from flowwright.context import current
from flowwright.web.config import WEB, WebSettings


def socket_page(ws_url: str, *, extra_socket: str | None = None) -> str:
    """A page that opens a flow socket, sends ``run_flow`` on "Start" and lists what it gets."""
    extra = (
        f"""const extra = new WebSocket({extra_socket!r});
  extra.onopen = () => document.body.dataset.extra = "yes";
  extra.onmessage = show;"""
        if extra_socket
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><title>socket page</title></head><body>
<button id="start">Start</button>
<ol id="log"></ol>
<script>
  window.ws = new WebSocket({ws_url!r});  // window.ws: set_content may run it twice
  ws.onopen = () => document.body.dataset.open = "yes";
  function show(event) {{
    const item = document.createElement("li");
    item.textContent = event.data;
    document.getElementById("log").append(item);
  }}
  ws.onmessage = show;
  document.getElementById("start").onclick = () =>
    ws.send(JSON.stringify({{type: "run_flow", flow: "osb", prompt: "What is the policy?"}}));
  {extra}
</script>
</body></html>"""


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on a free localhost port for one block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="static-pages", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean: requests are not worth a line each."""


def use_web(**changes: object) -> None:
    """Change the running test's web settings (its scope's: nothing to restore)."""
    scope = current()
    scope.stash[WEB] = scope.stash.get(WEB, WebSettings()).replace(**changes)
