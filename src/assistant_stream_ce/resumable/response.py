"""Starlette responses for resumable assistant streams (the helpers of 0.0.36, plus ids).

The producer's encoder output is recorded one wire frame per entry for SSE protocols (an SSE
body is split at its blank lines; other protocols are recorded one encoded batch per entry).
With ``event_ids=True`` every SSE frame is written with an ``id:`` line holding its cursor, so
a client that reconnects sends it back (``Last-Event-ID``) and `create_resume_…` passes it as
``cursor`` to continue after the last frame it received — none lost, none repeated.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from ..assistant_stream_chunk import ErrorChunk
from ..create_run import RunController, create_run
from ..serialization.assistant_stream_response import (
    STREAM_HEADERS,
    HeartbeatOption,
    resolve_heartbeat_interval,
)
from ..serialization.data_stream import DataStreamEncoder
from ..serialization.stream_encoder import StreamEncoder
from ._wait import parse_cursor
from .context import PRODUCER_CANCELLED, ResumableStreamContext
from .errors import ResumableStreamError
from .stores.redis import PRODUCER_LOST
from .types import ResumableStreamEntry

__all__ = [
    "RESUMABLE_STREAM_ID_HEADER",
    "create_resumable_assistant_stream_response",
    "create_resume_assistant_stream_response",
]

logger = logging.getLogger("assistant_stream_ce.resumable")

#: The response header naming the stream (for a later resume request).
RESUMABLE_STREAM_ID_HEADER = "x-resumable-stream-id"

_SAFE_MESSAGES = frozenset({PRODUCER_LOST, PRODUCER_CANCELLED, "Stream expired"})

Callback = Callable[[RunController], Coroutine[Any, Any, None]]


def _is_sse(encoder: StreamEncoder) -> bool:
    return encoder.media_type == "text/event-stream"


def _split_events(data: bytes) -> list[bytes]:
    """An SSE body piece as complete events (each ending with its blank line)."""
    events = data.split(b"\n\n")
    tail = events.pop()
    out = [event + b"\n\n" for event in events]
    if tail:
        out.append(tail)  # not expected from our encoders: keep the bytes as they are
    return out


async def create_resumable_assistant_stream_response(
    *,
    context: ResumableStreamContext,
    stream_id: str,
    callback: Callback,
    encoder: StreamEncoder | None = None,
    headers: Mapping[str, str] | None = None,
    owner: str | None = None,
    event_ids: bool = False,
    heartbeat: HeartbeatOption = True,
) -> Response:
    """Start ``callback`` as a resumable run (or join the run already streaming under
    ``stream_id``) and stream it with ``encoder`` (the data stream by default).

    The run is detached from the connection: it keeps going when the client goes away and
    stops only when `ResumableStreamContext.cancel` is called. ``owner`` scopes the id to a
    caller-supplied key (e.g. the signed-in user). ``event_ids`` (SSE encoders only) writes
    each frame's cursor as its ``id:``. ``heartbeat``: the encoder's keepalive after this many
    idle seconds (True = 15 s, False = never), so proxies keep a quiet stream open. An id whose
    stream finished is refused with `ResumableStreamError` (``exists``).
    """
    resolved = encoder if encoder is not None else DataStreamEncoder()
    _check_event_ids(resolved, event_ids)
    interval = resolve_heartbeat_interval(heartbeat)
    spare = copy.deepcopy(resolved)  # an untouched twin, for an error frame written by readers
    run = create_run(callback)
    sse = _is_sse(resolved)

    async def make_stream() -> AsyncIterator[bytes]:
        async for data in resolved.iter_bytes(run):
            if sse:
                for frame in _split_events(data):
                    yield frame
            else:
                yield data

    role = await context.start(stream_id, make_stream, owner=owner, on_stop=run.aclose)
    if role != "producer":
        await run.aclose()
    entries = context.read_entries(stream_id, owner=owner)
    return StreamingResponse(
        _body(entries, spare, event_ids, interval),
        media_type=resolved.media_type,
        headers=_merge_headers(resolved, headers, stream_id),
    )


async def create_resume_assistant_stream_response(
    *,
    context: ResumableStreamContext,
    stream_id: str,
    encoder: StreamEncoder | None = None,
    headers: Mapping[str, str] | None = None,
    missing_response: Callable[[], Response] | None = None,
    owner: str | None = None,
    cursor: str | None = None,
    event_ids: bool = False,
    heartbeat: HeartbeatOption = True,
) -> Response:
    """Replay the stream (after ``cursor``: pass the client's ``Last-Event-ID``) and follow it.

    A missing stream (or an invalid id) answers ``missing_response()`` — for the AI SDK's
    ``GET …/stream`` convention pass ``lambda: Response(status_code=204)`` — or a 404 JSON
    body; a malformed cursor answers 400. ``heartbeat`` as for the producer's response.
    """
    resolved = encoder if encoder is not None else DataStreamEncoder()
    _check_event_ids(resolved, event_ids)
    interval = resolve_heartbeat_interval(heartbeat)
    try:
        status = await context.status(stream_id, owner=owner)
    except ResumableStreamError as exc:
        if exc.code != "invalid-id":
            raise
        status = "missing"
    if status == "missing":
        if missing_response is not None:
            return missing_response()
        return JSONResponse({"error": "stream not found"}, status_code=404)
    start = cursor or ""
    try:
        parse_cursor(start)
    except ResumableStreamError:
        return JSONResponse({"error": "invalid cursor"}, status_code=400)
    entries = context.read_entries(stream_id, owner=owner, cursor=start)
    return StreamingResponse(
        _body(entries, copy.deepcopy(resolved), event_ids, interval),
        media_type=resolved.media_type,
        headers=_merge_headers(resolved, headers, stream_id),
    )


def _check_event_ids(encoder: StreamEncoder, event_ids: bool) -> None:
    if event_ids and not _is_sse(encoder):
        raise ValueError(
            f"event_ids needs an SSE encoder; {type(encoder).__name__} writes {encoder.media_type}"
        )
    if event_ids and getattr(encoder, "event_ids", False):
        raise ValueError(
            f"{type(encoder).__name__} writes ids of its own: create it with event_ids=False "
            "to use the stream's cursors as ids"
        )


async def _body(
    entries: AsyncIterator[ResumableStreamEntry],
    spare: StreamEncoder,
    event_ids: bool,
    heartbeat: float | None,
) -> AsyncIterator[bytes]:
    """The recorded bytes, with a keepalive after ``heartbeat`` idle seconds; a stream that ends
    with an error (its producer died, say) ends with the protocol's error frame and end of
    stream, never with a cut connection."""
    keepalive = getattr(spare, "keepalive", b"") if heartbeat is not None else b""
    waiting: asyncio.Future[ResumableStreamEntry] | None = None
    try:
        while True:
            if not keepalive:
                try:
                    entry = await entries.__anext__()
                except StopAsyncIteration:
                    break
            else:
                if waiting is None:
                    waiting = asyncio.ensure_future(entries.__anext__())
                done, _ = await asyncio.wait([waiting], timeout=heartbeat)
                if not done:
                    yield keepalive
                    continue
                finished, waiting = waiting, None
                try:
                    entry = finished.result()
                except StopAsyncIteration:
                    break
            if event_ids:
                yield b"id: " + entry.cursor.encode() + b"\n" + entry.chunk
            else:
                yield entry.chunk
    except ResumableStreamError as exc:
        message = str(exc) if str(exc) in _SAFE_MESSAGES else "The stream failed"
        if exc.code == "trimmed":
            message = "The stream can no longer be replayed from this point"
        logger.warning("resumable stream ended with an error (%s): %s", exc.code, exc)
        yield spare.encode_batch([ErrorChunk(message)]) + spare.finish(failed=True)
    except Exception:
        # The store failed (Redis went away, say): end the body properly, keep details in logs.
        logger.exception("reading a resumable stream failed")
        yield spare.encode_batch([ErrorChunk("The stream failed")]) + spare.finish(failed=True)
    finally:
        if waiting is not None:
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
        await entries.aclose()  # type: ignore[attr-defined]


def _merge_headers(
    encoder: StreamEncoder, extra: Mapping[str, str] | None, stream_id: str
) -> dict[str, str]:
    merged: dict[str, str] = {**STREAM_HEADERS, **encoder.headers}
    exposed = [h.strip() for h in merged.get("Access-Control-Expose-Headers", "").split(",")]
    merged["Access-Control-Expose-Headers"] = ", ".join(
        [h for h in exposed if h] + [RESUMABLE_STREAM_ID_HEADER]
    )
    if extra is not None:
        for key, value in extra.items():
            if key.lower() != RESUMABLE_STREAM_ID_HEADER:
                merged[key] = value
    merged[RESUMABLE_STREAM_ID_HEADER] = stream_id
    return merged
