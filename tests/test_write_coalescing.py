"""How often the consumer of a run is woken: one write per few tokens for a fast producer,
an immediate write for a token after a pause, and no delay at the end of the stream."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.assistant_transport import AssistantTransportResponse
from assistant_stream_ce.serialization.data_stream import DataStreamResponse
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamResponse
from assistant_stream_ce.serialization.rais import RAISResponse


async def _consume(run: Any, interval: float) -> tuple[list[list[Any]], list[float]]:
    """Drive a run's buffer as the HTTP writer does; return batches and their arrival times."""
    batches: list[list[Any]] = []
    times: list[float] = []
    first = run.take_nowait()
    buffer = run.buffer
    buffer.wake_interval = interval
    if first:
        batches.append(first)
        times.append(time.monotonic())
    while True:
        try:
            batch = await buffer.next_batch()
        except StopAsyncIteration:
            return batches, times
        if batch:
            batches.append(batch)
            times.append(time.monotonic())


def _text(batches: list[list[Any]]) -> str:
    return "".join(c.text_delta for batch in batches for c in batch if c.type == "text-delta")


async def test_a_fast_producer_is_written_in_few_batches_with_nothing_lost() -> None:
    async def run(controller: RunController) -> None:
        for index in range(200):
            controller.append_text(f"{index} ")
            await asyncio.sleep(0.001)

    batches, _ = await _consume(create_run(run), interval=0.01)
    assert _text(batches) == "".join(f"{index} " for index in range(200))
    # ~200 ms of tokens in 10 ms windows: about 20 wakes, far fewer than 200 tokens.
    assert len(batches) <= 60


async def test_without_an_interval_every_spaced_token_wakes_the_consumer() -> None:
    async def run(controller: RunController) -> None:
        for index in range(30):
            controller.append_text(f"{index} ")
            await asyncio.sleep(0.002)

    batches, _ = await _consume(create_run(run), interval=0.0)
    assert _text(batches) == "".join(f"{index} " for index in range(30))
    assert len(batches) >= 25


async def test_a_token_after_a_pause_is_delivered_at_once() -> None:
    sent_at: list[float] = []

    async def run(controller: RunController) -> None:
        for _ in range(3):
            await asyncio.sleep(0.08)
            sent_at.append(time.monotonic())
            controller.append_text("tick ")

    batches, times = await _consume(create_run(run), interval=0.05)
    assert len(batches) == 3
    delays = [received - sent for sent, received in zip(sent_at, times, strict=True)]
    # A 50 ms window would show up as ~50 ms; an isolated token goes out in the next tick.
    assert max(delays) < 0.02, delays


async def test_a_busy_loop_does_not_hold_back_a_steady_producer() -> None:
    """Loop lag widens the window (up to 4 intervals) so a saturated server writes less per
    token; a producer slower than half that window (20 tokens/s here) must still be written at
    once: holding its token back merges nothing and costs a timer and latency."""
    sent_at: list[float] = []
    run = create_run(lambda controller: _steady(controller, sent_at))

    async def _lagging() -> None:  # what the consumer measured on a saturated server
        while True:
            run.buffer._loop_lag = 0.02  # the window is then at its widest, 4 x 5 ms = 20 ms
            await asyncio.sleep(0.001)

    lag = asyncio.create_task(_lagging())
    try:
        batches, times = await _consume(run, interval=0.005)
    finally:
        lag.cancel()
    assert _text(batches) == "tick " * 8
    # Held back, tokens would go out late or merged.
    assert len(batches) == len(sent_at), f"{len(batches)} writes for {len(sent_at)} tokens"
    delays = sorted(received - sent for sent, received in zip(sent_at, times, strict=True))
    # Held back, each token would wait out the rest of the window.
    assert delays[len(delays) // 2] < 0.005, delays


async def _steady(controller: RunController, sent_at: list[float]) -> None:
    for _ in range(8):
        await asyncio.sleep(0.04)
        sent_at.append(time.monotonic())
        controller.append_text("tick ")


async def test_the_end_of_the_stream_is_not_held_back_by_the_window() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("a")
        await asyncio.sleep(0.001)
        controller.append_text("b")  # lands inside the window: its wake is deferred

    started = time.monotonic()
    batches, _ = await _consume(create_run(run), interval=0.5)
    assert _text(batches) == "ab"
    assert time.monotonic() - started < 0.2


@pytest.mark.parametrize(
    "response_class",
    [DataStreamResponse, AssistantTransportResponse, OpenAIStreamResponse, RAISResponse],
)
@pytest.mark.parametrize("bad", [-0.001, 1.5, float("nan"), float("inf")])
def test_write_interval_is_validated(response_class: Any, bad: float) -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("x")

    with pytest.raises(ValueError, match="write_interval"):
        response_class(create_run(run), write_interval=bad)


@pytest.mark.http
@pytest.mark.parametrize(("interval", "max_writes"), [(0.02, 60), (0.0, None)])
async def test_http_writes_per_stream_follow_the_write_interval(
    live_server: Any, interval: float, max_writes: int | None
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route

    async def run(controller: RunController) -> None:
        for index in range(150):
            controller.append_text(f"{index} ")
            await asyncio.sleep(0.001)

    async def endpoint(request: Any) -> DataStreamResponse:
        return DataStreamResponse(create_run(run), write_interval=interval)

    server = live_server(Starlette(routes=[Route("/", endpoint)]))
    pieces: list[bytes] = []
    async with (
        httpx.AsyncClient() as client,
        client.stream("GET", server.url("/")) as response,
    ):
        async for piece in response.aiter_raw():
            pieces.append(piece)
    body = b"".join(pieces).decode()
    lines = [line for line in body.split("\n") if line.startswith("0:")]
    assert "".join(line[3:-1] for line in lines) == "".join(f"{i} " for i in range(150))
    if max_writes is not None:
        # ~150+ ms of tokens in 20 ms windows; without a window each token is its own line.
        assert len(lines) <= max_writes
    else:
        assert len(lines) >= 100
