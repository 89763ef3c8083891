"""Decoding speed: our decoders against a minimal line-split + JSON-parse baseline.

Run: ``.venv/bin/python benchmarks/decode.py [--tokens N] [--reps N]``. Not part of the tests.

For each protocol, a body is recorded from our encoder (a run with reasoning, text deltas of a
few characters and streamed tool calls, every delta kept), then read in 64 KiB pieces by:

- **ours** — ``XDecoder().decode_stream(pieces)``, every chunk consumed by ``async for``;
- **baseline** — an async generator that only splits lines and parses each frame's JSON with
  orjson (no SSE grammar, no validation, no chunk objects), consumed the same way.

Prints MB/s of each and the ratio ours/baseline (the target is >= 0.5: ours within 2x).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.assistant_transport import (
    AssistantTransportDecoder,
    AssistantTransportEncoder,
)
from assistant_stream_ce.serialization.data_stream import (
    DataStreamDecoder,
    DataStreamEncoder,
)
from assistant_stream_ce.serialization.openai_stream import (
    OpenAIStreamDecoder,
    OpenAIStreamEncoder,
)

PIECE = 64 * 1024
WORDS = [" the", " and", "ing ", "tion", " of ", " to ", ' "q"', "code", " a\nb", " é "]


def make_run(tokens: int) -> Callable[[RunController], Any]:
    async def run(controller: RunController) -> None:
        for i in range(tokens // 10):
            controller.append_reasoning(WORDS[i % len(WORDS)])
        for i in range(tokens):
            controller.append_text(WORDS[i % len(WORDS)])
            if i % 500 == 499:
                tool = await controller.add_tool_call("search", f"call_{i}")
                for j in range(20):
                    tool.append_args_text(f'{{"q{j}": "{WORDS[j % len(WORDS)]}"}}'[:6])
                tool.close()
        controller.add_step_finish("stop", 10, tokens)

    return run


async def record(encoder: Any, tokens: int) -> bytes:
    parts = [
        part async for part in encoder.iter_bytes(create_run(make_run(tokens), coalesce=False))
    ]
    return b"".join(parts)


async def baseline_lines(pieces: list[bytes]) -> AsyncIterator[Any]:
    """Split ``<code>:<JSON>`` lines and parse the JSON: nothing else."""
    loads = orjson.loads
    rest = b""
    for piece in pieces:
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line:
                yield loads(line.partition(b":")[2])


async def baseline_sse(pieces: list[bytes]) -> AsyncIterator[Any]:
    """Split lines, keep ``data: `` payloads, parse the JSON: nothing else."""
    loads = orjson.loads
    rest = b""
    for piece in pieces:
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                yield loads(line[6:])


async def consume(stream: AsyncIterator[Any]) -> int:
    count = 0
    async for _ in stream:
        count += 1
    return count


async def best_times(
    makers: list[Callable[[], AsyncIterator[Any]]], reps: int
) -> list[tuple[float, int]]:
    """Best wall time of each maker over ``reps`` rounds, interleaved to share machine noise."""
    best = [float("inf")] * len(makers)
    counts = [0] * len(makers)
    for _ in range(reps):
        for index, make in enumerate(makers):
            started = time.perf_counter()
            counts[index] = await consume(make())
            best[index] = min(best[index], time.perf_counter() - started)
    return list(zip(best, counts, strict=True))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=9)
    args = parser.parse_args()

    cases = [
        ("data-stream", DataStreamEncoder(), DataStreamDecoder, baseline_lines),
        (
            "assistant-transport",
            AssistantTransportEncoder(),
            AssistantTransportDecoder,
            baseline_sse,
        ),
        (
            "openai",
            OpenAIStreamEncoder(include_answered_tool_calls=True),
            OpenAIStreamDecoder,
            baseline_sse,
        ),
    ]
    print(f"{'protocol':<22}{'MB':>7}{'ours MB/s':>12}{'baseline MB/s':>15}{'ratio':>8}")
    worst = float("inf")
    for name, encoder, decoder_class, baseline in cases:
        body = await record(encoder, args.tokens)
        pieces = [body[i : i + PIECE] for i in range(0, len(body), PIECE)]
        (ours, chunks), (base, frames) = await best_times(
            [
                lambda: decoder_class().decode_stream(pieces),  # noqa: B023
                lambda: baseline(pieces),  # noqa: B023
            ],
            args.reps,
        )
        megabytes = len(body) / 1e6
        ratio = base / ours
        worst = min(worst, ratio)
        print(
            f"{name:<22}{megabytes:>7.2f}{megabytes / ours:>12.1f}{megabytes / base:>15.1f}"
            f"{ratio:>8.2f}   ({chunks} chunks, {frames} frames)"
        )
    print(f"worst ratio ours/baseline: {worst:.2f} (target >= 0.50)")


if __name__ == "__main__":
    asyncio.run(main())
