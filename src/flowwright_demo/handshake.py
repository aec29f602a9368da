"""uvicorn's WebSocket protocol, made to answer every opening handshake it refuses.

websockets refuses a handshake whose request line or a header line is over 8 KiB, or that
has over 128 headers (uvicorn's HTTP parser, which looks first, takes up to 16 KiB), with a
414 or 431 response — which uvicorn 0.54's websockets-sansio protocol never writes: the
request yields no event, so the connection stayed open, unanswered, for as long as the
client cared to hold it (a very long session id was enough). A request websockets cannot
parse at all (``HTTP/1.0``, say) it only ends: here it gets a 400 that says why.
"""

from __future__ import annotations

from http import HTTPStatus

# Not re-exported by uvicorn, but the class its "auto" WebSocket choice picks with
# websockets installed, and uvicorn.Config(ws=...) takes a protocol class: subclassed to
# add the one missing write. Tested with uvicorn 0.54.0 and websockets 17.4.
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["AnsweringWebSocketProtocol"]


class AnsweringWebSocketProtocol(WebSocketsSansIOProtocol):
    """The websockets-sansio protocol; a request websockets cannot take as a handshake gets
    its answer (414, 431 or 400, with the reason), and the connection closes."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        refused = self.conn.handshake_exc
        if self.handshake_initiated or refused is None:
            return
        answer = b"".join(self.conn.data_to_send())
        if not answer:  # not even a request to websockets: it would only close
            why = refused.__cause__ or refused
            text = f"Failed to open a WebSocket connection: {why}.\n"
            answer = self.conn.reject(HTTPStatus.BAD_REQUEST, text).serialize()
        self.handshake_complete = self.close_sent = True  # as uvicorn's own refusals do
        self.transport.write(answer)
        self.transport.close()
