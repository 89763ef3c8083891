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
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any

from .._json import dumps, dumps_text, escape_line_separators
from ..assistant_stream_chunk import AssistantStreamChunk
from ..errors import SerializationError
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .stream_encoder import MessageTotals, StreamEncoder

__all__ = ["AssistantTransportDecoder", "AssistantTransportEncoder", "AssistantTransportResponse"]

logger = logging.getLogger("assistant_stream_ce.serialization")

Emit = Callable[[bytes], None]

_DONE = b"data: [DONE]\n\n"


class _ToolPart:
    __slots__ = ("args_open", "had_text", "index", "open", "suffix")

    def __init__(self, index: int) -> None:
        self.index = index
        self.suffix = b',"path":[%d]}\n\n' % index
        self.args_open = True
        self.had_text = False
        self.open = True


class AssistantTransportEncoder(StreamEncoder):
    """Encoder for the assistant transport SSE protocol."""

    media_type = "text/event-stream"
    keepalive = b": heartbeat\n\n"

    def __init__(self) -> None:
        self._next_index = 0
        # The open text/reasoning part that deltas append to: kind, parent, path suffix.
        self._append_kind: str | None = None
        self._append_parent: str | None = None
        self._append_index = -1
        self._append_suffix = b""
        self._tools: dict[str, _ToolPart] = {}
        self._totals = MessageTotals()
        self._handlers: dict[str, Callable[[Any, Emit], None]] = {
            "reasoning-delta": self._reasoning_delta,
            "reasoning-part-start": self._reasoning_part_start,
            "tool-call-begin": self._tool_call_begin,
            "tool-call-delta": self._tool_call_delta,
            "tool-call-args-text-finish": self._tool_call_args_finish,
            "tool-result": self._tool_result,
            "data": self._data,
            "error": self._error,
            "update-state": self._update_state,
            "source": self._source,
            "file": self._file,
            "annotations": self._annotations,
            "step-start": self._step_start,
            "step-finish": self._step_finish,
        }

    def encode_batch(self, chunks: list[Any]) -> bytes:
        out: list[bytes] = []
        emit = out.append
        handlers = self._handlers
        for chunk in chunks:
            kind = chunk.type
            if kind == "text-delta":
                if self._append_kind != "text" or self._append_parent != chunk.parent_id:
                    self._open_append_part("text", chunk.parent_id, None, emit)
                emit(b'data: {"type":"text-delta","textDelta":')
                emit(dumps_text(chunk.text_delta))
                emit(self._append_suffix)
                continue
            handler = handlers.get(kind)
            if handler is None:
                logger.debug("assistant transport: no event for chunk type %r", kind)
                continue
            try:
                handler(chunk, emit)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._error_event(str(exc), emit)
        return escape_line_separators(b"".join(out))

    def finish(self, failed: bool = False) -> bytes:
        out: list[bytes] = []
        self._close_everything(out.append)
        if not failed:
            totals = self._totals
            value = {
                "type": "message-finish",
                "finishReason": totals.finish_reason(),
                "usage": totals.usage(),
            }
            self._event(value, "message-finish", out.append)
        out.append(_DONE)
        return b"".join(out)

    # -- parts ---------------------------------------------------------------------------

    @staticmethod
    def _event(value: Any, chunk_type: str, emit: Emit) -> None:
        payload = dumps(value, chunk_type)
        emit(b"data: ")
        emit(payload)
        emit(b"\n\n")

    def _start_part(self, part: dict[str, Any], chunk_type: str, emit: Emit) -> int:
        self._event({"type": "part-start", "part": part, "path": []}, chunk_type, emit)
        index = self._next_index
        self._next_index += 1
        return index

    @staticmethod
    def _finish_part(index: int, emit: Emit) -> None:
        emit(b'data: {"type":"part-finish","path":[%d]}\n\n' % index)

    def _close_append_part(self, emit: Emit) -> None:
        if self._append_kind is not None:
            self._finish_part(self._append_index, emit)
            self._append_kind = None
            self._append_parent = None

    def _open_append_part(
        self, kind: str, parent_id: str | None, summary: str | None, emit: Emit
    ) -> None:
        self._close_append_part(emit)
        part: dict[str, Any] = {"type": kind}
        if summary is not None:
            part["unstable_summary"] = summary
        if parent_id is not None:
            part["parentId"] = parent_id
        index = self._start_part(part, kind, emit)
        self._append_kind = kind
        self._append_parent = parent_id
        self._append_index = index
        self._append_suffix = b',"path":[%d]}\n\n' % index

    def _close_args(self, tool: _ToolPart, emit: Emit) -> None:
        if tool.args_open:
            tool.args_open = False
            if not tool.had_text:
                emit(b'data: {"type":"text-delta","textDelta":"{}"' + tool.suffix)
            emit(b'data: {"type":"tool-call-args-text-finish"' + tool.suffix)

    def _close_everything(self, emit: Emit) -> None:
        self._close_append_part(emit)
        for tool in self._tools.values():
            if tool.open:
                self._close_args(tool, emit)
                tool.open = False
                self._finish_part(tool.index, emit)

    # -- handlers ------------------------------------------------------------------------

    def _reasoning_delta(self, chunk: Any, emit: Emit) -> None:
        if self._append_kind != "reasoning" or self._append_parent != chunk.parent_id:
            self._open_append_part("reasoning", chunk.parent_id, None, emit)
        emit(b'data: {"type":"text-delta","textDelta":')
        emit(dumps_text(chunk.reasoning_delta))
        emit(self._append_suffix)

    def _reasoning_part_start(self, chunk: Any, emit: Emit) -> None:
        self._open_append_part("reasoning", chunk.parent_id, chunk.unstable_summary, emit)

    def _tool_call_begin(self, chunk: Any, emit: Emit) -> None:
        if chunk.tool_call_id in self._tools:
            logger.warning(
                "assistant transport: duplicate tool call id %r dropped", chunk.tool_call_id
            )
            return
        part: dict[str, Any] = {
            "type": "tool-call",
            "toolCallId": chunk.tool_call_id,
            "toolName": chunk.tool_name,
        }
        if chunk.parent_id is not None:
            part["parentId"] = chunk.parent_id
        payload = dumps({"type": "part-start", "part": part, "path": []}, chunk.type)
        self._close_append_part(emit)
        emit(b"data: ")
        emit(payload)
        emit(b"\n\n")
        self._tools[chunk.tool_call_id] = _ToolPart(self._next_index)
        self._totals.unanswered.add(chunk.tool_call_id)
        self._next_index += 1

    def _tool_call_delta(self, chunk: Any, emit: Emit) -> None:
        tool = self._tools.get(chunk.tool_call_id)
        if tool is None or not tool.args_open:
            logger.warning(
                "assistant transport: argument text for a closed or unknown tool call dropped"
            )
            return
        if chunk.args_text_delta:
            tool.had_text = True
            emit(b'data: {"type":"text-delta","textDelta":')
            emit(dumps_text(chunk.args_text_delta))
            emit(tool.suffix)

    def _tool_call_args_finish(self, chunk: Any, emit: Emit) -> None:
        tool = self._tools.get(chunk.tool_call_id)
        if tool is None or not tool.args_open:
            return
        if chunk.args_text_delta:
            tool.had_text = True
            emit(b'data: {"type":"text-delta","textDelta":')
            emit(dumps_text(chunk.args_text_delta))
            emit(tool.suffix)
        self._close_args(tool, emit)

    def _tool_result(self, chunk: Any, emit: Emit) -> None:
        tool = self._tools.get(chunk.tool_call_id)
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
        payload = dumps(value, chunk.type)
        self._close_args(tool, emit)
        self._totals.unanswered.discard(chunk.tool_call_id)
        emit(b"data: ")
        emit(payload)
        emit(b"\n\n")
        if tool.open:
            tool.open = False
            self._finish_part(tool.index, emit)

    def _source(self, chunk: Any, emit: Emit) -> None:
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
        self._complete_part(part, chunk.type, emit)

    def _file(self, chunk: Any, emit: Emit) -> None:
        part: dict[str, Any] = {"type": "file", "data": chunk.data, "mimeType": chunk.mime_type}
        if chunk.parent_id is not None:
            part["parentId"] = chunk.parent_id
        self._complete_part(part, chunk.type, emit)

    def _complete_part(self, part: dict[str, Any], chunk_type: str, emit: Emit) -> None:
        payload = dumps({"type": "part-start", "part": part, "path": []}, chunk_type)
        self._close_append_part(emit)
        emit(b"data: ")
        emit(payload)
        emit(b"\n\n")
        index = self._next_index
        self._next_index += 1
        self._finish_part(index, emit)

    def _data(self, chunk: Any, emit: Emit) -> None:
        self._event({"type": "data", "data": [chunk.data]}, chunk.type, emit)

    def _annotations(self, chunk: Any, emit: Emit) -> None:
        self._event(
            {"type": "annotations", "annotations": list(chunk.annotations)}, chunk.type, emit
        )

    def _update_state(self, chunk: Any, emit: Emit) -> None:
        self._event({"type": "update-state", "operations": chunk.operations}, chunk.type, emit)

    def _error_event(self, message: str, emit: Emit) -> None:
        self._close_everything(emit)
        emit(b'data: {"type":"error","error":')
        emit(dumps_text(message))
        emit(b"}\n\n")

    def _error(self, chunk: Any, emit: Emit) -> None:
        self._error_event(str(chunk.error), emit)

    def _step_start(self, chunk: Any, emit: Emit) -> None:
        self._event({"type": "step-start", "messageId": chunk.message_id}, chunk.type, emit)

    def _step_finish(self, chunk: Any, emit: Emit) -> None:
        self._totals.step_finished(chunk)
        self._event(
            {
                "type": "step-finish",
                "finishReason": chunk.finish_reason,
                "usage": {"inputTokens": chunk.input_tokens, "outputTokens": chunk.output_tokens},
                "isContinued": chunk.is_continued,
            },
            chunk.type,
            emit,
        )


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
