"""AG-UI 1.0: SSE of typed events, read by ``@ag-ui/client``'s ``HttpAgent`` (and CopilotKit).

Every event is one ``data: <json>`` line, camelCase, optional fields left out (never ``null``):

- ``RUN_STARTED {threadId, runId, protocolVersion: "1.0"}`` first, then ``STATE_SNAPSHOT`` of
  the run's initial state when there is one.
- Text: ``TEXT_MESSAGE_START {messageId, role: "assistant"}`` / ``_CONTENT {delta}`` (never
  empty) / ``_END``, a fresh message id per text part.
- Reasoning: ``REASONING_START`` + ``REASONING_MESSAGE_START {role: "reasoning"}`` /
  ``_CONTENT`` / ``REASONING_MESSAGE_END`` + ``REASONING_END`` (one id for the span and its
  message; a reasoning summary travels in the start's ``metadata.summary``).
- Tool calls: ``TOOL_CALL_START {toolCallId, toolCallName, parentMessageId}`` (the current
  text message of the step, else an assistant message id of the step's own), at least one
  ``TOOL_CALL_ARGS`` (``"{}"`` for a call without argument text), ``TOOL_CALL_END``; a result is
  ``TOOL_CALL_RESULT {messageId (new), toolCallId, content, role: "tool"}`` whose ``content`` is
  the result itself when it is a string, else its JSON (``metadata.contentType:
  "application/json"``), with ``metadata.isError`` / ``metadata.artifact`` when set.
- State: a root ``set`` is a ``STATE_SNAPSHOT``; every other operation is one RFC 6902
  operation of a ``STATE_DELTA`` (``add`` for a new member or an append, ``replace`` for an
  existing one, ``append-text`` as a ``replace`` of the whole new string), computed against a
  mirror of the state kept with `assistant_stream_ce.state.apply_operation`.
- Steps: ``STEP_STARTED``/``STEP_FINISHED`` paired by name (the step's message id); the finish
  reason and usage travel in ``STEP_FINISHED.metadata``. Sources, files, data and annotations
  are ``CUSTOM {name: "source"|"file"|"data"|"annotations", value}``. A ``parent_id`` travels in
  the start events' ``metadata.parentId`` (and in source/file values).
- Exactly one terminal event, and nothing after it: ``RUN_FINISHED {threadId, runId, outcome,
  usage?}`` after closing every open message, reasoning, tool call and step (``outcome.
  pendingToolCallIds`` names calls left without a result; calls waiting for approval make it
  ``{type: "interrupt", interrupts: [{id, reason: "tool_approval", message, toolCallId}]}``,
  answered by the next request's ``resume``; a cancelled run's outcome is
  ``{type: "cancelled"}``), or ``RUN_ERROR {message, usage?}``
  for an error chunk (AG-UI errors end the run; parts are closed first). Keepalive: ``:
  keep-alive`` comment.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any

import orjson

from .._json import dumps, dumps_text, escape_line_separators
from ..assistant_stream_chunk import AssistantStreamChunk, chunk_methods
from ..errors import SerializationError
from ..state import StateOperationError, apply_operation, copy_json_value
from ._json_patch import state_patch
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .parts import PartListener, PartMachine, Segment, ToolCall, without_continued_inputs
from .registry import CAPABILITIES, ProtocolInfo, register_protocol
from .sse import DATA_PREFIX, EVENT_END, sse_comment, sse_data
from .stream_encoder import INTERNAL_ERROR, MessageTotals, StreamEncoder

__all__ = ["PROTOCOL_VERSION", "AGUIDecoder", "AGUIEncoder", "AGUIResponse"]

logger = logging.getLogger("assistant_stream_ce.serialization")

#: The AG-UI protocol version this encoder speaks (``RUN_STARTED.protocolVersion``).
PROTOCOL_VERSION = "1.0"
#: ``TOOL_CALL_RESULT.metadata.contentType`` when ``content`` is the JSON of a non-string result.
JSON_CONTENT = "application/json"

_EMPTY_ARGS = b'"{}"'
_orjson_dumps = orjson.dumps
_OrjsonError = orjson.JSONEncodeError
_CLOSE = b"}" + EVENT_END


def _new_id() -> str:
    return str(uuid.uuid4())


#: ``tag_parent`` while no text message is open in `AGUIEncoder.encode_frames` (unequal to
#: every parent id, None included).
_NO_TAG: Any = object()
#: Between two strings of a JSON array of strings (see `_text_frames`).
_SEPARATOR = b'","'
_ESCAPED_SEPARATOR = b'\\","'
#: Never in an encoded frame (JSON escapes every control character): where frames are cut.
_CUT = b"\0"
_QUOTE_CLOSE = b'"' + _CLOSE


def _text_frames(out: list[bytes], tag: bytes, texts: list[Any]) -> None:
    """Append one content frame per text (truthy) to ``out``: ``tag`` + the text's JSON +
    ``}`` + the event end.

    Several strings are encoded as one JSON array whose separators become frame boundaries.
    Inside a JSON string a ``"`` is always escaped (``\\"``), so a ``","`` whose quote has no
    backslash before it is structural (a string's closing quote, the comma, the next one's
    opening quote). Without any ``\\","`` in the array's JSON, the array without its ``["``
    and ``"]``, with every ``","`` replaced by ``"`` + the frame end + a cut + ``tag`` + ``"``,
    cuts into the frames (the first one still without its ``tag`` + ``"``, the last without
    its ``"`` + frame end): one allocation per frame, no per-text call. Anything else (a value
    that is not a string, a lone surrogate, a ``\\","``) takes the one-text-at-a-time way.
    """
    if len(texts) > 1:
        try:
            "".join(texts)  # every item a str (subclasses too, which orjson writes alike)
            data = _orjson_dumps(texts)
        except (TypeError, _OrjsonError):
            pass
        else:
            if _ESCAPED_SEPARATOR not in data and _CUT not in tag:
                if not data.isascii():
                    data = escape_line_separators(data)
                head = tag + b'"'
                frames = data[2:-2].replace(_SEPARATOR, _QUOTE_CLOSE + _CUT + head).split(_CUT)
                frames[0] = head + frames[0]
                frames[-1] += _QUOTE_CLOSE
                out += frames
                return
    emit = out.append
    for text in texts:
        try:
            data = _orjson_dumps(text)
        except _OrjsonError:
            data = dumps_text(text)
        if not data.isascii():
            data = escape_line_separators(data)
        emit(tag + data + _CLOSE)


class AGUIEncoder(StreamEncoder, PartListener):
    """Encoder for AG-UI 1.0 (see the module docs).

    ``thread_id`` / ``run_id``: the request's ids (generated when absent); ``state``: the run's
    initial state (what the client holds; sent as the first ``STATE_SNAPSHOT`` and the base of
    every ``STATE_DELTA``). ``continued_tool_calls``: ids of calls the client already holds
    (``[a.tool_call_id for a in request.answers]``); a run that sends such a call again (an
    approved call running) writes only its ``TOOL_CALL_RESULT``.
    """

    media_type = "text/event-stream"
    keepalive = sse_comment("keep-alive")

    def __init__(
        self,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        state: Any = None,
        continued_tool_calls: Iterable[str] = (),
    ) -> None:
        self.thread_id = thread_id if thread_id is not None else _new_id()
        self.run_id = run_id if run_id is not None else _new_id()
        self._initial_state = copy_json_value(state)
        self._state: Any = copy_json_value(state)
        self._parts = PartMachine(self)
        self._totals = MessageTotals()
        self._out: list[bytes] = []
        self._started = False
        self._closed = False
        self._cancelled = False
        # Calls waiting for approval: RUN_FINISHED's outcome becomes an interrupt.
        self._interrupts: list[dict[str, Any]] = []
        #: Whether the client's state came from a snapshot (else it is the client's own {}).
        self._snapshot = False
        # ids: one random prefix per stream, then a counter (unique across a thread's runs)
        self._prefix = uuid.uuid4().hex[:16]
        self._count = 0
        #: The assistant message tool calls attach to (the step's last text message).
        self._message_id: str | None = None
        #: The open step's name.
        self._step: str | None = None
        # Calls the client already holds (an answered call sent again): only their result is
        # written (the client would append a repeated call's arguments to the ones it has).
        self._continued = frozenset(continued_tool_calls)

    @property
    def closed(self) -> bool:
        return self._closed

    def run_cancelled(self) -> None:
        """The run was cancelled: ``RUN_FINISHED`` says ``outcome: {type: "cancelled"}``."""
        self._cancelled = True

    def _id(self, kind: str) -> str:
        self._count += 1
        return f"{kind}_{self._prefix}_{self._count}"

    # -- the encoder interface -------------------------------------------------------------

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        out = self._out = []
        if self._closed:
            return out
        chunks = without_continued_inputs(chunks, self._continued)
        if not self._started:
            self._start()
        handlers = chunk_methods(self.__class__)
        parts = self._parts
        # While only text deltas come: the open text message's frame template, its parent
        # (_NO_TAG: none open here yet) and the texts not yet framed, framed all at once.
        tag: bytes = b""
        tag_parent: Any = _NO_TAG
        texts: list[Any] = []
        for chunk in chunks:
            if chunk.type == "text-delta":  # the hot path: collect the text, frame it later
                text = chunk.text_delta
                if text:
                    parent = chunk.parent_id
                    if parent is not tag_parent and parent != tag_parent:
                        if texts:
                            _text_frames(out, tag, texts)
                            texts = []
                        segment = parts.segment
                        if segment is None or segment.kind != "text" or segment.parent_id != parent:
                            segment = parts.start_segment("text", parent)
                        tag, tag_parent = segment.tag, parent
                    texts.append(text)
                continue
            if texts:  # every frame so far goes out before this chunk's
                _text_frames(out, tag, texts)
                texts = []
            tag_parent = _NO_TAG  # any other chunk may close the text message
            kind = chunk.type
            handler = handlers.get(kind)
            if handler is None:
                logger.debug("ag-ui: no event for chunk type %r", kind)
                continue
            try:
                handler(self, chunk)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._run_error(str(exc))
            if self.closed:
                break
        if texts:
            _text_frames(out, tag, texts)
        return out

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        out = self._out = []
        if self._closed:
            return out
        if not self._started:
            self._start()
        if failed:
            self._run_error(INTERNAL_ERROR)
            return out
        self._close_all()
        value: dict[str, Any] = {
            "type": "RUN_FINISHED",
            "threadId": self.thread_id,
            "runId": self.run_id,
        }
        pending = [tool.id for tool in self._parts.tools.values() if not tool.answered]
        if self._cancelled:
            value["outcome"] = {"type": "cancelled"}
        elif self._interrupts:
            value["outcome"] = {"type": "interrupt", "interrupts": self._interrupts}
        elif pending:
            value["outcome"] = {"type": "success", "pendingToolCallIds": pending}
        else:
            value["outcome"] = {"type": "success"}
        usage = self._usage()
        if usage is not None:
            value["usage"] = usage
        out.append(sse_data(dumps(value, "RUN_FINISHED")))
        self._closed = True
        return out

    # -- lifecycle -------------------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        self._event(
            {
                "type": "RUN_STARTED",
                "threadId": self.thread_id,
                "runId": self.run_id,
                "protocolVersion": PROTOCOL_VERSION,
            }
        )
        if self._initial_state is not None:
            self._snapshot = True
            self._event({"type": "STATE_SNAPSHOT", "snapshot": self._initial_state})

    def _event(self, value: dict[str, Any]) -> None:
        self._out.append(sse_data(dumps(value, value["type"])))

    def _usage(self) -> list[dict[str, int]] | None:
        totals = self._totals
        if not totals.usage_reported:
            return None
        return [
            {
                "inputTokens": totals.input_tokens,
                "outputTokens": totals.output_tokens,
                "totalTokens": totals.input_tokens + totals.output_tokens,
            }
        ]

    def _close_all(self) -> None:
        """Close the open text or reasoning message, every call's arguments, and the step."""
        self._parts.close_all()
        if self._step is not None:
            self._event({"type": "STEP_FINISHED", "stepName": self._step})
            self._step = None

    def _run_error(self, message: str) -> None:
        self._close_all()
        value: dict[str, Any] = {"type": "RUN_ERROR", "message": message}
        usage = self._usage()
        if usage is not None:
            value["usage"] = usage
        self._event(value)
        self._closed = True

    # -- parts (the part machine's listener) ------------------------------------------------

    def segment_opened(self, segment: Segment) -> None:
        message_id = segment.id = self._id("msg" if segment.kind == "text" else "reasoning")
        metadata: dict[str, Any] = {}
        if segment.parent_id is not None:
            metadata["parentId"] = segment.parent_id
        if segment.kind == "text":
            self._message_id = message_id
            start: dict[str, Any] = {
                "type": "TEXT_MESSAGE_START",
                "messageId": message_id,
                "role": "assistant",
            }
            if metadata:
                start["metadata"] = metadata
            self._event(start)
            content = b"TEXT_MESSAGE_CONTENT"
        else:
            if segment.summary is not None:
                metadata["summary"] = segment.summary
            self._event({"type": "REASONING_START", "messageId": message_id})
            start = {
                "type": "REASONING_MESSAGE_START",
                "messageId": message_id,
                "role": "reasoning",
            }
            if metadata:
                start["metadata"] = metadata
            self._event(start)
            content = b"REASONING_MESSAGE_CONTENT"
        segment.tag = (
            DATA_PREFIX
            + b'{"type":"'
            + content
            + b'","messageId":"'
            + message_id.encode()
            + b'","delta":'
        )

    def segment_closed(self, segment: Segment) -> None:
        message_id = segment.id
        if segment.kind == "text":
            self._event({"type": "TEXT_MESSAGE_END", "messageId": message_id})
        else:
            self._event({"type": "REASONING_MESSAGE_END", "messageId": message_id})
            self._event({"type": "REASONING_END", "messageId": message_id})

    def tool_opened(self, tool: ToolCall) -> None:
        if self._message_id is None:
            self._message_id = self._id("msg")
        start: dict[str, Any] = {
            "type": "TOOL_CALL_START",
            "toolCallId": tool.id,
            "toolCallName": tool.name,
            "parentMessageId": self._message_id,
        }
        if tool.parent_id is not None:
            start["metadata"] = {"parentId": tool.parent_id}
        self._event(start)
        tool.tag = (
            DATA_PREFIX
            + b'{"type":"TOOL_CALL_ARGS","toolCallId":'
            + dumps_text(tool.id)
            + b',"delta":'
        )

    def args_closed(self, tool: ToolCall, last_text: str) -> None:
        out = self._out
        if last_text:
            out.append(tool.tag + dumps_text(last_text) + _CLOSE)
        elif not tool.has_args:
            out.append(tool.tag + _EMPTY_ARGS + _CLOSE)
        self._event({"type": "TOOL_CALL_END", "toolCallId": tool.id})

    # -- handlers ----------------------------------------------------------------------------

    def _reasoning_delta(self, chunk: Any) -> None:
        text = chunk.reasoning_delta
        if text:
            segment = self._parts.segment_for("reasoning", chunk.parent_id)
            self._out.append(segment.tag + dumps_text(text) + _CLOSE)

    def _reasoning_part_start(self, chunk: Any) -> None:
        self._parts.start_segment("reasoning", chunk.parent_id, chunk.unstable_summary)

    def _tool_call_begin(self, chunk: Any) -> None:
        if chunk.tool_call_id in self._parts.tools:
            logger.warning("ag-ui: duplicate tool call id %r dropped", chunk.tool_call_id)
            return
        self._parts.begin_tool(chunk.tool_call_id, chunk.tool_name, chunk.parent_id)

    def _tool_call_delta(self, chunk: Any) -> None:
        text = chunk.args_text_delta
        tool = self._parts.args_delta(chunk.tool_call_id, text)
        if tool is None:
            logger.warning("ag-ui: argument text for a closed or unknown tool call dropped")
            return
        if text:
            self._out.append(tool.tag + dumps_text(text) + _CLOSE)

    def _tool_call_args_text_finish(self, chunk: Any) -> None:
        self._parts.finish_args(chunk.tool_call_id, chunk.args_text_delta)

    def _tool_approval_request(self, chunk: Any) -> None:
        # Answered by the client's ``resume: [{interruptId, status, payload}]``.
        self._interrupts.append(
            {
                "id": chunk.approval_id,
                "reason": "tool_approval",
                "message": "This tool call needs your approval.",
                "toolCallId": chunk.tool_call_id,
            }
        )

    def _tool_result(self, chunk: Any) -> None:
        tool = self._parts.tools.get(chunk.tool_call_id)
        continued = tool is None and chunk.tool_call_id in self._continued
        if tool is None and not continued:
            logger.warning(
                "ag-ui: result for unknown tool call %r dropped (no tool-call-begin)",
                chunk.tool_call_id,
            )
            return
        result = chunk.result
        metadata: dict[str, Any] = {}
        if result.__class__ is str:
            content = result
        else:
            content = dumps(result, chunk.type).decode()
            metadata["contentType"] = JSON_CONTENT
        if chunk.is_error:
            metadata["isError"] = True
        if chunk.artifact is not None:
            metadata["artifact"] = chunk.artifact
        value: dict[str, Any] = {
            "type": "TOOL_CALL_RESULT",
            "messageId": self._id("result"),
            "toolCallId": chunk.tool_call_id,
            "content": content,
            "role": "tool",
        }
        if metadata:
            value["metadata"] = metadata
        frame = sse_data(dumps(value, chunk.type))
        if tool is None:  # a continued call: the client adds the result to the call it holds
            self._parts.standalone()
            self._out.append(frame)
            return
        self._parts.result(tool.id)
        self._out.append(frame)
        self._parts.close_tool(tool)

    def _tool_output_denied(self, chunk: Any) -> None:
        # AG-UI has no denied state: a TOOL_CALL_RESULT saying so (metadata.isError)
        self._tool_result(chunk.as_tool_result())

    def _custom(self, name: str, value: Any, chunk_type: str, part: bool) -> None:
        frame = sse_data(dumps({"type": "CUSTOM", "name": name, "value": value}, chunk_type))
        if part:
            self._parts.standalone()
        self._out.append(frame)

    def _source(self, chunk: Any) -> None:
        value: dict[str, Any] = {"sourceType": chunk.source_type, "id": chunk.id, "url": chunk.url}
        if chunk.title is not None:
            value["title"] = chunk.title
        if chunk.parent_id is not None:
            value["parentId"] = chunk.parent_id
        self._custom("source", value, chunk.type, True)

    def _file(self, chunk: Any) -> None:
        value: dict[str, Any] = {"data": chunk.data, "mimeType": chunk.mime_type}
        if chunk.parent_id is not None:
            value["parentId"] = chunk.parent_id
        self._custom("file", value, chunk.type, True)

    def _data(self, chunk: Any) -> None:
        self._custom("data", chunk.data, chunk.type, False)

    def _annotations(self, chunk: Any) -> None:
        self._custom("annotations", list(chunk.annotations), chunk.type, False)

    def _error(self, chunk: Any) -> None:
        self._run_error(str(chunk.error))

    # -- state -------------------------------------------------------------------------------

    def _update_state(self, chunk: Any) -> None:
        delta: list[dict[str, Any]] = []
        for operation in chunk.operations:
            path = operation.get("path")
            kind = operation.get("type")
            try:
                if kind == "set":
                    # a value without a JSON form changes neither side (as the run refuses it)
                    dumps(operation.get("value"), "update-state")
                if path == [] and kind == "set":
                    patch = None
                else:
                    if not isinstance(path, list) or any(k.__class__ is not str for k in path):
                        raise StateOperationError("the path is not a list of strings")
                    value = operation.get("value")
                    if kind == "append-text":
                        value = self._appended(path, value)
                    patch = (
                        state_patch(self._state, path, value, none_is_empty=not self._snapshot)
                        if path
                        else None
                    )
                new_state = apply_operation(self._state, operation)
            except (StateOperationError, SerializationError, RecursionError) as exc:
                logger.warning("ag-ui: state operation skipped (%s)", exc)
                continue
            self._state = new_state
            if patch is not None:
                delta.append(patch)
                continue
            if delta:
                self._event({"type": "STATE_DELTA", "delta": delta})
                delta = []
            self._snapshot = True
            self._event({"type": "STATE_SNAPSHOT", "snapshot": new_state})
        if delta:
            self._event({"type": "STATE_DELTA", "delta": delta})

    def _appended(self, path: list[str], text: Any) -> str:
        """The whole string at ``path`` after ``append-text`` (a missing one counts as "")."""
        if not isinstance(text, str):
            raise StateOperationError("append-text needs a string")
        node = self._state
        for key in path:
            if isinstance(node, dict):
                node = node.get(key)
            elif isinstance(node, list) and key.isascii() and key.isdigit():
                node = node[int(key)] if int(key) < len(node) else None
            else:
                node = None
            if node is None:
                break
        if node is not None and not isinstance(node, str):
            raise StateOperationError("append-text on a value that is not a string")
        return (node or "") + text

    # -- steps -------------------------------------------------------------------------------

    def _step_start(self, chunk: Any) -> None:
        if self._step is not None:
            self._event({"type": "STEP_FINISHED", "stepName": self._step})
        self._step = name = str(chunk.message_id)
        self._message_id = None
        self._event({"type": "STEP_STARTED", "stepName": name})

    def _step_finish(self, chunk: Any) -> None:
        self._totals.step_finished(chunk)
        metadata: dict[str, Any] = {
            "finishReason": chunk.finish_reason,
            "usage": {
                "inputTokens": int(chunk.input_tokens or 0),
                "outputTokens": int(chunk.output_tokens or 0),
            },
        }
        if chunk.is_continued:
            metadata["isContinued"] = True
        name = self._step
        if name is None:
            # a finish without a start: a step of its own, marked so decoders add no start
            name = self._id("step")
            self._event({"type": "STEP_STARTED", "stepName": name, "metadata": {"implicit": True}})
        self._step = None
        self._event({"type": "STEP_FINISHED", "stepName": name, "metadata": metadata})


class AGUIResponse(AssistantStreamResponse):
    """Serve a run as AG-UI 1.0 SSE.

    ``input`` (a `RunAgentInput` or its dict) supplies ``thread_id``, ``run_id`` and the initial
    ``state`` unless they are given; ids are generated when absent. Pass the same initial state
    to `create_run` (``create_run(callback, state=input.state)``): state deltas are computed
    against it. ``continued_tool_calls`` is `AGUIEncoder`'s. The idle keepalive is a
    ``: keep-alive`` comment every ``heartbeat`` seconds.
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        input: Any = None,
        thread_id: str | None = None,
        run_id: str | None = None,
        state: Any = None,
        continued_tool_calls: Iterable[str] = (),
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(input, Mapping):
            thread_id = thread_id if thread_id is not None else input.get("threadId")
            run_id = run_id if run_id is not None else input.get("runId")
            state = state if state is not None else input.get("state")
        elif input is not None:
            thread_id = thread_id if thread_id is not None else input.thread_id
            run_id = run_id if run_id is not None else input.run_id
            state = state if state is not None else input.state
        super().__init__(
            stream,
            AGUIEncoder(
                thread_id=thread_id,
                run_id=run_id,
                state=state,
                continued_tool_calls=continued_tool_calls,
            ),
            heartbeat,
            send_timeout=send_timeout,
            write_interval=write_interval,
            status_code=status_code,
            headers=headers,
        )


from ._ag_ui_decoder import EVENT_TYPES, AGUIDecoder  # noqa: E402


def _sniff(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("type") in EVENT_TYPES


register_protocol(
    ProtocolInfo(
        name="ag-ui",
        label="AG-UI",
        description="AG-UI 1.0 event stream (@ag-ui/client HttpAgent, CopilotKit)",
        encoder=AGUIEncoder,
        decoder=AGUIDecoder,
        response=AGUIResponse,
        carries=frozenset(CAPABILITIES),
        sniff=_sniff,
        request_parser="assistant_stream_ce.requests:parse_ag_ui_request",
    )
)
