"""Every registered decoder, fed hostile input, raises only `DecodeError` in bounded time and
memory: 100,000-deep nesting, a 50 MB line arriving in 1 MiB reads, invalid UTF-8."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from _decoding_cases import PROTOCOLS, decode_pieces

from assistant_stream_ce.errors import DecodeError
from assistant_stream_ce.serialization import PROTOCOLS as REGISTRY

MiB = 1024 * 1024


def frame(protocol: str, payload: bytes) -> bytes:
    """``payload`` framed as one frame of ``protocol`` (an SSE event or a data-stream line)."""
    return b"data: " + payload + b"\n\n" if REGISTRY[protocol].sse else b"0:" + payload + b"\n"


def feed_bounded(protocol: str, strict: bool, pieces: list[bytes]) -> None:
    """Decode ``pieces``; only DecodeError may escape, within 10 s and 64 MiB of new memory."""
    decoder = PROTOCOLS[protocol].decoder(strict=strict)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        decode_pieces(decoder, pieces)
    except DecodeError as exc:
        assert str(exc).startswith(decoder.protocol)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - started < 10
    assert peak < 64 * MiB, f"{peak / MiB:.0f} MiB"


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_deep_nesting(protocol: str, strict: bool) -> None:
    for opener in (b"[", b'{"a":'):
        feed_bounded(protocol, strict, [frame(protocol, opener * 100_000)])


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_a_50_mb_line_in_1_mib_reads(protocol: str) -> None:
    head = frame(protocol, b'"')[: -(3 if REGISTRY[protocol].sse else 2)]
    body = head + b"x" * (50 * MiB)
    pieces = [body[i : i + MiB] for i in range(0, len(body), MiB)]
    decoder = PROTOCOLS[protocol].decoder()
    started = time.perf_counter()
    with pytest.raises(DecodeError, match="longer than"):
        decode_pieces(decoder, pieces)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_invalid_utf8(protocol: str, strict: bool) -> None:
    bad = frame(protocol, b'"caf\xe9 \xff\xfe"')
    feed_bounded(protocol, strict, [bad])
    with pytest.raises(DecodeError, match="invalid UTF-8"):
        decode_pieces(PROTOCOLS[protocol].decoder(strict=strict), [bad])


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_a_number_too_large_for_a_float_is_refused_like_nan(protocol: str) -> None:
    """One rule for every decoder: NaN, Infinity and 1e400 (which overflows to infinity) are
    not JSON, so no decoded message stores an infinity."""
    for payload in (b'{"type":"x","n":1e400}', b'{"type":"x","n":NaN}'):
        body = b"2:[" + payload + b"]\n" if not REGISTRY[protocol].sse else frame(protocol, payload)
        with pytest.raises(DecodeError, match="invalid JSON"):
            decode_pieces(PROTOCOLS[protocol].decoder(), [body])
