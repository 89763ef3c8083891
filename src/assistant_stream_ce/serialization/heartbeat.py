"""Keepalives for streams of encoded text (the 0.0.36 helpers).

The response classes send keepalives themselves (``heartbeat=``); these helpers serve code that
drives an encoder's `encode_stream` by hand. A keepalive is never an event: on SSE it is a
comment, on the line-based data stream a blank line.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Union

from .sse import sse_comment

__all__ = [
    "DATA_STREAM_KEEPALIVE_LINE",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "SSE_HEARTBEAT_LINE",
    "HeartbeatOption",
    "add_keepalive",
    "add_sse_heartbeat",
    "resolve_heartbeat_interval",
]

#: Seconds of silence before a response sends a keepalive (``heartbeat=True``).
DEFAULT_HEARTBEAT_INTERVAL = 15.0

#: ``heartbeat=``: seconds, True (the default interval) or False/None/0 (off).
HeartbeatOption = Union[float, int, bool, None]

#: The SSE keepalive: a comment line, ignored by every SSE parser.
SSE_HEARTBEAT = sse_comment("heartbeat")
SSE_HEARTBEAT_LINE = SSE_HEARTBEAT.decode()
#: The data stream keepalive: an empty line, skipped by the data stream decoders.
DATA_STREAM_KEEPALIVE = b"\n"
DATA_STREAM_KEEPALIVE_LINE = DATA_STREAM_KEEPALIVE.decode()


def resolve_heartbeat_interval(heartbeat: HeartbeatOption) -> float | None:
    """Seconds between idle keepalives: True → default, False/None/0 → off.

    Raises ValueError for a negative or non-finite interval.
    """
    if heartbeat is True:
        return DEFAULT_HEARTBEAT_INTERVAL
    if heartbeat is None or heartbeat is False:
        return None
    interval = float(heartbeat)
    if not math.isfinite(interval) or interval < 0:
        raise ValueError(
            f"heartbeat must be True, False, 0 or a positive finite number of seconds, "
            f"got {heartbeat!r}"
        )
    return interval or None


async def add_keepalive(
    stream: AsyncIterator[str], interval: float, token: str
) -> AsyncGenerator[str, None]:
    """Pass ``stream`` through, inserting ``token`` whenever it was idle for ``interval`` s.

    Closing the result cancels a pending read and closes ``stream``.
    """
    pending: asyncio.Future[str] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(stream.__anext__())
            done, _ = await asyncio.wait((pending,), timeout=interval)
            if not done:
                yield token
                continue
            read, pending = pending, None
            try:
                item = read.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait((pending,))
            if not pending.cancelled():
                # Retrieve the outcome so asyncio does not log it as never retrieved.
                with contextlib.suppress(BaseException):
                    pending.result()
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def add_sse_heartbeat(stream: AsyncIterator[str], interval: float) -> AsyncGenerator[str, None]:
    """`add_keepalive` with the SSE comment (kept from assistant-stream 0.0.35 and earlier)."""
    return add_keepalive(stream, interval, SSE_HEARTBEAT_LINE)
