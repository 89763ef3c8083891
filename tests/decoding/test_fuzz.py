"""Random and mutated bytes: decoders raise only `DecodeError`, and return quickly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from _decoding_cases import PROTOCOLS, decode_pieces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_split_anywhere import recorded

from assistant_stream_ce.errors import DecodeError

fuzz_settings = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Byte soup biased towards protocol syntax.
TOKENS = [
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b":",
    b"data: ",
    b"data:",
    b"event: x\n",
    b": c\n",
    b"[DONE]",
    b"0:",
    b"b:",
    b"c:",
    b"a:",
    b"aui-state:",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b"\\",
    b'"type":"part-start"',
    b'"type":"text-delta"',
    b'"path":[0]',
    b'"path":[]',
    b'"part":{"type":"tool-call","toolCallId":"c","toolName":"t"}',
    b'"textDelta":"x"',
    b'"toolCallId":"c"',
    b'"choices":[{"delta":',
    b'"tool_calls":[{"index":0',
    b"\xff",
    b"\xf0\x9f",
    b"\xef\xbb\xbf",
    b"null",
    b"1e999",
    b"NaN",
    b"\x00",
    b'"error":',
]
soups = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6)), max_size=40).map(
    b"".join
)


def check(protocol: str, pieces: list[bytes], strict: bool) -> None:
    decoder = PROTOCOLS[protocol].decoder(strict=strict)
    started = time.perf_counter()
    try:
        decode_pieces(decoder, pieces).to_dict()  # accumulating (and partial JSON) must not fail
    except DecodeError as exc:
        assert str(exc).startswith(decoder.protocol)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("strict", [True, False])
@fuzz_settings
@given(data=soups, cut=st.integers(0, 200))
def test_random_bytes(protocol: str, strict: bool, data: bytes, cut: int) -> None:
    check(protocol, [data[:cut], data[cut:]], strict)


STREAMS = recorded()


@st.composite
def mutated(draw: Any) -> tuple[str, bytes]:
    streams = STREAMS
    key = draw(st.sampled_from(sorted(streams)))
    body = bytearray(streams[key])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(body) - 1, 0)))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip" and body:
            body[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "delete":
            del body[position : position + draw(st.integers(1, 20))]
        elif action == "insert":
            body[position:position] = draw(st.sampled_from(TOKENS))
        else:
            del body[position:]
    return key[0], bytes(body)


@pytest.mark.parametrize("strict", [True, False])
@fuzz_settings
@given(case=mutated(), cut=st.integers(0, 5000))
def test_mutated_recorded_streams(strict: bool, case: tuple[str, bytes], cut: int) -> None:
    protocol, body = case
    check(protocol, [body[:cut], body[cut:]], strict)
