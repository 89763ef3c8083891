"""Decoder of OpenAI-compatible ``chat.completion.chunk`` streams into chunks."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from ..assistant_stream_chunk import (
    ErrorChunk,
    ReasoningDeltaChunk,
    StepFinishChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
)
from ..finish_reasons import from_wire_finish_reason
from .decoding import Malformed, StreamDecoder, get_int, loads, require, shape_error
from .sse import SSEEvent, SSEParser

__all__ = ["OpenAIStreamDecoder"]

logger = logging.getLogger("assistant_stream_ce.serialization")

_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError
_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError)

Out = list[Any]


class _Call:
    __slots__ = ("args", "begun", "id", "name", "open")

    def __init__(self, tool_call_id: str, name: str | None) -> None:
        self.id = tool_call_id
        self.name = name
        self.args: list[str] = []  # argument text received before the name
        self.begun = False
        self.open = True


class OpenAIStreamDecoder(StreamDecoder):
    """Decode an OpenAI-compatible chat completion stream into chunks.

    - ``delta.content`` and ``delta.refusal`` → text; ``delta.reasoning_content`` or
      ``delta.reasoning`` (the first when both are present) → reasoning.
    - ``delta.tool_calls`` fragments, routed by ``index`` (a new ``id`` at a known index starts
      a new call) → tool-call begin / argument deltas; the arguments are finished when the
      choice finishes or the stream ends.
    - ``finish_reason`` and ``usage`` → one step-finish chunk (``tool_calls`` → ``tool-calls``,
      ``content_filter`` → ``content-filter``) at ``[DONE]`` or the end of the body (or when
      content follows a finish). The latest ``usage`` seen is the step's usage.
    - An in-band ``{"error": …}`` event → an error chunk.
    - ``[DONE]`` ends the stream; a body that ends without it is accepted (logged).

    Strict mode (default) raises `DecodeError` for an event that is not a JSON object or has a
    malformed ``choices`` entry; lenient mode drops it with a warning once per kind.
    """

    protocol = "openai stream"

    def reset(self) -> None:
        super().reset()
        self._sse = SSEParser(self.protocol)
        self._calls: dict[int, _Call] = {}
        self._finish_reason: str | None = None
        self._usage: tuple[int, int] | None = None

    def _feed(self, data: bytes) -> list[Any]:
        events = self._sse.feed(data)
        return self._decode_events(events) if events else []

    def _close(self) -> list[Any]:
        if self.done:
            return []
        out = self._decode_events(self._sse.close(dispatch_incomplete=True))
        if not self.done:
            logger.debug("%s: the stream ended without [DONE]", self.protocol)
            self._end(out)
        return out

    def _end(self, out: Out) -> None:
        self._finish_calls(out)
        self._flush_step(out)

    def _decode_events(self, events: list[SSEEvent]) -> list[Any]:
        out: list[Any] = []
        for event in events:
            if self.done:
                break
            data = event.data
            try:
                if data.startswith("[DONE]"):
                    self.done = True
                    self._end(out)
                    break
                value = loads(data)
                if type(value) is not dict:
                    raise Malformed("event", "an event must be a JSON object")
                self._chunk(value, out)
            except Malformed as exc:
                self._fail(event.line, exc)
            except _SHAPE_ERRORS as exc:
                self._fail(event.line, shape_error("chunk", exc))
        return out

    def _chunk(self, value: dict[str, Any], out: Out) -> None:
        error = value.get("error")
        if error is not None:
            if isinstance(error, dict):
                message = error.get("message")
                text = message if isinstance(message, str) else orjson.dumps(error).decode()
            else:
                text = error if isinstance(error, str) else orjson.dumps(error).decode()
            self._finish_calls(out)
            out.append(ErrorChunk(text))
            return
        choices = value.get("choices")
        if choices is not None:
            if type(choices) is not list:
                raise Malformed("choices", "'choices' must be an array")
            for choice in choices:
                if type(choice) is not dict:
                    raise Malformed("choices", "a choice must be an object")
                if choice.get("index", 0) != 0:
                    self._warn_once("choice-index", "choices other than index 0 are ignored")
                    continue
                delta = choice.get("delta")
                if delta:
                    if type(delta) is not dict:
                        raise Malformed("choices", "'delta' must be an object")
                    self._delta(delta, out)
                reason = choice.get("finish_reason")
                if reason is not None:
                    if type(reason) is not str:
                        raise Malformed("choices", "'finish_reason' must be a string")
                    self._finish_calls(out)
                    self._finish_reason = from_wire_finish_reason(reason)
        usage = value.get("usage")
        if usage is not None and type(usage) is dict:
            # the latest usage wins (servers with continuous usage stats send it on every chunk)
            self._usage = (get_int(usage, "prompt_tokens"), get_int(usage, "completion_tokens"))

    def _delta(self, delta: dict[str, Any], out: Out) -> None:
        if self._finish_reason is not None:
            self._flush_step(out)  # content after a finish: a new step
        reasoning = delta.get("reasoning_content")
        if reasoning is None:
            reasoning = delta.get("reasoning")
        if reasoning:
            if type(reasoning) is not str:
                raise Malformed("delta", "delta: reasoning must be a string")
            last = out[-1] if out else None
            if self.coalesce and type(last) is ReasoningDeltaChunk:
                last.reasoning_delta += reasoning
            else:
                out.append(ReasoningDeltaChunk(reasoning))
        for key in ("content", "refusal"):
            text = delta.get(key)
            if text:
                if type(text) is not str:
                    raise Malformed("delta", f"delta: {key!r} must be a string")
                last = out[-1] if out else None
                if self.coalesce and type(last) is TextDeltaChunk:
                    last.text_delta += text
                else:
                    out.append(TextDeltaChunk(text))
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            require(type(tool_calls) is list, "delta", "'tool_calls' must be an array")
            for fragment in tool_calls:
                self._tool_fragment(fragment, out)

    def _tool_fragment(self, fragment: Any, out: Out) -> None:
        require(type(fragment) is dict, "tool_calls", "a tool call must be an object")
        index = fragment.get("index", 0)
        require(type(index) is int, "tool_calls", "'index' must be an integer")
        tool_call_id = fragment.get("id")
        require(
            tool_call_id is None or type(tool_call_id) is str, "tool_calls", "'id' must be a string"
        )
        function = fragment.get("function") or {}
        require(type(function) is dict, "tool_calls", "'function' must be an object")
        name = function.get("name")
        require(name is None or type(name) is str, "tool_calls", "'name' must be a string")
        arguments = function.get("arguments")
        require(
            arguments is None or type(arguments) is str,
            "tool_calls",
            "'arguments' must be a string",
        )
        call = self._calls.get(index)
        if call is None or (tool_call_id and tool_call_id != call.id):
            if call is not None:
                self._finish_call(call, out)
            call = _Call(tool_call_id or f"call_{index}", name or None)
            self._calls[index] = call
        elif name and call.name is None:
            call.name = name
        if not call.open:
            if arguments:
                self._warn_once("closed-args", "argument text after the call finished dropped")
            return
        if not call.begun and call.name is not None:
            call.begun = True
            out.append(ToolCallBeginChunk(call.id, call.name))
            if call.args:
                out.append(ToolCallDeltaChunk(call.id, "".join(call.args)))
                call.args.clear()
        if arguments:
            if call.begun:
                out.append(ToolCallDeltaChunk(call.id, arguments))
            else:
                call.args.append(arguments)

    def _finish_call(self, call: _Call, out: Out) -> None:
        if not call.open:
            return
        call.open = False
        if not call.begun:
            call.begun = True
            out.append(ToolCallBeginChunk(call.id, call.name or ""))
            if call.args:
                out.append(ToolCallDeltaChunk(call.id, "".join(call.args)))
        out.append(ToolCallArgsTextFinishChunk(call.id))

    def _finish_calls(self, out: Out) -> None:
        for call in self._calls.values():
            self._finish_call(call, out)

    def _flush_step(self, out: Out) -> None:
        if self._finish_reason is None and self._usage is None:
            return
        input_tokens, output_tokens = self._usage or (0, 0)
        out.append(StepFinishChunk(self._finish_reason or "unknown", input_tokens, output_tokens))
        self._finish_reason = None
        self._usage = None
        self._calls.clear()
