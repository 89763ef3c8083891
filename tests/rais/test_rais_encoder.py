"""RAISEncoder: v1 events, terminal rules, ids, opt-in RFC extensions, redaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from _rais_client import assert_v1_lifecycle, reference_events, strict_events, weather_run

from _util import encode
from assistant_stream_ce import (
    ErrorChunk,
    RunController,
    TextDeltaChunk,
    ToolCallBeginChunk,
    ToolResultChunk,
    create_run,
)
from assistant_stream_ce.serialization.rais import (
    GENERIC_ERROR,
    RAISEncoder,
    redact_secrets,
    resolve_extensions,
)


async def test_v1_keeps_text_and_drops_everything_else() -> None:
    body = await encode(RAISEncoder(), create_run(weather_run, state={}))
    assert body == (
        b'id: 1\ndata: {"type":"text","text":"Let me check."}\n\n'
        b'id: 2\ndata: {"type":"text","text":"It is 18 C and cloudy in Paris."}\n\n'
        b'id: 3\ndata: {"type":"done"}\n\n'
    )
    assert_v1_lifecycle(strict_events(body, ids=True))


async def test_without_event_ids_the_body_is_the_spec_example() -> None:
    body = await encode(RAISEncoder(event_ids=False), create_run(weather_run, state={}))
    assert body == (
        b'data: {"type":"text","text":"Let me check."}\n\n'
        b'data: {"type":"text","text":"It is 18 C and cloudy in Paris."}\n\n'
        b'data: {"type":"done"}\n\n'
    )


async def test_all_extensions_follow_the_draft_rfcs() -> None:
    encoder = RAISEncoder(extensions=True, model="assistant-stream")
    events = strict_events(await encode(encoder, create_run(weather_run, state={})), ids=True)
    metadata = events.pop()
    assert metadata.pop("elapsed_ms") >= 0
    assert metadata == {
        "type": "metadata",
        "model": "assistant-stream",
        "tokens": {"input": 52, "output": 42, "total": 94},
        "finish_reason": "stop",
    }
    assert events == [
        {"type": "reasoning", "text": "The user wants the weather. I will call the tool."},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_call", "id": "call_1", "tool": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_result", "id": "call_1", "output": {"tempC": 18, "sky": "cloudy"}},
        {"type": "text", "text": "It is 18 C and cloudy in Paris."},
        {"type": "done"},
    ]


@pytest.mark.parametrize(
    ("extensions", "types"),
    [
        (["reasoning"], ["reasoning", "text", "text", "done"]),
        (["tool_calls"], ["text", "tool_call", "tool_result", "text", "done"]),
        (["metadata"], ["text", "text", "done", "metadata"]),
        ((), ["text", "text", "done"]),
        (None, ["text", "text", "done"]),
    ],
)
async def test_each_extension_is_opt_in_on_its_own(extensions: Any, types: list[str]) -> None:
    body = await encode(RAISEncoder(extensions=extensions), create_run(weather_run, state={}))
    assert [event["type"] for event in strict_events(body, ids=True)] == types


@pytest.mark.parametrize("bad", ["reasoning", ["reasoning", "sources"]])
def test_unknown_or_malformed_extensions_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="extension"):
        RAISEncoder(extensions=bad)
    with pytest.raises(ValueError, match="extension"):
        resolve_extensions(bad)


async def test_a_run_that_raises_ends_with_one_error_and_no_done() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("partial")
        await asyncio.sleep(0)
        raise RuntimeError("upstream model timed out")

    events = strict_events(await encode(RAISEncoder(), create_run(run)), ids=True)
    assert events == [
        {"type": "text", "text": "partial"},
        {"type": "error", "error": "upstream model timed out"},
    ]


async def test_an_error_is_terminal_even_if_the_run_goes_on() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("a")
        await asyncio.sleep(0)
        controller.add_error("first problem")
        controller.append_text("b")
        controller.add_error("second problem")

    encoder = RAISEncoder()
    events = strict_events(await encode(encoder, create_run(run)), ids=True)
    assert events == [{"type": "text", "text": "a"}, {"type": "error", "error": "first problem"}]
    assert encoder.closed
    assert encoder.encode_batch([TextDeltaChunk("late")]) == b""


async def test_metadata_follows_an_error_when_enabled() -> None:
    encoder = RAISEncoder(extensions=["metadata"])
    encoder.encode_batch([TextDeltaChunk("x"), ErrorChunk("boom")])
    events = [
        json.loads(line[6:]) for line in encoder.finish().decode().split("\n") if line[:1] == "d"
    ]
    assert [event["type"] for event in events] == ["metadata"]
    assert events[0]["finish_reason"] == "error"


def test_a_failed_run_without_error_chunk_still_gets_an_error_event() -> None:
    encoder = RAISEncoder(event_ids=False)
    assert encoder.finish(failed=True) == (
        b'data: {"type":"error","error":' + json.dumps(GENERIC_ERROR).encode() + b"}\n\n"
    )
    assert encoder.finish() == b""  # a second finish adds nothing


def test_empty_text_is_never_sent() -> None:
    encoder = RAISEncoder(event_ids=False)
    assert encoder.encode_batch([TextDeltaChunk(""), TextDeltaChunk("a")]) == (
        b'data: {"type":"text","text":"a"}\n\n'
    )


def test_tricky_text_stays_on_one_line_and_round_trips() -> None:
    text = 'line1\nline2\r\u2028\u2029\u0085 emoji 🌍 中文 \ud800 "quoted"'
    body = RAISEncoder(event_ids=False).encode_batch([TextDeltaChunk(text)])
    assert body.count(b"\n") == 2 and b"\r" not in body
    assert b"\xe2\x80\xa8" not in body
    event = reference_events(body)[0]
    assert event == {"type": "text", "text": text}


async def test_text_separator_splits_steps_joined_by_a_dropped_tool_call() -> None:
    body = await encode(
        RAISEncoder(event_ids=False, text_separator="\n\n"), create_run(weather_run, state={})
    )
    texts = [event["text"] for event in reference_events(body) if event["type"] == "text"]
    assert "".join(texts) == "Let me check.\n\nIt is 18 C and cloudy in Paris."


def test_a_tool_call_without_finished_arguments_is_sent_before_done() -> None:
    encoder = RAISEncoder(event_ids=False, extensions=["tool_calls"])
    encoder.encode_batch([ToolCallBeginChunk("call_9", "noop")])
    events = reference_events(encoder.finish())
    assert events == [
        {"type": "tool_call", "id": "call_9", "tool": "noop", "input": {}},
        {"type": "done"},
    ]


def test_a_tool_result_that_is_not_json_reports_the_problem_and_the_stream_goes_on() -> None:
    encoder = RAISEncoder(event_ids=False, extensions=["tool_calls"])
    body = encoder.encode_batch(
        [ToolResultChunk("call_1", {1, object()}), ToolResultChunk("call_2", "bad", is_error=True)]
    )
    body += encoder.finish()
    events = reference_events(body)
    assert events[0]["type"] == "tool_result" and events[0]["output"] is None
    assert "could not be serialised" in events[0]["error"]
    assert events[1] == {"type": "tool_result", "id": "call_2", "output": "bad", "error": "bad"}
    assert events[2] == {"type": "done"}


KEY = "sk-proj-Abc123XyZ987secretKEY"


@pytest.mark.parametrize(
    "message",
    [
        f"Incorrect API key provided: {KEY}.",
        f"Authorization: Bearer {KEY}",
        f"Incorrect API key provided: {KEY[:6]}*****{KEY[-4:]}.",
        f"key={KEY[3:15]}",
    ],
)
def test_secrets_are_redacted_whole_and_in_part(message: str) -> None:
    encoder = RAISEncoder(event_ids=False, redact=[KEY, None, ""])
    body = encoder.encode_batch([ErrorChunk(message)]).decode()
    assert "[redacted]" in body
    for size in (4, 6, 8):
        for start in range(len(KEY) - size + 1):
            assert KEY[start : start + size] not in body


def test_redaction_leaves_ordinary_words_alone() -> None:
    message = "Incorrect API key provided. Check your authentication settings."
    assert redact_secrets(message, [KEY]) == message
    assert redact_secrets("short key abc here", ["abc"]) == "short key [redacted] here"
