"""The assistant-ui assistant transport: SSE, one canonical chunk per event, ending ``[DONE]``.

Read by ``useAssistantTransportRuntime({protocol: "assistant-transport"})`` and the npm
``assistant-stream`` ``AssistantTransportDecoder``. Flat chunks become part-addressed events:
``part-start`` (with ``path: []``) opens part *i*; later events for it carry ``path: [i]``.

- Text and reasoning deltas open a part when the kind or parent changes (the previous text or
  reasoning part gets ``part-finish``), then ``text-delta``.
- Tool calls: ``part-start{tool-call}``, ``text-delta`` (argument text),
  ``tool-call-args-text-finish`` (``"{}"`` first when no argument text was sent), ``result``,
  ``part-finish``. Results may arrive after the part finished.
- Sources and files are ``part-start`` + ``part-finish``; data, annotations, state, steps and
  errors are message-level events.
- Before an error event and at the end every open part is closed. A successful run ends with
  ``message-finish`` (``tool-calls`` while a call waits for a result, else the last step's
  reason; usage summed over steps). The stream always ends with ``data: [DONE]``, also after an
  error. Keepalive: ``: heartbeat`` comment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Mapping
from typing import Any

from .._json import dumps, dumps_text
from ..assistant_stream_chunk import AssistantStreamChunk, chunk_methods
from ..errors import SerializationError
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .heartbeat import SSE_HEARTBEAT
from .parts import PartListener, PartMachine, Segment, ToolCall
from .registry import CAPABILITIES, ProtocolInfo, register_protocol
from .sse import DATA_PREFIX, EVENT_END, SSE_DONE
from .stream_encoder import MessageTotals, StreamEncoder, encode_operations

__all__ = ["AssistantTransportDecoder", "AssistantTransportEncoder", "AssistantTransportResponse"]

logger = logging.getLogger("assistant_stream_ce.serialization")

_TEXT_DELTA = DATA_PREFIX + b'{"type":"text-delta","textDelta":'
_ARGS_FINISH = DATA_PREFIX + b'{"type":"tool-call-args-text-finish"'
_EMPTY_ARGS = _TEXT_DELTA + b'"{}"'
_PART_FINISH = DATA_PREFIX + b'{"type":"part-finish"'
_UPDATE_STATE = DATA_PREFIX + b'{"type":"update-state","operations":'


def _path_suffix(index: int) -> bytes:
    """What ends an event addressed to part ``index``."""
    return b',"path":[%d]}' % index + EVENT_END


class AssistantTransportEncoder(StreamEncoder, PartListener):
    """Encoder for the assistant transport SSE protocol."""

    media_type = "text/event-stream"
    keepalive = SSE_HEARTBEAT

    def __init__(self) -> None:
        self._parts = PartMachine(self)
        self._totals = MessageTotals()
        self._out: list[bytes] = []

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        out = self._out = []
        emit = out.append
        handlers = chunk_methods(self.__class__)
        parts = self._parts
        for chunk in chunks:
            kind = chunk.type
            if kind == "text-delta":
                text = dumps_text(chunk.text_delta)
                segment = parts.segment
                if (
                    segment is None
                    or segment.kind != "text"
                    or segment.parent_id != chunk.parent_id
                ):
                    segment = parts.segment_for("text", chunk.parent_id)
                emit(_TEXT_DELTA + text + segment.tag)
                continue
            handler = handlers.get(kind)
            if handler is None:
                logger.debug("assistant transport: no event for chunk type %r", kind)
                continue
            try:
                handler(self, chunk)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._error_event(str(exc))
        return out

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        out = self._out = []
        self._parts.close_all()
        if not failed:
            totals = self._totals
            value = {
                "type": "message-finish",
                "finishReason": totals.finish_reason(self._parts.unanswered),
                "usage": totals.usage(),
            }
            self._event(value, "message-finish")
        out.append(SSE_DONE)
        return out

    # -- parts (the part machine's listener) ------------------------------------------------

    def _event(self, value: Any, chunk_type: str) -> None:
        self._out.append(DATA_PREFIX + dumps(value, chunk_type) + EVENT_END)

    def _part_start(self, part: dict[str, Any], chunk_type: str) -> bytes:
        return (
            DATA_PREFIX
            + dumps({"type": "part-start", "part": part, "path": []}, chunk_type)
            + EVENT_END
        )

    def _part_finish(self, index: int) -> None:
        self._out.append(_PART_FINISH + _path_suffix(index))

    def segment_opened(self, segment: Segment) -> None:
        part: dict[str, Any] = {"type": segment.kind}
        if segment.summary is not None:
            part["unstable_summary"] = segment.summary
        if segment.parent_id is not None:
            part["parentId"] = segment.parent_id
        self._out.append(self._part_start(part, segment.kind))
        segment.tag = _path_suffix(segment.index)

    def segment_closed(self, segment: Segment) -> None:
        self._out.append(_PART_FINISH + segment.tag)

    def tool_opened(self, tool: ToolCall) -> None:
        tool.tag = _path_suffix(tool.index)

    def args_closed(self, tool: ToolCall, last_text: str) -> None:
        out = self._out
        if last_text:
            out.append(_TEXT_DELTA + dumps_text(last_text) + tool.tag)
        elif not tool.has_args:
            out.append(_EMPTY_ARGS + tool.tag)
        out.append(_ARGS_FINISH + tool.tag)

    def tool_closed(self, tool: ToolCall) -> None:
        self._out.append(_PART_FINISH + tool.tag)

    # -- handlers ------------------------------------------------------------------------

    def _reasoning_delta(self, chunk: Any) -> None:
        text = dumps_text(chunk.reasoning_delta)
        segment = self._parts.segment_for("reasoning", chunk.parent_id)
        self._out.append(_TEXT_DELTA + text + segment.tag)

    def _reasoning_part_start(self, chunk: Any) -> None:
        self._parts.start_segment("reasoning", chunk.parent_id, chunk.unstable_summary)

    def _tool_call_begin(self, chunk: Any) -> None:
        part: dict[str, Any] = {
            "type": "tool-call",
            "toolCallId": chunk.tool_call_id,
            "toolName": chunk.tool_name,
        }
        if chunk.parent_id is not None:
            part["parentId"] = chunk.parent_id
        frame = self._part_start(part, chunk.type)
        if chunk.tool_call_id in self._parts.tools:
            logger.warning(
                "assistant transport: duplicate tool call id %r dropped", chunk.tool_call_id
            )
            return
        self._parts.close_segment()
        self._out.append(frame)
        self._parts.begin_tool(chunk.tool_call_id, chunk.tool_name, chunk.parent_id)

    def _tool_call_delta(self, chunk: Any) -> None:
        text = chunk.args_text_delta
        tool = self._parts.args_delta(chunk.tool_call_id, text)
        if tool is None:
            logger.warning(
                "assistant transport: argument text for a closed or unknown tool call dropped"
            )
            return
        if text:
            self._out.append(_TEXT_DELTA + dumps_text(text) + tool.tag)

    def _tool_call_args_text_finish(self, chunk: Any) -> None:
        self._parts.finish_args(chunk.tool_call_id, chunk.args_text_delta)

    def _tool_result(self, chunk: Any) -> None:
        tool = self._parts.tools.get(chunk.tool_call_id)
        if tool is None:
            logger.warning(
                "assistant transport: result for unknown tool call %r dropped (no tool-call-begin)",
                chunk.tool_call_id,
            )
            return
        value: dict[str, Any] = {
            "type": "result",
            "result": chunk.result,
            "isError": bool(chunk.is_error),
            "path": [tool.index],
        }
        if chunk.artifact is not None:
            value["artifact"] = chunk.artifact
        frame = DATA_PREFIX + dumps(value, chunk.type) + EVENT_END
        self._parts.result(chunk.tool_call_id)
        self._out.append(frame)
        self._parts.close_tool(tool)

    def _tool_output_denied(self, chunk: Any) -> None:
        # assistant-ui has no denied state: the call's error result
        self._tool_result(chunk.as_tool_result())

    def _source(self, chunk: Any) -> None:
        part: dict[str, Any] = {
            "type": "source",
            "sourceType": chunk.source_type,
            "id": chunk.id,
            "url": chunk.url,
        }
        if chunk.title is not None:
            part["title"] = chunk.title
        if chunk.parent_id is not None:
            part["parentId"] = chunk.parent_id
        self._complete_part(part, chunk.type)

    def _file(self, chunk: Any) -> None:
        part: dict[str, Any] = {"type": "file", "data": chunk.data, "mimeType": chunk.mime_type}
        if chunk.parent_id is not None:
            part["parentId"] = chunk.parent_id
        self._complete_part(part, chunk.type)

    def _complete_part(self, part: dict[str, Any], chunk_type: str) -> None:
        frame = self._part_start(part, chunk_type)
        index = self._parts.standalone()
        self._out.append(frame)
        self._part_finish(index)

    def _data(self, chunk: Any) -> None:
        self._event({"type": "data", "data": [chunk.data]}, chunk.type)

    def _annotations(self, chunk: Any) -> None:
        self._event({"type": "annotations", "annotations": list(chunk.annotations)}, chunk.type)

    def _update_state(self, chunk: Any) -> None:
        _, payload, problems = encode_operations(chunk.operations)
        if payload is not None:
            self._out.append(_UPDATE_STATE + payload + b"}" + EVENT_END)
        for problem in problems:
            self._error_event(problem)

    def _error_event(self, message: str) -> None:
        self._parts.close_all()
        self._out.append(
            DATA_PREFIX + b'{"type":"error","error":' + dumps_text(message) + b"}" + EVENT_END
        )

    def _error(self, chunk: Any) -> None:
        self._error_event(str(chunk.error))

    def _step_start(self, chunk: Any) -> None:
        self._event({"type": "step-start", "messageId": chunk.message_id}, chunk.type)

    def _step_finish(self, chunk: Any) -> None:
        value = {
            "type": "step-finish",
            "finishReason": chunk.finish_reason,
            "usage": {"inputTokens": chunk.input_tokens, "outputTokens": chunk.output_tokens},
            "isContinued": chunk.is_continued,
        }
        self._event(value, chunk.type)
        self._totals.step_finished(chunk)


class AssistantTransportResponse(AssistantStreamResponse):
    """Serve a run as assistant transport SSE (ends with ``data: [DONE]``).

    The idle keepalive is a ``: heartbeat`` comment every ``heartbeat`` seconds (on by default).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            stream,
            AssistantTransportEncoder(),
            heartbeat,
            send_timeout=send_timeout,
            write_interval=write_interval,
            status_code=status_code,
            headers=headers,
        )


from ._assistant_transport_decoder import AssistantTransportDecoder  # noqa: E402


def _sniff(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("type") in _EVENT_TYPES


_EVENT_TYPES = frozenset(
    {"part-start", "text-delta", "part-finish", "step-start", "update-state", "message-finish"}
)

register_protocol(
    ProtocolInfo(
        name="assistant-transport",
        label="Assistant transport",
        description="assistant-ui assistant transport SSE "
        '(useAssistantTransportRuntime({protocol: "assistant-transport"}))',
        encoder=AssistantTransportEncoder,
        decoder=AssistantTransportDecoder,
        response=AssistantTransportResponse,
        carries=frozenset(CAPABILITIES),
        sniff=_sniff,
        request_parser="assistant_stream_ce.requests:parse_assistant_transport_request",
    )
)


# Names assistant-stream 0.0.36 let users import from this module (their homes are elsewhere).
from ..assistant_stream_chunk import AnnotationsChunk as AnnotationsChunk  # noqa: E402
from ..assistant_stream_chunk import FileChunk as FileChunk  # noqa: E402
from ..assistant_stream_chunk import ReasoningDeltaChunk as ReasoningDeltaChunk  # noqa: E402
from ..assistant_stream_chunk import SourceChunk as SourceChunk  # noqa: E402
from ..assistant_stream_chunk import StepFinishChunk as StepFinishChunk  # noqa: E402
from ..assistant_stream_chunk import StepStartChunk as StepStartChunk  # noqa: E402
from ..assistant_stream_chunk import TextDeltaChunk as TextDeltaChunk  # noqa: E402
from ..assistant_stream_chunk import ToolCallBeginChunk as ToolCallBeginChunk  # noqa: E402
from ..assistant_stream_chunk import ToolCallDeltaChunk as ToolCallDeltaChunk  # noqa: E402
from ..assistant_stream_chunk import ToolResultChunk as ToolResultChunk  # noqa: E402
from ..state import StateProxy as StateProxy  # noqa: E402
from ..state import StateProxyJSONEncoder as StateProxyJSONEncoder  # noqa: E402
from .heartbeat import SSE_HEARTBEAT_LINE as SSE_HEARTBEAT_LINE  # noqa: E402
