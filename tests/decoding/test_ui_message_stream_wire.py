"""The UI message stream encoder's wire, frame by frame: every chunk matches the strict schema
of the targeted ``ai`` version (fields as compiled in npm ai 5.0.100, 6.0.100 and 7.0.173), and
the lifecycle rules ``processUIMessageStream`` enforces hold for any valid chunk sequence."""

from __future__ import annotations

import json
from typing import Any

from _decoding_cases import chunk_sequences
from hypothesis import HealthCheck, given, settings

from _util import encode
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamEncoder

_PM = {"providerMetadata"}
_COMMON: dict[str, set[str]] = {
    "start": {"messageId", "messageMetadata"},
    "start-step": set(),
    "finish-step": set(),
    "text-start": {"id"} | _PM,
    "text-delta": {"id", "delta"} | _PM,
    "text-end": {"id"} | _PM,
    "reasoning-start": {"id"} | _PM,
    "reasoning-delta": {"id", "delta"} | _PM,
    "reasoning-end": {"id"} | _PM,
    "error": {"errorText"},
    "tool-input-start": {"toolCallId", "toolName", "providerExecuted", "dynamic"},
    "tool-input-delta": {"toolCallId", "inputTextDelta"},
    "tool-input-available": {"toolCallId", "toolName", "input", "providerExecuted", "dynamic"}
    | _PM,
    "tool-input-error": {
        "toolCallId",
        "toolName",
        "input",
        "providerExecuted",
        "dynamic",
        "errorText",
    }
    | _PM,
    "tool-output-available": {"toolCallId", "output", "providerExecuted", "dynamic", "preliminary"},
    "tool-output-error": {"toolCallId", "errorText", "providerExecuted", "dynamic"},
    "source-url": {"sourceId", "url", "title"} | _PM,
    "file": {"url", "mediaType"} | _PM,
    "data-*": {"id", "data", "transient"},
    "finish": {"finishReason", "messageMetadata"},
    "abort": set(),
    "message-metadata": {"messageMetadata"},
}
ALLOWED: dict[int, dict[str, set[str]]] = {
    5: _COMMON,
    6: {**_COMMON, "abort": {"reason"}},
    7: {**_COMMON, "abort": {"reason"}},
}
REQUIRED: dict[str, set[str]] = {
    "text-start": {"id"},
    "text-delta": {"id", "delta"},
    "text-end": {"id"},
    "reasoning-start": {"id"},
    "reasoning-delta": {"id", "delta"},
    "reasoning-end": {"id"},
    "error": {"errorText"},
    "tool-input-start": {"toolCallId", "toolName"},
    "tool-input-delta": {"toolCallId", "inputTextDelta"},
    "tool-input-available": {"toolCallId", "toolName", "input"},
    "tool-input-error": {"toolCallId", "toolName", "input", "errorText"},
    "tool-output-available": {"toolCallId", "output"},
    "tool-output-error": {"toolCallId", "errorText"},
    "source-url": {"sourceId", "url"},
    "file": {"url", "mediaType"},
    "data-*": {"data"},
}
FINISH_REASONS = {5: {"stop", "length", "content-filter", "tool-calls", "error", "other"}}
FINISH_REASONS[6] = FINISH_REASONS[7] = FINISH_REASONS[5]


def events_of(body: bytes) -> list[Any]:
    text = body.decode()
    assert text.endswith("\n\n") and "\r" not in text
    events = []
    for block in text[:-2].split("\n\n"):
        assert "\n" not in block, f"one line per event: {block!r}"
        assert block.startswith("data: "), block
        payload = block[6:]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def check_wire(events: list[Any], version: int) -> None:
    """What a strict client of ``version`` accepts, and the lifecycle rules."""
    assert events[-1] == "[DONE]" and "[DONE]" not in events[:-1]
    chunks = events[:-1]
    assert chunks[0]["type"] == "start" and isinstance(chunks[0]["messageId"], str)
    open_parts: set[str] = set()
    used_ids: set[str] = set()
    tools: set[str] = set()
    in_step = False
    ends = []
    for index, chunk in enumerate(chunks):
        kind = chunk["type"]
        key = "data-*" if kind.startswith("data-") else kind
        assert key in ALLOWED[version], f"unknown chunk type {kind}"
        fields = set(chunk) - {"type"}
        assert fields <= ALLOWED[version][key], (kind, fields)
        assert REQUIRED.get(key, set()) <= fields, (kind, fields)
        assert kind != "start" or index == 0
        if kind in ("text-start", "reasoning-start"):
            assert chunk["id"] not in used_ids
            used_ids.add(chunk["id"])
            open_parts.add(chunk["id"])
        elif kind in ("text-delta", "reasoning-delta"):
            assert chunk["id"] in open_parts
            assert chunk["id"][0] == kind[0]  # text ids for text, reasoning ids for reasoning
        elif kind in ("text-end", "reasoning-end"):
            open_parts.remove(chunk["id"])
        elif kind == "tool-input-start":
            assert chunk["toolCallId"] not in tools
            tools.add(chunk["toolCallId"])
        elif kind.startswith("tool-"):
            assert chunk["toolCallId"] in tools
        elif kind == "start-step":
            assert not in_step
            in_step = True
        elif kind == "finish-step":
            assert in_step
            in_step = False
        if kind in ("finish-step", "error", "finish", "abort"):
            assert not open_parts, f"{kind} while parts are open"
        if kind in ("finish", "abort"):
            ends.append(index)
        if kind == "finish":
            assert chunk["finishReason"] in FINISH_REASONS[version]
    assert not open_parts and not in_step
    assert ends == [len(chunks) - 1]


async def chunks_of(chunks: list[Any]) -> Any:
    for chunk in chunks:
        yield chunk


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(chunk_sequences())
async def test_every_chunk_fits_the_targeted_versions_schema(chunks: list[Any]) -> None:
    for version in (5, 6, 7):
        encoder = UIMessageStreamEncoder(sdk_version=version, initial_state={"a": 1})
        check_wire(events_of(await encode(encoder, chunks_of(chunks))), version)
