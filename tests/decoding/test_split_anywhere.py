"""Every recorded stream decodes to the same message however the bytes are cut, LF or CRLF."""

from __future__ import annotations

import asyncio
import functools
import random

import pytest
from _decoding_cases import (
    OLD_PROTOCOLS,
    PROTOCOLS,
    TRICKY,
    decode_pieces,
    decoded_dict,
    direct_message,
    old_rich_run,
    openai_projection,
    record_old,
    record_ours,
    weather_run,
)

# The OpenAI notes' example B (a tool call left to the client), as another producer would send it.
OPENAI_CLIENT_TOOL = (
    b"".join(
        b'data: {"id":"chatcmpl-7Qx3","object":"chat.completion.chunk","created":1767225600,'
        b'"model":"assistant-stream","choices":[{"index":0,"delta":' + delta + b',"logprobs":null,'
        b'"finish_reason":' + reason + b"}]}\n\n"
        for delta, reason in [
            (b'{"role":"assistant","content":""}', b"null"),
            (b'{"content":"Let me check."}', b"null"),
            (
                b'{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":'
                b'{"name":"get_weather","arguments":""}}]}',
                b"null",
            ),
            (b'{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]}', b"null"),
            (b'{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]}', b"null"),
            (b"{}", b'"tool_calls"'),
        ]
    )
    + b"data: [DONE]\n\n"
)


@functools.cache
def recorded() -> dict[tuple[str, str], bytes]:
    """(protocol, producer) -> body, for every recorded stream."""

    async def record() -> dict[tuple[str, str], bytes]:
        streams: dict[tuple[str, str], bytes] = {}
        for protocol in PROTOCOLS:
            for run in ("weather", "rich", "failing"):
                streams[(protocol, f"ours-{run}")] = await record_ours(protocol, run)
            streams[(protocol, "ours-rich-coalesced")] = await record_ours(
                protocol, "rich", coalesce=True
            )
            if protocol not in OLD_PROTOCOLS:
                continue
            for name, old_run in (("weather", weather_run), ("rich", old_rich_run)):
                body = await record_old(protocol, old_run)
                if body is not None:
                    streams[(protocol, f"assistant-stream-0.0.36-{name}")] = body
        streams[("openai", "notes-example-b")] = OPENAI_CLIENT_TOOL
        return streams

    return asyncio.run(record())


STREAM_IDS = (
    [
        (protocol, producer)
        for protocol in PROTOCOLS
        for producer in ["ours-weather", "ours-rich", "ours-failing", "ours-rich-coalesced"]
    ]
    + [
        (protocol, f"assistant-stream-0.0.36-{run}")
        for protocol in OLD_PROTOCOLS
        for run in ("weather", "rich")
    ]
    + [("openai", "notes-example-b")]
)


def cuts(length: int, rng: random.Random, limit: int = 400) -> list[int]:
    """Every cut point of a short body, a random sample of a long one."""
    points = list(range(1, length))
    return points if len(points) <= limit else sorted(rng.sample(points, limit))


@pytest.mark.parametrize(("protocol", "producer"), STREAM_IDS)
def test_decodes_the_same_when_cut_anywhere(protocol: str, producer: str) -> None:
    body = recorded().get((protocol, producer))
    if body is None:
        pytest.skip("assistant-stream 0.0.36 is not installed")
    decoder = PROTOCOLS[protocol].decoder()
    whole = decode_pieces(decoder, [body]).to_dict()
    assert whole["parts"] or whole["errors"]  # the stream says something
    rng = random.Random(f"{protocol}/{producer}")
    for cut in cuts(len(body), rng):
        assert decode_pieces(decoder, [body[:cut], body[cut:]]).to_dict() == whole, cut
    one_byte_pieces = [body[i : i + 1] for i in range(len(body))]
    assert decode_pieces(decoder, one_byte_pieces).to_dict() == whole
    for _ in range(10):
        points = sorted(rng.sample(range(1, len(body)), min(12, len(body) - 1)))
        pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
        assert decode_pieces(decoder, pieces).to_dict() == whole
    for line_end in (b"\r\n", b"\r"):
        variant = body.replace(b"\n", line_end)
        assert decode_pieces(decoder, [variant]).to_dict() == whole
        for cut in cuts(len(variant), rng, limit=60):
            pieces = [variant[:cut], variant[cut:]]
            assert decode_pieces(decoder, pieces).to_dict() == whole, (line_end, cut)
        assert (
            decode_pieces(decoder, [variant[i : i + 1] for i in range(len(variant))]).to_dict()
            == whole
        )


@pytest.mark.parametrize("protocol", ["data-stream", "assistant-transport"])
@pytest.mark.parametrize("run", ["weather", "rich", "failing"])
def test_our_recorded_streams_decode_to_the_run_message(protocol: str, run: str) -> None:
    expected = asyncio.run(direct_message(run)).to_dict()
    assert decoded_dict(protocol, recorded()[(protocol, f"ours-{run}")], {}) == expected


@pytest.mark.parametrize("run", ["weather", "rich", "failing"])
def test_our_recorded_openai_streams_decode_to_the_run_message(run: str) -> None:
    expected = asyncio.run(direct_message(run, until_error=True)).to_dict()
    decoded = decoded_dict("openai", recorded()[("openai", f"ours-{run}")], {})
    assert openai_projection(decoded) == openai_projection(expected)


def test_predecessor_streams_agree_across_protocols() -> None:
    """The 0.0.36 data stream and transport bytes of one run decode to the same parts."""
    streams = recorded()
    old = "assistant-stream-0.0.36-rich"
    if ("data-stream", old) not in streams:
        pytest.skip("assistant-stream 0.0.36 is not installed")
    data_stream = decoded_dict("data-stream", streams[("data-stream", old)])
    transport = decoded_dict("assistant-transport", streams[("assistant-transport", old)])
    assert data_stream["parts"] == transport["parts"]
    # (0.0.36 runs a tool call as a sub-stream: its frames come last)
    assert sorted(p["type"] for p in data_stream["parts"]) == [
        "file",
        "reasoning",
        "source",
        "text",
        "tool-call",
    ]
    assert TRICKY in data_stream["parts"][1]["text"]
    call = next(p for p in data_stream["parts"] if p["type"] == "tool-call")
    assert call["args"] == {"city": "Paris"} and call["result"] == {"tempC": 18}
    assert data_stream["errors"] == transport["errors"] == ["soft error"]
