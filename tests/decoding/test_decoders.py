"""Protocol-specific decoder behaviour: mappings, strict and lenient modes, sources."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from _decoding_cases import decoded_dict

from assistant_stream_ce import (
    ErrorChunk,
    ReasoningDeltaChunk,
    StepFinishChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
)
from assistant_stream_ce.accumulator import accumulate_stream
from assistant_stream_ce.errors import DecodeError, StreamError
from assistant_stream_ce.serialization.assistant_transport import AssistantTransportDecoder
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamDecoder


def openai_event(delta: dict[str, Any] | None = None, **fields: Any) -> bytes:
    import json

    body: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "created": 1}
    if delta is not None or "finish_reason" in fields:
        choice = {
            "index": 0,
            "delta": delta or {},
            "finish_reason": fields.pop("finish_reason", None),
        }
        body["choices"] = [choice]
    body.update(fields)
    return b"data: " + json.dumps(body).encode() + b"\n\n"


# -- data stream -------------------------------------------------------------------------


def test_data_stream_maps_every_frame() -> None:
    body = (
        b'aui-reasoning-part-start:{"unstable_summary":"sum","parentId":"p"}\n'
        b'aui-reasoning-delta:{"reasoningDelta":"r","parentId":"p"}\n'
        b'aui-text-delta:{"textDelta":"t","parentId":"p"}\n'
        b'9:{"toolCallId":"c9","toolName":"n","args":{"x":1}}\n'
        b'a:{"toolCallId":"c9","result":1,"artifact":[2],"isError":true}\n'
        b'h:{"sourceType":"url","id":"s","url":"u"}\n'
        b'k:{"data":"d","mimeType":"m","parentId":"p"}\n'
        b'2:[1,{"a":2}]\n8:[{"n":1}]\n'
        b'aui-state:[{"type":"set","path":["a"],"value":"x"},'
        b'{"type":"append-text","path":["a"],"value":"y"}]\n'
        b'i:{"data":"x"}\nj:{"signature":"s"}\naui-data:{"name":"n","data":1}\n'
        b'3:"boom"\n'
    )
    message = decoded_dict("data-stream", body)
    assert message["parts"][0] == {
        "type": "reasoning",
        "text": "r",
        "summary": "sum",
        "parent_id": "p",
    }
    assert message["parts"][1] == {"type": "text", "text": "t", "parent_id": "p"}
    call = message["parts"][2]
    assert (
        call["args_text"],
        call["args"],
        call["result"],
        call["artifact"],
        call["is_error"],
    ) == (
        '{"x":1}',
        {"x": 1},
        1,
        [2],
        True,
    )
    assert [p["type"] for p in message["parts"][3:]] == ["source", "file"]
    assert message["data"] == [1, {"a": 2}]
    assert message["annotations"] == [{"n": 1}]
    assert message["state"] == {"a": "xy"}
    assert message["errors"] == ["boom"]
    assert message["status"] == "incomplete"


def test_data_stream_v4_usage_keys_and_message_finish_without_steps() -> None:
    body = b'0:"hi"\nd:{"finishReason":"length","usage":{"promptTokens":3,"completionTokens":4}}\n'
    message = decoded_dict("data-stream", body)
    assert message["usage"] == {"input_tokens": 3, "output_tokens": 4}
    assert message["finish_reason"] == "length"
    quiet = decoded_dict("data-stream", b'0:"hi"\nd:{"finishReason":"stop","usage":{}}\n')
    assert quiet["steps"] == []


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b'0:"a"\n0:{bad json}\n', r"data stream: line 2: invalid JSON"),
        (b"no colon here\n", r"data stream: line 1: not a '<code>:<JSON>' frame"),
        (b'0:"a"\n\n0:5\n', r"data stream: line 3: '0' frame must hold a string"),
        (b'c:{"toolCallId":"x","argsTextDelta":"{"}\n', "unknown tool call 'x'"),
        (
            b'b:{"toolCallId":"x","toolName":"t"}\nb:{"toolCallId":"x","toolName":"t"}\n',
            "duplicate",
        ),
        (b'b:{"toolCallId":1,"toolName":"t"}\n', "'toolCallId' must be a string"),
        (b'aui-state:[{"type":"nope","path":[],"value":1}]\n', "unknown operation type"),
        (b'0:"unterminated"', "line 1: the stream ended inside a line"),
    ],
)
def test_data_stream_strict_errors_name_the_line_and_problem(body: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        DataStreamDecoder().decode(body)


def test_data_stream_lenient_drops_bad_frames_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'0:{bad}\n0:{bad}\nzz:1\n0:"ok"\nc:{"toolCallId":"x","argsTextDelta":"{"}\n'
    with caplog.at_level(logging.WARNING):
        chunks = DataStreamDecoder(strict=False).decode(body)
    assert chunks == [TextDeltaChunk("ok")]
    assert len([r for r in caplog.records if "invalid JSON" in r.getMessage()]) == 1


def test_adjacent_deltas_of_one_read_are_merged_unless_coalesce_is_off() -> None:
    body = b'0:"a"\n0:"b"\ng:"r"\n\n0:"c"\n'
    assert DataStreamDecoder().decode(body) == [
        TextDeltaChunk("ab"),
        ReasoningDeltaChunk("r"),
        TextDeltaChunk("c"),
    ]
    assert len(DataStreamDecoder(coalesce=False).decode(body)) == 4
    transport = (
        b'data: {"type":"part-start","part":{"type":"text"},"path":[]}\n\n'
        + b'data: {"type":"text-delta","textDelta":"a","path":[0]}\n\n' * 3
        + b"data: [DONE]\n\n"
    )
    assert AssistantTransportDecoder().decode(transport) == [TextDeltaChunk("aaa")]
    assert len(AssistantTransportDecoder(coalesce=False).decode(transport)) == 3


def test_unknown_frame_types_are_skipped_in_strict_mode_too() -> None:
    assert DataStreamDecoder().decode(b'x-future:{"a":1}\n0:"ok"\n') == [TextDeltaChunk("ok")]
    body = b'data: {"type":"future-thing"}\n\ndata: [DONE]\n\n'
    assert AssistantTransportDecoder().decode(body) == []


# -- assistant transport -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b'data: {"type":"text-delta","textDelta":"x","path":[0]}\n\n', "no part at index 0"),
        (b"event: other\ndata: {}\n\ndata: [DONE]\n\n", "unexpected SSE event type 'other'"),
        (b"data: [1]\n\n", "must be a JSON object"),
        (b'data: {"type":"data","data":1}\n\ndata: [DONE]\n\n', "'data' must be an array"),
        (b'data: {"type":"step-start","messageId":"m"}\n\n', "without the \\[DONE\\] marker"),
    ],
)
def test_assistant_transport_strict_errors(body: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match="assistant transport: line"):
        AssistantTransportDecoder().decode(body)
    with pytest.raises(DecodeError, match=match):
        AssistantTransportDecoder().decode(body)


def test_assistant_transport_stops_at_done_and_lenient_accepts_a_missing_done() -> None:
    body = b'data: {"type":"error","error":"e"}\n\ndata: [DONE]\n\ngarbage\xff'
    assert AssistantTransportDecoder().decode(body) == [ErrorChunk("e")]
    assert AssistantTransportDecoder(strict=False).decode(body[:36]) == [ErrorChunk("e")]


def test_assistant_transport_result_after_part_finish_and_named_data_parts() -> None:
    body = (
        b'data: {"type":"part-start","part":{"type":"data","name":"n","data":1},"path":[]}\n\n'
        b'data: {"type":"part-start","part":{"type":"tool-call","toolCallId":"c","toolName":"t"},'
        b'"path":[]}\n\n'
        b'data: {"type":"part-finish","path":[1]}\n\n'
        b'data: {"type":"result","result":"late","isError":false,"path":[1]}\n\n'
        b"data: [DONE]\n\n"
    )
    message = decoded_dict("assistant-transport", body)
    [call] = message["parts"]
    assert (call["tool_call_id"], call["args_text"], call["result"]) == ("c", "{}", "late")


# -- OpenAI ------------------------------------------------------------------------------


def test_openai_reads_reasoning_fields_tool_calls_finish_and_usage() -> None:
    body = b"".join(
        [
            openai_event({"role": "assistant", "content": ""}),
            openai_event({"reasoning": "think "}),
            openai_event({"reasoning_content": "hard", "reasoning": "hard"}),
            openai_event({"content": "Hi"}),
            openai_event(
                {
                    "tool_calls": [
                        {"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}
                    ]
                }
            ),
            openai_event(
                {
                    "tool_calls": [
                        {"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}
                    ]
                }
            ),
            openai_event({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]}),
            openai_event({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
            openai_event(finish_reason="tool_calls"),
            openai_event(choices=[], usage={"prompt_tokens": 5, "completion_tokens": 7}),
            b"data: [DONE]\n\n",
        ]
    )
    assert OpenAIStreamDecoder().decode(body)[0] == ReasoningDeltaChunk("think hard")  # merged
    chunks = OpenAIStreamDecoder(coalesce=False).decode(body)
    assert chunks == [
        ReasoningDeltaChunk("think "),
        ReasoningDeltaChunk("hard"),
        TextDeltaChunk("Hi"),
        ToolCallBeginChunk("a", "f"),
        ToolCallBeginChunk("b", "g"),
        ToolCallDeltaChunk("b", "{}"),
        ToolCallDeltaChunk("a", '{"x":'),
        ToolCallDeltaChunk("a", "1}"),
        ToolCallArgsTextFinishChunk("a"),
        ToolCallArgsTextFinishChunk("b"),
        StepFinishChunk("tool-calls", 5, 7),
    ]


def test_openai_missing_done_error_events_and_late_names() -> None:
    body = (
        openai_event({"tool_calls": [{"index": 0, "id": "a", "function": {"arguments": "{"}}]})
        + openai_event({"tool_calls": [{"index": 0, "function": {"name": "late"}}]})
        + openai_event({"content": "x"})
        + b'data: {"error":{"message":"upstream failed","type":"server_error"}}\n\n'
    )
    chunks = OpenAIStreamDecoder().decode(body)
    assert chunks == [
        ToolCallBeginChunk("a", "late"),
        ToolCallDeltaChunk("a", "{"),
        TextDeltaChunk("x"),
        ToolCallArgsTextFinishChunk("a"),
        ErrorChunk("upstream failed"),
    ]
    # a final event without its blank line still counts
    assert OpenAIStreamDecoder().decode(openai_event({"content": "y"})[:-1]) == [
        TextDeltaChunk("y")
    ]


def test_openai_continuous_usage_and_a_new_call_at_a_reused_index() -> None:
    body = (
        openai_event(
            {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f"}}]},
            usage={"prompt_tokens": 1, "completion_tokens": 1},
        )
        + openai_event(
            {"tool_calls": [{"index": 0, "id": "b", "function": {"name": "g"}}]},
            usage={"prompt_tokens": 1, "completion_tokens": 2},
        )
        + openai_event(finish_reason="stop", usage={"prompt_tokens": 1, "completion_tokens": 3})
        + b"data: [DONE]\n\n"
    )
    chunks = OpenAIStreamDecoder().decode(body)
    assert chunks == [
        ToolCallBeginChunk("a", "f"),
        ToolCallArgsTextFinishChunk("a"),
        ToolCallBeginChunk("b", "g"),
        ToolCallArgsTextFinishChunk("b"),
        StepFinishChunk("stop", 1, 3),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"data: nope\n\n",
        b"data: 5\n\n",
        b'data: {"choices":{}}\n\n',
        b'data: {"choices":[{"delta":{"content":5}}]}\n\n',
    ],
)
def test_openai_malformed_events_raise_one_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError, match="openai stream: line 2"):
        OpenAIStreamDecoder().decode(body)
    assert OpenAIStreamDecoder(strict=False).decode(body) == []


# -- sources -----------------------------------------------------------------------------


async def test_decode_stream_takes_sync_and_async_iterables() -> None:
    pieces = [b'0:"He', b'llo"\n', b'0:" \xf0\x9f', b'\x98\x80"\n']

    async def agen() -> Any:
        for piece in pieces:
            yield piece

    for source in (pieces, iter(pieces), agen()):
        message = await accumulate_stream(DataStreamDecoder().decode_stream(source))
        assert message.text == "Hello 😀"


async def test_decode_stream_stops_reading_after_done() -> None:
    read: list[bytes] = []

    async def endless() -> Any:
        yield b'data: {"type":"error","error":"e"}\n\ndata: [DONE]\n\n'
        while True:
            read.append(b"x")
            yield b": keepalive\n\n"

    chunks = [chunk async for chunk in AssistantTransportDecoder().decode_stream(endless())]
    assert chunks == [ErrorChunk("e")] and read == []


async def test_non_bytes_input_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="expected bytes"):
        async for _ in DataStreamDecoder().decode_stream(['0:"x"\n']):  # type: ignore[list-item]
            pass
    assert issubclass(DecodeError, StreamError)
