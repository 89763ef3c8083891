"""Decoder of the assistant-ui data stream (``<code>:<JSON>`` lines) back into chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ..assistant_stream_chunk import (
    AnnotationsChunk,
    DataChunk,
    ErrorChunk,
    FileChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    UpdateStateChunk,
)
from .decoding import (
    Malformed,
    StreamDecoder,
    check_operations,
    get_int,
    get_opt_str,
    get_str,
    loads,
    require,
    shape_error,
)
from .sse import LineReader

__all__ = ["DataStreamDecoder"]

_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError

_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError)
_QUIET_FINISH_REASONS = ("stop", "tool-calls", "unknown")

Out = list[Any]


def _usage(value: dict[str, Any]) -> tuple[int, int]:
    usage = value.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    if "inputTokens" in usage or "outputTokens" in usage:
        return get_int(usage, "inputTokens"), get_int(usage, "outputTokens")
    return get_int(usage, "promptTokens"), get_int(usage, "completionTokens")


def delta_chunk(prefix: str, text: str) -> Any:
    """The chunk of a ``0:`` (text) or ``g:`` (reasoning) frame."""
    return TextDeltaChunk(text) if prefix == "0:" else ReasoningDeltaChunk(text)


class DataStreamDecoder(StreamDecoder):
    """Decode the assistant-ui data stream (and the AI SDK v4 data stream it extends).

    Every frame maps back to the chunk the encoder wrote it for; ``9`` (v4 complete tool call)
    becomes begin/arguments/finish chunks; ``i``/``j`` (v4 redacted reasoning and signatures)
    and ``aui-data`` parts are skipped. The message-finish frame ``d`` carries nothing a chunk
    needs when steps were reported; a stream without ``e`` frames gets one step-finish chunk
    from it when it reports usage or an unusual finish reason.

    Strict mode (default) raises `DecodeError` for a malformed line, a duplicate tool call id,
    argument text or a result for an unknown call, and a body that does not end with a line
    end; lenient mode drops those with a warning once per kind.
    """

    protocol = "data stream"

    def reset(self) -> None:
        super().reset()
        self._lines = LineReader(self.protocol)
        # tool call id -> whether its argument text is still open
        self._tools: dict[str, bool] = {}
        self._steps_finished = False
        self._handlers: dict[str, Callable[[Any, Out], None]] = {
            "g": self._reasoning,
            "aui-text-delta": self._parented_text,
            "aui-reasoning-delta": self._parented_reasoning,
            "aui-reasoning-part-start": self._reasoning_part_start,
            "b": self._tool_call_begin,
            "c": self._tool_call_delta,
            "9": self._tool_call,
            "a": self._tool_result,
            "h": self._source,
            "k": self._file,
            "2": self._data,
            "8": self._annotations,
            "aui-state": self._state,
            "3": self._error,
            "f": self._step_start,
            "e": self._step_finish,
            "d": self._message_finish,
            "i": self._ignore,
            "j": self._ignore,
            "aui-data": self._ignore,
        }

    def _feed(self, data: bytes) -> list[Any]:
        lines = self._lines.feed(data)
        return self._decode_lines(lines, self._lines.line_count - len(lines)) if lines else []

    def _close(self) -> list[Any]:
        out: list[Any] = []
        tail = self._lines.close()
        if tail is not None:
            line = self._lines.line_count + 1
            if tail.strip():
                self._fail(line, Malformed("incomplete", "the stream ended inside a line"))
                out += self._decode_lines([tail], line - 1)
        for tool_call_id, args_open in self._tools.items():
            if args_open:
                out.append(ToolCallArgsTextFinishChunk(tool_call_id))
        self._tools.clear()
        return out

    def _decode_lines(self, lines: list[str], base: int) -> list[Any]:
        out: list[Any] = []
        append = out.append
        handlers = self._handlers
        orjson_loads = _orjson_loads
        coalesce = self.coalesce
        # adjacent plain text ("0:") or reasoning ("g:") deltas not yet turned into a chunk
        texts: list[str] = []
        texts_kind = ""
        for index, line in enumerate(lines):
            code = ""
            try:
                prefix = line[:2]
                if prefix == "0:" or prefix == "g:":  # text and reasoning: most frames
                    try:
                        value = orjson_loads(line[2:])
                    except _OrjsonError:
                        value = loads(line[2:])
                    if type(value) is not str:
                        raise Malformed(prefix, f"'{prefix[0]}' frame must hold a string")
                    if not value:
                        continue
                    if not coalesce:
                        append(delta_chunk(prefix, value))
                    elif prefix == texts_kind:
                        texts.append(value)
                    else:
                        if texts:
                            append(delta_chunk(texts_kind, "".join(texts)))
                        texts_kind = prefix
                        texts = [value]
                    continue
                if not line:
                    continue  # keepalive
                if texts:
                    append(delta_chunk(texts_kind, "".join(texts)))
                    texts = []
                    texts_kind = ""
                code, sep, payload = line.partition(":")
                handler = handlers.get(code)
                if handler is None:
                    if not sep:
                        raise Malformed("line", f"not a '<code>:<JSON>' frame: {line[:40]!r}")
                    self._unknown(code)
                    continue
                handler(loads(payload), out)
            except Malformed as exc:
                self._fail(base + index + 1, exc)
            except _SHAPE_ERRORS as exc:
                self._fail(base + index + 1, shape_error(code, exc))
        if texts:
            append(delta_chunk(texts_kind, "".join(texts)))
        return out

    # -- frames ----------------------------------------------------------------------------

    @staticmethod
    def _ignore(value: Any, out: Out) -> None:
        return None

    @staticmethod
    def _reasoning(value: Any, out: Out) -> None:
        require(type(value) is str, "g", "must hold a string")
        if value:
            out.append(ReasoningDeltaChunk(value))

    @staticmethod
    def _parented_text(value: Any, out: Out) -> None:
        text = get_str(value, "textDelta", "aui-text-delta")
        if text:
            out.append(
                TextDeltaChunk(text, parent_id=get_opt_str(value, "parentId", "aui-text-delta"))
            )

    @staticmethod
    def _parented_reasoning(value: Any, out: Out) -> None:
        kind = "aui-reasoning-delta"
        text = get_str(value, "reasoningDelta", kind)
        if text:
            out.append(ReasoningDeltaChunk(text, parent_id=get_opt_str(value, "parentId", kind)))

    @staticmethod
    def _reasoning_part_start(value: Any, out: Out) -> None:
        kind = "aui-reasoning-part-start"
        require(type(value) is dict, kind, "must hold an object")
        out.append(
            ReasoningPartStartChunk(
                get_opt_str(value, "unstable_summary", kind),
                parent_id=get_opt_str(value, "parentId", kind),
            )
        )

    def _tool_call_begin(self, value: Any, out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "b")
        tool_name = get_str(value, "toolName", "b")
        if tool_call_id in self._tools:
            raise Malformed("duplicate-tool", f"duplicate tool call id {tool_call_id!r}")
        self._tools[tool_call_id] = True
        out.append(
            ToolCallBeginChunk(
                tool_call_id, tool_name, parent_id=get_opt_str(value, "parentId", "b")
            )
        )

    def _known_tool(self, tool_call_id: str, code: str) -> bool:
        """Whether the call's arguments are open; `Malformed` for an unknown call."""
        args_open = self._tools.get(tool_call_id)
        if args_open is None:
            raise Malformed(
                "unknown-tool", f"{code!r} frame for unknown tool call {tool_call_id!r}"
            )
        return args_open

    def _tool_call_delta(self, value: Any, out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "c")
        delta = get_str(value, "argsTextDelta", "c")
        final = value.get("isFinal")
        require(final is None or type(final) is bool, "c", "'isFinal' must be a boolean")
        if not self._known_tool(tool_call_id, "c"):
            self._warn_once("closed-args", "argument text after the arguments were closed dropped")
            return
        if final:
            self._tools[tool_call_id] = False
            out.append(ToolCallArgsTextFinishChunk(tool_call_id, delta))
        elif delta:
            out.append(ToolCallDeltaChunk(tool_call_id, delta))

    def _tool_call(self, value: Any, out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "9")
        tool_name = get_str(value, "toolName", "9")
        args_open = self._tools.get(tool_call_id)
        if args_open is None:
            args = value.get("args", {})
            out.append(ToolCallBeginChunk(tool_call_id, tool_name))
            out.append(ToolCallArgsTextFinishChunk(tool_call_id, orjson.dumps(args).decode()))
            self._tools[tool_call_id] = False
        elif args_open:
            self._tools[tool_call_id] = False
            out.append(ToolCallArgsTextFinishChunk(tool_call_id))

    def _tool_result(self, value: Any, out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "a")
        require("result" in value, "a", "'result' is missing")
        is_error = value.get("isError", False)
        require(type(is_error) is bool, "a", "'isError' must be a boolean")
        self._known_tool(tool_call_id, "a")
        self._tools[tool_call_id] = False
        out.append(ToolResultChunk(tool_call_id, value["result"], value.get("artifact"), is_error))

    @staticmethod
    def _source(value: Any, out: Out) -> None:
        out.append(
            SourceChunk(
                get_str(value, "id", "h"),
                get_str(value, "url", "h"),
                get_opt_str(value, "sourceType", "h") or "url",
                get_opt_str(value, "title", "h"),
                parent_id=get_opt_str(value, "parentId", "h"),
            )
        )

    @staticmethod
    def _file(value: Any, out: Out) -> None:
        out.append(
            FileChunk(
                get_str(value, "data", "k"),
                get_str(value, "mimeType", "k"),
                parent_id=get_opt_str(value, "parentId", "k"),
            )
        )

    @staticmethod
    def _data(value: Any, out: Out) -> None:
        require(type(value) is list, "2", "must hold an array")
        out.extend(DataChunk(item) for item in value)

    @staticmethod
    def _annotations(value: Any, out: Out) -> None:
        require(type(value) is list, "8", "must hold an array")
        out.append(AnnotationsChunk(value))

    @staticmethod
    def _state(value: Any, out: Out) -> None:
        out.append(UpdateStateChunk(check_operations(value, "aui-state")))

    def _error(self, value: Any, out: Out) -> None:
        require(type(value) is str, "3", "must hold a string")
        self._close_args(out)
        out.append(ErrorChunk(value))

    @staticmethod
    def _step_start(value: Any, out: Out) -> None:
        out.append(StepStartChunk(get_str(value, "messageId", "f")))

    def _close_args(self, out: Out) -> None:
        tools = self._tools
        for tool_call_id, args_open in tools.items():
            if args_open:
                tools[tool_call_id] = False
                out.append(ToolCallArgsTextFinishChunk(tool_call_id))

    def _step_finish(self, value: Any, out: Out) -> None:
        reason = get_str(value, "finishReason", "e")
        continued = value.get("isContinued", False)
        require(type(continued) is bool, "e", "'isContinued' must be a boolean")
        self._close_args(out)
        self._steps_finished = True
        input_tokens, output_tokens = _usage(value)
        out.append(StepFinishChunk(reason, input_tokens, output_tokens, continued))

    def _message_finish(self, value: Any, out: Out) -> None:
        reason = get_str(value, "finishReason", "d")
        self._close_args(out)
        if self._steps_finished:
            return
        input_tokens, output_tokens = _usage(value)
        if input_tokens or output_tokens or reason not in _QUIET_FINISH_REASONS:
            self._steps_finished = True
            out.append(StepFinishChunk(reason, input_tokens, output_tokens))
