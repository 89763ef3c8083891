"""Encoders: exact frames per protocol, clean ends, bad values, tricky text."""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from _util import encode
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.assistant_stream_response import AssistantStreamResponse
from assistant_stream_ce.serialization.assistant_transport import AssistantTransportEncoder
from assistant_stream_ce.serialization.data_stream import DataStreamEncoder
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamEncoder
from assistant_stream_ce.serialization.stream_encoder import StreamEncoder, drive


async def weather_run(controller: RunController) -> None:
    """The shared scenario of ../shared/protocols (reasoning, tool call, two steps, source)."""
    controller.add_step_start("msg_1")
    controller.append_reasoning("The user wants the weather. ")
    controller.append_reasoning("I will call the tool.")
    controller.append_text("Let me check.")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    await asyncio.sleep(0)
    tool.append_args_text('"Paris"}')
    await asyncio.sleep(0)
    tool.set_response({"tempC": 18, "sky": "cloudy"})
    controller.state["lastCity"] = "Paris"
    controller.add_step_finish("tool-calls", 12, 30)
    controller.add_step_start("msg_2")
    controller.append_text("It is 18 C and cloudy in Paris.")
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_step_finish("stop", 40, 12)


def sse_events(body: bytes) -> list[Any]:
    """Parse our SSE output strictly: LF framing, one data line per event."""
    text = body.decode()
    assert text.endswith("\n\n")
    events = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        assert len(lines) == 1, f"one line per event expected: {block!r}"
        if lines[0].startswith(":"):
            continue
        assert lines[0].startswith("data: ")
        payload = lines[0][len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def data_stream_frames(body: bytes) -> list[tuple[str, Any]]:
    text = body.decode()
    assert text.endswith("\n")
    frames = []
    for line in text[:-1].split("\n"):
        code, _, payload = line.partition(":")
        frames.append((code, json.loads(payload)))
    return frames


# -- data stream -------------------------------------------------------------------------


async def test_data_stream_matches_the_protocol_example() -> None:
    """Byte for byte the example of assistant-ui-data-stream.md (every delta kept)."""
    body = await encode(DataStreamEncoder(), create_run(weather_run, state={}, coalesce=False))
    assert body.decode() == (
        'f:{"messageId":"msg_1"}\n'
        'g:"The user wants the weather. "\n'
        'g:"I will call the tool."\n'
        '0:"Let me check."\n'
        'b:{"toolCallId":"call_1","toolName":"get_weather"}\n'
        'c:{"toolCallId":"call_1","argsTextDelta":"{\\"city\\":"}\n'
        'c:{"toolCallId":"call_1","argsTextDelta":"\\"Paris\\"}"}\n'
        'c:{"toolCallId":"call_1","argsTextDelta":"","isFinal":true}\n'
        'a:{"toolCallId":"call_1","result":{"tempC":18,"sky":"cloudy"}}\n'
        'aui-state:[{"type":"set","path":["lastCity"],"value":"Paris"}]\n'
        'e:{"finishReason":"tool-calls","usage":{"inputTokens":12,"outputTokens":30},'
        '"isContinued":false}\n'
        'f:{"messageId":"msg_2"}\n'
        '0:"It is 18 C and cloudy in Paris."\n'
        'h:{"sourceType":"url","id":"src_1","url":"https://weather.example/paris",'
        '"title":"Paris forecast"}\n'
        'e:{"finishReason":"stop","usage":{"inputTokens":40,"outputTokens":12},'
        '"isContinued":false}\n'
        'd:{"finishReason":"stop","usage":{"inputTokens":52,"outputTokens":42}}\n'
    )


async def test_data_stream_every_chunk_type() -> None:
    async def run(controller: RunController) -> None:
        child = controller.with_parent_id("p1")
        child.append_text("t")
        child.append_reasoning("r")
        controller.add_reasoning_part("sum")
        controller.append_reasoning("r2")
        tool = await child.add_tool_call("t", "call_1")
        tool.set_response([1], artifact={"a": 1}, is_error=True)
        controller.add_data({"x": 1})
        controller.add_annotations([{"y": 2}])
        controller.add_file("aGk=", "text/plain")
        controller.add_error("bad")

    frames = data_stream_frames(await encode(DataStreamEncoder(), create_run(run)))
    assert frames == [
        ("aui-text-delta", {"textDelta": "t", "parentId": "p1"}),
        ("aui-reasoning-delta", {"reasoningDelta": "r", "parentId": "p1"}),
        ("aui-reasoning-part-start", {"unstable_summary": "sum"}),
        ("g", "r2"),
        ("b", {"toolCallId": "call_1", "toolName": "t", "parentId": "p1"}),
        ("c", {"toolCallId": "call_1", "argsTextDelta": "{}", "isFinal": True}),
        ("a", {"toolCallId": "call_1", "result": [1], "artifact": {"a": 1}, "isError": True}),
        ("2", [{"x": 1}]),
        ("8", [{"y": 2}]),
        ("k", {"data": "aGk=", "mimeType": "text/plain"}),
        ("3", "bad"),
        ("d", {"finishReason": "stop", "usage": {"inputTokens": 0, "outputTokens": 0}}),
    ]


async def test_data_stream_closes_open_arguments_before_error_and_at_end() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("get_weather", "call_1")
        tool.append_args_text('{"city":')
        await asyncio.sleep(0)
        await controller.add_tool_call("other", "call_2")
        raise RuntimeError("upstream model timed out")

    frames = data_stream_frames(await encode(DataStreamEncoder(), create_run(run)))
    assert frames == [
        ("b", {"toolCallId": "call_1", "toolName": "get_weather"}),
        ("c", {"toolCallId": "call_1", "argsTextDelta": '{"city":'}),
        ("b", {"toolCallId": "call_2", "toolName": "other"}),
        ("c", {"toolCallId": "call_1", "argsTextDelta": "", "isFinal": True}),
        ("c", {"toolCallId": "call_2", "argsTextDelta": "{}", "isFinal": True}),
        ("3", "upstream model timed out"),
    ]


# -- assistant transport -----------------------------------------------------------------


async def test_assistant_transport_canonical_framing() -> None:
    """The example of assistant-transport.md (every delta kept)."""
    run = create_run(weather_run, state={}, coalesce=False)
    events = sse_events(await encode(AssistantTransportEncoder(), run))
    types = [e if e == "[DONE]" else (e["type"], e.get("path")) for e in events]
    assert types == [
        ("step-start", None),
        ("part-start", []),
        ("text-delta", [0]),
        ("text-delta", [0]),
        ("part-finish", [0]),
        ("part-start", []),
        ("text-delta", [1]),
        ("part-finish", [1]),
        ("part-start", []),
        ("text-delta", [2]),
        ("text-delta", [2]),
        ("tool-call-args-text-finish", [2]),
        ("result", [2]),
        ("part-finish", [2]),
        ("update-state", None),
        ("step-finish", None),
        ("step-start", None),
        ("part-start", []),
        ("text-delta", [3]),
        ("part-finish", [3]),
        ("part-start", []),
        ("part-finish", [4]),
        ("step-finish", None),
        ("message-finish", None),
        "[DONE]",
    ]
    assert events[1]["part"] == {"type": "reasoning"}
    assert events[2]["textDelta"] + events[3]["textDelta"] == (
        "The user wants the weather. I will call the tool."
    )
    assert events[8]["part"] == {
        "type": "tool-call",
        "toolCallId": "call_1",
        "toolName": "get_weather",
    }
    assert events[12] == {
        "type": "result",
        "result": {"tempC": 18, "sky": "cloudy"},
        "isError": False,
        "path": [2],
    }
    assert events[20]["part"]["type"] == "source"
    assert events[-2] == {
        "type": "message-finish",
        "finishReason": "stop",
        "usage": {"inputTokens": 52, "outputTokens": 42},
    }


async def test_assistant_transport_error_closes_parts_then_done() -> None:
    async def run(controller: RunController) -> None:
        controller.append_reasoning("The user wants the weather.")
        tool = await controller.add_tool_call("get_weather", "call_1")
        tool.append_args_text('{"city":')
        controller.append_text("partial")
        await asyncio.sleep(0)
        raise RuntimeError("upstream model timed out")

    events = sse_events(await encode(AssistantTransportEncoder(), create_run(run)))
    assert [e if e == "[DONE]" else (e["type"], e.get("path")) for e in events] == [
        ("part-start", []),
        ("text-delta", [0]),
        ("part-finish", [0]),
        ("part-start", []),
        ("text-delta", [1]),
        ("part-start", []),
        ("text-delta", [2]),
        ("part-finish", [2]),
        ("tool-call-args-text-finish", [1]),
        ("part-finish", [1]),
        ("error", None),
        "[DONE]",
    ]
    assert events[-2]["error"] == "upstream model timed out"


async def test_assistant_transport_tool_without_args_gets_empty_object() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("now", "call_1")
        tool.set_response("12:00")

    events = sse_events(await encode(AssistantTransportEncoder(), create_run(run)))
    assert events[1] == {"type": "text-delta", "textDelta": "{}", "path": [0]}
    assert events[2] == {"type": "tool-call-args-text-finish", "path": [0]}


# -- OpenAI ------------------------------------------------------------------------------


async def test_openai_hides_answered_calls_and_sums_usage() -> None:
    encoder = OpenAIStreamEncoder("m", completion_id="chatcmpl-1", created=1)
    events = sse_events(await encode(encoder, create_run(weather_run, state={})))
    # (unread adjacent deltas are merged: the two reasoning deltas arrive as one)
    deltas = [e["choices"][0]["delta"] for e in events[:-1] if e["choices"]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "The user wants the weather. I will call the tool."},
        {"content": "Let me check."},
        {"content": "It is 18 C and cloudy in Paris."},
        {},
    ]
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2] == {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [],
        "usage": {"prompt_tokens": 52, "completion_tokens": 42, "total_tokens": 94},
    }
    assert events[-1] == "[DONE]"
    assert all(e["id"] == "chatcmpl-1" and e["model"] == "m" for e in events[:-1])


async def test_openai_streams_unanswered_calls_with_tool_calls_finish() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("Let me check.")
        first = await controller.add_tool_call("get_weather", "call_1")
        first.append_args_text('{"city":')
        second = await controller.add_tool_call("get_time", "call_2")
        second.append_args_text("{}")
        first.append_args_text('"Paris"}')
        first.close()
        second.close()

    events = sse_events(await encode(OpenAIStreamEncoder(created=1), create_run(run)))
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls == [
        {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"city":"Paris"}'}},
        {
            "index": 1,
            "id": "call_2",
            "type": "function",
            "function": {"name": "get_time", "arguments": ""},
        },
        {"index": 1, "function": {"arguments": "{}"}},
    ]
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert "usage" not in events[-2]


async def test_openai_option_shows_every_call_as_it_streams() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("search", "call_1")
        tool.append_args_text("{}")
        tool.set_response("found")
        controller.append_text("done")

    encoder = OpenAIStreamEncoder(created=1, include_answered_tool_calls=True)
    events = sse_events(await encode(encoder, create_run(run)))
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[1]["tool_calls"][0]["id"] == "call_1"
    assert deltas[2] == {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}
    assert deltas[3] == {"content": "done"}
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("length", "length"),
        ("content-filter", "content_filter"),
        ("other", "stop"),
        ("tool-calls", "stop"),
    ],
)
async def test_openai_finish_reason_mapping(reason: str, expected: str) -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("x")
        controller.add_step_finish(reason)

    events = sse_events(await encode(OpenAIStreamEncoder(), create_run(run)))
    assert events[-2]["choices"][0]["finish_reason"] == expected


async def test_openai_reasoning_field_options() -> None:
    async def run(controller: RunController) -> None:
        controller.append_reasoning("hmm")

    for field, expected in [
        ("reasoning", {"reasoning": "hmm"}),
        ("both", {"reasoning_content": "hmm", "reasoning": "hmm"}),
    ]:
        events = sse_events(
            await encode(OpenAIStreamEncoder(reasoning_field=field), create_run(run))  # type: ignore[arg-type]
        )
        assert events[1]["choices"][0]["delta"] == expected
    events = sse_events(await encode(OpenAIStreamEncoder(reasoning_field="none"), create_run(run)))
    assert len(events) == 3  # role, finish, [DONE]


async def test_openai_error_is_terminal_then_done() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("Let me check.")
        await asyncio.sleep(0)
        raise RuntimeError("upstream model timed out")

    events = sse_events(await encode(OpenAIStreamEncoder(), create_run(run)))
    assert events[-2] == {
        "error": {
            "message": "upstream model timed out",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert events[-1] == "[DONE]"
    assert not any(e != "[DONE]" and e.get("choices", [{}])[0].get("finish_reason") for e in events)


# -- every encoder -----------------------------------------------------------------------

ENCODERS = [DataStreamEncoder, AssistantTransportEncoder, OpenAIStreamEncoder]


def decode_any(encoder: StreamEncoder, body: bytes) -> list[Any]:
    if isinstance(encoder, DataStreamEncoder):
        return data_stream_frames(body)
    return sse_events(body)


@pytest.mark.parametrize("encoder_class", ENCODERS)
@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ({1, 2}, None),
        (datetime.datetime(2026, 1, 2, 3, 4, 5), None),
        (uuid.UUID(int=1), None),
        (Decimal("1.25"), None),
        (object(), "value of type object"),
        (float("nan"), "value of type float (nan)"),
        ({"deep": [1.0, float("inf")]}, "value of type float (inf)"),
    ],
)
async def test_bad_values_never_produce_invalid_json(
    encoder_class: type[StreamEncoder], value: Any, message_part: str | None
) -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("t", "call_1")
        tool.set_response(value)
        controller.add_data(value)
        controller.state["v"] = value
        controller.append_text("still streaming")

    encoder = encoder_class()
    body = await encode(encoder, create_run(run, state={}))
    events = decode_any(encoder, body)  # every frame parses as JSON
    text = body.decode()
    if message_part is None or isinstance(encoder, OpenAIStreamEncoder):
        # OpenAI carries no results, data or state: nothing to serialise, nothing to report.
        assert "could not be serialised" not in text
    else:
        assert f"tool-result chunk could not be serialised: {message_part}" in text
        assert "NaN" not in text and "Infinity" not in text
    if isinstance(encoder, DataStreamEncoder):
        assert events[-1] == ("0", "still streaming") or "still streaming" in text
    elif isinstance(encoder, AssistantTransportEncoder):
        assert events[-1] == "[DONE]" and "still streaming" in text
    else:
        assert events[-1] == "[DONE]"


TRICKY = 'a\u2028b\u2029c\r\nd\x85e😀f\ud800g\nh"i\\j\x00'


@pytest.mark.parametrize("encoder_class", ENCODERS)
async def test_tricky_text_passes_without_breaking_frames(
    encoder_class: type[StreamEncoder],
) -> None:
    async def run(controller: RunController) -> None:
        controller.append_text(TRICKY)
        controller.append_reasoning(TRICKY)
        tool = await controller.add_tool_call("t", "call_1")
        tool.append_args_text(json.dumps({"q": TRICKY}))
        controller.add_data(TRICKY)

    encoder = encoder_class()
    body = await encode(encoder, create_run(run))
    assert b"\xe2\x80\xa8" not in body and b"\xe2\x80\xa9" not in body and b"\xc2\x85" not in body
    assert b"\r" not in body
    text = body.decode()
    assert len(text.splitlines()) == text.count("\n")  # no extra line breaks anywhere
    events = decode_any(encoder, body)
    flat = json.dumps(events)
    assert json.dumps(TRICKY) in flat or json.dumps(TRICKY)[1:-1] in flat


@pytest.mark.parametrize("encoder_class", ENCODERS)
async def test_user_chunk_streams_are_accepted(encoder_class: type[StreamEncoder]) -> None:
    from assistant_stream_ce import TextDeltaChunk

    async def chunks() -> Any:
        yield TextDeltaChunk("hello")
        raise RuntimeError("generator broke")

    encoder = encoder_class()
    body = await encode(encoder, chunks())
    assert b"hello" in body and b"generator broke" in body
    if not isinstance(encoder, DataStreamEncoder):
        assert body.endswith(b"data: [DONE]\n\n")


async def test_encode_stream_yields_text_for_compatibility() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("hi")

    parts = [part async for part in DataStreamEncoder().encode_stream(create_run(run))]
    assert parts[0] == '0:"hi"\n'
    assert parts[-1].startswith('d:{"finishReason":"stop"')


class _SilentOnData(StreamEncoder):
    """Writes text deltas; data chunks encode to no frame at all."""

    media_type = "text/plain"
    keepalive = b"KEEPALIVE"

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        return [c.text_delta.encode() for c in chunks if c.type == "text-delta"]

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        return [b"END"]


@pytest.mark.parametrize("write", ["drive", "response"])
async def test_a_batch_that_encodes_to_nothing_is_not_a_keepalive(write: str) -> None:
    """Only an interrupted or timed-out wait writes a keepalive; a batch of chunks the
    protocol has no frame for does not (the writer just waits again)."""

    async def run(controller: RunController) -> None:
        controller.append_text("a")
        await asyncio.sleep(0.01)
        for _ in range(3):
            controller.add_data({"n": 1})
            await asyncio.sleep(0.01)
        controller.append_text("b")

    body: list[bytes] = []
    if write == "drive":
        async for frames in drive(create_run(run), _SilentOnData(), own_source=True):
            body.extend(frames)
    else:

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(60)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                body.append(message["body"])

        response = AssistantStreamResponse(create_run(run), _SilentOnData(), write_interval=0)
        await response({"type": "http"}, receive, send)
    assert b"".join(body) == b"abEND"
