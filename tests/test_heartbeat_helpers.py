"""serialization.heartbeat: the 0.0.36 keepalive helpers for hand-driven encoder streams."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator

import pytest

from _util import collect
from assistant_stream_ce import create_run
from assistant_stream_ce.serialization import assistant_stream_response, heartbeat
from assistant_stream_ce.serialization.assistant_transport import (
    AssistantTransportDecoder,
    AssistantTransportEncoder,
)
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder, DataStreamEncoder


def test_shared_names_are_the_response_module_objects() -> None:
    for name in ("DEFAULT_HEARTBEAT_INTERVAL", "HeartbeatOption", "resolve_heartbeat_interval"):
        assert getattr(heartbeat, name) is getattr(assistant_stream_response, name)


def test_constants_match_the_baseline() -> None:
    old = pytest.importorskip("assistant_stream", reason="assistant-stream==0.0.36 baseline")
    old_heartbeat = importlib.import_module(f"{old.__name__}.serialization.heartbeat")
    for name in ("SSE_HEARTBEAT_LINE", "DATA_STREAM_KEEPALIVE_LINE", "DEFAULT_HEARTBEAT_INTERVAL"):
        assert getattr(heartbeat, name) == getattr(old_heartbeat, name), name


async def slow_lines(delays: list[float], closed: asyncio.Event) -> AsyncIterator[str]:
    try:
        for index, delay in enumerate(delays):
            await asyncio.sleep(delay)
            yield f"data: {index}\n\n"
    finally:
        closed.set()


async def test_keepalives_fill_idle_gaps_only() -> None:
    closed = asyncio.Event()
    lines = [
        line
        async for line in heartbeat.add_keepalive(
            slow_lines([0, 0.2, 0], closed), 0.05, heartbeat.SSE_HEARTBEAT_LINE
        )
    ]
    data = [line for line in lines if line != heartbeat.SSE_HEARTBEAT_LINE]
    assert data == ["data: 0\n\n", "data: 1\n\n", "data: 2\n\n"]
    gap = lines[lines.index("data: 0\n\n") + 1 : lines.index("data: 1\n\n")]
    assert len(gap) >= 2 and set(gap) == {heartbeat.SSE_HEARTBEAT_LINE}
    assert lines.index("data: 2\n\n") == lines.index("data: 1\n\n") + 1
    assert closed.is_set()


async def test_closing_early_cancels_the_pending_read_and_closes_the_source() -> None:
    closed = asyncio.Event()
    wrapped = heartbeat.add_sse_heartbeat(slow_lines([0, 30], closed), 0.02)
    assert await wrapped.__anext__() == "data: 0\n\n"
    assert await wrapped.__anext__() == heartbeat.SSE_HEARTBEAT_LINE
    await asyncio.wait_for(wrapped.aclose(), 1)
    assert closed.is_set()


async def test_a_failing_source_raises_through() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "a"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await collect(heartbeat.add_keepalive(failing(), 1, "\n"))


@pytest.mark.parametrize(
    ("encoder", "decoder", "token"),
    [
        (AssistantTransportEncoder, AssistantTransportDecoder, heartbeat.SSE_HEARTBEAT_LINE),
        (DataStreamEncoder, DataStreamDecoder, heartbeat.DATA_STREAM_KEEPALIVE_LINE),
    ],
)
async def test_our_decoders_skip_the_keepalives(encoder: type, decoder: type, token: str) -> None:
    async def run(controller: object) -> None:
        controller.append_text("hel")  # type: ignore[attr-defined]
        await asyncio.sleep(0.12)
        controller.append_text("lo")  # type: ignore[attr-defined]

    body = [
        line
        async for line in heartbeat.add_keepalive(
            encoder().encode_stream(create_run(run)), 0.03, token
        )
    ]
    assert token in body
    chunks = decoder().decode("".join(body).encode())
    assert "".join(c.text_delta for c in chunks if c.type == "text-delta") == "hello"
