"""Shared pieces of the benchmarks: workloads, implementation loading, minimal baselines,
and wire decoders used to check that every implementation delivered everything.

Imported by ``bench.py`` (orchestrator and in-process workers) and ``_server_app.py``
(the uvicorn app). Depends only on the standard library and ``orjson``; the implementations
(ours, the anchor) are imported lazily by `load_impl`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

PROTOCOLS: tuple[str, ...] = ("data-stream", "assistant-transport", "openai")
IMPLS: tuple[str, ...] = ("ours", "anchor", "minimal")

IMPL_LABEL = {
    "ours": "ours (assistant_stream_ce)",
    "anchor": "anchor (assistant_stream 0.0.36)",
    "minimal": "minimal async generator",
}

# ~4-character ASCII tokens, a few with characters JSON must escape.
_VOCAB: tuple[str, ...] = (
    " the",
    " and",
    "ing ",
    "tion",
    " of ",
    " to ",
    " is ",
    "code",
    " a b",
    "data",
    "ment",
    "ness",
    " it,",
    " we ",
    "ther",
    "able",
    " on ",
    "ed. ",
    "ally",
    " in ",
    'q"t"',
    "a\\b",
    "x\ny",
    "\n\n",
    "tab\t",
    "1234",
    "5678",
    " -- ",
    "(ok)",
    "[a]",
)


def make_tokens(n: int, seed: int = 0) -> list[str]:
    """`n` deterministic ~4-character tokens."""
    rng = random.Random(seed)
    return [rng.choice(_VOCAB) for _ in range(n)]


def make_delta_100(i: int) -> str:
    """A distinct 100-character (100-byte) text delta, created on the fly."""
    return f"{i:010d}" + "abcdefghij" * 9


# --------------------------------------------------------------------------------------------
# Implementations


@dataclass
class Impl:
    """One library under test: `create_run`, encoder classes and response classes."""

    name: str
    create_run: Callable[..., Any]
    encoders: dict[str, Any]
    responses: dict[str, Any]

    def encode(self, protocol: str, chunk_stream: Any) -> AsyncIterator[Any]:
        """The encoder output for a chunk stream: ``iter_bytes`` when the encoder has it
        (our fast path, ``bytes``), else ``encode_stream`` (the anchor's, ``str``)."""
        encoder = self.encoders[protocol]()
        iter_bytes = getattr(encoder, "iter_bytes", None)
        if iter_bytes is not None:
            return iter_bytes(chunk_stream)  # type: ignore[no-any-return]
        return encoder.encode_stream(chunk_stream)  # type: ignore[no-any-return]


_ROOT = {"ours": "assistant_stream_ce", "anchor": "assistant_stream"}
_MODULES = {
    "data-stream": ("data_stream", "DataStreamEncoder", "DataStreamResponse"),
    "assistant-transport": (
        "assistant_transport",
        "AssistantTransportEncoder",
        "AssistantTransportResponse",
    ),
    "openai": ("openai_stream", "OpenAIStreamEncoder", "OpenAIStreamResponse"),
}


def load_impl(name: str) -> Impl:
    """Import ``ours`` or ``anchor`` (raises ImportError/AttributeError if unavailable)."""
    root = _ROOT[name]
    create_run = importlib.import_module(root).create_run
    encoders: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    for protocol, (module, encoder, response) in _MODULES.items():
        mod = importlib.import_module(f"{root}.serialization.{module}")
        encoders[protocol] = getattr(mod, encoder)
        responses[protocol] = getattr(mod, response)
    return Impl(name, create_run, encoders, responses)


# --------------------------------------------------------------------------------------------
# Minimal baseline: a hand-written async generator yielding each token's frame directly.

_OPENAI_PREFIX = (
    b'data: {"id":"chatcmpl-minimalbaseline000000000","object":"chat.completion.chunk",'
    b'"created":1700000000,"model":"assistant_stream","system_fingerprint":"fp_0000000000",'
    b'"choices":[{"index":0,"delta":'
)

# protocol -> (frames before the tokens, per-token prefix, per-token suffix, frames after)
MINIMAL_FRAMING: dict[str, tuple[bytes, bytes, bytes, bytes]] = {
    "data-stream": (b"", b"0:", b"\n", b""),
    "assistant-transport": (
        b'data: {"type":"part-start","part":{"type":"text"},"path":[]}\n\n',
        b'data: {"type":"text-delta","textDelta":',
        b',"path":[0]}\n\n',
        b'data: {"type":"part-finish","path":[0]}\n\ndata: [DONE]\n\n',
    ),
    "openai": (
        b"",
        _OPENAI_PREFIX + b'{"content":',
        b'},"logprobs":null,"finish_reason":null}]}\n\n',
        _OPENAI_PREFIX + b'{},"logprobs":null,"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
    ),
}

MEDIA_TYPE = {
    "data-stream": "text/plain",
    "assistant-transport": "text/event-stream",
    "openai": "text/event-stream",
}


async def minimal_stream(
    protocol: str, tokens: list[str], pause: float | None
) -> AsyncIterator[bytes]:
    """Yield the frames of ``tokens`` in ``protocol``; ``pause`` = seconds to
    ``asyncio.sleep`` after each token (None: never await)."""
    head, prefix, suffix, tail = MINIMAL_FRAMING[protocol]
    dumps = orjson.dumps
    if head:
        yield head
    if pause is None:
        for tok in tokens:
            yield prefix + dumps(tok) + suffix
    else:
        sleep = asyncio.sleep
        for tok in tokens:
            yield prefix + dumps(tok) + suffix
            await sleep(pause)
    if tail:
        yield tail


# --------------------------------------------------------------------------------------------
# Run callbacks shared by ours and the anchor (same public controller API).


def text_callback(tokens: list[str], pause: float | None) -> Callable[[Any], Any]:
    """A run callback appending ``tokens`` as text; sleeps ``pause`` s after each if set."""
    if pause is None:

        async def run_no_await(controller: Any) -> None:
            append = controller.append_text
            for tok in tokens:
                append(tok)

        return run_no_await

    async def run_await(controller: Any) -> None:
        append = controller.append_text
        sleep = asyncio.sleep
        for tok in tokens:
            append(tok)
            await sleep(pause)

    return run_await


MIXED_TEXT = make_tokens(50, seed=7)
MIXED_REASONING = make_tokens(10, seed=11)
MIXED_TOOL_ARGS = [['{"tool"', f": {k}, ", '"query"', f': "item {k}"', "}"] for k in range(3)]


def mixed_callback(await_each: bool) -> Callable[[Any], Any]:
    """Scenario (b): a state set, 10 reasoning deltas, 50 text deltas with 20 state appends,
    3 tool calls of 5 argument deltas and a result. ``await_each``: ``await
    asyncio.sleep(0)`` after every controller call."""

    async def run(controller: Any) -> None:
        async def pause() -> None:
            if await_each:
                await asyncio.sleep(0)

        controller.state = {"log": "start", "step": 0}
        await pause()
        for r in MIXED_REASONING:
            controller.append_reasoning(r)
            await pause()
        for i, tok in enumerate(MIXED_TEXT):
            controller.append_text(tok)
            await pause()
            if i % 5 < 2:
                controller.state["log"] += "x"
                await pause()
        for k, pieces in enumerate(MIXED_TOOL_ARGS):
            tool = await controller.add_tool_call(f"tool_{k}", f"call_bench_{k}")
            await pause()
            for piece in pieces:
                tool.append_args_text(piece)
                await pause()
            tool.set_response({"tool": k, "ok": True})
            await pause()

    return run


def mixed_expected() -> Decoded:
    return Decoded(
        text="".join(MIXED_TEXT),
        reasoning="".join(MIXED_REASONING),
        tool_args=["".join(p) for p in MIXED_TOOL_ARGS],
        tool_results=[{"tool": k, "ok": True} for k in range(3)],
        state={"log": "start" + "x" * 20, "step": 0},
        done=True,
    )


# --------------------------------------------------------------------------------------------
# Decoders (verification only; never timed)


@dataclass
class Decoded:
    text: str = ""
    reasoning: str = ""
    tool_args: list[str] = field(default_factory=list)
    tool_results: list[Any] = field(default_factory=list)
    state: Any = None
    done: bool = False
    errors: list[Any] = field(default_factory=list)


def _apply_op(state: Any, op: dict[str, Any]) -> Any:
    path = list(op.get("path", []))
    kind = op.get("type")
    if not path:
        if kind == "set":
            return op["value"]
        return (state or "") + op["value"]
    root = state if state is not None else {}
    target = root
    for key in path[:-1]:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    last = path[-1]
    if isinstance(target, list):
        idx = int(last)
        if idx == len(target):
            target.append(None)
        cur = target[idx]
        target[idx] = op["value"] if kind == "set" else (cur or "") + op["value"]
    else:
        cur = target.get(last)
        target[last] = op["value"] if kind == "set" else (cur or "") + op["value"]
    return root


def _sse_payloads(body: str) -> list[str]:
    out: list[str] = []
    for event in body.split("\n\n"):
        data = [ln[5:].lstrip(" ") for ln in event.split("\n") if ln.startswith("data:")]
        if data:
            out.append("\n".join(data))
    return out


def decode_data_stream(body: str) -> Decoded:
    d = Decoded(done=True)  # the data stream protocol has no end marker
    tools: dict[str, int] = {}
    for line in body.split("\n"):
        if not line:
            continue
        code, _, payload = line.partition(":")
        value = json.loads(payload)
        if code == "0":
            d.text += value
        elif code == "g":
            d.reasoning += value
        elif code == "aui-text-delta":
            d.text += value["textDelta"]
        elif code == "aui-reasoning-delta":
            d.reasoning += value["reasoningDelta"]
        elif code == "b":
            tools[value["toolCallId"]] = len(d.tool_args)
            d.tool_args.append("")
        elif code == "c":
            d.tool_args[tools[value["toolCallId"]]] += value["argsTextDelta"]
        elif code == "a":
            d.tool_results.append(value["result"])
        elif code == "aui-state":
            for op in value:
                d.state = _apply_op(d.state, op)
        elif code == "3":
            d.errors.append(value)
    return d


def decode_assistant_transport(body: str) -> Decoded:
    d = Decoded()
    parts: list[tuple[str, int]] = []  # part index -> (kind, tool index)
    for payload in _sse_payloads(body):
        if payload == "[DONE]":
            d.done = True
            continue
        frame = json.loads(payload)
        kind = frame.get("type")
        if kind == "part-start":
            ptype = frame["part"]["type"]
            tool_index = -1
            if ptype == "tool-call":
                tool_index = len(d.tool_args)
                d.tool_args.append("")
            parts.append((ptype, tool_index))
        elif kind == "text-delta":
            ptype, tool_index = parts[frame["path"][0]]
            if ptype == "text":
                d.text += frame["textDelta"]
            elif ptype == "reasoning":
                d.reasoning += frame["textDelta"]
            elif ptype == "tool-call":
                d.tool_args[tool_index] += frame["textDelta"]
        elif kind == "result":
            d.tool_results.append(frame["result"])
        elif kind == "update-state":
            for op in frame["operations"]:
                d.state = _apply_op(d.state, op)
        elif kind == "error":
            d.errors.append(frame.get("error"))
    return d


def decode_openai(body: str) -> Decoded:
    d = Decoded()
    for payload in _sse_payloads(body):
        if payload == "[DONE]":
            d.done = True
            continue
        frame = json.loads(payload)
        for choice in frame.get("choices", []):
            content = choice.get("delta", {}).get("content")
            if content:
                d.text += content
    return d


DECODERS: dict[str, Callable[[str], Decoded]] = {
    "data-stream": decode_data_stream,
    "assistant-transport": decode_assistant_transport,
    "openai": decode_openai,
}


def check_decoded(protocol: str, got: Decoded, want: Decoded) -> list[str]:
    """Differences between a decoded body and the expected content (empty list: all good).
    The OpenAI protocol carries only text; state ops are compared by final state."""
    problems: list[str] = []
    if got.text != want.text:
        problems.append(f"text differs ({len(got.text)} vs {len(want.text)} chars)")
    if not got.done:
        problems.append("no end-of-stream marker")
    if got.errors:
        problems.append(f"error frames: {got.errors[:3]!r}")
    if protocol == "openai":
        return problems
    if got.reasoning != want.reasoning:
        problems.append("reasoning differs")
    if got.tool_args != want.tool_args:
        problems.append(f"tool args differ: {got.tool_args!r}")
    if got.tool_results != want.tool_results:
        problems.append(f"tool results differ: {got.tool_results!r}")
    if got.state != want.state:
        problems.append(f"state differs: {got.state!r}")
    return problems


def as_text(pieces: list[Any]) -> str:
    """Join encoder output (``bytes`` from ours/minimal, ``str`` from the anchor)."""
    if pieces and isinstance(pieces[0], bytes):
        return b"".join(pieces).decode()
    return "".join(pieces)


def nbytes(pieces: list[Any]) -> int:
    return sum(len(p.encode()) if isinstance(p, str) else len(p) for p in pieces)
