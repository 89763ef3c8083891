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
from collections.abc import AsyncIterable, Mapping
from typing import Any, ClassVar, Literal

import orjson

from .._json import dumps, dumps_text
from ..assistant_stream_chunk import AssistantStreamChunk, chunk_methods
from ..errors import SerializationError
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .heartbeat import DATA_STREAM_KEEPALIVE
from .parts import PartListener, PartMachine, ToolCall
from .registry import CAPABILITIES, ProtocolInfo, register_protocol
from .stream_encoder import MessageTotals, StreamEncoder, encode_operations

__all__ = ["DataStreamDecoder", "DataStreamEncoder", "DataStreamProfile", "DataStreamResponse"]

logger = logging.getLogger("assistant_stream_ce.serialization")

#: ``"assistant-ui"`` (default): every frame assistant-ui reads; ``"ai-sdk-v4"``: only frames
#: the Vercel AI SDK v4 data stream parser accepts.
DataStreamProfile = Literal["assistant-ui", "ai-sdk-v4"]


class DataStreamEncoder(StreamEncoder, PartListener):
    """Encoder for the assistant-ui data stream."""

    media_type = "text/plain"
    keepalive = DATA_STREAM_KEEPALIVE
    sse = False
    headers: ClassVar[dict[str, str]] = {
        "x-vercel-ai-data-stream": "v1",
        "Access-Control-Expose-Headers": "x-vercel-ai-data-stream",
    }

    def __init__(self, profile: DataStreamProfile = "assistant-ui") -> None:
        if profile not in ("assistant-ui", "ai-sdk-v4"):
            raise ValueError(f"profile must be 'assistant-ui' or 'ai-sdk-v4', got {profile!r}")
        self.profile = profile
        self._v4 = profile == "ai-sdk-v4"
        # v4 keeps each call's argument text for its complete `9:` frame.
        self._parts = PartMachine(self, keep_args=self._v4)
        self._totals = MessageTotals()
        self._out: list[bytes] = []

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        out = self._out = []
        emit = out.append
        handlers = chunk_methods(self.__class__)
        for chunk in chunks:
            kind = chunk.type
            if kind == "text-delta" and chunk.parent_id is None:
                emit(b"0:" + dumps_text(chunk.text_delta) + b"\n")
                continue
            handler = handlers.get(kind)
            if handler is None:
                logger.debug("data stream: no frame for chunk type %r", kind)
                continue
            try:
                handler(self, chunk)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._error_frame(str(exc))
        return out

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        out = self._out = []
        self._parts.close_all_args()
        if not failed:
            totals = self._totals
            usage = totals.usage()
            if self._v4:
                usage = _v4_usage(usage["inputTokens"], usage["outputTokens"])
            value = {"finishReason": totals.finish_reason(self._parts.unanswered), "usage": usage}
            out.append(b"d:" + dumps(value, "message-finish") + b"\n")
        return out

    # -- frames --------------------------------------------------------------------------

    def _frame(self, code: bytes, value: Any, chunk_type: str) -> None:
        self._out.append(code + dumps(value, chunk_type) + b"\n")

    def _error_frame(self, message: str) -> None:
        self._parts.close_all_args()
        self._out.append(b"3:" + dumps_text(message) + b"\n")

    def _text_delta(self, chunk: Any) -> None:
        if self._v4 or chunk.parent_id is None:
            self._out.append(b"0:" + dumps_text(chunk.text_delta) + b"\n")
            return
        self._frame(
            b"aui-text-delta:",
            {"textDelta": chunk.text_delta, "parentId": chunk.parent_id},
            chunk.type,
        )

    def _reasoning_delta(self, chunk: Any) -> None:
        if chunk.parent_id is None or self._v4:
            self._out.append(b"g:" + dumps_text(chunk.reasoning_delta) + b"\n")
        else:
            self._frame(
                b"aui-reasoning-delta:",
                {"reasoningDelta": chunk.reasoning_delta, "parentId": chunk.parent_id},
                chunk.type,
            )

    def _reasoning_part_start(self, chunk: Any) -> None:
        if self._v4:
            return  # v4 has no reasoning part boundaries or summaries
        value: dict[str, Any] = {}
        if chunk.unstable_summary is not None:
            value["unstable_summary"] = chunk.unstable_summary
        if chunk.parent_id is not None:
            value["parentId"] = chunk.parent_id
        self._frame(b"aui-reasoning-part-start:", value, chunk.type)

    def _tool_call_begin(self, chunk: Any) -> None:
        value: dict[str, Any] = {"toolCallId": chunk.tool_call_id, "toolName": chunk.tool_name}
        if chunk.parent_id is not None and not self._v4:
            value["parentId"] = chunk.parent_id
        frame = b"b:" + dumps(value, chunk.type) + b"\n"
        if self._parts.begin_tool(chunk.tool_call_id, chunk.tool_name, chunk.parent_id) is None:
            logger.warning("data stream: duplicate tool call id %r dropped", chunk.tool_call_id)
            return
        self._out.append(frame)

    def _tool_call_delta(self, chunk: Any) -> None:
        text = chunk.args_text_delta
        frame = (
            b"c:" + dumps({"toolCallId": chunk.tool_call_id, "argsTextDelta": text}, chunk.type)
            if text
            else b""
        )
        if self._parts.args_delta(chunk.tool_call_id, text) is None:
            logger.warning("data stream: argument text for a closed or unknown tool call dropped")
            return
        if frame:
            self._out.append(frame + b"\n")

    def _tool_call_args_text_finish(self, chunk: Any) -> None:
        self._parts.finish_args(chunk.tool_call_id, chunk.args_text_delta)

    def args_closed(self, tool: ToolCall, last_text: str) -> None:
        if self._v4:
            self._v4_tool_call(tool, last_text)
            return
        if not tool.has_args and not last_text:
            last_text = "{}"
        self._frame(
            b"c:",
            {"toolCallId": tool.id, "argsTextDelta": last_text, "isFinal": True},
            "tool-call-args-text-finish",
        )

    def _v4_tool_call(self, tool: ToolCall, last_text: str) -> None:
        if last_text:
            self._frame(
                b"c:", {"toolCallId": tool.id, "argsTextDelta": last_text}, "tool-call-delta"
            )
        text = tool.args_text
        try:
            args = orjson.loads(text) if text.strip() else {}
        except orjson.JSONDecodeError:
            args = None
        if not isinstance(args, dict):
            logger.warning(
                "data stream (ai-sdk-v4): arguments of tool call %r are not a JSON object; "
                "sent as {}",
                tool.id,
            )
            args = {}
        self._frame(
            b"9:",
            {"toolCallId": tool.id, "toolName": tool.name, "args": args},
            "tool-call-args-text-finish",
        )

    def _tool_result(self, chunk: Any) -> None:
        tool_call_id = chunk.tool_call_id
        if tool_call_id not in self._parts.tools:
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
        frame = b"a:" + dumps(value, chunk.type) + b"\n"
        self._parts.result(tool_call_id)
        self._out.append(frame)

    def _tool_output_denied(self, chunk: Any) -> None:
        # no denied state here: the call's error result (``a:{…, isError: true}``)
        self._tool_result(chunk.as_tool_result())

    def _data(self, chunk: Any) -> None:
        self._frame(b"2:", [chunk.data], chunk.type)

    def _annotations(self, chunk: Any) -> None:
        self._frame(b"8:", list(chunk.annotations), chunk.type)

    def _update_state(self, chunk: Any) -> None:
        if self._v4:
            logger.debug("data stream (ai-sdk-v4): state updates are not sent")
            return
        _, payload, problems = encode_operations(chunk.operations)
        if payload is not None:
            self._out.append(b"aui-state:" + payload + b"\n")
        for problem in problems:
            self._error_frame(problem)

    def _error(self, chunk: Any) -> None:
        self._error_frame(str(chunk.error))

    def _source(self, chunk: Any) -> None:
        value: dict[str, Any] = {"sourceType": chunk.source_type, "id": chunk.id, "url": chunk.url}
        if chunk.title is not None:
            value["title"] = chunk.title
        if chunk.parent_id is not None and not self._v4:
            value["parentId"] = chunk.parent_id
        self._frame(b"h:", value, chunk.type)

    def _file(self, chunk: Any) -> None:
        value: dict[str, Any] = {"data": chunk.data, "mimeType": chunk.mime_type}
        if chunk.parent_id is not None and not self._v4:
            value["parentId"] = chunk.parent_id
        self._frame(b"k:", value, chunk.type)

    def _step_start(self, chunk: Any) -> None:
        self._frame(b"f:", {"messageId": chunk.message_id}, chunk.type)

    def _step_finish(self, chunk: Any) -> None:
        if self._v4:
            usage = _v4_usage(chunk.input_tokens, chunk.output_tokens)
        else:
            usage = {"inputTokens": chunk.input_tokens, "outputTokens": chunk.output_tokens}
        frame = b"e:" + dumps(
            {
                "finishReason": chunk.finish_reason,
                "usage": usage,
                "isContinued": chunk.is_continued,
            },
            chunk.type,
        )
        self._parts.close_all_args()
        self._totals.step_finished(chunk)
        self._out.append(frame + b"\n")


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

register_protocol(
    ProtocolInfo(
        name="data-stream",
        label="Data stream",
        description="assistant-ui data stream (useDataStreamRuntime, "
        'useAssistantTransportRuntime); profile="ai-sdk-v4" for the AI SDK v4 useChat',
        encoder=DataStreamEncoder,
        decoder=DataStreamDecoder,
        response=DataStreamResponse,
        carries=frozenset(CAPABILITIES),
        marker=("x-vercel-ai-data-stream", "v1"),
        request_parser="assistant_stream_ce.requests:parse_data_stream_request",
    )
)


# Names assistant-stream 0.0.36 let users import from this module (their homes are elsewhere).
from ..state import StateProxy as StateProxy  # noqa: E402
from ..state import StateProxyJSONEncoder as StateProxyJSONEncoder  # noqa: E402
from .heartbeat import DATA_STREAM_KEEPALIVE_LINE as DATA_STREAM_KEEPALIVE_LINE  # noqa: E402
