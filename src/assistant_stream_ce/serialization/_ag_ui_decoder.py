"""Decoder of AG-UI event streams (SSE) back into chunks."""

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
    ToolApprovalRequestChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    UpdateStateChunk,
)
from ..state import copy_json_value
from ._json_patch import PatchError, apply_patch, parse_pointer
from .decoding import (
    Malformed,
    SSEStreamDecoder,
    get_int,
    get_opt_str,
    get_str,
    loads,
    require,
    shape_error,
)
from .sse import SSEEvent

__all__ = ["EVENT_TYPES", "AGUIDecoder"]

_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError
_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError, RecursionError)
_JSON_CONTENT = "application/json"

Out = list[Any]

#: Every AG-UI event type (1.0, plus the legacy ``THINKING_*`` events the decoder translates).
EVENT_TYPES = frozenset(
    {
        "RUN_STARTED",
        "RUN_FINISHED",
        "RUN_ERROR",
        "STEP_STARTED",
        "STEP_FINISHED",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "TEXT_MESSAGE_CHUNK",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_CHUNK",
        "TOOL_CALL_RESULT",
        "REASONING_START",
        "REASONING_MESSAGE_START",
        "REASONING_MESSAGE_CONTENT",
        "REASONING_MESSAGE_END",
        "REASONING_MESSAGE_CHUNK",
        "REASONING_END",
        "REASONING_ENCRYPTED_VALUE",
        "STATE_SNAPSHOT",
        "STATE_DELTA",
        "MESSAGES_SNAPSHOT",
        "ACTIVITY_SNAPSHOT",
        "ACTIVITY_DELTA",
        "CUSTOM",
        "RAW",
        "SUBAGENT_STARTED",
        "SUBAGENT_FINISHED",
        "SUBAGENT_ERROR",
        "THINKING_START",
        "THINKING_END",
        "THINKING_TEXT_MESSAGE_START",
        "THINKING_TEXT_MESSAGE_CONTENT",
        "THINKING_TEXT_MESSAGE_END",
    }
)
# Events that leave an open chunk stream (``*_CHUNK``) open, as the client's expansion does.
_KEEP_CHUNK_OPEN = frozenset(
    {
        "RAW",
        "ACTIVITY_SNAPSHOT",
        "ACTIVITY_DELTA",
        "REASONING_ENCRYPTED_VALUE",
        "SUBAGENT_STARTED",
    }
)
_CHUNK_KINDS = {
    "TEXT_MESSAGE_CHUNK": ("TEXT_MESSAGE", "messageId"),
    "REASONING_MESSAGE_CHUNK": ("REASONING_MESSAGE", "messageId"),
    "TOOL_CALL_CHUNK": ("TOOL_CALL", "toolCallId"),
}


def _metadata(value: dict[str, Any], kind: str) -> dict[str, Any]:
    metadata = value.get("metadata")
    if metadata is None:
        return {}
    require(type(metadata) is dict, kind, "'metadata' must be an object")
    result: dict[str, Any] = metadata
    return result


def _delta(value: dict[str, Any], kind: str) -> str:
    delta: Any = value.get("delta")
    require(type(delta) is str, kind, "'delta' must be a string")
    text: str = delta
    return text


def _usage(value: dict[str, Any]) -> tuple[int, int]:
    usage = value.get("usage")
    if type(usage) is not list:
        return 0, 0
    items = [item for item in usage if type(item) is dict]
    return (
        sum(get_int(item, "inputTokens") for item in items),
        sum(get_int(item, "outputTokens") for item in items),
    )


class AGUIDecoder(SSEStreamDecoder):
    """Decode AG-UI SSE events into chunks.

    Text and reasoning messages become deltas (each reasoning message starts with a
    ``reasoning-part-start`` carrying ``metadata.summary``; ``metadata.parentId`` becomes the
    ``parent_id``); tool calls become begin / argument deltas / finish / result
    (``metadata.contentType: "application/json"`` content is parsed back, ``metadata.isError``
    and ``metadata.artifact`` restored); ``STATE_SNAPSHOT`` is a root ``set``; ``STATE_DELTA``
    patches are applied to a mirror of the state and become ``set`` operations; ``CUSTOM``
    ``source``/``file``/``data``/``annotations`` events become their chunks; ``STEP_FINISHED``
    with ``metadata.finishReason`` becomes a step finish; an ``interrupt`` outcome's interrupts
    about a tool call (``toolCallId``) become approval requests; ``RUN_ERROR`` an error. ``*_CHUNK``
    events are expanded and legacy ``THINKING_*`` events translated, as the client does; other
    events (messages snapshots, activities, raw, subagents) are skipped. Reading stops at
    ``RUN_FINISHED`` or ``RUN_ERROR``.

    Strict mode (default) raises `DecodeError` for a malformed event, an SSE ``event:`` name
    other than ``message``, a broken lifecycle (an event before ``RUN_STARTED``, content for a
    message, reasoning or tool call that is not open, a start for one that is, a step finished
    that was not started, ``RUN_FINISHED`` while anything is open) and a body that ends without
    a terminal event; lenient mode drops those with a warning once per kind. A patch that does
    not apply to the mirror is skipped with a warning in both modes (as the client does).
    """

    protocol = "ag-ui"
    missing_end = ("no-terminal", "the stream ended without RUN_FINISHED or RUN_ERROR")

    def reset(self) -> None:
        super().reset()
        self._started = False
        self._state: Any = None
        # open items: message id -> (parent id, is assistant text)
        self._texts: dict[str, tuple[str | None, bool]] = {}
        self._reasonings: dict[str, str | None] = {}
        self._spans: set[str] = set()
        self._tools: dict[str, bool] = {}  # tool call id -> arguments still open
        self._tool_ids: set[str] = set()
        self._steps: set[str] = set()
        self._steps_finished = False
        self._chunk_stream: tuple[str, str] | None = None  # (kind, id) of an open *_CHUNK
        self._thinking_title: str | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], Out], None]] = {
            "RUN_STARTED": self._run_started,
            "RUN_FINISHED": self._run_finished,
            "RUN_ERROR": self._run_error,
            "STEP_STARTED": self._step_started,
            "STEP_FINISHED": self._step_finished,
            "TEXT_MESSAGE_START": self._text_start,
            "TEXT_MESSAGE_CONTENT": self._text_content,
            "TEXT_MESSAGE_END": self._text_end,
            "REASONING_START": self._reasoning_span_start,
            "REASONING_END": self._reasoning_span_end,
            "REASONING_MESSAGE_START": self._reasoning_start,
            "REASONING_MESSAGE_CONTENT": self._reasoning_content,
            "REASONING_MESSAGE_END": self._reasoning_end,
            "TOOL_CALL_START": self._tool_start,
            "TOOL_CALL_ARGS": self._tool_args,
            "TOOL_CALL_END": self._tool_end,
            "TOOL_CALL_RESULT": self._tool_result,
            "STATE_SNAPSHOT": self._state_snapshot,
            "STATE_DELTA": self._state_delta,
            "CUSTOM": self._custom,
            "THINKING_START": self._thinking_start,
            "THINKING_END": self._thinking_end,
            "THINKING_TEXT_MESSAGE_START": self._thinking_message_start,
            "THINKING_TEXT_MESSAGE_CONTENT": self._thinking_content,
            "THINKING_TEXT_MESSAGE_END": self._thinking_message_end,
        }

    def _end(self, out: list[Any]) -> None:
        self._close_args(out)

    def _decode_events(self, events: list[SSEEvent]) -> list[Any]:
        out: list[Any] = []
        handlers = self._handlers
        for event in events:
            if self.done:
                break
            try:
                if event.event is not None and event.event != "message":
                    raise Malformed("event", f"unexpected SSE event type {event.event!r}")
                data = event.data
                value = loads(data)
                if type(value) is not dict:
                    raise Malformed("event", "an event must be a JSON object")
                kind: Any = value.get("type")
                require(type(kind) is str, "event", "'type' must be a string")
                if not self._started and kind not in ("RUN_STARTED", "RUN_ERROR"):
                    self._lifecycle(False, f"{kind} before RUN_STARTED")
                    self._started = True
                if kind in _CHUNK_KINDS:
                    self._expand_chunk(kind, value, out)
                    continue
                if self._chunk_stream is not None and kind not in _KEEP_CHUNK_OPEN:
                    self._end_chunk_stream(out)
                handler = handlers.get(kind)
                if handler is None:
                    self._unknown(kind)
                    continue
                handler(value, out)
            except Malformed as exc:
                self._fail(event.line, exc)
            except _SHAPE_ERRORS as exc:
                self._fail(event.line, shape_error("event", exc))
        return self._merge(out) if self.coalesce else out

    @staticmethod
    def _merge(out: list[Any]) -> list[Any]:
        """Join adjacent text, reasoning and argument deltas for the same target."""
        merged: list[Any] = []
        for chunk in out:
            if merged:
                last = merged[-1]
                kind = chunk.type
                if kind == last.type:
                    if kind == "text-delta" and chunk.parent_id == last.parent_id:
                        last.text_delta += chunk.text_delta
                        continue
                    if kind == "reasoning-delta" and chunk.parent_id == last.parent_id:
                        last.reasoning_delta += chunk.reasoning_delta
                        continue
                    if kind == "tool-call-delta" and chunk.tool_call_id == last.tool_call_id:
                        last.args_text_delta += chunk.args_text_delta
                        continue
            merged.append(chunk)
        return merged

    # -- lifecycle ---------------------------------------------------------------------------

    def _lifecycle(self, condition: bool, detail: str) -> None:
        """An ordering rule: strict mode raises, lenient mode warns once and reads on."""
        if not condition:
            if self.strict:
                raise Malformed("lifecycle", f"{self.protocol} lifecycle: {detail}")
            self._warn_once("lifecycle", detail)

    def _run_started(self, value: dict[str, Any], out: Out) -> None:
        get_str(value, "threadId", "RUN_STARTED")
        get_str(value, "runId", "RUN_STARTED")
        self._lifecycle(not self._started, "a second RUN_STARTED while the run is active")
        self._started = True

    def _finish_usage(self, value: dict[str, Any], reason: str, out: Out) -> None:
        """A step finish for run-level usage when no step reported any (other producers)."""
        input_tokens, output_tokens = _usage(value)
        if not self._steps_finished and (input_tokens or output_tokens):
            self._steps_finished = True
            out.append(StepFinishChunk(reason, input_tokens, output_tokens))

    def _run_finished(self, value: dict[str, Any], out: Out) -> None:
        get_str(value, "threadId", "RUN_FINISHED")
        get_str(value, "runId", "RUN_FINISHED")
        open_items = [*self._texts, *self._reasonings, *self._spans, *self._tools, *self._steps]
        self._lifecycle(
            not open_items, f"RUN_FINISHED while {', '.join(open_items)} are still open"
        )
        outcome = value.get("outcome")
        if isinstance(outcome, dict) and outcome.get("type") == "interrupt":
            # An interrupt about a tool call asks for its approval.
            for interrupt in outcome.get("interrupts") or ():
                if not isinstance(interrupt, dict):
                    continue
                tool_call_id, interrupt_id = interrupt.get("toolCallId"), interrupt.get("id")
                if isinstance(tool_call_id, str) and isinstance(interrupt_id, str):
                    out.append(ToolApprovalRequestChunk(tool_call_id, interrupt_id))
        self._finish_usage(value, "stop", out)
        self.done = True

    def _run_error(self, value: dict[str, Any], out: Out) -> None:
        message = get_str(value, "message", "RUN_ERROR")
        get_opt_str(value, "code", "RUN_ERROR")
        self._close_args(out)
        out.append(ErrorChunk(message))
        self._finish_usage(value, "error", out)
        self.done = True

    def _step_started(self, value: dict[str, Any], out: Out) -> None:
        name = get_str(value, "stepName", "STEP_STARTED")
        self._lifecycle(name not in self._steps, f"step {name!r} is already active")
        self._steps.add(name)
        if not _metadata(value, "STEP_STARTED").get("implicit"):
            out.append(StepStartChunk(name))

    def _step_finished(self, value: dict[str, Any], out: Out) -> None:
        name = get_str(value, "stepName", "STEP_FINISHED")
        self._lifecycle(name in self._steps, f"step {name!r} was not started")
        self._steps.discard(name)
        metadata = _metadata(value, "STEP_FINISHED")
        reason = metadata.get("finishReason")
        if type(reason) is not str:
            return
        continued = metadata.get("isContinued", False)
        require(type(continued) is bool, "STEP_FINISHED", "'isContinued' must be a boolean")
        usage = metadata.get("usage")
        self._steps_finished = True
        out.append(
            StepFinishChunk(
                reason, get_int(usage, "inputTokens"), get_int(usage, "outputTokens"), continued
            )
        )

    # -- text and reasoning ------------------------------------------------------------------

    def _text_start(self, value: dict[str, Any], out: Out) -> None:
        kind = "TEXT_MESSAGE_START"
        message_id = get_str(value, "messageId", kind)
        role = get_opt_str(value, "role", kind)
        parent_id = get_opt_str(_metadata(value, kind), "parentId", kind)
        self._lifecycle(message_id not in self._texts, f"text message {message_id!r} is open")
        assistant = role is None or role == "assistant"
        if not assistant:
            self._warn_once("role", f"text of {role} messages skipped (only assistant text)")
        self._texts[message_id] = (parent_id, assistant)

    def _text_content(self, value: dict[str, Any], out: Out) -> None:
        kind = "TEXT_MESSAGE_CONTENT"
        message_id = get_str(value, "messageId", kind)
        delta = _delta(value, kind)
        text = self._texts.get(message_id)
        self._lifecycle(text is not None, f"text message {message_id!r} is not open")
        if text is not None and delta and text[1]:
            out.append(TextDeltaChunk(delta, parent_id=text[0]))

    def _text_end(self, value: dict[str, Any], out: Out) -> None:
        message_id = get_str(value, "messageId", "TEXT_MESSAGE_END")
        self._lifecycle(message_id in self._texts, f"text message {message_id!r} is not open")
        self._texts.pop(message_id, None)

    def _reasoning_span_start(self, value: dict[str, Any], out: Out) -> None:
        message_id = get_str(value, "messageId", "REASONING_START")
        self._lifecycle(message_id not in self._spans, f"reasoning {message_id!r} is open")
        self._spans.add(message_id)

    def _reasoning_span_end(self, value: dict[str, Any], out: Out) -> None:
        message_id = get_str(value, "messageId", "REASONING_END")
        self._lifecycle(message_id in self._spans, f"reasoning {message_id!r} is not open")
        self._spans.discard(message_id)

    def _reasoning_start(self, value: dict[str, Any], out: Out) -> None:
        kind = "REASONING_MESSAGE_START"
        message_id = get_str(value, "messageId", kind)
        metadata = _metadata(value, kind)
        parent_id = get_opt_str(metadata, "parentId", kind)
        summary = get_opt_str(metadata, "summary", kind)
        self._lifecycle(
            message_id not in self._reasonings, f"reasoning message {message_id!r} is open"
        )
        self._reasonings[message_id] = parent_id
        out.append(ReasoningPartStartChunk(summary, parent_id=parent_id))

    def _reasoning_content(self, value: dict[str, Any], out: Out) -> None:
        kind = "REASONING_MESSAGE_CONTENT"
        message_id = get_str(value, "messageId", kind)
        delta = _delta(value, kind)
        self._lifecycle(
            message_id in self._reasonings, f"reasoning message {message_id!r} is not open"
        )
        if delta and message_id in self._reasonings:
            out.append(ReasoningDeltaChunk(delta, parent_id=self._reasonings[message_id]))

    def _reasoning_end(self, value: dict[str, Any], out: Out) -> None:
        message_id = get_str(value, "messageId", "REASONING_MESSAGE_END")
        self._lifecycle(
            message_id in self._reasonings, f"reasoning message {message_id!r} is not open"
        )
        self._reasonings.pop(message_id, None)

    # legacy THINKING_* (no ids): one reasoning message at a time
    def _thinking_start(self, value: dict[str, Any], out: Out) -> None:
        self._thinking_title = get_opt_str(value, "title", "THINKING_START")

    def _thinking_end(self, value: dict[str, Any], out: Out) -> None:
        self._thinking_title = None

    def _thinking_message_start(self, value: dict[str, Any], out: Out) -> None:
        out.append(ReasoningPartStartChunk(self._thinking_title))

    def _thinking_content(self, value: dict[str, Any], out: Out) -> None:
        delta = _delta(value, "THINKING_TEXT_MESSAGE_CONTENT")
        if delta:
            out.append(ReasoningDeltaChunk(delta))

    def _thinking_message_end(self, value: dict[str, Any], out: Out) -> None:
        pass

    # -- tool calls --------------------------------------------------------------------------

    def _tool_start(self, value: dict[str, Any], out: Out) -> None:
        kind = "TOOL_CALL_START"
        tool_call_id = get_str(value, "toolCallId", kind)
        name = get_str(value, "toolCallName", kind)
        get_opt_str(value, "parentMessageId", kind)
        parent_id = get_opt_str(_metadata(value, kind), "parentId", kind)
        if tool_call_id in self._tool_ids:
            raise Malformed("duplicate-tool", f"duplicate tool call id {tool_call_id!r}")
        self._tool_ids.add(tool_call_id)
        self._tools[tool_call_id] = True
        out.append(ToolCallBeginChunk(tool_call_id, name, parent_id=parent_id))

    def _tool_args(self, value: dict[str, Any], out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "TOOL_CALL_ARGS")
        delta = _delta(value, "TOOL_CALL_ARGS")
        self._lifecycle(tool_call_id in self._tools, f"tool call {tool_call_id!r} is not open")
        if delta and self._tools.get(tool_call_id):
            out.append(ToolCallDeltaChunk(tool_call_id, delta))

    def _tool_end(self, value: dict[str, Any], out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "TOOL_CALL_END")
        self._lifecycle(tool_call_id in self._tools, f"tool call {tool_call_id!r} is not open")
        if self._tools.pop(tool_call_id, False):
            out.append(ToolCallArgsTextFinishChunk(tool_call_id))

    def _close_args(self, out: Out) -> None:
        for tool_call_id, args_open in self._tools.items():
            if args_open:
                out.append(ToolCallArgsTextFinishChunk(tool_call_id))
        self._tools.clear()

    def _tool_result(self, value: dict[str, Any], out: Out) -> None:
        kind = "TOOL_CALL_RESULT"
        get_str(value, "messageId", kind)
        tool_call_id = get_str(value, "toolCallId", kind)
        content = value.get("content")
        require(type(content) in (str, list), kind, "'content' must be a string or an array")
        metadata = _metadata(value, kind)
        result: Any = content
        if metadata.get("contentType") == _JSON_CONTENT and type(content) is str:
            try:
                result = loads(content)
            except Malformed:
                result = content
        is_error = metadata.get("isError", False)
        require(type(is_error) is bool, kind, "'metadata.isError' must be a boolean")
        if self._tools.pop(tool_call_id, False):
            out.append(ToolCallArgsTextFinishChunk(tool_call_id))
        out.append(ToolResultChunk(tool_call_id, result, metadata.get("artifact"), is_error))

    # -- *_CHUNK events (expanded as the client does) ------------------------------------------

    def _expand_chunk(self, kind: str, value: dict[str, Any], out: Out) -> None:
        base, id_key = _CHUNK_KINDS[kind]
        item_id = get_opt_str(value, id_key, kind)
        delta = get_opt_str(value, "delta", kind)
        stream = self._chunk_stream
        if stream is None or stream[0] != base or (item_id is not None and item_id != stream[1]):
            if stream is not None:
                self._end_chunk_stream(out)
            require(item_id is not None, kind, f"the first {kind} must carry '{id_key}'")
            assert item_id is not None
            start: dict[str, Any] = {"type": base + "_START", id_key: item_id}
            if base == "TOOL_CALL":
                start["toolCallName"] = get_str(value, "toolCallName", kind)
                start["parentMessageId"] = get_opt_str(value, "parentMessageId", kind)
            elif base == "TEXT_MESSAGE":
                start["role"] = get_opt_str(value, "role", kind)
            else:
                start["role"] = "reasoning"
            if "metadata" in value:
                start["metadata"] = value["metadata"]
            self._handlers[base + "_START"](start, out)
            self._chunk_stream = stream = (base, item_id)
        if delta is not None:
            content = "_ARGS" if base == "TOOL_CALL" else "_CONTENT"
            self._handlers[base + content]({id_key: stream[1], "delta": delta}, out)

    def _end_chunk_stream(self, out: Out) -> None:
        stream = self._chunk_stream
        if stream is None:
            return
        self._chunk_stream = None
        base, item_id = stream
        id_key = "toolCallId" if base == "TOOL_CALL" else "messageId"
        self._handlers[base + "_END"]({id_key: item_id}, out)

    # -- state, custom -----------------------------------------------------------------------

    def _state_snapshot(self, value: dict[str, Any], out: Out) -> None:
        require("snapshot" in value, "STATE_SNAPSHOT", "'snapshot' is missing")
        snapshot = value["snapshot"]
        self._state = copy_json_value(snapshot)
        out.append(UpdateStateChunk([{"type": "set", "path": [], "value": snapshot}]))

    def _state_delta(self, value: dict[str, Any], out: Out) -> None:
        delta: Any = value.get("delta")
        require(type(delta) is list, "STATE_DELTA", "'delta' must be an array")
        operations: list[Any] = []
        for operation in delta:
            require(type(operation) is dict, "STATE_DELTA", "a patch operation must be an object")
            op = operation.get("op")
            try:
                path = parse_pointer(operation.get("path"))
                if op in ("move", "copy"):
                    parse_pointer(operation.get("from"))
            except PatchError as exc:
                raise Malformed("STATE_DELTA", f"STATE_DELTA: {exc}") from None
            require(
                op in ("add", "remove", "replace", "move", "copy", "test"),
                "STATE_DELTA",
                f"unknown patch operation {op!r}",
            )
            require(
                op not in ("add", "replace", "test") or "value" in operation,
                "STATE_DELTA",
                f"{op}: 'value' is missing",
            )
            before = self._state
            try:
                self._state = apply_patch(
                    {} if before is None else copy_json_value(before), [operation]
                )
            except PatchError as exc:
                self._warn_once("patch", f"a state patch that does not apply was skipped ({exc})")
                if op in ("add", "replace") and path:
                    operations.append({"type": "set", "path": path, "value": operation["value"]})
                continue
            if op == "test":
                continue
            set_path = _set_path(before, op, path) if op in ("add", "replace") else None
            if set_path is not None:
                operations.append({"type": "set", "path": set_path, "value": operation["value"]})
            else:
                operations.append(
                    {"type": "set", "path": [], "value": copy_json_value(self._state)}
                )
        if operations:
            out.append(UpdateStateChunk(operations))

    def _custom(self, value: dict[str, Any], out: Out) -> None:
        kind = "CUSTOM"
        name = get_str(value, "name", kind)
        require("value" in value, kind, "'value' is missing")
        item = value["value"]
        if name == "source":
            parent_id = get_opt_str(item, "parentId", "CUSTOM source")
            out.append(
                SourceChunk(
                    get_str(item, "id", "CUSTOM source"),
                    get_str(item, "url", "CUSTOM source"),
                    get_opt_str(item, "sourceType", "CUSTOM source") or "url",
                    get_opt_str(item, "title", "CUSTOM source"),
                    parent_id=parent_id,
                )
            )
        elif name == "file":
            out.append(
                FileChunk(
                    get_str(item, "data", "CUSTOM file"),
                    get_str(item, "mimeType", "CUSTOM file"),
                    parent_id=get_opt_str(item, "parentId", "CUSTOM file"),
                )
            )
        elif name == "data":
            out.append(DataChunk(item))
        elif name == "annotations":
            require(type(item) is list, kind, "annotations must be an array")
            out.append(AnnotationsChunk(item))
        else:
            self._unknown(f"CUSTOM:{name}")


def _set_path(state: Any, op: str, path: list[str]) -> list[str] | None:
    """The path at which an applied ``add``/``replace`` is a ``set`` (None: an array insert,
    or the root, which is sent as a snapshot of the new state)."""
    if not path:
        return None
    node = {} if state is None else state
    for key in path[:-1]:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.isascii() and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    if isinstance(node, dict):
        return path
    if not isinstance(node, list):
        return None
    key = path[-1]
    index = len(node) if key == "-" else int(key)
    if op == "replace" or index == len(node):
        return [*path[:-1], str(index)]
    return None
