"""An OpenAI-compatible ``chat.completion.chunk`` stream (what the ``openai`` SDKs read).

- The first chunk carries ``delta.role = "assistant"`` (and ``content: ""``).
- Text → ``delta.content``; reasoning → ``delta.reasoning_content`` (configurable).
- Tool calls the run leaves unanswered become indexed ``delta.tool_calls`` (id, type and name
  on the first fragment, argument text after) and the choice finishes with ``tool_calls``, so an
  OpenAI client runs them as in any function-calling loop. Calls the run answers itself (a
  result follows) are hidden by default — a client would run them again; pass
  ``include_answered_tool_calls=True`` to stream every call as it happens.
- ``finish_reason``: ``tool_calls`` when calls are left for the client, else the last step's
  reason (``stop``, ``length``, ``content_filter``; anything else → ``stop``).
- Usage (summed over steps) in a final chunk with ``choices: []`` when the run reported any
  (``include_usage`` forces it on or off).
- An error becomes ``data: {"error": {...}}`` — the SDK raises it as ``APIError`` — and nothing
  but ``[DONE]`` follows it. Sources, files, data, annotations and state are not representable
  and are dropped.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any, Literal

from .._json import dumps, dumps_text
from ..assistant_stream_chunk import AssistantStreamChunk
from ..errors import SerializationError
from ..finish_reasons import to_wire_finish_reason
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .heartbeat import SSE_HEARTBEAT
from .registry import ProtocolInfo, register_protocol
from .sse import DATA_PREFIX, EVENT_END, SSE_DONE, sse_data
from .stream_encoder import StreamEncoder

__all__ = [
    "OpenAIStreamDecoder",
    "OpenAIStreamEncoder",
    "OpenAIStreamResponse",
    "ReasoningField",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

Emit = Callable[[bytes], None]
ReasoningField = Literal["reasoning_content", "reasoning", "both", "none"]


def generate_openai_style_id() -> str:
    """A completion id shaped like OpenAI's: ``chatcmpl-`` and 29 letters or digits."""
    return "chatcmpl-" + secrets.token_urlsafe(22).replace("-", "a").replace("_", "b")[:29]


class _ToolCall:
    __slots__ = ("answered", "args", "id", "index", "name", "shown")

    def __init__(self, tool_call_id: str, name: str) -> None:
        self.id = tool_call_id
        self.name = name
        self.args: list[str] = []
        self.answered = False
        self.shown = False
        self.index = -1


class OpenAIStreamEncoder(StreamEncoder):
    """Encoder for OpenAI ``chat.completion.chunk`` server-sent events."""

    media_type = "text/event-stream"
    keepalive = SSE_HEARTBEAT

    def __init__(
        self,
        model: str = "assistant-stream-ce",
        system_fingerprint: str | None = None,
        *,
        completion_id: str | None = None,
        created: int | None = None,
        reasoning_field: ReasoningField = "reasoning_content",
        include_answered_tool_calls: bool = False,
        include_usage: bool | None = None,
    ) -> None:
        self.model = model
        self.completion_id = completion_id or generate_openai_style_id()
        self.created = int(time.time()) if created is None else created
        self.reasoning_field = reasoning_field
        self.include_answered_tool_calls = include_answered_tool_calls
        self.include_usage = include_usage
        header: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model,
        }
        if system_fingerprint is not None:
            header["system_fingerprint"] = system_fingerprint
        # Every chunk is `prefix + <delta JSON> + suffix` (header fields shared).
        self._header = dumps(header, "openai")[:-1]
        self._prefix = DATA_PREFIX + self._header + b',"choices":[{"index":0,"delta":'
        self._suffix = b',"logprobs":null,"finish_reason":null}]}' + EVENT_END
        # A text delta's event is these two around the delta's JSON string.
        self._content_prefix = self._prefix + b'{"content":'
        self._content_suffix = b"}" + self._suffix
        self._started = False
        self._errored = False
        self._tools: dict[str, _ToolCall] = {}
        self._shown_count = 0
        self._unanswered_shown = False
        self._last_finish_reason: str | None = None
        self._input_tokens = 0
        self._output_tokens = 0
        self._usage_reported = False
        if reasoning_field == "both":
            self._reasoning_keys = [b'"reasoning_content":', b'"reasoning":']
        elif reasoning_field == "none":
            self._reasoning_keys = []
        else:
            self._reasoning_keys = [b'"' + reasoning_field.encode() + b'":']

    @property
    def closed(self) -> bool:
        """True once an error event ended the stream (OpenAI errors are terminal)."""
        return self._errored

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        out: list[bytes] = []
        emit = out.append
        if not self._started:
            self._started = True
            emit(self._prefix + b'{"role":"assistant","content":""}' + self._suffix)
        for chunk in chunks:
            if self._errored:
                break
            kind = chunk.type
            try:
                if kind == "text-delta":
                    emit(self._content_prefix + dumps_text(chunk.text_delta) + self._content_suffix)
                elif kind == "reasoning-delta":
                    if self._reasoning_keys:
                        text = dumps_text(chunk.reasoning_delta)
                        delta = b",".join(key + text for key in self._reasoning_keys)
                        emit(self._prefix + b"{" + delta + b"}" + self._suffix)
                elif kind == "tool-call-begin":
                    self._tool_call_begin(chunk, emit)
                elif kind == "tool-call-delta" or kind == "tool-call-args-text-finish":
                    self._tool_call_delta(chunk, emit)
                elif kind == "tool-result" or kind == "tool-output-denied":
                    # (no results on this wire: an answered or denied call is not pending)
                    tool = self._tools.get(chunk.tool_call_id)
                    if tool is not None:
                        tool.answered = True
                        tool.args.clear()
                elif kind == "step-finish":
                    self._step_finish(chunk, emit)
                elif kind == "error":
                    self._error_event(str(chunk.error), emit)
            except SerializationError as exc:
                logger.warning("%s", exc)
                self._error_event(str(exc), emit)
        return out

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        out: list[bytes] = []
        emit = out.append
        if not self._started:
            self._started = True
            emit(self._prefix + b'{"role":"assistant","content":""}' + self._suffix)
        if not self._errored:
            self._show_unanswered(emit)
            if self._unanswered_shown:
                reason = "tool_calls"
            else:
                reason = to_wire_finish_reason(self._last_finish_reason or "stop", unknown="stop")
                if reason == "tool_calls":
                    reason = "stop"  # every call was answered by the run itself
            emit(
                self._prefix
                + b'{},"logprobs":null,"finish_reason":"'
                + reason.encode()
                + b'"}]}'
                + EVENT_END
            )
            include_usage = self.include_usage
            if include_usage or (include_usage is None and self._usage_reported):
                usage = {
                    "prompt_tokens": self._input_tokens,
                    "completion_tokens": self._output_tokens,
                    "total_tokens": self._input_tokens + self._output_tokens,
                }
                emit(sse_data(self._header + b',"choices":[],"usage":' + dumps(usage) + b"}"))
        emit(SSE_DONE)
        return out

    # -- tool calls ----------------------------------------------------------------------

    def _emit_tool_fragment(self, fragment: dict[str, Any], emit: Emit) -> None:
        payload = dumps(fragment, "tool-call")
        emit(self._prefix + b'{"tool_calls":[' + payload + b"]}" + self._suffix)

    def _show(self, tool: _ToolCall, emit: Emit) -> None:
        tool.shown = True
        tool.index = self._shown_count
        self._shown_count += 1
        self._emit_tool_fragment(
            {
                "index": tool.index,
                "id": tool.id,
                "type": "function",
                "function": {"name": tool.name, "arguments": ""},
            },
            emit,
        )
        if tool.args:
            arguments = "".join(tool.args)
            tool.args.clear()
            self._emit_tool_fragment(
                {"index": tool.index, "function": {"arguments": arguments}}, emit
            )

    def _show_unanswered(self, emit: Emit) -> None:
        for tool in self._tools.values():
            if not tool.answered and not tool.shown:
                self._show(tool, emit)
            if tool.shown and not tool.answered:
                self._unanswered_shown = True

    def _tool_call_begin(self, chunk: Any, emit: Emit) -> None:
        if chunk.tool_call_id in self._tools:
            return
        tool = _ToolCall(chunk.tool_call_id, chunk.tool_name)
        self._tools[tool.id] = tool
        if self.include_answered_tool_calls:
            self._show(tool, emit)

    def _tool_call_delta(self, chunk: Any, emit: Emit) -> None:
        tool = self._tools.get(chunk.tool_call_id)
        text = chunk.args_text_delta
        if tool is None or tool.answered or not text:
            return
        if tool.shown:
            self._emit_tool_fragment({"index": tool.index, "function": {"arguments": text}}, emit)
        else:
            tool.args.append(text)

    # -- steps and errors ----------------------------------------------------------------

    def _step_finish(self, chunk: Any, emit: Emit) -> None:
        # Unanswered calls are only known at the end: a server-run tool's result follows the
        # step that requested it, so nothing is shown here.
        self._last_finish_reason = chunk.finish_reason
        if chunk.input_tokens or chunk.output_tokens:
            self._usage_reported = True
        self._input_tokens += int(chunk.input_tokens)
        self._output_tokens += int(chunk.output_tokens)

    def _error_event(self, message: str, emit: Emit) -> None:
        self._errored = True
        error = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
        emit(sse_data(dumps(error)))


class OpenAIStreamResponse(AssistantStreamResponse):
    """Serve a run as an OpenAI-compatible chat completion stream (``text/event-stream``).

    ``model`` and ``completion_id`` set the ``model``/``id`` of every chunk; see
    `OpenAIStreamEncoder` for the other options. The idle keepalive is a ``: keep-alive``
    comment (on by default; never combined with ``id:`` lines, which break the Python SDK).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        model: str = "assistant-stream-ce",
        completion_id: str | None = None,
        system_fingerprint: str | None = None,
        reasoning_field: ReasoningField = "reasoning_content",
        include_answered_tool_calls: bool = False,
        include_usage: bool | None = None,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        encoder = OpenAIStreamEncoder(
            model,
            system_fingerprint,
            completion_id=completion_id,
            reasoning_field=reasoning_field,
            include_answered_tool_calls=include_answered_tool_calls,
            include_usage=include_usage,
        )
        super().__init__(
            stream,
            encoder,
            heartbeat,
            send_timeout=send_timeout,
            write_interval=write_interval,
            status_code=status_code,
            headers=headers,
        )


from ._openai_stream_decoder import OpenAIStreamDecoder  # noqa: E402


def _sniff(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    return payload.get("object") == "chat.completion.chunk" or (
        "error" in payload and "type" not in payload
    )


register_protocol(
    ProtocolInfo(
        name="openai",
        label="OpenAI",
        description="OpenAI-compatible chat.completion.chunk stream (openai SDKs, LangChain, "
        "any OpenAI-compatible client)",
        encoder=OpenAIStreamEncoder,
        decoder=OpenAIStreamDecoder,
        response=OpenAIStreamResponse,
        carries=frozenset({"text", "reasoning", "tool-calls", "usage", "errors"}),
        demo_options={"model": "assistant-stream-ce-demo", "include_answered_tool_calls": True},
        sniff=_sniff,
        request_parser="assistant_stream_ce.requests:parse_openai_request",
    )
)


# A name assistant-stream 0.0.36 let users import from this module (its home is heartbeat).
from .heartbeat import SSE_HEARTBEAT_LINE as SSE_HEARTBEAT_LINE  # noqa: E402
