"""UIFlow: the flow as a browser page lives it, with the same waits as a backend test.

The page's own WebSocket frames — what the UI received and what it sent — are appended to a
:class:`~flowwright.collector.MessageCollector` as Playwright reports them, so a UI test waits
on the flow exactly as a backend test does (``wait_for_ui_message``, ``wait_for_agent_results``,
``expect``...), and by default since the page's last sent frame: the click that sent it was
the test's last action. Nothing is polled; the UI is driven with Playwright's locators.

It attaches to any page, wherever its UI is served (the flow server's ``/``, a dev server on
another port, another host): ``UIFlow(page)`` before the page opens its socket, then
:meth:`UIFlow.goto`, which fails at once, naming the status, when the UI answers an error.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowwright.errors import ConnectionLostError, UIPageError
from flowwright.server import FlowServer
from flowwright.stream import FlowStream

if TYPE_CHECKING:
    from playwright.async_api import Page, Response, WebSocket

__all__ = ["UIFlow"]

SocketFilter = str | re.Pattern[str] | Callable[[str], bool]


class UIFlow(FlowStream):
    """Every flow message a Playwright ``Page`` sends and receives, and the waits on them.

    Attach it before the page opens its socket (before ``page.goto``, or use :meth:`goto`):
    sockets opened earlier are not seen. ``sockets`` picks the page's flow sockets by URL (a
    regex, searched, or a predicate; e.g. ``r"/ws/"`` to leave out a dev server's live-reload
    socket); by default every socket of the page counts. A wait that times out while the page
    has opened no flow socket says so in its first line. When the page's socket closes,
    pending waits fail with :class:`ConnectionLostError` (or ``ServerExitedError`` when the
    ``server`` flowwright started has exited); a socket the page opens later reopens them.
    """

    def __init__(
        self,
        page: Page,
        *,
        server: FlowServer | None = None,
        sockets: SocketFilter | None = None,
        timeout: float | None = None,
        fail_on_error: bool | None = None,
    ) -> None:
        super().__init__(timeout=timeout, fail_on_error=fail_on_error, describe_state=self.describe)
        self.page = page
        self.server = server
        self._accepts = _socket_filter(sockets)
        self.sockets: list[WebSocket] = []
        """The page's flow sockets seen so far, oldest first."""
        self.ignored_sockets: list[str] = []
        """The URLs of the page's other sockets (not matching ``sockets``), oldest first."""
        self._reports: set[asyncio.Task[None]] = set()
        self._watch_server()
        page.on("websocket", self._on_websocket)
        page.on("close", lambda _page: self._stop_watching_server())

    @property
    def title(self) -> str:
        return f"page ({self.url})"

    @property
    def url(self) -> str:
        """The page's URL (where the UI under test is)."""
        return self.page.url

    @property
    def socket(self) -> WebSocket | None:
        """The page's newest flow socket, ``None`` until it opens one."""
        return self.sockets[-1] if self.sockets else None

    async def goto(self, url: str, **options: Any) -> Response | None:
        """Open the UI at ``url`` in the page (Playwright's ``page.goto``, same options).

        Raises :class:`UIPageError` when the UI answers an error status (naming it and the
        start of the body) or cannot be loaded at all, instead of leaving the test to time out
        on the first element it looks for.
        """
        from playwright.async_api import Error as PlaywrightError

        try:
            response = await self.page.goto(url, **options)
        except PlaywrightError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UIPageError(f"the UI at {url} could not be opened: {reason}") from None
        if response is not None and not response.ok:
            try:
                body = " ".join((await response.text()).split())
            except PlaywrightError:
                body = ""
            excerpt = body if len(body) <= 300 else body[:300] + "..."
            raise UIPageError(
                f"the UI at {url} answered HTTP {response.status} {response.status_text}"
                + (f": {excerpt}" if excerpt else "")
            )
        return response

    def _timeout_cause(self) -> str | None:
        """A page that never opened a flow socket: that, not the wait, is why it timed out."""
        if self.sockets:
            return None
        others = (
            f" (it opened {len(self.ignored_sockets)} socket(s) that the socket filter left "
            f"out: {', '.join(self.ignored_sockets)})"
            if self.ignored_sockets
            else ""
        )
        return f"the page {self.page.url} never opened a flow socket{others}"

    def _on_websocket(self, socket: WebSocket) -> None:
        if not self._accepts(socket.url):
            self.ignored_sockets.append(socket.url)
            return
        self.sockets.append(socket)
        self.waiter.reopen()
        socket.on("framereceived", self._on_frame_received)
        socket.on("framesent", self._on_frame_sent)
        socket.on("close", self._on_close)

    def _on_frame_received(self, frame: str | bytes) -> None:
        self.collector.append(frame)

    def _on_frame_sent(self, frame: str | bytes) -> None:
        self.collector.append(frame, direction="sent")

    def _on_close(self, socket: WebSocket) -> None:
        task = asyncio.get_running_loop().create_task(self._report_close(socket))
        self._reports.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._reports.discard)

    async def _report_close(self, socket: WebSocket) -> None:
        error = await self._why_lost(
            ConnectionLostError(f"the page's WebSocket {socket.url} closed")
        )
        if socket is self.socket:  # not an older socket the page has already replaced
            self.waiter.close(error)

    def describe(self) -> str:
        """The page's and its socket's state, and the server's, for error messages."""
        socket = self.socket
        if socket is None:
            state = "no flow socket opened yet"
            if self.ignored_sockets:
                state += f"; sockets left out by the filter: {', '.join(self.ignored_sockets)}"
        else:
            state = f"socket {socket.url} ({'closed' if socket.is_closed() else 'open'})"
        lines = [f"page: {self.page.url} ({state})"]
        if self.server is not None:
            lines.append(self.server.describe())
        return "\n".join(lines)


def _socket_filter(sockets: SocketFilter | None) -> Callable[[str], bool]:
    if sockets is None:
        return lambda url: True
    if callable(sockets) and not isinstance(sockets, re.Pattern):
        return sockets
    pattern = re.compile(sockets) if isinstance(sockets, str) else sockets
    return lambda url: pattern.search(url) is not None
