"""Small helpers shared by tests."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

from assistant_stream_ce.serialization.stream_encoder import StreamEncoder


async def collect(stream: AsyncIterable[Any]) -> list[Any]:
    """All chunks of a stream."""
    return [chunk async for chunk in stream]


async def encode(encoder: StreamEncoder, stream: AsyncIterable[Any]) -> bytes:
    """The whole body an encoder produces for a stream."""
    return b"".join([part async for part in encoder.iter_bytes(stream)])


def merged(chunks: list[Any]) -> list[tuple[str, Any]]:
    """Chunks as (type, fields) with adjacent deltas for the same target joined."""
    out: list[tuple[str, Any]] = []
    for chunk in chunks:
        kind = chunk.type
        if kind == "text-delta":
            key, value = ("text", chunk.parent_id), chunk.text_delta
        elif kind == "reasoning-delta":
            key, value = ("reasoning", chunk.parent_id), chunk.reasoning_delta
        elif kind == "tool-call-delta":
            key, value = ("args", chunk.tool_call_id), chunk.args_text_delta
        else:
            out.append((kind, chunk))
            continue
        if out and out[-1][0] == "delta" and out[-1][1][0] == key:
            out[-1] = ("delta", (key, out[-1][1][1] + value))
        else:
            out.append(("delta", (key, value)))
    return out
