"""UIMessageStreamEncoder / UIMessageStreamDecoder: exact frames and the protocol's rules."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from _util import encode
from assistant_stream_ce import (
    DataChunk,
    RunController,
    StepFinishChunk,
    TextDeltaChunk,
    UpdateStateChunk,
    create_run,
)
from assistant_stream_ce.accumulator import accumulate
from assistant_stream_ce.errors import DecodeError
from assistant_stream_ce.serialization import PROTOCOLS, detect_protocol
from assistant_stream_ce.serialization.ui_message_stream import (
    UIMessageStreamDecoder,
    UIMessageStreamEncoder,
    UIMessageStreamResponse,
)


def events_of(body: bytes) -> list[Any]:
    text = body.decode()
    return [
        block[6:] if block == "data: [DONE]" else json.loads(block[6:])
        for block in text[:-2].split("\n\n")
        if not block.startswith(":")
    ]


async def weather_run(controller: RunController) -> None:
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
    controller.add_step_finish("tool-calls", 52 - 40, 30)
    controller.add_step_start("msg_2")
    controller.append_text("It is 18 C and cloudy in Paris.")
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_step_finish("stop", 40, 12)


async def test_the_weather_run_frame_by_frame() -> None:
    body = await encode(
        UIMessageStreamEncoder(initial_state={}), create_run(weather_run, state={}, coalesce=False)
    )
    assert events_of(body) == [
        {"type": "start", "messageId": "msg_1"},
        {"type": "data-state", "id": "state", "data": {}},
        {"type": "start-step"},
        {"type": "reasoning-start", "id": "r1"},
        {"type": "reasoning-delta", "id": "r1", "delta": "The user wants the weather. "},
        {"type": "reasoning-delta", "id": "r1", "delta": "I will call the tool."},
        {"type": "reasoning-end", "id": "r1"},
        {"type": "text-start", "id": "t2"},
        {"type": "text-delta", "id": "t2", "delta": "Let me check."},
        {"type": "text-end", "id": "t2"},
        {"type": "tool-input-start", "toolCallId": "call_1", "toolName": "get_weather"},
        {"type": "tool-input-delta", "toolCallId": "call_1", "inputTextDelta": '{"city":'},
        {"type": "tool-input-delta", "toolCallId": "call_1", "inputTextDelta": '"Paris"}'},
        {
            "type": "tool-input-available",
            "toolCallId": "call_1",
            "toolName": "get_weather",
            "input": {"city": "Paris"},
        },
        {
            "type": "tool-output-available",
            "toolCallId": "call_1",
            "output": {"tempC": 18, "sky": "cloudy"},
        },
        {"type": "data-state", "id": "state", "data": {"lastCity": "Paris"}},
        {"type": "finish-step"},
        {"type": "start-step"},
        {"type": "text-start", "id": "t3"},
        {"type": "text-delta", "id": "t3", "delta": "It is 18 C and cloudy in Paris."},
        {"type": "text-end", "id": "t3"},
        {
            "type": "source-url",
            "sourceId": "src_1",
            "url": "https://weather.example/paris",
            "title": "Paris forecast",
        },
        {"type": "finish-step"},
        {
            "type": "finish",
            "finishReason": "stop",
            "messageMetadata": {
                "usage": {"inputTokens": 52, "outputTokens": 42, "totalTokens": 94}
            },
        },
        "[DONE]",
    ]


async def test_response_headers_and_registry_entry() -> None:
    info = PROTOCOLS["ui-message-stream"]
    assert info.response is UIMessageStreamResponse and info.decoder is UIMessageStreamDecoder
    response = UIMessageStreamResponse(create_run(weather_run))
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert "x-vercel-ai-ui-message-stream" in response.headers["access-control-expose-headers"]
    assert response.media_type == "text/event-stream"
    assert detect_protocol({"x-vercel-ai-ui-message-stream": "v1"}) == "ui-message-stream"
    with pytest.raises(ValueError, match="sdk_version"):
        UIMessageStreamEncoder(sdk_version=4)  # type: ignore[arg-type]


async def chunks_of(*chunks: Any) -> Any:
    for chunk in chunks:
        yield chunk


@pytest.mark.parametrize(
    ("reason", "wire"),
    [("stop", "stop"), ("length", "length"), ("unknown", "other"), ("tool-calls", "stop")],
)
async def test_finish_reason_every_version_accepts(reason: str, wire: str) -> None:
    for version in (5, 6, 7):
        encoder = UIMessageStreamEncoder(sdk_version=version)  # type: ignore[arg-type]
        body = await encode(encoder, chunks_of(TextDeltaChunk("a"), StepFinishChunk(reason)))
        assert events_of(body)[-2]["finishReason"] == wire


async def test_an_unanswered_call_finishes_with_tool_calls_and_an_error_with_error() -> None:
    async def client_tool(controller: RunController) -> None:
        tool = await controller.add_tool_call("confirm", "call_c")
        tool.append_args_text('{"ok":true}')

    body = await encode(UIMessageStreamEncoder(), create_run(client_tool))
    assert events_of(body)[-2] == {"type": "finish", "finishReason": "tool-calls"}

    async def soft_error(controller: RunController) -> None:
        controller.append_text("a")
        controller.add_error("oops")
        controller.append_text("b")

    events = events_of(await encode(UIMessageStreamEncoder(), create_run(soft_error)))
    kinds = [e["type"] for e in events[:-1]]
    assert kinds == [
        "start",
        "start-step",
        "text-start",
        "text-delta",
        "text-end",
        "error",
        "text-start",
        "text-delta",
        "text-end",
        "finish-step",
        "finish",
    ]
    assert events[-2]["finishReason"] == "error"


async def test_arguments_that_are_not_json_become_tool_input_error() -> None:
    async def run(controller: RunController) -> None:
        bad = await controller.add_tool_call("t", "call_bad")
        bad.append_args_text('{"a": tru')
        bad.close()
        empty = await controller.add_tool_call("t", "call_empty")
        empty.close()

    events = events_of(await encode(UIMessageStreamEncoder(), create_run(run)))
    by_type = {(e["type"], e.get("toolCallId")): e for e in events if isinstance(e, dict)}
    error = by_type[("tool-input-error", "call_bad")]
    assert error["input"] == '{"a": tru' and error["errorText"]
    assert by_type[("tool-input-available", "call_empty")]["input"] == {}


async def test_a_value_without_json_form_is_an_error_frame_and_the_stream_goes_on() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("t", "call_1")
        tool.set_response(object())
        controller.add_data(float("nan"))
        controller.append_text("still streaming")

    events = events_of(await encode(UIMessageStreamEncoder(), create_run(run)))
    errors = [e["errorText"] for e in events if isinstance(e, dict) and e["type"] == "error"]
    assert len(errors) == 2 and "could not be serialised" in errors[0]
    assert {"type": "text-delta", "id": "t1", "delta": "still streaming"} in events
    assert events[-2]["type"] == "finish" and events[-1] == "[DONE]"


async def test_state_is_sent_whole_once_per_batch_and_data_parts_pass_through() -> None:
    operations: list[Any] = [
        {"type": "set", "path": ["a"], "value": {"b": 1}},
        {"type": "append-text", "path": ["log"], "value": "x"},
        {"type": "append-text", "path": ["log"], "value": "y"},
        {"type": "append-text", "path": ["a", "b"], "value": "bad: not a string"},
    ]
    encoder = UIMessageStreamEncoder(initial_state={"log": ""})
    body = await encode(
        encoder,
        chunks_of(
            UpdateStateChunk(operations[:2]),
            UpdateStateChunk(operations[2:]),
            DataChunk({"type": "data-weather", "id": "w1", "data": {"tempC": 18}}),
            DataChunk({"type": "data-weather", "extra": 1}),
        ),
    )
    events = events_of(body)
    states = [e["data"] for e in events if isinstance(e, dict) and e["type"] == "data-state"]
    assert states[-1] == {"log": "xy", "a": {"b": 1}}
    assert len(states) <= 2  # the initial state, then at most one per written batch
    assert {"type": "data-weather", "id": "w1", "data": {"tempC": 18}} in events
    assert {"type": "data-data", "data": {"type": "data-weather", "extra": 1}} in events
    decoded = accumulate(UIMessageStreamDecoder().decode(body))
    assert decoded.state == {"log": "xy", "a": {"b": 1}}
    assert decoded.data == [
        {"type": "data-weather", "id": "w1", "data": {"tempC": 18}},
        {"type": "data-weather", "extra": 1},
    ]


@pytest.mark.parametrize("version", [5, 6, 7])
async def test_a_cancelled_run_ends_with_abort(version: int) -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("partial")
        await asyncio.sleep(0)
        raise asyncio.CancelledError

    encoder = UIMessageStreamEncoder(sdk_version=version)  # type: ignore[arg-type]
    events = events_of(await encode(encoder, create_run(run)))
    assert [e["type"] for e in events[-4:-1]] == ["text-end", "finish-step", "abort"]
    assert ("reason" in events[-2]) is (version >= 6)
    assert not any(isinstance(e, dict) and e["type"] == "finish" for e in events)


async def test_a_run_stopped_from_outside_ends_with_abort() -> None:
    """A stop request closes the run while its response still streams: the run sees the
    cancellation, returns, and the stream ends with abort."""
    started = asyncio.Event()

    async def run(controller: RunController) -> None:
        controller.append_text("partial")
        started.set()
        await controller.cancelled_event.wait()  # cooperative: returns once stopped

    stream = create_run(run)
    encoder = UIMessageStreamEncoder(sdk_version=7)
    reading = asyncio.ensure_future(encode(encoder, stream))
    await started.wait()
    await stream.aclose()  # what a stop endpoint does
    events = events_of(await reading)
    assert {"type": "text-delta", "id": "t1", "delta": "partial"} in events
    assert events[-2] == {"type": "abort", "reason": "the run was cancelled"}


async def test_a_run_that_raises_ends_with_its_error_and_done() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("Let me check.")
        await asyncio.sleep(0)
        raise RuntimeError("upstream model timed out")

    events = events_of(await encode(UIMessageStreamEncoder(), create_run(run)))
    assert events[-3:] == [
        {"type": "text-end", "id": "t1"},
        {"type": "error", "errorText": "upstream model timed out"},
        "[DONE]",
    ]


# -- decoder ---------------------------------------------------------------------------------

GOOD = (
    b'data: {"type":"start","messageId":"m"}\n\n'
    b'data: {"type":"text-start","id":"a"}\n\n'
    b'data: {"type":"text-delta","id":"a","delta":"Hi"}\n\n'
    b'data: {"type":"text-end","id":"a"}\n\n'
    b'data: {"type":"tool-input-available","toolCallId":"c","toolName":"t","input":{"x":1}}\n\n'
    b'data: {"type":"tool-output-available","toolCallId":"c","output":2}\n\n'
    b'data: {"type":"source-document","sourceId":"d","mediaType":"text/plain","title":"Doc"}\n\n'
    b'data: {"type":"reset-step"}\n\n'
    b'data: {"type":"finish"}\n\n'
    b"data: [DONE]\n\n"
)


def test_decoder_reads_other_servers_shapes() -> None:
    message = accumulate(UIMessageStreamDecoder().decode(GOOD))
    assert message.text == "Hi"
    [call] = message.tool_calls
    assert (call.tool_name, call.args, call.result) == ("t", {"x": 1}, 2)
    assert [p.type for p in message.parts] == ["text", "tool-call", "source"]


@pytest.mark.parametrize(
    "body",
    [
        b'data: {"type":"text-delta","id":"a","delta":"Hi"}\n\ndata: [DONE]\n\n',
        b'data: {"type":"tool-output-available","toolCallId":"nope","output":1}\n\n'
        b"data: [DONE]\n\n",
        b'data: {"type":"text-start","id":"a"}\n\n',  # no [DONE]
        b"event: other\ndata: {}\n\ndata: [DONE]\n\n",
        b'data: {"type":"error"}\n\ndata: [DONE]\n\n',
    ],
)
def test_decoder_strict_rejects_and_lenient_drops(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(DecodeError, match="ui message stream"):
        UIMessageStreamDecoder().decode(body)
    with caplog.at_level(logging.WARNING):
        UIMessageStreamDecoder(strict=False).decode(body)
    assert "ui message stream" in caplog.text
