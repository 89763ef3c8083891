"""The RAIS WebSocket transport: one request frame in, one JSON text frame per event out.

The client sends ``{"messages": [...], ...}`` once after opening; the server sends each RAIS
event's JSON as a text frame and closes with 1000 after the terminal event. A client that
closes the socket (code 1000: "stop") aborts the run and its upstream request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from assistant_stream_ce.serialization.decoding import Malformed, loads
from assistant_stream_ce.serialization.rais import ExtensionsOption
from assistant_stream_ce.serialization.sse import SSEParser

from ._stream import provider_events

__all__ = ["EventSource", "serve_websocket", "websocket_endpoint"]

logger = logging.getLogger("rais")

#: Makes the RAIS SSE strings for one request (the client's first frame, parsed).
EventSource = Callable[[dict[str, Any]], AsyncIterable[str]]

_BAD_REQUEST = "The first message must be a JSON object with a 'messages' list."


def _error_frame(message: str) -> str:
    return json.dumps({"type": "error", "error": message}, separators=(",", ":"))


async def _send_events(websocket: WebSocket, events: AsyncIterable[str], sse: bool) -> None:
    """Send each event's JSON as one text message (SSE strings are parsed with the shared
    event-stream parser; bare JSON is sent as it is)."""
    parser = SSEParser("RAIS event source") if sse else None
    try:
        async for text in events:
            if parser is None:
                await websocket.send_text(text)
                continue
            for event in parser.feed(text.encode()):
                await websocket.send_text(event.data)
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


async def _wait_for_close(websocket: WebSocket) -> int:
    """Read (and ignore) frames until the client closes; its close code."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return int(message.get("code") or 1000)


async def _read_request(websocket: WebSocket) -> dict[str, Any] | str | None:
    """The client's request object, an error message, or None if it closed first."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        raw = message.get("bytes") or b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _BAD_REQUEST
    try:
        request = loads(text)
    except Malformed:  # invalid JSON, or nested too deep to parse
        return _BAD_REQUEST
    if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
        return _BAD_REQUEST
    return request


async def serve_websocket(websocket: WebSocket, source: EventSource) -> None:
    """Serve one RAIS WebSocket session with ``source(request)`` as the events.

    ``source`` receives the client's first frame (a dict with ``messages`` and any extra
    fields) and returns RAIS SSE strings — `rais.stream_response(...)`, `rais.stream_run(...)`
    or your own generator built with `rais.rais_event`. Each event's JSON is sent as one text
    frame; the socket is closed with 1000 after the last one. If the client closes first, the
    source is closed at once (which cancels its run and upstream request).
    """
    await _serve(websocket, source, sse=True)


async def _serve(websocket: WebSocket, source: EventSource, *, sse: bool) -> None:
    """`serve_websocket` for a source of SSE strings (``sse``) or of bare event JSON."""
    await websocket.accept()
    try:
        request = await _read_request(websocket)
    except WebSocketDisconnect:
        return
    if request is None:
        return
    if isinstance(request, str):
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.send_text(_error_frame(request))
            await websocket.close(1000)
        return
    loop = asyncio.get_running_loop()
    sender = loop.create_task(_send_events(websocket, source(request), sse))
    listener = loop.create_task(_wait_for_close(websocket))
    try:
        await asyncio.wait([sender, listener], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, listener):
            if not task.done():
                task.cancel()
        await asyncio.wait([sender, listener])
    if listener.done() and not listener.cancelled() and listener.exception() is None:
        logger.debug("RAIS WebSocket closed by the client (code %s)", listener.result())
        return
    if not sender.cancelled():
        error = sender.exception()
        if error is not None and not isinstance(error, (WebSocketDisconnect, OSError)):
            logger.error("RAIS WebSocket stream failed", exc_info=error)
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(1000)


def websocket_endpoint(
    *,
    provider: str,
    api_key: str | None = None,
    model: str | None = None,
    max_tokens: int = 1024,
    system: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    extensions: ExtensionsOption = False,
    **options: Any,
) -> Callable[[WebSocket], Awaitable[None]]:
    """A WebSocket endpoint streaming a provider's answers over RAIS (see `stream_response`).

    Mount it with FastAPI (``app.add_api_websocket_route("/ws", websocket_endpoint(...))``) or
    Starlette (``WebSocketRoute("/ws", websocket_endpoint(...))``). The server decides provider,
    model and limits; extra fields in the client's request are ignored.
    """

    def source(request: dict[str, Any]) -> AsyncIterable[str]:
        return provider_events(
            request["messages"],
            framing="json",
            provider=provider,
            api_key=api_key,
            model=model,
            max_tokens=max_tokens,
            system=system,
            base_url=base_url,
            temperature=temperature,
            extensions=extensions,
            **options,
        )

    async def endpoint(websocket: WebSocket) -> None:
        await _serve(websocket, source, sse=False)

    return endpoint
