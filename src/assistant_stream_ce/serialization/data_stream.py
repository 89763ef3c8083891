"""The assistant-ui data stream: one ``<code>:<JSON>`` line per frame, ``text/plain``.

Read by assistant-ui's ``useDataStreamRuntime`` / ``useAssistantTransportRuntime`` (default
protocol) and the npm ``assistant-stream`` ``DataStreamDecoder``. Frame codes:

===========================  ====================================================
chunk                        frame
===========================  ====================================================
text-delta                   ``0:"…"`` (``aui-text-delta`` when it has a parent)
reasoning-delta              ``g:"…"`` (``aui-reasoning-delta`` with a parent)
reasoning-part-start         ``aui-reasoning-part-start:{unstable_summary?,parentId?}``
tool-call-begin              ``b:{toolCallId,toolName,parentId?}``
tool-call-delta              ``c:{toolCallId,argsTextDelta}``
tool-call-args-text-finish   ``c:{toolCallId,argsTextDelta:"" or "{}",isFinal:true}``
tool-result                  ``a:{toolCallId,result,artifact?,isError?}``
source / file                ``h:{sourceType,id,url,title?}`` / ``k:{data,mimeType}``
data / annotations           ``2:[data]`` / ``8:[…]``
update-state                 ``aui-state:[operations]``
error                        ``3:"message"``
step-start / step-finish     ``f:{messageId}`` / ``e:{finishReason,usage,isContinued}``
(successful end)             ``d:{finishReason,usage}`` (usage summed over steps)
===========================  ====================================================

The final ``d`` says ``tool-calls`` while a call is left without a result (the client's turn),
otherwise the last step's reason (``stop`` by default). It is not sent after a run raised.

Argument text still open is closed (``isFinal``) before a result, an error, a step finish and
the end of the stream, with ``"{}"`` when no argument text was sent at all.

``profile="ai-sdk-v4"`` writes what the Vercel AI SDK v4 (``useChat``, ``processDataStream``)
reads, which rejects assistant-ui's ``aui-*`` frames: parent ids and reasoning summaries are
dropped, state updates are not sent, finished arguments become a ``9:{toolCallId,toolName,args}``
tool call (so ``onToolCall`` fires for calls left to the client), and usage is written as
``promptTokens``/``completionTokens``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any, ClassVar, Literal

import orjson

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

__all__ = ["DataStreamDecoder", "DataStreamEncoder", "DataStreamProfile", "DataStreamResponse"]

logger = logging.getLogger("assistant_stream_ce.serialization")

Emit = Callable[[bytes], None]

#: ``"assistant-ui"`` (default): every frame assistant-ui reads; ``"ai-sdk-v4"``: only frames
#: the Vercel AI SDK v4 data stream parser accepts.
DataStreamProfile = Literal["assistant-ui", "ai-sdk-v4"]


class DataStreamEncoder(StreamEncoder):
    """Encoder for the assistant-ui data stream."""

    media_type = "text/plain"
    keepalive = b"\n"
    headers: ClassVar[dict[str, str]] = {
        "x-vercel-ai-data-stream": "v1",
        "Access-Control-Expose-Headers": "x-vercel-ai-data-stream",
    }

    def __init__(self, profile: DataStreamProfile = "assistant-ui") -> None:
        if profile not in ("assistant-ui", "ai-sdk-v4"):
            raise ValueError(f"profile must be 'assistant-ui' or 'ai-sdk-v4', got {profile!r}")
        self.profile = profile
        self._v4 = profile == "ai-sdk-v4"
        # v4 profile: tool call id -> (tool name, argument pieces) until the arguments finish
        self._v4_args: dict[str, tuple[str, list[str]]] = {}
        # tool call id -> whether any argument text was sent, for calls whose args are open
        self._open_args: dict[str, bool] = {}
        self._known_tools: set[str] = set()
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
            if kind == "text-delta" and chunk.parent_id is None:
                emit(b"0:")
                emit(dumps_text(chunk.text_delta))
                emit(b"\n")
                continue
            handler = handlers.get(kind) if kind != "text-delta" else self._text_delta
            if handler is None:
                logger.debug("data stream: no frame for chunk type %r", kind)
                continue
            try:
                handler(chunk, emit)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._error_frame(str(exc), emit)
        return escape_line_separators(b"".join(out))

    def finish(self, failed: bool = False) -> bytes:
        out: list[bytes] = []
        self._close_all_args(out.append)
        if not failed:
            totals = self._totals
            usage = totals.usage()
            if self._v4:
                usage = _v4_usage(usage["inputTokens"], usage["outputTokens"])
            value = {"finishReason": totals.finish_reason(), "usage": usage}
            out.append(b"d:" + dumps(value, "message-finish") + b"\n")
        return b"".join(out)

    # -- frames --------------------------------------------------------------------------

    @staticmethod
    def _frame(code: bytes, value: Any, chunk_type: str, emit: Emit) -> None:
        payload = dumps(value, chunk_type)
        emit(code)
        emit(payload)
        emit(b"\n")

    def _error_frame(self, message: str, emit: Emit) -> None:
        self._close_all_args(emit)
        emit(b"3:")
        emit(dumps_text(message))
        emit(b"\n")

    def _text_delta(self, chunk: Any, emit: Emit) -> None:
        if self._v4:
            emit(b"0:")
            emit(dumps_text(chunk.text_delta))
            emit(b"\n")
            return
        self._frame(
            b"aui-text-delta:",
            {"textDelta": chunk.text_delta, "parentId": chunk.parent_id},
            chunk.type,
            emit,
        )

    def _reasoning_delta(self, chunk: Any, emit: Emit) -> None:
        if chunk.parent_id is None or self._v4:
            emit(b"g:")
            emit(dumps_text(chunk.reasoning_delta))
            emit(b"\n")
        else:
            self._frame(
                b"aui-reasoning-delta:",
                {"reasoningDelta": chunk.reasoning_delta, "parentId": chunk.parent_id},
                chunk.type,
                emit,
            )

    def _reasoning_part_start(self, chunk: Any, emit: Emit) -> None:
        if self._v4:
            return  # v4 has no reasoning part boundaries or summaries
        value: dict[str, Any] = {}
        if chunk.unstable_summary is not None:
            value["unstable_summary"] = chunk.unstable_summary
        if chunk.parent_id is not None:
            value["parentId"] = chunk.parent_id
        self._frame(b"aui-reasoning-part-start:", value, chunk.type, emit)

    def _tool_call_begin(self, chunk: Any, emit: Emit) -> None:
        if chunk.tool_call_id in self._known_tools:
            logger.warning("data stream: duplicate tool call id %r dropped", chunk.tool_call_id)
            return
        value: dict[str, Any] = {"toolCallId": chunk.tool_call_id, "toolName": chunk.tool_name}
        if chunk.parent_id is not None and not self._v4:
            value["parentId"] = chunk.parent_id
        self._frame(b"b:", value, chunk.type, emit)
        if self._v4:
            self._v4_args[chunk.tool_call_id] = (chunk.tool_name, [])
        self._known_tools.add(chunk.tool_call_id)
        self._totals.unanswered.add(chunk.tool_call_id)
        self._open_args[chunk.tool_call_id] = False

    def _tool_call_delta(self, chunk: Any, emit: Emit) -> None:
        tool_call_id = chunk.tool_call_id
        if tool_call_id not in self._open_args:
            logger.warning("data stream: argument text for a closed or unknown tool call dropped")
            return
        if chunk.args_text_delta:
            self._open_args[tool_call_id] = True
            if self._v4:
                self._v4_args[tool_call_id][1].append(chunk.args_text_delta)
            self._frame(
                b"c:",
                {"toolCallId": tool_call_id, "argsTextDelta": chunk.args_text_delta},
                chunk.type,
                emit,
            )

    def _close_args(self, tool_call_id: str, emit: Emit, last_delta: str = "") -> None:
        if self._v4:
            self._v4_tool_call(tool_call_id, emit, last_delta)
            return
        had_text = self._open_args.pop(tool_call_id)
        if not had_text and not last_delta:
            last_delta = "{}"
        emit(b"c:")
        emit(
            dumps(
                {"toolCallId": tool_call_id, "argsTextDelta": last_delta, "isFinal": True},
                "tool-call-args-text-finish",
            )
        )
        emit(b"\n")

    def _v4_tool_call(self, tool_call_id: str, emit: Emit, last_delta: str) -> None:
        del self._open_args[tool_call_id]
        tool_name, pieces = self._v4_args.pop(tool_call_id)
        if last_delta:
            self._frame(
                b"c:",
                {"toolCallId": tool_call_id, "argsTextDelta": last_delta},
                "tool-call-delta",
                emit,
            )
            pieces.append(last_delta)
        text = "".join(pieces)
        try:
            args = orjson.loads(text) if text.strip() else {}
        except orjson.JSONDecodeError:
            args = None
        if not isinstance(args, dict):
            logger.warning(
                "data stream (ai-sdk-v4): arguments of tool call %r are not a JSON object; "
                "sent as {}",
                tool_call_id,
            )
            args = {}
        self._frame(
            b"9:",
            {"toolCallId": tool_call_id, "toolName": tool_name, "args": args},
            "tool-call-args-text-finish",
            emit,
        )

    def _close_all_args(self, emit: Emit) -> None:
        for tool_call_id in list(self._open_args):
            self._close_args(tool_call_id, emit)

    def _tool_call_args_finish(self, chunk: Any, emit: Emit) -> None:
        if chunk.tool_call_id in self._open_args:
            self._close_args(chunk.tool_call_id, emit, chunk.args_text_delta)

    def _tool_result(self, chunk: Any, emit: Emit) -> None:
        tool_call_id = chunk.tool_call_id
        if tool_call_id not in self._known_tools:
            logger.warning(
                "data stream: result for unknown tool call %r dropped (no tool-call-begin)",
                tool_call_id,
            )
            return
        value: dict[str, Any] = {"toolCallId": tool_call_id, "result": chunk.result}
        if chunk.artifact is not None:
            value["artifact"] = chunk.artifact
        if chunk.is_error:
            value["isError"] = True
        payload = dumps(value, chunk.type)
        if tool_call_id in self._open_args:
            self._close_args(tool_call_id, emit)
        self._totals.unanswered.discard(tool_call_id)
        emit(b"a:")
        emit(payload)
        emit(b"\n")

    def _data(self, chunk: Any, emit: Emit) -> None:
        self._frame(b"2:", [chunk.data], chunk.type, emit)

    def _annotations(self, chunk: Any, emit: Emit) -> None:
        self._frame(b"8:", list(chunk.annotations), chunk.type, emit)

    def _update_state(self, chunk: Any, emit: Emit) -> None:
        if self._v4:
            logger.debug("data stream (ai-sdk-v4): state updates are not sent")
            return
        self._frame(b"aui-state:", chunk.operations, chunk.type, emit)

    def _error(self, chunk: Any, emit: Emit) -> None:
        self._error_frame(str(chunk.error), emit)

    def _source(self, chunk: Any, emit: Emit) -> None:
        value: dict[str, Any] = {"sourceType": chunk.source_type, "id": chunk.id, "url": chunk.url}
        if chunk.title is not None:
            value["title"] = chunk.title
        if chunk.parent_id is not None and not self._v4:
            value["parentId"] = chunk.parent_id
        self._frame(b"h:", value, chunk.type, emit)

    def _file(self, chunk: Any, emit: Emit) -> None:
        value: dict[str, Any] = {"data": chunk.data, "mimeType": chunk.mime_type}
        if chunk.parent_id is not None and not self._v4:
            value["parentId"] = chunk.parent_id
        self._frame(b"k:", value, chunk.type, emit)

    def _step_start(self, chunk: Any, emit: Emit) -> None:
        self._frame(b"f:", {"messageId": chunk.message_id}, chunk.type, emit)

    def _step_finish(self, chunk: Any, emit: Emit) -> None:
        self._close_all_args(emit)
        self._totals.step_finished(chunk)
        if self._v4:
            usage = _v4_usage(chunk.input_tokens, chunk.output_tokens)
        else:
            usage = {"inputTokens": chunk.input_tokens, "outputTokens": chunk.output_tokens}
        self._frame(
            b"e:",
            {
                "finishReason": chunk.finish_reason,
                "usage": usage,
                "isContinued": chunk.is_continued,
            },
            chunk.type,
            emit,
        )


def _v4_usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"promptTokens": input_tokens, "completionTokens": output_tokens}


class DataStreamResponse(AssistantStreamResponse):
    """Serve a run as the assistant-ui data stream (``text/plain``, marker header included).

    The idle keepalive is a blank line every ``heartbeat`` seconds (on by default).
    ``profile="ai-sdk-v4"`` serves the Vercel AI SDK v4 ``useChat`` (see `DataStreamEncoder`).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        profile: DataStreamProfile = "assistant-ui",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            stream,
            DataStreamEncoder(profile),
            heartbeat,
            send_timeout=send_timeout,
            write_interval=write_interval,
            status_code=status_code,
            headers=headers,
        )


from ._data_stream_decoder import DataStreamDecoder  # noqa: E402
