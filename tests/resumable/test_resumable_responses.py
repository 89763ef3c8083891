"""`create_resumable_assistant_stream_response` / `create_resume_assistant_stream_response` as in
0.0.36 (byte-for-byte replay, headers, 404), plus SSE ids and resuming after a cursor, error
frames for streams that end badly, and stopping — on both stores."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from assistant_stream_ce.create_run import RunController
from assistant_stream_ce.resumable import (
    RESUMABLE_STREAM_ID_HEADER,
    ResumableStreamError,
    create_in_memory_resumable_stream_store,
    create_resumable_assistant_stream_response,
    create_resumable_stream_context,
    create_resume_assistant_stream_response,
    resume_cursor,
)
from assistant_stream_ce.resumable.stores.redis import PRODUCER_LOST
from assistant_stream_ce.serialization import (
    PROTOCOLS,
    AssistantTransportEncoder,
    DataStreamEncoder,
    OpenAIStreamEncoder,
    RAISEncoder,
)
from assistant_stream_ce.serialization.sse import SSEEvent, SSEParser


async def body_of(response: Response) -> bytes:
    assert isinstance(response, StreamingResponse)
    parts = [p if isinstance(p, bytes) else str(p).encode() async for p in response.body_iterator]
    return b"".join(parts)


def events(body: bytes) -> list[SSEEvent]:
    parser = SSEParser("test")
    out = parser.feed(body)
    assert not parser.close() and not parser.incomplete, "the body must end on an event boundary"
    return out


async def tool_run(controller: RunController) -> None:
    controller.append_text("alpha")
    tool = await controller.add_tool_call("echo", "t1")
    tool.append_args_text('{"v": 1}')
    tool.set_response({"ok": True})


def counting(n: int, pause: float = 0.0) -> Any:
    async def callback(controller: RunController) -> None:
        for i in range(n):
            controller.append_text(f"t{i} ")
            if pause:
                await asyncio.sleep(pause)
            else:
                controller.flush()
                await asyncio.sleep(0)

    return callback


async def test_producer_response_headers_and_body(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    response = await create_resumable_assistant_stream_response(
        context=context, stream_id="s1", callback=tool_run
    )
    assert isinstance(response, StreamingResponse)
    assert response.headers[RESUMABLE_STREAM_ID_HEADER] == "s1"
    assert response.media_type == "text/plain"
    assert RESUMABLE_STREAM_ID_HEADER in response.headers["access-control-expose-headers"]
    body = await asyncio.wait_for(body_of(response), 5)
    assert b'0:"alpha"' in body and body.endswith(b"}\n") and b"\nd:" in body


async def test_resume_replays_byte_for_byte(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    first = await create_resumable_assistant_stream_response(
        context=context, stream_id="s1", callback=tool_run
    )
    first_bytes = await asyncio.wait_for(body_of(first), 5)
    second = await create_resume_assistant_stream_response(context=context, stream_id="s1")
    assert await asyncio.wait_for(body_of(second), 5) == first_bytes
    assert second.headers[RESUMABLE_STREAM_ID_HEADER] == "s1"


async def test_missing_streams_answer_404_or_the_callers_response(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    missing = await create_resume_assistant_stream_response(context=context, stream_id="nope")
    assert missing.status_code == 404 and b"stream not found" in missing.body
    invalid = await create_resume_assistant_stream_response(context=context, stream_id="a b")
    assert invalid.status_code == 404
    empty = await create_resume_assistant_stream_response(
        context=context, stream_id="nope", missing_response=lambda: Response(status_code=204)
    )
    assert empty.status_code == 204


async def test_assistant_transport_round_trip(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    response = await create_resumable_assistant_stream_response(
        context=context,
        stream_id="s1",
        encoder=AssistantTransportEncoder(),
        callback=counting(3),
    )
    assert response.media_type == "text/event-stream"
    body = await asyncio.wait_for(body_of(response), 5)
    assert b"text-delta" in body and body.endswith(b"data: [DONE]\n\n")
    resume = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", encoder=AssistantTransportEncoder()
    )
    assert await asyncio.wait_for(body_of(resume), 5) == body


async def test_user_headers_merge_but_cannot_override_the_id(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    response = await create_resumable_assistant_stream_response(
        context=context,
        stream_id="s1",
        headers={"Cache-Control": "private, max-age=0", RESUMABLE_STREAM_ID_HEADER: "spoofed"},
        callback=counting(1),
    )
    assert response.headers["cache-control"] == "private, max-age=0"
    assert response.headers[RESUMABLE_STREAM_ID_HEADER] == "s1"
    await asyncio.wait_for(body_of(response), 5)


def resumable_encoder(name: str) -> Any:
    """A fresh encoder of a registered protocol, leaving ids to the resumable stream."""
    info = PROTOCOLS[name]
    accepted = inspect.signature(info.encoder).parameters
    return info.encoder(**({"event_ids": False} if "event_ids" in accepted else {}))


SSE_PROTOCOLS = [name for name, info in PROTOCOLS.items() if info.sse]


@pytest.mark.parametrize("protocol", SSE_PROTOCOLS)
async def test_sse_ids_let_a_client_continue_exactly_where_it_stopped(
    store: Any, protocol: str
) -> None:
    def make_encoder() -> Any:
        return resumable_encoder(protocol)

    context = create_resumable_stream_context(store=store)
    response = await create_resumable_assistant_stream_response(
        context=context,
        stream_id="s1",
        encoder=make_encoder(),
        callback=counting(30, pause=0.002),
        event_ids=True,
    )
    # Read about half of the frames, then go away.
    assert isinstance(response, StreamingResponse)
    parser = SSEParser("test")
    first: list[SSEEvent] = []
    iterator = response.body_iterator
    async for part in iterator:
        first.extend(parser.feed(part if isinstance(part, bytes) else str(part).encode()))
        if len(first) >= 12:
            break
    await iterator.aclose()  # type: ignore[attr-defined]
    last_id = first[-1].id
    assert last_id.isdigit()
    rest = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", encoder=make_encoder(), cursor=last_id, event_ids=True
    )
    second = events(await asyncio.wait_for(body_of(rest), 5))
    full = events(
        await asyncio.wait_for(
            body_of(
                await create_resume_assistant_stream_response(
                    context=context, stream_id="s1", encoder=make_encoder(), event_ids=True
                )
            ),
            5,
        )
    )
    joined = [(e.id, e.data) for e in first + second]
    assert joined == [(e.id, e.data) for e in full]
    ids = [int(e.id) for e in full]
    assert ids == list(range(1, len(full) + 1))
    assert "t29" in "".join(e.data for e in full)


@pytest.mark.parametrize("protocol", [name for name, info in PROTOCOLS.items() if not info.sse])
async def test_a_protocol_without_ids_continues_after_the_frames_it_counted(
    store: Any, protocol: str
) -> None:
    context = create_resumable_stream_context(store=store)
    response = await create_resumable_assistant_stream_response(
        context=context,
        stream_id="s1",
        encoder=resumable_encoder(protocol),
        callback=counting(30, pause=0.002),
    )
    assert isinstance(response, StreamingResponse)
    received = b""
    iterator = response.body_iterator
    async for part in iterator:
        received += part if isinstance(part, bytes) else str(part).encode()
        if received.count(b"\n") >= 12:
            break
    await iterator.aclose()  # type: ignore[attr-defined]
    # a client keeps the complete lines it read (keepalive blank lines are not frames)
    kept = received[: received.rindex(b"\n") + 1]
    frames = [line for line in kept.split(b"\n") if line]
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": f"cursor={len(frames)}".encode(),
            "headers": [],
        }
    )
    rest = await create_resume_assistant_stream_response(
        context=context,
        stream_id="s1",
        encoder=resumable_encoder(protocol),
        cursor=resume_cursor(request),
    )
    full = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", encoder=resumable_encoder(protocol)
    )
    joined = kept + await asyncio.wait_for(body_of(rest), 5)
    assert joined == await asyncio.wait_for(body_of(full), 5)
    assert b"t29" in joined and len(frames) >= 12


def test_resume_cursor_reads_last_event_id_then_the_query_then_the_header() -> None:
    def request(query: bytes, headers: list[tuple[bytes, bytes]]) -> Request:
        scope = {"type": "http", "method": "GET", "path": "/", "query_string": query}
        return Request({**scope, "headers": headers})

    assert resume_cursor(request(b"cursor=3", [(b"last-event-id", b"7")])) == "7"
    assert resume_cursor(request(b"cursor=3", [(b"x-resumable-cursor", b"5")])) == "3"
    assert resume_cursor(request(b"", [(b"x-resumable-cursor", b"5")])) == "5"
    assert resume_cursor(request(b"", [])) is None


async def test_event_ids_need_an_sse_encoder_without_ids_of_its_own(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    with pytest.raises(ValueError, match="SSE"):
        await create_resumable_assistant_stream_response(
            context=context, stream_id="s1", callback=counting(1), event_ids=True
        )
    with pytest.raises(ValueError, match="event_ids=False"):
        await create_resume_assistant_stream_response(
            context=context, stream_id="s1", encoder=RAISEncoder(), event_ids=True
        )


async def test_a_malformed_cursor_is_a_400(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    response = await create_resumable_assistant_stream_response(
        context=context, stream_id="s1", callback=counting(1)
    )
    await body_of(response)
    bad = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", cursor="abc"
    )
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("make_encoder", "error_marker", "end_marker"),
    [
        (DataStreamEncoder, b'3:"', b""),
        (AssistantTransportEncoder, b'"type":"error"', b"data: [DONE]\n\n"),
        (OpenAIStreamEncoder, b'{"error":', b"data: [DONE]\n\n"),
        (lambda: RAISEncoder(event_ids=False), b'"type":"error"', b""),
    ],
    ids=["data-stream", "assistant-transport", "openai", "rais"],
)
async def test_a_stream_whose_producer_died_ends_with_the_protocols_error_frame(
    store: Any, make_encoder: Any, error_marker: bytes, end_marker: bytes
) -> None:
    # What a reader finds after a producer died: some frames, then an error end.
    await store.acquire("s1")
    await store.append(
        "s1", b"data: {}\n\n" if make_encoder is not DataStreamEncoder else b'0:"x"\n'
    )
    await store.finalize("s1", "error", PRODUCER_LOST)
    context = create_resumable_stream_context(store=store)
    response = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", encoder=make_encoder()
    )
    body = await asyncio.wait_for(body_of(response), 5)
    assert error_marker in body and PRODUCER_LOST.encode() in body
    assert body.endswith(end_marker) and body.endswith(b"\n")


async def test_store_errors_do_not_leak_their_text_to_the_client(store: Any) -> None:
    await store.acquire("s1")
    await store.finalize("s1", "error", "redis://:hunter2@10.0.0.5 refused")
    context = create_resumable_stream_context(store=store)
    response = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", encoder=AssistantTransportEncoder()
    )
    body = await asyncio.wait_for(body_of(response), 5)
    assert b"hunter2" not in body and b"The stream failed" in body


async def test_a_stopped_run_ends_its_stream_properly(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    cancelled = asyncio.Event()

    async def endless(controller: RunController) -> None:
        try:
            for i in range(100_000):
                controller.append_text(f"t{i} ")
                await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    response = await create_resumable_assistant_stream_response(
        context=context, stream_id="s1", encoder=AssistantTransportEncoder(), callback=endless
    )
    assert isinstance(response, StreamingResponse)

    async def stop_soon() -> None:
        await asyncio.sleep(0.05)
        assert await context.cancel("s1") is True

    stopper = asyncio.create_task(stop_soon())
    body = await asyncio.wait_for(body_of(response), 5)
    await stopper
    assert cancelled.is_set()
    assert body.endswith(b"data: [DONE]\n\n") and b"message-finish" in body
    assert await context.status("s1") == "done"


async def test_a_finished_id_is_refused_by_the_response_helper(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    await body_of(
        await create_resumable_assistant_stream_response(
            context=context, stream_id="s1", callback=counting(1)
        )
    )
    with pytest.raises(ResumableStreamError) as caught:
        await create_resumable_assistant_stream_response(
            context=context, stream_id="s1", callback=counting(1)
        )
    assert caught.value.code == "exists"


async def test_a_quiet_stream_gets_keepalives_and_ids_stay_exact(store: Any) -> None:
    context = create_resumable_stream_context(store=store)

    async def pausing(controller: RunController) -> None:
        controller.append_text("before")
        await asyncio.sleep(0.35)
        controller.append_text(" after")

    response = await create_resumable_assistant_stream_response(
        context=context,
        stream_id="s1",
        encoder=AssistantTransportEncoder(),
        callback=pausing,
        event_ids=True,
        heartbeat=0.1,
    )
    body = await asyncio.wait_for(body_of(response), 5)
    keepalive = AssistantTransportEncoder.keepalive
    assert keepalive.startswith(b":") and body.count(keepalive) >= 2
    parsed = events(body)
    assert [int(e.id) for e in parsed] == list(range(1, len(parsed) + 1))
    quiet = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", encoder=AssistantTransportEncoder(), heartbeat=False
    )
    replay = await asyncio.wait_for(body_of(quiet), 5)
    assert keepalive not in replay
    assert [e.data for e in events(replay)] == [e.data for e in parsed]


async def test_active_only_answers_a_running_stream_and_204_after_it_ended(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    release = asyncio.Event()

    async def slow(controller: RunController) -> None:
        controller.append_text("first")
        await release.wait()
        controller.append_text(" second")

    producer = await create_resumable_assistant_stream_response(
        context=context, stream_id="s1", callback=slow
    )

    def no_stream() -> Response:
        return Response(status_code=204)

    live = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", active_only=True, missing_response=no_stream
    )
    assert live.status_code == 200
    release.set()
    assert b"second" in await asyncio.wait_for(body_of(live), 5)
    await asyncio.wait_for(body_of(producer), 5)
    ended = await create_resume_assistant_stream_response(
        context=context, stream_id="s1", active_only=True, missing_response=no_stream
    )
    assert ended.status_code == 204
    replay = await create_resume_assistant_stream_response(context=context, stream_id="s1")
    assert replay.status_code == 200  # without active_only a finished stream replays


class _OnlyTheOldInterface:
    """A store with the 0.0.36 interface only (no batches, no producer handles)."""

    def __init__(self) -> None:
        self._inner = create_in_memory_resumable_stream_store()

    async def acquire(self, stream_id: str, *, ttl_ms: int | None = None) -> Any:
        return await self._inner.acquire(stream_id, ttl_ms=ttl_ms)

    async def append(self, stream_id: str, chunk: bytes) -> None:
        await self._inner.append(stream_id, chunk)

    async def finalize(self, stream_id: str, status: Any, error: str | None = None) -> Any:
        return await self._inner.finalize(stream_id, status, error)

    def read(self, stream_id: str, cursor: str, signal: Any) -> Any:
        return self._inner.read(stream_id, cursor, signal)

    async def status(self, stream_id: str) -> Any:
        return await self._inner.status(stream_id)

    async def delete(self, stream_id: str) -> None:
        await self._inner.delete(stream_id)


async def test_a_store_without_batches_gets_keepalives_and_exact_ids_too() -> None:
    await test_a_quiet_stream_gets_keepalives_and_ids_stay_exact(_OnlyTheOldInterface())
