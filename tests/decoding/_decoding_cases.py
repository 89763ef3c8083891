"""Shared material for the decoder tests: protocols, recorded streams, chunk strategies.

Recorded streams come from three producers: the protocol examples (our encoders running the
shared weather scenario, byte for byte the examples of the protocol notes), a rich run through
our encoders, and the predecessor `assistant-stream==0.0.36` (reference bytes only).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from _util import encode
from assistant_stream_ce import (
    AnnotationsChunk,
    DataChunk,
    ErrorChunk,
    FileChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    RunController,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    UpdateStateChunk,
    create_run,
)
from assistant_stream_ce._json import dumps as json_dumps
from assistant_stream_ce.accumulator import Message, accumulate
from assistant_stream_ce.serialization import PROTOCOLS as REGISTRY
from assistant_stream_ce.serialization.decoding import StreamDecoder
from assistant_stream_ce.serialization.stream_encoder import StreamEncoder


@dataclass(frozen=True)
class Protocol:
    name: str
    encoder: Callable[[], StreamEncoder]
    decoder: Callable[..., StreamDecoder]


# Encoder options the decoding tests use (other protocols: the registry's defaults).
ENCODER_OPTIONS: dict[str, dict[str, Any]] = {
    # Answered calls are shown as they stream, so tool calls keep their place (results are
    # still not representable); see docs/round-trip.md.
    "openai": {
        "model": "m",
        "completion_id": "chatcmpl-1",
        "created": 1,
        "include_answered_tool_calls": True,
    },
    # Every draft extension, so reasoning, tool calls, results and usage are carried.
    "rais": {"extensions": True},
}

# Every registered protocol (a protocol registered later joins the shared tests by itself).
PROTOCOLS = {
    name: Protocol(
        name, functools.partial(info.encoder, **ENCODER_OPTIONS.get(name, {})), info.decoder
    )
    for name, info in REGISTRY.items()
}
# The protocols assistant-stream 0.0.36 also writes.
OLD_PROTOCOLS = ("data-stream", "assistant-transport", "openai")


def decode_pieces(
    decoder: StreamDecoder, pieces: Iterable[bytes], initial_state: Any = None
) -> Message:
    """Feed pieces synchronously and accumulate the chunks."""
    decoder.reset()
    chunks: list[Any] = []
    for piece in pieces:
        chunks += decoder.feed(piece)
    chunks += decoder.close()
    return accumulate(chunks, initial_state)


def decoded_dict(protocol: str, body: bytes, initial_state: Any = None) -> dict[str, Any]:
    return decode_pieces(PROTOCOLS[protocol].decoder(), [body], initial_state).to_dict()


# -- runs ------------------------------------------------------------------------------------

TRICKY = 'emoji 😀, CJK 漢字, seps \u2028 \u2029 \x85, crlf \r\n, tab\t, quote " \\ end'


async def weather_run(controller: Any) -> None:
    """The shared scenario of the protocol notes (works on both libraries' controllers)."""
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


async def rich_run(controller: RunController) -> None:
    """Every chunk type: parents, a reasoning summary, interleaved calls, state, an error."""
    controller.add_step_start("msg_1")
    controller.add_reasoning_part("Plan")
    controller.append_reasoning("Thinking about ")
    await asyncio.sleep(0)
    controller.append_reasoning("weather and time.")
    controller.append_text("Checking two things. ")
    controller.state = {"city": "Paris", "log": ""}
    weather = await controller.add_tool_call("get_weather", "call_weather")
    clock = await controller.add_tool_call("get_time", "call_time")
    weather.append_args_text('{"city":')
    await asyncio.sleep(0)
    clock.append_args_text('{"tz":"Europe/Paris"}')
    await asyncio.sleep(0)
    weather.append_args_text('"Paris"}')
    clock.set_response({"time": "12:00"})
    weather.set_response({"tempC": 18}, artifact={"raw": "18C"})
    controller.state["log"] += "weather;"
    await asyncio.sleep(0)
    controller.state["log"] += "time;"
    controller.add_step_finish("tool-calls", 10, 20)
    controller.add_step_start("msg_2")
    child = controller.with_parent_id("group_1")
    child.append_text("Grouped text. ")
    child.append_reasoning("grouped thought")
    controller.append_text("It is 18 C at 12:00 in Paris. ")
    await asyncio.sleep(0)
    controller.append_text(TRICKY)
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_file("aGVsbG8=", "text/plain")
    controller.add_data({"kind": "note"})
    controller.add_annotations([{"a": 1}])
    failing = await controller.add_tool_call("lookup", "call_err")
    failing.set_response("not found", is_error=True)
    controller.add_error("a recoverable problem")
    controller.append_text("Done.")
    confirm = await controller.add_tool_call("confirm", "call_confirm")
    confirm.append_args_text('{"ok":true}')
    controller.add_step_finish("stop", 30, 10)


async def failing_run(controller: RunController) -> None:
    controller.append_text("Let me check.")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    await asyncio.sleep(0)
    raise RuntimeError("upstream model timed out")


OUR_RUNS = {"weather": weather_run, "rich": rich_run, "failing": failing_run}


async def record_ours(protocol: str, run: str, coalesce: bool = False) -> bytes:
    stream = create_run(OUR_RUNS[run], state={}, coalesce=coalesce)
    return await encode(PROTOCOLS[protocol].encoder(), stream)


async def direct_message(run: str, until_error: bool = False) -> Message:
    """The message of a run's own chunks (a failing run's error chunk included)."""
    chunks: list[Any] = []
    with contextlib.suppress(RuntimeError):
        async for chunk in create_run(OUR_RUNS[run], state={}, coalesce=False):
            chunks.append(chunk)
    return accumulate(until_first_error(chunks) if until_error else chunks, {})


async def old_rich_run(controller: Any) -> None:
    """A rich run on the predecessor's controller (its API subset)."""
    controller.add_step_start("msg_1")
    controller.append_reasoning("Thinking ")
    controller.append_reasoning("hard.")
    controller.append_text("Checking. ")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    tool.append_args_text('"Paris"}')
    tool.set_response({"tempC": 18})
    controller.add_step_finish("tool-calls", 5, 6)
    controller.add_step_start("msg_2")
    controller.append_text("It is 18 C. " + TRICKY)
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_file("aGk=", "text/plain")
    controller.add_data({"x": 1})
    controller.add_annotations([{"y": 2}])
    controller.add_error("soft error")
    controller.add_step_finish("stop", 7, 8)


async def record_old(protocol: str, run: Callable[[Any], Any]) -> bytes | None:
    """Bytes that assistant-stream 0.0.36 writes for ``run`` (None if it is not installed)."""
    try:
        import assistant_stream
        from assistant_stream.serialization import (
            AssistantTransportEncoder as OldTransport,
        )
        from assistant_stream.serialization import DataStreamEncoder as OldDataStream
        from assistant_stream.serialization import OpenAIStreamEncoder as OldOpenAI
    except ImportError:  # pragma: no cover - the baseline is installed in the dev venv
        return None
    encoder = {
        "data-stream": OldDataStream,
        "assistant-transport": OldTransport,
        "openai": OldOpenAI,
    }[protocol]()
    stream = assistant_stream.create_run(run, state={})
    return "".join([part async for part in encoder.encode_stream(stream)]).encode()


# -- chunk strategies --------------------------------------------------------------------------

TEXT_PIECES = ["a", "Hello ", "😀", "漢字", "\u2028", "\x85", "\r\n", '"', "\\", "\ud800", "\x00"]
texts = st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(TEXT_PIECES))
parents = st.sampled_from([None, None, None, "p1", "p2"])
names = st.sampled_from(["get_weather", "search", "t", "名前"])
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(["a", "b", "log", "0"])
state_ops = st.one_of(
    st.builds(
        lambda path, value: {"type": "set", "path": path, "value": value},
        st.lists(keys, max_size=2),
        json_values,
    ),
    st.builds(
        lambda path, value: {"type": "append-text", "path": path, "value": value},
        st.lists(keys, min_size=1, max_size=2),
        st.text(max_size=5),
    ),
)
finish_reasons = st.sampled_from(
    ["stop", "length", "content-filter", "tool-calls", "error", "other", "unknown"]
)
KINDS = [
    "text",
    "text",
    "text",
    "reasoning",
    "reasoning",
    "reasoning-part-start",
    "tool-call-begin",
    "tool-call-begin",
    *["tool-call-delta"] * 6,
    *["tool-call-args-text-finish"] * 2,
    *["tool-result"] * 3,
    "data",
    "annotations",
    "update-state",
    "error",
    "source",
    "file",
    "step-start",
    "step-finish",
]


@st.composite
def chunk_sequences(draw: Any, max_size: int = 24) -> list[Any]:
    """A valid chunk sequence: unique tool ids, arguments only while a call's text is open,
    at most one result per call, non-empty deltas (what a run produces)."""
    count = draw(st.integers(0, max_size))
    chunks: list[Any] = []
    open_args: list[str] = []
    unanswered: list[str] = []
    next_tool = 0
    for _ in range(count):
        kind = draw(st.sampled_from(KINDS))
        if (kind in ("tool-call-delta", "tool-call-args-text-finish") and not open_args) or (
            kind == "tool-result" and not unanswered
        ):
            kind = "tool-call-begin"
        if kind == "text":
            chunks.append(TextDeltaChunk(draw(texts), parent_id=draw(parents)))
        elif kind == "reasoning":
            chunks.append(ReasoningDeltaChunk(draw(texts), parent_id=draw(parents)))
        elif kind == "reasoning-part-start":
            summary = draw(st.one_of(st.none(), st.text(max_size=6)))
            chunks.append(ReasoningPartStartChunk(summary, parent_id=draw(parents)))
        elif kind == "tool-call-begin":
            tool_call_id = f"call_{next_tool}"
            next_tool += 1
            chunks.append(ToolCallBeginChunk(tool_call_id, draw(names), parent_id=draw(parents)))
            open_args.append(tool_call_id)
            unanswered.append(tool_call_id)
        elif kind == "tool-call-delta" and open_args:
            tool_call_id = draw(st.sampled_from(open_args))
            chunks.append(ToolCallDeltaChunk(tool_call_id, draw(texts)))
        elif kind == "tool-call-args-text-finish" and open_args:
            tool_call_id = draw(st.sampled_from(open_args))
            delta = draw(st.one_of(st.just(""), texts))
            chunks.append(ToolCallArgsTextFinishChunk(tool_call_id, delta))
            open_args.remove(tool_call_id)
        elif kind == "tool-result" and unanswered:
            tool_call_id = draw(st.sampled_from(unanswered))
            artifact = draw(st.one_of(st.none(), json_values))
            chunks.append(
                ToolResultChunk(tool_call_id, draw(json_values), artifact, draw(st.booleans()))
            )
            unanswered.remove(tool_call_id)
            if tool_call_id in open_args:
                open_args.remove(tool_call_id)
        elif kind == "data":
            chunks.append(DataChunk(draw(json_values)))
        elif kind == "annotations":
            chunks.append(AnnotationsChunk(draw(st.lists(json_values, max_size=2))))
        elif kind == "update-state":
            chunks.append(UpdateStateChunk(draw(st.lists(state_ops, min_size=1, max_size=3))))
        elif kind == "error":
            chunks.append(ErrorChunk(draw(texts)))
            open_args.clear()
        elif kind == "source":
            title = draw(st.one_of(st.none(), st.text(max_size=6)))
            chunks.append(
                SourceChunk(
                    draw(st.text(max_size=4)),
                    draw(st.text(max_size=10)),
                    title=title,
                    parent_id=draw(parents),
                )
            )
        elif kind == "file":
            chunks.append(
                FileChunk(draw(st.text(max_size=8)), "text/plain", parent_id=draw(parents))
            )
        elif kind == "step-start":
            chunks.append(StepStartChunk(draw(st.sampled_from(["msg_1", "msg_2", ""]))))
        elif kind == "step-finish":
            tokens = st.integers(0, 1000)
            chunks.append(
                StepFinishChunk(
                    draw(finish_reasons), draw(tokens), draw(tokens), draw(st.booleans())
                )
            )
            open_args.clear()
    return chunks


# -- what each protocol cannot carry (also listed in docs/round-trip.md) -----------------------

_OPENAI_REASONS = {"stop": "stop", "length": "length", "content-filter": "content-filter"}


def openai_projection(message: dict[str, Any]) -> dict[str, Any]:
    """The part of a message an OpenAI stream carries.

    Lost: sources, files, data, annotations, state, every ``parent_id``, reasoning summaries
    and part boundaries between adjacent parts of one kind (empty reasoning parts vanish),
    tool results (``result``/``artifact``/``is_error``), per-step framing. Kept: text and
    reasoning in order, tool calls in place with their argument text, errors (only the first:
    nothing follows an error), and the final finish reason / summed usage (compared apart).
    """
    parts: list[dict[str, Any]] = []
    for part in message["parts"]:
        kind = part["type"]
        if kind in ("source", "file") or (kind == "reasoning" and not part["text"]):
            continue
        if kind in ("text", "reasoning"):
            if parts and parts[-1]["type"] == kind:
                parts[-1]["text"] += part["text"]
            else:
                parts.append({"type": kind, "text": part["text"]})
        else:
            parts.append(
                {
                    "type": kind,
                    "tool_call_id": part["tool_call_id"],
                    "tool_name": part["tool_name"],
                    "args_text": part["args_text"],
                    "args_complete": part["args_complete"],
                }
            )
    return {"parts": parts, "errors": message["errors"][:1]}


def openai_expected_finish(message: dict[str, Any]) -> str:
    """The finish reason an OpenAI stream reports for a message without errors."""
    if any(p["type"] == "tool-call" and not p["has_result"] for p in message["parts"]):
        return "tool-calls"
    reasons = [step["finish_reason"] for step in message["steps"] if step["finished"]]
    return _OPENAI_REASONS.get(reasons[-1] if reasons else "stop", "stop")


def rais_sent_calls(chunks: list[Any]) -> set[str] | None:
    """The calls a RAIS stream sends before an error ends it (None: no error, every call).

    A call is sent once its arguments finish or its result arrives; at the end of a stream
    without error every call is sent.
    """
    sent: set[str] = set()
    for chunk in chunks:
        if chunk.type in ("tool-call-args-text-finish", "tool-result"):
            sent.add(chunk.tool_call_id)
        elif chunk.type == "error":
            return sent
    return None


def rais_projection(message: dict[str, Any], sent: set[str] | None = None) -> dict[str, Any]:
    """The part of a message a RAIS stream (all draft extensions) carries.

    Lost: sources, files, data, annotations, state, every ``parent_id``, reasoning summaries,
    part boundaries, the position of tool calls among the other parts (a call is sent once its
    arguments are complete), tool-call artifacts, per-step framing, and everything after the
    first error (calls whose arguments were still open then are never sent: ``sent``).
    Kept: all text in order, all reasoning in order, each tool call (name, parsed
    arguments, result, error flag; an error result of ``None`` reads back as ``"tool failed"``)
    and the first error. The finish reason and usage are compared apart.
    """
    calls = {}
    for part in message["parts"]:
        if part["type"] == "tool-call" and (sent is None or part["tool_call_id"] in sent):
            result = part["result"]
            if part["is_error"] and result is None:
                result = "tool failed"
            calls[part["tool_call_id"]] = {
                "tool_name": part["tool_name"],
                "args": part["args"],
                "has_result": part["has_result"],
                "result": result if part["has_result"] else None,
                "is_error": part["is_error"],
            }
    return {
        "text": "".join(p["text"] for p in message["parts"] if p["type"] == "text"),
        "reasoning": "".join(p["text"] for p in message["parts"] if p["type"] == "reasoning"),
        "tool_calls": calls,
        "errors": message["errors"][:1],
    }


def rais_expected_steps(message: dict[str, Any]) -> list[tuple[str, int, int]]:
    """The steps a RAIS stream reports: one (``done`` with metadata) unless an error ended it."""
    if message["errors"]:
        return []
    reasons = [step["finish_reason"] for step in message["steps"] if step["finished"]]
    reason = reasons[-1] if reasons else "stop"
    usage = message["usage"]
    return [
        ("stop" if reason == "error" else reason, usage["input_tokens"], usage["output_tokens"])
    ]


def ui_message_stream_projection(message: dict[str, Any]) -> dict[str, Any]:
    """The part of a message a UI message stream carries.

    Lost: every ``parent_id``, reasoning summaries, tool-call artifacts, the boundary between
    adjacent parts of one kind (parts close at steps and errors; a text part has no boundary
    of its own), per-step finish reasons, usage and message ids (one ``finish`` carries the
    final reason, ``unknown`` written as ``other``, and the summed usage). An error result
    that is not a string reads back as its JSON text. Kept: everything else, in order.
    """
    parts: list[dict[str, Any]] = []
    for part in message["parts"]:
        kind = part["type"]
        if kind in ("text", "reasoning"):
            if parts and parts[-1]["type"] == kind:
                parts[-1]["text"] += part["text"]
            else:
                parts.append({"type": kind, "text": part["text"]})
        elif kind == "tool-call":
            result = part["result"]
            if part["is_error"] and not isinstance(result, str):
                result = json_dumps(result).decode()
            parts.append(
                {
                    "type": kind,
                    "tool_call_id": part["tool_call_id"],
                    "tool_name": part["tool_name"],
                    "args_text": part["args_text"],
                    "args_complete": part["args_complete"],
                    "has_result": part["has_result"],
                    "result": result,
                    "is_error": part["is_error"],
                }
            )
        elif kind == "source":
            parts.append({key: part[key] for key in ("type", "id", "url", "source_type", "title")})
        else:
            parts.append({key: part[key] for key in ("type", "data", "mime_type")})
    reason = message["finish_reason"]
    return {
        "parts": parts,
        "state": message["state"],
        "data": message["data"],
        "annotations": message["annotations"],
        "errors": message["errors"],
        "finish_reason": "other" if reason == "unknown" else reason,
        "usage": message["usage"],
    }


def args_closed_at_step_start(chunks: list[Any]) -> list[Any]:
    """``chunks`` less the argument text sent after a step-start for calls begun before it
    (a UI message stream closes the previous step, arguments included, at a step-start)."""
    begun: set[str] = set()
    closed: set[str] = set()
    out = []
    for chunk in chunks:
        kind = chunk.type
        if kind == "step-start":
            closed |= begun
        elif kind == "tool-call-begin":
            begun.add(chunk.tool_call_id)
        elif kind in ("tool-call-delta", "tool-call-args-text-finish") and (
            chunk.tool_call_id in closed
        ):
            continue
        out.append(chunk)
    return out


def until_first_error(chunks: list[Any]) -> list[Any]:
    for index, chunk in enumerate(chunks):
        if chunk.type == "error":
            return chunks[: index + 1]
    return chunks


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
