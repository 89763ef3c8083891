"""Runs misused by their callbacks fail loudly and never take the server down (issue 14)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from _util import collect
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.errors import RunClosedError


async def test_a_controller_used_after_its_run_ended_raises() -> None:
    kept: list[RunController] = []

    async def run(controller: RunController) -> None:
        kept.append(controller)
        controller.append_text("hello")

    chunks = await collect(create_run(run))
    assert [chunk.type for chunk in chunks] == ["text-delta"]
    controller = kept[0]
    for use in (
        lambda: controller.append_text("late"),
        lambda: controller.add_data({"late": True}),
        lambda: controller.append_reasoning("late"),
    ):
        with pytest.raises(RunClosedError, match="used after the run finished"):
            use()


@pytest.mark.parametrize("exception", [SystemExit, KeyboardInterrupt])
async def test_system_exit_in_a_callback_is_a_failed_run(
    exception: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("before")
        raise exception()

    chunks: list[Any] = []
    with pytest.raises(RuntimeError, match=f"stopped by {exception.__name__}"):
        async for chunk in create_run(run):
            chunks.append(chunk)
    assert [chunk.type for chunk in chunks] == ["text-delta", "error"]
    assert any(exception.__name__ in record.getMessage() for record in caplog.records)


async def test_a_callback_that_swallows_cancellation_does_not_hang_aclose(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn(controller: RunController) -> None:
        controller.append_text("first")
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # wrong: swallows the cancellation

    stream = create_run(stubborn)
    assert (await stream.__anext__()).type == "text-delta"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(stream.aclose(), 5)
    assert time.monotonic() - started < 2
    assert any("kept running" in record.getMessage() for record in caplog.records)
    release.set()  # let the stubborn task end before the loop closes
    await asyncio.sleep(0.01)
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.cancel()
    await asyncio.sleep(0)
