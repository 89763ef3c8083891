"""The Vercel AI SDK UI message stream (npm ``ai`` 5, 6 and 7): what ``useChat`` reads.

SSE, one ``data: <chunk JSON>`` event per UI message chunk, ``data: [DONE]`` last, header
``x-vercel-ai-ui-message-stream: v1``. Chunks become UI message chunks:

===========================  ==========================================================
chunk                        UI message chunks
===========================  ==========================================================
(first frame)                ``start{messageId}``
step-start / step-finish     ``start-step`` / ``finish-step`` (a step also opens by itself
                             before the first content and closes at the end)
text-delta                   ``text-start{id}`` when a part opens, ``text-delta{id,delta}``,
                             ``text-end{id}`` when it closes
reasoning-delta              the same with ``reasoning-*`` (``reasoning-part-start`` opens a
                             new reasoning part; its summary is not carried)
tool-call-begin / -delta     ``tool-input-start{toolCallId,toolName}`` / ``tool-input-delta``
(arguments complete)         ``tool-input-available{input}`` (the parsed arguments) or, for
                             argument text that is not JSON, ``tool-input-error``
tool-result                  ``tool-output-available{output}``; ``is_error`` →
                             ``tool-output-error{errorText}`` (a string result, or its JSON)
source / file                ``source-url{sourceId,url,title?}`` / ``file{url,mediaType}``
                             (base64 data becomes a ``data:`` URL)
data                         ``data-data{data}``; a value shaped like a UI data part
                             (``{"type": "data-<name>", "data": …, "id"?, "transient"?}``)
                             is sent as that part
annotations                  ``data-annotations{data}``
update-state                 ``data-state{id: "state", data}``: always the whole current
                             state (from ``initial_state``), one per written batch
error                        ``error{errorText}`` (open parts closed first)
(end)                        ``finish{finishReason, messageMetadata?: {usage}}``, or
                             ``abort`` when the run was cancelled; then ``data: [DONE]``
===========================  ==========================================================

Every text and reasoning part and every open argument text is closed before ``finish-step``,
``error`` and ``finish``; ids are never reused within a message. A run that raised ends with
its ``error`` and ``[DONE]`` (no ``finish``). ``abort`` ends a run that was cancelled: its task
was cancelled, or the run was closed (a stop request) while its response still streamed. A
client that went away cancels the run too, but no frame can reach it any more.

``sdk_version`` (5, 6 or 7; default 5) picks exactly the chunk types and fields that major
version's schema has: releases of ``ai`` 5.0.x before 5.0.217 and 6.0.x before 6.0.231 reject
any key they do not know, and every release rejects unknown chunk types. ``finishReason``
needs ``ai`` ≥ 5.0.93; ``unknown`` is sent as ``other`` (6 and 7 reject it); ``abort`` carries
a ``reason`` from 6 on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, ClassVar, Literal

import orjson

from .._json import dumps, dumps_text, escape_line_separators
from ..assistant_stream_chunk import AssistantStreamChunk, chunk_methods
from ..errors import SerializationError
from ..state import StateOperationError, apply_operation, copy_json_value
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .decoding import Malformed, loads
from .parts import PartListener, PartMachine, Segment, ToolCall, without_continued_inputs
from .registry import ProtocolInfo, register_protocol
from .sse import DATA_PREFIX, EVENT_END, SSE_DONE, sse_comment, sse_data
from .stream_encoder import MessageTotals, StreamEncoder

__all__ = [
    "STATE_PART_ID",
    "UIMessageStreamDecoder",
    "UIMessageStreamEncoder",
    "UIMessageStreamResponse",
    "UISDKVersion",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

_orjson_dumps = orjson.dumps
_JSONEncodeError = orjson.JSONEncodeError

#: The major version of npm ``ai`` the stream is written for.
UISDKVersion = Literal[5, 6, 7]

#: The id of the one ``data-state`` part that holds the run's state.
STATE_PART_ID = "state"

MARKER = ("x-vercel-ai-ui-message-stream", "v1")

# Finish reasons every targeted version accepts (ours → the wire; `unknown` is rejected by 6+).
_FINISH_REASONS = {
    "unknown": "other",
    "stop": "stop",
    "length": "length",
    "content-filter": "content-filter",
    "tool-calls": "tool-calls",
    "error": "error",
    "other": "other",
}

_ABORT_REASON = "the run was cancelled"
_START_STEP = sse_data(b'{"type":"start-step"}')
_FINISH_STEP = sse_data(b'{"type":"finish-step"}')
_END = b"}" + EVENT_END
_DATA_PART_KEYS = frozenset({"type", "id", "data", "transient"})
_RESERVED_DATA_TYPES = frozenset({"data-data", "data-state", "data-annotations"})


def _is_url(data: str) -> bool:
    return data.startswith(("https://", "http://", "data:"))


def _is_data_part(value: Any) -> bool:
    """Whether a data chunk's value is a UI data part to send as it is."""
    if type(value) is not dict or not value.keys() <= _DATA_PART_KEYS or "data" not in value:
        return False
    kind = value.get("type")
    return (
        type(kind) is str
        and kind.startswith("data-")
        and len(kind) > 5
        and kind not in _RESERVED_DATA_TYPES
        and type(value.get("id", "")) is str
        and type(value.get("transient", False)) is bool
    )


class UIMessageStreamEncoder(StreamEncoder, PartListener):
    """Encoder for the Vercel AI SDK UI message stream (see the module docs).

    ``sdk_version``: the ``ai`` major version to write for (5, 6 or 7). ``message_id``: the
    ``start`` chunk's ``messageId`` (default: the run's first ``step-start`` id when the run
    begins with one, else a generated ``msg_…`` id). ``initial_state``: the state the run
    starts from, sent at once as the ``data-state`` part and the base every ``update-state``
    applies to. ``continued_tool_calls``: ids of tool calls the message being continued
    already holds (``[a.tool_call_id for a in request.answers]``); a run that repeats such a
    call (an approved call running) writes only its outcome.
    """

    media_type = "text/event-stream"
    keepalive = sse_comment("keep-alive")
    headers: ClassVar[dict[str, str]] = {
        MARKER[0]: MARKER[1],
        "Access-Control-Expose-Headers": MARKER[0],
    }

    def __init__(
        self,
        *,
        sdk_version: UISDKVersion = 5,
        message_id: str | None = None,
        initial_state: Any = None,
        continued_tool_calls: Iterable[str] = (),
    ) -> None:
        if sdk_version not in (5, 6, 7):
            raise ValueError(f"sdk_version must be 5, 6 or 7, got {sdk_version!r}")
        self.sdk_version = sdk_version
        self.message_id = message_id
        self._parts = PartMachine(self, keep_args=True)
        self._totals = MessageTotals()
        self._out: list[bytes] = []
        self._next_id = 0
        self._started = False
        self._in_step = False
        self._errors = False
        self._cancelled = False
        self._finished = False
        self._state: Any = copy_json_value(initial_state)
        self._state_dirty = initial_state is not None
        # Calls the continued message already holds: only their outcome is written (ai 7
        # would add a second part for a repeated tool-input-start).
        self._continued = frozenset(continued_tool_calls)

    # -- the encoder contract ---------------------------------------------------------------

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        out = self._out = []
        if self._finished:
            return out
        chunks = without_continued_inputs(chunks, self._continued)
        if not self._started:
            self._start(chunks[0] if chunks else None)
        emit = out.append
        handlers = chunk_methods(self.__class__)
        parts = self._parts
        for chunk in chunks:
            kind = chunk.type
            if kind == "text-delta":
                segment = parts.segment
                parent_id = chunk.parent_id
                if segment is None or segment.kind != "text" or segment.parent_id != parent_id:
                    # an open segment implies an open step
                    if not self._in_step:
                        self._open_step()
                    segment = parts.start_segment("text", parent_id)
                try:
                    text = _orjson_dumps(chunk.text_delta)
                except _JSONEncodeError:
                    text = dumps_text(chunk.text_delta)  # lone surrogates, or not a string
                if not text.isascii():
                    text = escape_line_separators(text)
                emit(segment.tag + text + _END)
                continue
            handler = handlers.get(kind)
            if handler is None:
                logger.debug("ui message stream: no chunk for chunk type %r", kind)
                continue
            try:
                handler(self, chunk)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._error_frame(str(exc))
        if self._state_dirty:
            self._write_state()
        return out

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        out = self._out = []
        if self._finished:
            return out
        self._finished = True
        if not self._started:
            self._start(None)
        self._close_parts()
        if self._state_dirty:
            self._write_state()
        if not failed:
            if self._in_step:
                self._in_step = False
                out.append(_FINISH_STEP)
            if self._cancelled:
                value: dict[str, Any] = {"type": "abort"}
                if self.sdk_version >= 6:
                    value["reason"] = _ABORT_REASON
                self._event(value, "abort")
            else:
                self._event(self._finish_value(), "finish")
        out.append(SSE_DONE)
        return out

    def run_cancelled(self) -> None:
        """The run was cancelled before it finished: end with ``abort``, not ``finish``."""
        self._cancelled = True

    def _finish_value(self) -> dict[str, Any]:
        totals = self._totals
        reason = "error" if self._errors else totals.finish_reason(self._parts.unanswered)
        wire_reason = _FINISH_REASONS.get(reason, "other")
        value: dict[str, Any] = {"type": "finish", "finishReason": wire_reason}
        if totals.usage_reported:
            value["messageMetadata"] = {
                "usage": {
                    "inputTokens": totals.input_tokens,
                    "outputTokens": totals.output_tokens,
                    "totalTokens": totals.input_tokens + totals.output_tokens,
                }
            }
        return value

    # -- framing ----------------------------------------------------------------------------

    def _event(self, value: Any, chunk_type: str) -> None:
        self._out.append(sse_data(dumps(value, chunk_type)))

    def _start(self, first: Any) -> None:
        self._started = True
        message_id = self.message_id
        if message_id is None:
            if first is not None and first.type == "step-start" and first.message_id:
                message_id = first.message_id
            else:
                message_id = "msg_" + uuid.uuid4().hex
            self.message_id = message_id
        self._out.append(
            DATA_PREFIX + b'{"type":"start","messageId":' + dumps_text(message_id) + _END
        )
        if self._state_dirty:
            self._write_state()

    def _open_step(self) -> None:
        self._in_step = True
        self._out.append(_START_STEP)

    def _close_parts(self) -> None:
        """Close the open text or reasoning part and every open argument text."""
        self._parts.close_segment()
        self._parts.close_all_args()

    def _new_id(self, prefix: str) -> str:
        self._next_id += 1
        return f"{prefix}{self._next_id}"

    def _write_state(self) -> None:
        self._state_dirty = False
        try:
            payload = dumps(self._state, "update-state")
        except SerializationError as exc:
            logger.warning("%s", exc)
            self._error_frame(str(exc))
            return
        self._out.append(
            DATA_PREFIX
            + b'{"type":"data-state","id":"'
            + STATE_PART_ID.encode()
            + b'","data":'
            + payload
            + _END
        )

    def _error_frame(self, message: str) -> None:
        self._close_parts()
        self._errors = True
        self._out.append(DATA_PREFIX + b'{"type":"error","errorText":' + dumps_text(message) + _END)

    # -- parts (the part machine's listener) ------------------------------------------------

    def segment_opened(self, segment: Segment) -> None:
        kind = segment.kind  # "text" or "reasoning"
        part_id = segment.id = self._new_id("t" if kind == "text" else "r")
        quoted = dumps_text(part_id)
        self._out.append(
            DATA_PREFIX + b'{"type":"' + kind.encode() + b'-start","id":' + quoted + _END
        )
        segment.tag = (
            DATA_PREFIX + b'{"type":"' + kind.encode() + b'-delta","id":' + quoted + b',"delta":'
        )

    def segment_closed(self, segment: Segment) -> None:
        assert segment.id is not None
        self._out.append(
            DATA_PREFIX
            + b'{"type":"'
            + segment.kind.encode()
            + b'-end","id":'
            + dumps_text(segment.id)
            + _END
        )

    def tool_opened(self, tool: ToolCall) -> None:
        tool.tag = (
            DATA_PREFIX
            + b'{"type":"tool-input-delta","toolCallId":'
            + dumps_text(tool.id)
            + b',"inputTextDelta":'
        )

    def args_closed(self, tool: ToolCall, last_text: str) -> None:
        if last_text:
            self._out.append(tool.tag + dumps_text(last_text) + _END)
        text = tool.args_text
        value: dict[str, Any] = {"type": "", "toolCallId": tool.id, "toolName": tool.name}
        if not text.strip():
            value["type"] = "tool-input-available"
            value["input"] = {}
        else:
            try:
                value["input"] = loads(text)
                value["type"] = "tool-input-available"
            except Malformed:
                value["type"] = "tool-input-error"
                value["input"] = text
                value["errorText"] = "The tool call's arguments are not valid JSON."
        self._event(value, "tool-call-args-text-finish")

    # -- handlers ---------------------------------------------------------------------------

    def _reasoning_delta(self, chunk: Any) -> None:
        if not self._in_step:
            self._open_step()
        segment = self._parts.segment_for("reasoning", chunk.parent_id)
        self._out.append(segment.tag + dumps_text(chunk.reasoning_delta) + _END)

    def _reasoning_part_start(self, chunk: Any) -> None:
        if not self._in_step:
            self._open_step()
        self._parts.start_segment("reasoning", chunk.parent_id, chunk.unstable_summary)

    def _tool_call_begin(self, chunk: Any) -> None:
        if chunk.tool_call_id in self._parts.tools:
            logger.warning(
                "ui message stream: duplicate tool call id %r dropped", chunk.tool_call_id
            )
            return
        value = {
            "type": "tool-input-start",
            "toolCallId": chunk.tool_call_id,
            "toolName": chunk.tool_name,
        }
        frame = sse_data(dumps(value, chunk.type))
        if not self._in_step:
            self._open_step()
        self._parts.close_segment()
        self._out.append(frame)
        self._parts.begin_tool(chunk.tool_call_id, chunk.tool_name, chunk.parent_id)

    def _tool_call_delta(self, chunk: Any) -> None:
        text = chunk.args_text_delta
        tool = self._parts.args_delta(chunk.tool_call_id, text)
        if tool is None:
            logger.warning(
                "ui message stream: argument text for a closed or unknown tool call dropped"
            )
            return
        if text:
            self._out.append(tool.tag + dumps_text(text) + _END)

    def _tool_call_args_text_finish(self, chunk: Any) -> None:
        self._parts.finish_args(chunk.tool_call_id, chunk.args_text_delta)

    def _tool_result(self, chunk: Any) -> None:
        tool = self._parts.tools.get(chunk.tool_call_id)
        if tool is None and chunk.tool_call_id in self._continued:
            self._continued_result(chunk)
            return
        if tool is None:
            logger.warning(
                "ui message stream: result for unknown tool call %r dropped", chunk.tool_call_id
            )
            return
        result = chunk.result
        if chunk.is_error:
            text = result if type(result) is str else dumps(result, chunk.type).decode()
            frame = (
                DATA_PREFIX
                + b'{"type":"tool-output-error","toolCallId":'
                + dumps_text(tool.id)
                + b',"errorText":'
                + dumps_text(text)
                + _END
            )
        else:
            frame = (
                DATA_PREFIX
                + b'{"type":"tool-output-available","toolCallId":'
                + dumps_text(tool.id)
                + b',"output":'
                + dumps(result, chunk.type)
                + _END
            )
        if not self._in_step:
            self._open_step()
        self._parts.result(chunk.tool_call_id)
        self._out.append(frame)
        self._parts.close_tool(tool)

    def _continued_result(self, chunk: Any) -> None:
        """The outcome of a call of the continued message (its part is in that message)."""
        value: dict[str, Any] = {"type": "tool-output-available", "toolCallId": chunk.tool_call_id}
        if chunk.is_error:
            value["type"] = "tool-output-error"
            result = chunk.result
            value["errorText"] = result if type(result) is str else dumps(result).decode()
        else:
            value["output"] = chunk.result
        frame = sse_data(dumps(value, chunk.type))
        if not self._in_step:
            self._open_step()
        self._parts.standalone()
        self._out.append(frame)

    def _tool_approval_request(self, chunk: Any) -> None:
        # ai 5 has no approvals: there the call stays unanswered (a client tool call).
        if self.sdk_version >= 6:
            value = {
                "type": "tool-approval-request",
                "approvalId": chunk.approval_id,
                "toolCallId": chunk.tool_call_id,
            }
            self._event(value, chunk.type)

    def _tool_output_denied(self, chunk: Any) -> None:
        # ai 5 has no denied state: there the denial is the call's error result.
        if self.sdk_version < 6:
            self._tool_result(chunk.as_tool_result())
            return
        value = {"type": "tool-output-denied", "toolCallId": chunk.tool_call_id}
        tool = self._parts.tools.get(chunk.tool_call_id)
        if tool is None:  # a call of the message being continued (not of this stream)
            self._standalone(value, chunk.type)
            return
        if not self._in_step:
            self._open_step()
        self._parts.result(chunk.tool_call_id)
        self._event(value, chunk.type)
        self._parts.close_tool(tool)

    def _source(self, chunk: Any) -> None:
        value: dict[str, Any] = {"type": "source-url", "sourceId": chunk.id, "url": chunk.url}
        if chunk.title is not None:
            value["title"] = chunk.title
        self._standalone(value, chunk.type)

    def _file(self, chunk: Any) -> None:
        data = chunk.data
        url = data if _is_url(data) else f"data:{chunk.mime_type};base64,{data}"
        self._standalone({"type": "file", "url": url, "mediaType": chunk.mime_type}, chunk.type)

    def _standalone(self, value: dict[str, Any], chunk_type: str) -> None:
        frame = sse_data(dumps(value, chunk_type))
        if not self._in_step:
            self._open_step()
        self._parts.standalone()
        self._out.append(frame)

    def _data(self, chunk: Any) -> None:
        value = chunk.data
        if not _is_data_part(value):
            value = {"type": "data-data", "data": value}
        self._out.append(sse_data(dumps(value, chunk.type)))

    def _annotations(self, chunk: Any) -> None:
        self._event({"type": "data-annotations", "data": list(chunk.annotations)}, chunk.type)

    def _update_state(self, chunk: Any) -> None:
        state = self._state
        for operation in chunk.operations:
            try:
                state = apply_operation(state, operation)
            except StateOperationError as exc:
                logger.warning("ui message stream: state operation skipped (%s)", exc)
        self._state = state
        self._state_dirty = True

    def _error(self, chunk: Any) -> None:
        self._error_frame(str(chunk.error))

    def _step_start(self, chunk: Any) -> None:
        if self._in_step:
            self._end_step()
        self._open_step()

    def _step_finish(self, chunk: Any) -> None:
        self._totals.step_finished(chunk)
        if not self._in_step:
            self._open_step()
        self._end_step()

    def _end_step(self) -> None:
        self._close_parts()
        if self._state_dirty:
            self._write_state()
        self._in_step = False
        self._out.append(_FINISH_STEP)


class UIMessageStreamResponse(AssistantStreamResponse):
    """Serve a run as a Vercel AI SDK UI message stream (``useChat``, ``readUIMessageStream``).

    ``sdk_version``, ``message_id``, ``initial_state`` and ``continued_tool_calls`` are
    `UIMessageStreamEncoder`'s;
    ``initial_state`` defaults to the run's own (``create_run(state=...)``). The idle keepalive
    is a ``: keep-alive`` comment every ``heartbeat`` seconds (on by default).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        sdk_version: UISDKVersion = 5,
        message_id: str | None = None,
        initial_state: Any = None,
        continued_tool_calls: Iterable[str] = (),
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if initial_state is None:
            # a run from `create_run` knows the state it starts from
            initial_state = getattr(stream, "initial_state", None)
        super().__init__(
            stream,
            UIMessageStreamEncoder(
                sdk_version=sdk_version,
                message_id=message_id,
                initial_state=initial_state,
                continued_tool_calls=continued_tool_calls,
            ),
            heartbeat,
            send_timeout=send_timeout,
            write_interval=write_interval,
            status_code=status_code,
            headers=headers,
        )


from ._ui_message_stream_decoder import UIMessageStreamDecoder  # noqa: E402


def _sniff(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("type") == "start"


register_protocol(
    ProtocolInfo(
        name="ui-message-stream",
        label="UI message stream",
        description="Vercel AI SDK 5/6/7 UI message stream SSE (useChat, readUIMessageStream)",
        encoder=UIMessageStreamEncoder,
        decoder=UIMessageStreamDecoder,
        response=UIMessageStreamResponse,
        carries=frozenset(
            {
                "text",
                "reasoning",
                "tool-calls",
                "tool-results",
                "sources",
                "files",
                "data",
                "state",
                "usage",
                "errors",
            }
        ),  # no "steps": step boundaries carry no message id or finish reason
        marker=MARKER,
        sniff=_sniff,
        request_parser="assistant_stream_ce.requests:parse_ui_message_stream_request",
    )
)
