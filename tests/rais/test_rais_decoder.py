"""RAISDecoder: round trips, bytes split anywhere, SSE grammar, malformed input → DecodeError."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from _rais_client import weather_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _util import collect, encode, merged
from assistant_stream_ce import (
    ErrorChunk,
    ReasoningDeltaChunk,
    StepFinishChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    create_run,
)
from assistant_stream_ce.errors import DecodeError
from assistant_stream_ce.serialization.rais import RAISDecoder, RAISEncoder

SAMPLE = (
    'data: {"type":"text","text":"Héllo 🌍"}\n\n'
    ": keep-alive\n\n"
    'id: 7\nevent: message\nretry: 1000\ndata: {"type":"text",\ndata: "text":" wörld"}\n\n'
    'data: {"type":"future_event","x":1}\n\n'
    'data: {"type":"done"}\n\n'
).encode()
SAMPLE_CHUNKS = [TextDeltaChunk("Héllo 🌍"), TextDeltaChunk(" wörld"), StepFinishChunk("stop")]


async def decode(data: Iterable[bytes], strict: bool = True) -> list[Any]:
    return await collect(RAISDecoder(strict).decode_stream(data))


async def aiter_bytes(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def test_round_trip_with_every_extension() -> None:
    body = await encode(RAISEncoder(extensions=True), create_run(weather_run, state={}))
    chunks = await decode([body])
    assert chunks == [
        ReasoningDeltaChunk("The user wants the weather. I will call the tool."),
        TextDeltaChunk("Let me check."),
        ToolCallBeginChunk("call_1", "get_weather"),
        ToolCallDeltaChunk("call_1", '{"city":"Paris"}'),
        ToolCallArgsTextFinishChunk("call_1"),
        ToolResultChunk("call_1", {"tempC": 18, "sky": "cloudy"}),
        TextDeltaChunk("It is 18 C and cloudy in Paris."),
        StepFinishChunk("stop", 52, 42),
    ]


async def test_round_trip_v1_keeps_the_text() -> None:
    body = await encode(RAISEncoder(), create_run(weather_run, state={}))
    chunks = await decode(aiter_bytes([body]))
    assert merged(chunks)[0][1] == (
        (("text", None)),
        "Let me check.It is 18 C and cloudy in Paris.",
    )
    assert chunks[-1] == StepFinishChunk("stop")


async def test_bytes_may_be_split_anywhere() -> None:
    expected = await decode([SAMPLE])
    assert expected == SAMPLE_CHUNKS
    for cut in range(1, len(SAMPLE)):
        assert await decode([SAMPLE[:cut], b"", SAMPLE[cut:]]) == expected, cut
    assert await decode(aiter_bytes(SAMPLE[i : i + 1] for i in range(len(SAMPLE)))) == expected


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
async def test_crlf_and_cr_line_endings_split_anywhere(newline: bytes) -> None:
    body = SAMPLE.replace(b"\n", newline)
    for cut in range(1, len(body)):
        assert await decode([body[:cut], body[cut:]]) == SAMPLE_CHUNKS, cut


async def test_a_leading_bom_is_skipped_even_when_split() -> None:
    body = b"\xef\xbb\xbf" + SAMPLE
    assert await decode([body[:1], body[1:2], body[2:]]) == SAMPLE_CHUNKS


async def test_done_done_marker_and_error() -> None:
    assert await decode([b'data: {"type":"text","text":"a"}\n\ndata: [DONE]\n\n']) == [
        TextDeltaChunk("a"),
        StepFinishChunk("stop"),
    ]
    body = b'data: {"type":"text","text":"a"}\n\ndata: {"type":"error","error":"rate limit"}\n\n'
    assert await decode([body]) == [TextDeltaChunk("a"), ErrorChunk("rate limit")]


async def test_seed_style_spaced_json_and_changelog_tool_calls_are_read() -> None:
    body = (
        b'data: {"type": "text", "text": "Hi"}\n\n'
        b'data: {"type": "tool_call", "id": "c1", "name": "f", "arguments": "{\\"a\\":1}"}\n\n'
        b'data: {"type": "tool_result", "id": "c1", "error": "nope"}\n\n'
        b'data: {"type": "partial_tool_result", "id": "c1"}\n\n'
        b'data: {"type": "done", "metadata": {"tokens": {"input": 3, "output": 4}}}\n\n'
    )
    assert await decode([body]) == [
        TextDeltaChunk("Hi"),
        ToolCallBeginChunk("c1", "f"),
        ToolCallDeltaChunk("c1", '{"a":1}'),
        ToolCallArgsTextFinishChunk("c1"),
        ToolResultChunk("c1", "nope", is_error=True),
        StepFinishChunk("stop", 3, 4),
    ]


async def test_unknown_event_types_are_ignored_with_a_debug_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, "assistant_stream_ce.serialization"):
        assert await decode([SAMPLE]) == SAMPLE_CHUNKS
    assert any("future_event" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("body", "problem", "line"),
    [
        (b"data: {not json}\n\n", "not valid JSON", 1),
        (b": c\n\ndata: [1, 2]\n\n", "not a JSON object", 3),
        (b'data: {"text":"a"}\n\n', "no string 'type'", 1),
        (b'data: {"type":"text","text":5}\n\n', "string 'text'", 1),
        (b'data: {"type":"error","error":null}\n\n', "string 'error'", 1),
        (b'data: {"type":"tool_call","input":{}}\n\n', "'tool_call'", 1),
        (b'data: {"type":"done"}\n\ndata: {"type":"text","text":"x"}\n\n', "after the", 3),
        (b'data: {"type":"text","text":"x"}\n\n', "without a done or error", 3),
        (b'data: {"type":"done"}\n', "ended inside an event", 1),
        (b'data: {"type":"done"}', "ended inside an event", 1),
        (b'data: {"type":"text","text":"\xff"}\n\n', "invalid UTF-8", 1),
    ],
)
async def test_malformed_input_raises_decode_error_naming_line_and_problem(
    body: bytes, problem: str, line: int
) -> None:
    with pytest.raises(DecodeError) as info:
        await decode([body])
    message = str(info.value)
    assert message.startswith("RAIS stream: ")
    assert f"line {line} " in message
    assert "byte offset" in message
    assert problem in message


async def test_the_byte_offset_points_at_the_bad_event() -> None:
    good = b'data: {"type":"text","text":"ok"}\r\n\r\n'
    with pytest.raises(DecodeError, match=rf"line 3 \(byte offset {len(good)}\)"):
        await decode([good + b"data: {oops\r\n\r\n"])


async def test_oversized_events_and_lines_are_refused() -> None:
    decoder = RAISDecoder(max_event_bytes=64)
    many_lines = b"data: " + b"x" * 40 + b"\n" + b"data: " + b"y" * 40 + b"\n"
    with pytest.raises(DecodeError, match="larger than 64 bytes"):
        await collect(decoder.decode_stream([many_lines]))
    with pytest.raises(DecodeError, match="longer than 64 bytes"):
        await collect(decoder.decode_stream([b"data: " + b"z" * 100]))


async def test_wrong_input_types_raise_decode_error() -> None:
    with pytest.raises(DecodeError, match="expected bytes"):
        await decode(["data: {}\n\n"])  # type: ignore[list-item]
    with pytest.raises(DecodeError, match="iterable of bytes"):
        await collect(RAISDecoder().decode_stream(b"data: {}\n\n"))


async def test_lenient_mode_reads_like_the_reference_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = (
        b'data: {"type":"text","text":"a"}\n\n'
        b"data: {broken\n\n"
        b'data: {"type":"text","text":"b"}'  # no blank line, no done
    )
    with caplog.at_level(logging.WARNING):
        assert await decode([body], strict=False) == [TextDeltaChunk("a"), TextDeltaChunk("b")]
    assert any("not valid JSON" in record.getMessage() for record in caplog.records)


async def test_a_source_error_propagates_unchanged() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b'data: {"type":"text","text":"a"}\n\n'
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        await collect(RAISDecoder().decode_stream(failing()))


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=30),
            st.sampled_from(
                [
                    b"data: ",
                    b'{"type":"text","text":"x"}',
                    b'{"type":"done"}',
                    b'{"type":"error","error":"e"}',
                    b'{"type":"tool_call","id":"a","tool":"t","input":{}}',
                    b'{"type":"metadata","tokens":{"input":"x"}}',
                    b"\n",
                    b"\r\n",
                    b"\r",
                    b":",
                    b"\xf0\x9f",
                ]
            ),
        ),
        max_size=20,
    ),
    st.booleans(),
)
async def test_arbitrary_bytes_only_ever_raise_decode_error(
    pieces: list[bytes], strict: bool
) -> None:
    try:
        chunks = await decode(pieces, strict=strict)
    except DecodeError:
        return
    assert all(chunk.type for chunk in chunks)
