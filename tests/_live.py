"""The tests' live server: the public `assistant_stream_ce.testing.LiveServer`, plus probes that
run on the server's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from assistant_stream_ce import testing

T = TypeVar("T")


class LiveServer(testing.LiveServer):
    """uvicorn on 127.0.0.1 (ephemeral port) in a background thread, without lifespan events."""

    def __init__(self, app: Any) -> None:
        super().__init__(app, lifespan="off")

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine on the server's event loop and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def task_count(self) -> int:
        """Tasks alive on the server loop, excluding the probe itself."""

        async def count() -> int:
            return len(asyncio.all_tasks()) - 1

        return self.call(count())
