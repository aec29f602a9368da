"""Recording: every MCP message, both ways, as a numbered message in a MessageCollector.

:class:`RecordingTransport` wraps any SDK transport (stdio, Streamable HTTP, in-memory) at
its streams, the one place every JSON-RPC message passes, so requests, responses,
notifications and progress all land in the collector the waits listen to. Each message is
wrapped as an envelope of type ``mcp_request``, ``mcp_notification``, ``mcp_response`` or
``mcp_error`` whose ``content`` is a readable line (what patterns match) and whose
``outputs["message"]`` is the JSON-RPC message itself, and is categorised:

=====================================  =========================================
received                               category
=====================================  =========================================
``notifications/progress``             ``progress``
``notifications/message`` (a log)      ``chat``
any other notification                 ``lifecycle``
a request from the server (sampling…)  ``prompt`` (the server asks the client)
a result                               ``result`` (``error`` if ``isError``)
a JSON-RPC error                       ``error``
a line that is not JSON-RPC            ``malformed``
=====================================  =========================================

Everything the client sends is ``sent``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Protocol

import anyio
from mcp.client import Transport
from mcp.shared.message import SessionMessage

from flowwright.collector import MessageCollector
from flowwright.dialect import Dialect
from flowwright.message import Direction
from flowwright.protocol import Category, envelope

__all__ = ["MCP_DIALECT", "JsonRpcRecorder", "RecordingTransport"]

MCP_DIALECT = Dialect(
    name="mcp",
    types={},  # every message is categorised where it is recorded (the table above)
    ends_flow=None,
    resumable=False,
    reply_ids=False,
    flows_path=None,
    sender_fields=(),  # "source" is the client's label, not a sender
)
"""What MCP messages mean: the recorder says each one's category; none names an agent."""

PROGRESS = "notifications/progress"
_HANDSHAKE = frozenset({"initialize", "server/discover"})
LOG_MESSAGE = "notifications/message"


class JsonRpcRecorder:
    """Turns JSON-RPC messages into collector frames, pairing each response with its request.

    Request ids are per direction, so the methods of requests sent and received are kept
    apart; a response names the method it answers (``tools/call → ...``).
    """

    def __init__(
        self,
        collector: MessageCollector,
        *,
        source: str,
        on_close: Callable[[], None],
        asked_by_test: Callable[[str], bool] = lambda method: True,
    ) -> None:
        self.collector = collector
        self.source = source
        self._on_close = on_close
        self._asked_by_test = asked_by_test
        """Whether a request the client sends was asked for by the test (else it is labelled
        as the SDK's own, so a transcript never shows a request the test did not make as
        if it had)."""
        self._asked: dict[Direction, dict[Any, str]] = {"sent": {}, "received": {}}

    def record(self, item: SessionMessage | Exception, direction: Direction) -> None:
        if isinstance(item, Exception):
            frame = envelope("mcp_invalid", {"content": f"not a JSON-RPC message: {item}"})
            # One line for a failure's first line: pydantic's message spans several.
            why = "; ".join(line.strip() for line in str(item).splitlines() if line.strip())
            self.collector.append_parsed(
                frame,
                frame.to_json(),
                category=Category.MALFORMED,
                error=f"not a JSON-RPC message: {why}"[:500],
            )
            return
        message = item.message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        method = message.get("method")
        if method is None:  # a response: to the request that went the other way
            other: Direction = "received" if direction == "sent" else "sent"
            method = self._asked[other].pop(message.get("id"), None)
        elif "id" in message:  # a request: its response will name it
            self._asked[direction][message["id"]] = method
        kind, category, text = _describe(message, method)
        if direction == "sent" and "id" in message and "method" in message:
            label = ""
            if method in _HANDSHAKE:
                label = " (handshake)"
            elif not self._asked_by_test(str(method)):
                label = " (the SDK's own request, not one of the test's calls)"
            text = text.replace(str(method), f"{method}{label}", 1)  # first, not cut off
        outputs = {
            "content": text,
            "method": method,
            "source": self.source,
            "message": message,
        }
        built = envelope(f"mcp_{kind}", outputs)
        self.collector.append_parsed(built, built.to_json(), direction=direction, category=category)

    def closed(self) -> None:
        """The server's side of the connection ended (EOF, process exit, transport closed)."""
        self._on_close()


def _describe(message: dict[str, Any], method: str | None) -> tuple[str, Category, str]:
    """The kind (``mcp_<kind>``), category and readable text of one JSON-RPC message."""
    params = message.get("params") or {}
    if "method" in message and "id" in message:
        if method == "tools/call":
            arguments = _compact(params.get("arguments"))
            return "request", Category.PROMPT, f"tools/call {params.get('name')} {arguments}"
        return "request", Category.PROMPT, f"{method} {_compact(params)}".strip()
    if "method" in message:
        if method == PROGRESS:
            total = params.get("total")
            done = f"{params.get('progress')}" + (f"/{total}" if total is not None else "")
            text = f"{method} {done} {params.get('message') or ''}".strip()
            return "notification", Category.PROGRESS, text
        category = Category.CHAT if method == LOG_MESSAGE else Category.LIFECYCLE
        return "notification", category, f"{method} {_compact(params)}".strip()
    answered = method or "response"
    if "error" in message:
        error = message["error"] or {}
        return (
            "error",
            Category.ERROR,
            f"{answered} → error {error.get('code')}: {error.get('message')}",
        )
    result = message.get("result") or {}
    if result.get("isError"):
        return (
            "response",
            Category.ERROR,
            f"{answered} → is_error: {_result_text(answered, result)}",
        )
    return "response", Category.RESULT, f"{answered} → {_result_text(answered, result)}"


def _result_text(method: str, result: dict[str, Any]) -> str:
    if method == "tools/call":
        texts = [block.get("text", "") for block in result.get("content") or [] if "text" in block]
        if texts:
            return "\n".join(texts)
        return _compact(result.get("structuredContent") or {})
    if method == "tools/list":
        return "tools: " + ", ".join(tool.get("name", "?") for tool in result.get("tools") or [])
    return _compact(result)


def _compact(value: Any) -> str:
    if not value:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Receiving(Protocol):
    """The SDK transport's read stream, as far as the recording uses it (its own type lives
    in a private module, ``mcp.client._transport``)."""

    async def receive(self) -> SessionMessage | Exception: ...

    async def aclose(self) -> None: ...


class _Sending(Protocol):
    """The SDK transport's write stream, as far as the recording uses it."""

    async def send(self, item: SessionMessage, /) -> None: ...

    async def aclose(self) -> None: ...


class _RecordingRead:
    """The read side: records what arrives, and tells the recorder when it ends."""

    def __init__(self, inner: _Receiving, recorder: JsonRpcRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    @property
    def last_context(self) -> Any:
        """The SDK's dispatcher restores the sender's context from here when there is one."""
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            item = await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._recorder.closed()
            raise
        self._recorder.record(item, "received")
        return item

    def __aiter__(self) -> _RecordingRead:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _RecordingRead:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _RecordingWrite:
    """The write side: records each message as it is handed to the transport."""

    def __init__(self, inner: _Sending, recorder: JsonRpcRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    async def send(self, item: SessionMessage, /) -> None:
        self._recorder.record(item, "sent")
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _RecordingWrite:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class RecordingTransport(AbstractAsyncContextManager[tuple[_RecordingRead, _RecordingWrite]]):
    """An SDK :class:`~mcp.client.Transport` that records through ``recorder``."""

    def __init__(self, inner: Transport, recorder: JsonRpcRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    async def __aenter__(self) -> tuple[_RecordingRead, _RecordingWrite]:
        read, write = await self._inner.__aenter__()
        return _RecordingRead(read, self._recorder), _RecordingWrite(write, self._recorder)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return await self._inner.__aexit__(exc_type, exc, traceback)
