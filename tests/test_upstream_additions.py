"""Additions on upstream assistant-stream's main branch after 0.0.36, with the same shapes.

Field lists are the upstream dataclasses' (facts of their API, so positional construction
behaves the same).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from _util import collect, encode
from assistant_stream_ce import create_run
from assistant_stream_ce.assistant_stream_chunk import (
    FileChunk,
    ReasoningPartStartChunk,
    ToolCallArgsTextFinishChunk,
)
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder, DataStreamEncoder


def fields(cls: Any) -> list[tuple[str, Any]]:
    return [(f.name, f.default) for f in dataclasses.fields(cls)]


def test_chunk_fields_match_upstream_main() -> None:
    assert fields(ReasoningPartStartChunk) == [
        ("unstable_summary", None),
        ("parent_id", None),
        ("type", "reasoning-part-start"),
    ]
    assert fields(ToolCallArgsTextFinishChunk)[:3] == [
        ("tool_call_id", dataclasses.MISSING),
        ("args_text_delta", ""),
        ("type", "tool-call-args-text-finish"),
    ]
    assert ReasoningPartStartChunk("plan", "p1").parent_id == "p1"


async def test_add_reasoning_part_takes_upstreams_argument_name() -> None:
    async def run(controller: Any) -> None:
        controller.add_reasoning_part("a")
        controller.add_reasoning_part(unstable_summary="b")
        controller.add_reasoning_part(summary="c")
        controller.with_parent_id("p").add_reasoning_part()

    chunks = await collect(create_run(run))
    assert [(c.unstable_summary, c.parent_id) for c in chunks] == [
        ("a", None),
        ("b", None),
        ("c", None),
        (None, "p"),
    ]


async def test_file_parts_on_the_data_stream() -> None:
    async def run(controller: Any) -> None:
        controller.add_file("aGVsbG8=", "image/png")

    body = await encode(DataStreamEncoder(), create_run(run))
    frames = [line for line in body.decode().splitlines() if line.startswith("k:")]
    assert [orjson.loads(f[2:]) for f in frames] == [{"data": "aGVsbG8=", "mimeType": "image/png"}]
    decoded = [c for c in DataStreamDecoder().decode(body) if c.type == "file"]
    assert decoded == [FileChunk("aGVsbG8=", "image/png")]
