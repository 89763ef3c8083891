"""encode → decode → accumulate is the identity, except for what a protocol cannot carry.

Losses per protocol (the same list is in docs/round-trip.md):

- data stream: none.
- assistant transport: none.
- OpenAI (encoder with ``include_answered_tool_calls=True``): see `openai_projection`;
  everything after the first error is dropped (an OpenAI stream ends at its error).
- RAIS (encoder with every draft extension): see `rais_projection`.
- AG-UI (encoder given the initial state): everything after the first error is dropped (an
  AG-UI run ends at its ``RUN_ERROR``); nothing else.
- UI message stream (encoder given the initial state): see `ui_message_stream_projection`.

Every registered protocol must have a round-trip test here.
"""

from __future__ import annotations

from typing import Any

from _decoding_cases import (
    PROTOCOLS,
    args_closed_at_step_start,
    chunk_sequences,
    decode_pieces,
    openai_expected_finish,
    openai_projection,
    rais_expected_steps,
    rais_projection,
    rais_sent_calls,
    ui_message_stream_projection,
    until_first_error,
)
from hypothesis import HealthCheck, given, settings

from _util import encode
from assistant_stream_ce.accumulator import accumulate
from assistant_stream_ce.serialization.ag_ui import AGUIEncoder
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamEncoder

INITIAL_STATE = {"log": "", "a": {"b": 1}}

round_trip_settings = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


async def chunks_of(chunks: list[Any]) -> Any:
    for chunk in chunks:
        yield chunk


async def round_trip(protocol: str, chunks: list[Any]) -> dict[str, Any]:
    body = await encode(PROTOCOLS[protocol].encoder(), chunks_of(chunks))
    return decode_pieces(PROTOCOLS[protocol].decoder(), [body], INITIAL_STATE).to_dict()


@round_trip_settings
@given(chunk_sequences())
async def test_data_stream_round_trip_is_the_identity(chunks: list[Any]) -> None:
    expected = accumulate(chunks, INITIAL_STATE).to_dict()
    assert await round_trip("data-stream", chunks) == expected


@round_trip_settings
@given(chunk_sequences())
async def test_assistant_transport_round_trip_is_the_identity(chunks: list[Any]) -> None:
    expected = accumulate(chunks, INITIAL_STATE).to_dict()
    assert await round_trip("assistant-transport", chunks) == expected


@round_trip_settings
@given(chunk_sequences())
async def test_openai_round_trip_keeps_what_the_protocol_carries(chunks: list[Any]) -> None:
    expected = accumulate(until_first_error(chunks), INITIAL_STATE).to_dict()
    decoded = await round_trip("openai", chunks)
    assert openai_projection(decoded) == openai_projection(expected)
    assert decoded["state"] == INITIAL_STATE
    if not expected["errors"]:
        assert [step["finish_reason"] for step in decoded["steps"]] == [
            openai_expected_finish(expected)
        ]
        assert decoded["usage"] == expected["usage"]
    else:
        assert decoded["steps"] == []


@round_trip_settings
@given(chunk_sequences())
async def test_rais_round_trip_keeps_what_the_protocol_carries(chunks: list[Any]) -> None:
    expected = accumulate(until_first_error(chunks), INITIAL_STATE).to_dict()
    decoded = await round_trip("rais", chunks)
    assert rais_projection(decoded) == rais_projection(expected, rais_sent_calls(chunks))
    assert decoded["state"] == INITIAL_STATE
    steps = [
        (step["finish_reason"], step["usage"]["input_tokens"], step["usage"]["output_tokens"])
        for step in decoded["steps"]
    ]
    assert steps == rais_expected_steps(expected)


@round_trip_settings
@given(chunk_sequences())
async def test_ag_ui_round_trip_is_the_identity_until_the_first_error(chunks: list[Any]) -> None:
    expected = accumulate(until_first_error(chunks), INITIAL_STATE).to_dict()
    body = await encode(AGUIEncoder(state=INITIAL_STATE), chunks_of(chunks))
    decoded = decode_pieces(PROTOCOLS["ag-ui"].decoder(), [body], INITIAL_STATE).to_dict()
    assert decoded == expected


@round_trip_settings
@given(chunk_sequences())
async def test_ui_message_stream_round_trip_keeps_what_the_protocol_carries(
    chunks: list[Any],
) -> None:
    expected = accumulate(args_closed_at_step_start(chunks), INITIAL_STATE).to_dict()
    for version in (5, 6, 7):
        encoder = UIMessageStreamEncoder(sdk_version=version, initial_state=INITIAL_STATE)
        body = await encode(encoder, chunks_of(chunks))
        # The decoder starts from nothing: the stream itself carries the initial state.
        decoded = decode_pieces(PROTOCOLS["ui-message-stream"].decoder(), [body]).to_dict()
        assert ui_message_stream_projection(decoded) == ui_message_stream_projection(expected)


ROUND_TRIP_TESTS = {
    "data-stream": test_data_stream_round_trip_is_the_identity,
    "assistant-transport": test_assistant_transport_round_trip_is_the_identity,
    "openai": test_openai_round_trip_keeps_what_the_protocol_carries,
    "rais": test_rais_round_trip_keeps_what_the_protocol_carries,
    "ag-ui": test_ag_ui_round_trip_is_the_identity_until_the_first_error,
    "ui-message-stream": test_ui_message_stream_round_trip_keeps_what_the_protocol_carries,
}


def test_every_registered_protocol_has_a_round_trip_test() -> None:
    assert sorted(ROUND_TRIP_TESTS) == sorted(PROTOCOLS)
