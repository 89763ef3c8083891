"""Starlette responses for resumable assistant streams (the helpers of 0.0.36, plus cursors).

Any registered protocol resumes: the producer's encoder output is recorded one wire frame per
entry (an SSE event, a data-stream line), and an entry's cursor is its number (1, 2, …). With
``event_ids=True`` every SSE frame is written with an ``id:`` line holding its cursor, so a
client that reconnects sends it back (``Last-Event-ID``); a client of a protocol without ids
(the data stream) counts the frames it read and sends that number as ``?cursor=`` or an
``x-resumable-cursor`` header. `resume_cursor` reads whichever the request carries, and
`create_resume_…` continues after that frame — none lost, none repeated.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .._source import as_chunk_source
from ..assistant_stream_chunk import ErrorChunk
from ..create_run import RunController, create_run
from ..serialization.assistant_stream_response import (
    STREAM_HEADERS,
    HeartbeatOption,
    resolve_heartbeat_interval,
)
from ..serialization.data_stream import DataStreamEncoder
from ..serialization.sse import with_event_id
from ..serialization.stream_encoder import StreamEncoder, encode_batches
from ._wait import parse_cursor
from .context import PRODUCER_CANCELLED, FrameBatch, ResumableStreamContext
from .errors import ResumableStreamError
from .stores.redis import PRODUCER_LOST

__all__ = [
    "RESUMABLE_CURSOR_HEADER",
    "RESUMABLE_STREAM_ID_HEADER",
    "create_resumable_assistant_stream_response",
    "create_resume_assistant_stream_response",
    "resume_cursor",
]

logger = logging.getLogger("assistant_stream_ce.resumable")

#: The response header naming the stream (for a later resume request).
RESUMABLE_STREAM_ID_HEADER = "x-resumable-stream-id"

_SAFE_MESSAGES = frozenset({PRODUCER_LOST, PRODUCER_CANCELLED, "Stream expired"})

Callback = Callable[[RunController], Coroutine[Any, Any, None]]


#: The header a client without SSE ids sends its cursor in (the frames it has read).
RESUMABLE_CURSOR_HEADER = "x-resumable-cursor"


def _is_sse(encoder: StreamEncoder) -> bool:
    return encoder.get_media_type() == "text/event-stream"


def resume_cursor(request: Request) -> str | None:
    """Where a reconnecting client stopped: its ``Last-Event-ID`` (SSE), else the ``cursor``
    query parameter or the ``x-resumable-cursor`` header (the number of frames it read)."""
    for value in (
        request.headers.get("last-event-id"),
        request.query_params.get("cursor"),
        request.headers.get(RESUMABLE_CURSOR_HEADER),
    ):
        if value is not None and value.strip():
            return value.strip()
    return None


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

    def make_batches() -> AsyncIterator[list[bytes]]:
        # One entry (and one cursor) per frame, in every protocol; each ready batch of frames
        # goes to the store at once.
        return _frames_only(encode_batches(as_chunk_source(run), resolved))

    role = await context.start_batches(stream_id, make_batches, owner=owner, on_stop=run.aclose)
    if role != "producer":
        await run.aclose()
    frames = context.read_frames(stream_id, owner=owner, idle=interval)
    return StreamingResponse(
        _body(frames, spare, event_ids, interval),
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
    active_only: bool = False,
) -> Response:
    """Replay the stream (after ``cursor``: see `resume_cursor`) and follow it.

    A missing stream (or an invalid id) answers ``missing_response()`` or a 404 JSON body; so
    does a stream that already ended when ``active_only`` is set. The AI SDK's
    ``GET {api}/{chatId}/stream`` convention is ``active_only=True`` with
    ``missing_response=lambda: Response(status_code=204)``. A malformed cursor answers 400.
    ``heartbeat`` as for the producer's response.
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
    if status == "missing" or (active_only and status != "streaming"):
        if missing_response is not None:
            return missing_response()
        return JSONResponse({"error": "stream not found"}, status_code=404)
    start = cursor or ""
    try:
        parse_cursor(start)
    except ResumableStreamError:
        return JSONResponse({"error": "invalid cursor"}, status_code=400)
    frames = context.read_frames(stream_id, owner=owner, cursor=start, idle=interval)
    return StreamingResponse(
        _body(frames, copy.deepcopy(resolved), event_ids, interval),
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


async def _frames_only(batches: AsyncGenerator[list[bytes], None]) -> AsyncIterator[list[bytes]]:
    """The encoder's batches without empty frames (an empty frame would be an empty entry)."""
    try:
        async for batch in batches:
            if all(batch):
                yield batch
            else:
                yield [frame for frame in batch if frame]
    finally:
        await batches.aclose()


def _with_ids(cursors: int | list[str], chunks: list[bytes]) -> bytes:
    """The frames with an SSE ``id:`` line (their cursor) in front of each."""
    if isinstance(cursors, int):
        return b"".join([b"id: %d\n%s" % pair for pair in enumerate(chunks, cursors)])
    return b"".join([with_event_id(chunk, c) for c, chunk in zip(cursors, chunks, strict=True)])


async def _body(
    batches: AsyncIterator[FrameBatch],
    spare: StreamEncoder,
    event_ids: bool,
    heartbeat: float | None,
) -> AsyncIterator[bytes]:
    """The recorded bytes (the frames read at once go out as one body part), with a keepalive
    for every empty batch (``batches`` gives one after ``heartbeat`` idle seconds); a stream
    that ends with an error (its producer died, say) ends with the protocol's error frame and
    end of stream, never with a cut connection."""
    keepalive = getattr(spare, "keepalive", b"") if heartbeat is not None else b""
    try:
        async for cursors, chunks in batches:
            if not chunks:
                if keepalive:
                    yield keepalive
            elif event_ids:
                yield _with_ids(cursors, chunks)
            elif len(chunks) == 1:
                yield chunks[0]
            else:
                yield b"".join(chunks)
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
        await batches.aclose()  # type: ignore[attr-defined]


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
