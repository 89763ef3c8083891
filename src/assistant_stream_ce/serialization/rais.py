"""RAIS v1 (react-ai-stream): SSE events ``text``, ``done`` and ``error``, one ``data:`` line each.

Read by react-ai-stream's ``useAIChat`` hooks (React, Vue) and anything following the RAIS spec.

- Text deltas → ``{"type":"text","text":...}``; a successful run ends with ``{"type":"done"}``.
- An error → ``{"type":"error","error":...}``; it is terminal: nothing follows it, not even
  ``done``. Secrets passed as ``redact`` never appear in it, whole or in part.
- A tool call waiting for approval (``tool-approval-request``) → a text note saying so
  (`APPROVAL_NOTE`): RAIS has no way to ask for or answer an approval.
- Everything else is dropped in v1 (the spec forbids the reserved types). The draft RFC
  extensions are opt-in (``extensions=True`` or a collection of names):
  ``"reasoning"`` (RFC-0003) → ``reasoning`` events; ``"tool_calls"`` (RFC-0001) → ``tool_call``
  with the parsed ``input`` once its arguments are complete, ``tool_result``; ``"metadata"``
  (RFC-0002) → one ``metadata`` event (model, tokens, elapsed time, finish reason) after the
  terminal event.
- Framing: LF only, ``data: `` with one space, single-line compact JSON, ``id: <n>`` before
  every event (``event_ids=False`` turns them off); keepalive ``: keep-alive``.

`RAISResponse` answers a request carrying ``Last-Event-ID`` with ``204 No Content`` (a run is
not resumable). `RAISDecoder` turns RAIS bytes back into chunks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, Union

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .._json import dumps, dumps_text
from ..assistant_stream_chunk import AssistantStreamChunk
from ..errors import SerializationError
from ..finish_reasons import to_wire_finish_reason
from ..redaction import redact
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .decoding import Malformed, loads
from .registry import ProtocolInfo, register_protocol
from .sse import sse_comment, sse_data, sse_event
from .stream_encoder import StreamEncoder

__all__ = [
    "APPROVAL_NOTE",
    "RAIS_EXTENSIONS",
    "RAISDecoder",
    "RAISEncoder",
    "RAISExtension",
    "RAISJSONEncoder",
    "RAISResponse",
    "redact_secrets",
    "resolve_extensions",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

Emit = Callable[[bytes], None]
RAISExtension = Literal["reasoning", "tool_calls", "metadata"]
ExtensionsOption = Union[bool, Iterable[RAISExtension], None]

#: The text written for a tool call waiting for approval (RAIS cannot carry approvals).
APPROVAL_NOTE = "[{name} needs a person's approval before it runs; this client cannot give it.]"

#: The draft RFC extensions an encoder can emit when asked to.
RAIS_EXTENSIONS: frozenset[str] = frozenset({"reasoning", "tool_calls", "metadata"})

#: What an error event says when the run failed without saying why.
GENERIC_ERROR = "The response failed because of an internal error."

_DONE_PAYLOAD = b'{"type":"done"}'


def resolve_extensions(extensions: ExtensionsOption) -> frozenset[str]:
    """The set of extension names to emit: True → all, False/None → none.

    Raises ValueError for an unknown name (or a bare string instead of a collection).
    """
    if extensions is True:
        return RAIS_EXTENSIONS
    if extensions is None or extensions is False:
        return frozenset()
    if isinstance(extensions, str):
        raise ValueError(
            f"extensions must be True, False or a collection of names, got {extensions!r}"
        )
    names = frozenset(extensions)
    unknown = names - RAIS_EXTENSIONS
    if unknown:
        raise ValueError(
            f"unknown RAIS extension(s) {sorted(unknown)}; known: {sorted(RAIS_EXTENSIONS)}"
        )
    return names


#: The library's one redaction rule, under the name this module has always exported.
redact_secrets = redact


# -- encoder ------------------------------------------------------------------------------------


class _PendingToolCall:
    __slots__ = ("args", "name", "sent")

    def __init__(self, name: str) -> None:
        self.name = name
        self.args: list[str] = []
        self.sent = False


def _parse_arguments(text: str) -> Any:
    """A tool call's ``input``: the parsed argument JSON (``""`` → ``{}``), else the raw text."""
    if not text.strip():
        return {}
    try:
        return loads(text)
    except Malformed:
        return text


class RAISEncoder(StreamEncoder):
    """Encoder for RAIS v1 server-sent events (draft extensions opt-in, see the module doc)."""

    media_type = "text/event-stream"
    keepalive = sse_comment("keep-alive")
    headers: ClassVar[dict[str, str]] = {
        "Cache-Control": "no-cache, no-transform",
        "Connection": "keep-alive",
        "X-Accel-Buffering": "no",
    }

    def __init__(
        self,
        *,
        extensions: ExtensionsOption = False,
        event_ids: bool = True,
        model: str | None = None,
        text_separator: str = "",
        redact: Iterable[str | None] = (),
    ) -> None:
        enabled = resolve_extensions(extensions)
        self.extensions = enabled
        self.event_ids = event_ids
        self.model = model
        self.text_separator = text_separator
        self.redact = tuple(secret for secret in redact if secret)
        self._reasoning = "reasoning" in enabled
        self._tool_calls = "tool_calls" in enabled
        self._metadata = "metadata" in enabled
        self._next_id = 1
        self._terminal: str | None = None
        self._tools: dict[str, _PendingToolCall] = {}
        self._tool_names: dict[str, str] = {}
        self._text_sent = False
        self._text_broken = False
        self._input_tokens = 0
        self._output_tokens = 0
        self._usage_reported = False
        self._finish_reason: str | None = None
        self._started = time.monotonic()

    @property
    def closed(self) -> bool:
        """True once the terminal event (``done`` or ``error``) was written."""
        return self._terminal is not None

    # -- public encoding API --------------------------------------------------------------

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        return self._frames(self.encode_payloads(chunks))

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        return self._frames(self.finish_payloads(failed))

    def _frames(self, payloads: list[bytes]) -> list[bytes]:
        if not self.event_ids:
            return [sse_data(payload) for payload in payloads]
        first = self._next_id
        self._next_id += len(payloads)
        return [sse_event(payload, id=first + i) for i, payload in enumerate(payloads)]

    def encode_payloads(self, chunks: list[Any]) -> list[bytes]:
        """The JSON of each event the chunks make (what the WebSocket transport sends)."""
        out: list[bytes] = []
        emit = out.append
        for chunk in chunks:
            if self._terminal is not None:
                break
            kind = chunk.type
            if kind == "text-delta":
                self._text(chunk.text_delta, emit)
            elif kind == "error":
                self._error(str(chunk.error), emit)
            elif kind == "reasoning-delta":
                if self._reasoning and chunk.reasoning_delta:
                    self._payload(
                        b'{"type":"reasoning","text":' + dumps_text(chunk.reasoning_delta) + b"}",
                        emit,
                    )
            elif kind == "tool-call-begin":
                self._text_broken = True
                self._tool_names[chunk.tool_call_id] = chunk.tool_name
                if self._tool_calls and chunk.tool_call_id not in self._tools:
                    self._tools[chunk.tool_call_id] = _PendingToolCall(chunk.tool_name)
            elif kind == "tool-call-delta":
                tool = self._tools.get(chunk.tool_call_id)
                if tool is not None and not tool.sent:
                    tool.args.append(chunk.args_text_delta)
            elif kind == "tool-call-args-text-finish":
                tool = self._tools.get(chunk.tool_call_id)
                if tool is not None:
                    if chunk.args_text_delta and not tool.sent:
                        tool.args.append(chunk.args_text_delta)
                    self._send_tool_call(chunk.tool_call_id, tool, emit)
            elif kind == "tool-result":
                self._text_broken = True
                if self._tool_calls:
                    self._tool_result(chunk, emit)
            elif kind == "tool-output-denied":
                self._text_broken = True
                if self._tool_calls:
                    self._tool_result(chunk.as_tool_result(), emit)
            elif kind == "tool-approval-request":
                # RAIS has no approvals: say so instead of ending in silence.
                name = self._tool_names.get(chunk.tool_call_id, "a tool")
                self._text_broken = True
                self._text(APPROVAL_NOTE.format(name=name), emit)
            elif kind == "step-finish":
                self._text_broken = True
                self._finish_reason = chunk.finish_reason
                if chunk.input_tokens or chunk.output_tokens:
                    self._usage_reported = True
                self._input_tokens += int(chunk.input_tokens or 0)
                self._output_tokens += int(chunk.output_tokens or 0)
        return out

    def finish_payloads(self, failed: bool = False) -> list[bytes]:
        """The JSON of the events that end the stream."""
        out: list[bytes] = []
        emit = out.append
        if self._terminal is None:
            if failed:
                self._error(GENERIC_ERROR, emit)
            else:
                for tool_call_id, tool in self._tools.items():
                    self._send_tool_call(tool_call_id, tool, emit)
                self._terminal = "done"
                self._payload(_DONE_PAYLOAD, emit)
        if self._metadata:
            self._payload(dumps(self.metadata(), "metadata"), emit)
            self._metadata = False
        return out

    def metadata(self) -> dict[str, Any]:
        """The RFC-0002 ``metadata`` event for what was encoded so far."""
        data: dict[str, Any] = {"type": "metadata"}
        if self.model is not None:
            data["model"] = self.model
        if self._usage_reported:
            data["tokens"] = {
                "input": self._input_tokens,
                "output": self._output_tokens,
                "total": self._input_tokens + self._output_tokens,
            }
        data["elapsed_ms"] = int((time.monotonic() - self._started) * 1000)
        if self._terminal == "error":
            data["finish_reason"] = "error"
        else:
            data["finish_reason"] = to_wire_finish_reason(self._finish_reason or "stop")
        return data

    # -- events ---------------------------------------------------------------------------

    @staticmethod
    def _payload(payload: bytes, emit: Emit) -> None:
        emit(payload)

    def _text(self, text: str, emit: Emit) -> None:
        if not text:
            return
        if self._text_broken and self._text_sent and self.text_separator:
            text = self.text_separator + text
        self._text_broken = False
        self._text_sent = True
        self._payload(b'{"type":"text","text":' + dumps_text(text) + b"}", emit)

    def _error(self, message: str, emit: Emit) -> None:
        if self.redact:
            message = redact(message, self.redact)
        self._terminal = "error"
        self._payload(
            b'{"type":"error","error":' + dumps_text(message or GENERIC_ERROR) + b"}", emit
        )

    def _send_tool_call(self, tool_call_id: str, tool: _PendingToolCall, emit: Emit) -> None:
        if tool.sent:
            return
        tool.sent = True
        args_text = "".join(tool.args)
        tool.args.clear()
        event = {
            "type": "tool_call",
            "id": tool_call_id,
            "tool": tool.name,
            "input": _parse_arguments(args_text),
        }
        try:
            payload = dumps(event, "tool-call")
        except SerializationError:  # NaN/Infinity in the arguments: send the text as it is
            event["input"] = args_text
            payload = dumps(event, "tool-call")
        self._payload(payload, emit)

    def _tool_result(self, chunk: Any, emit: Emit) -> None:
        tool = self._tools.get(chunk.tool_call_id)
        if tool is not None:
            self._send_tool_call(chunk.tool_call_id, tool, emit)
        event: dict[str, Any] = {
            "type": "tool_result",
            "id": chunk.tool_call_id,
            "output": chunk.result,
        }
        if chunk.is_error:
            event["error"] = chunk.result if isinstance(chunk.result, str) else "tool failed"
        try:
            payload = dumps(event, "tool-result")
        except SerializationError as exc:
            logger.warning("%s", exc)
            payload = dumps(
                {"type": "tool_result", "id": chunk.tool_call_id, "output": None, "error": str(exc)}
            )
        self._payload(payload, emit)


class RAISJSONEncoder(RAISEncoder):
    """`RAISEncoder` whose frames are the bare JSON of each event (no SSE framing): what the
    RAIS WebSocket transport sends, one text message per event."""

    def _frames(self, payloads: list[bytes]) -> list[bytes]:
        return payloads


# -- response -----------------------------------------------------------------------------------


def _last_event_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"last-event-id" and value.strip():
            return str(value.decode("latin-1"))
    return None


class RAISResponse(AssistantStreamResponse):
    """Serve a run as a RAIS v1 stream (``text/event-stream``).

    See `RAISEncoder` for ``extensions``, ``event_ids``, ``model``, ``text_separator`` and
    ``redact``. A request carrying ``Last-Event-ID`` (a reconnect) gets ``204 No Content`` and
    the run never starts: RAIS forbids re-sending delivered tokens and a run is not resumable.
    Headers: ``Cache-Control: no-cache, no-transform``, ``Connection: keep-alive``,
    ``X-Accel-Buffering: no``; keepalive ``: keep-alive`` (``heartbeat``, 15 s by default).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        extensions: ExtensionsOption = False,
        event_ids: bool = True,
        model: str | None = None,
        text_separator: str = "",
        redact: Iterable[str | None] = (),
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        encoder = RAISEncoder(
            extensions=extensions,
            event_ids=event_ids,
            model=model,
            text_separator=text_separator,
            redact=redact,
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        last_event_id = _last_event_id(scope)
        if scope.get("type") == "http" and last_event_id is not None:
            logger.debug("RAIS reconnect with Last-Event-ID %r: 204 (not resumable)", last_event_id)
            await self.stream.aclose()
            await Response(status_code=204, headers={"Cache-Control": "no-cache"})(
                scope, receive, send
            )
            return
        await super().__call__(scope, receive, send)


from ._rais_decoder import RAISDecoder  # noqa: E402


def _sniff(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("type") in _EVENT_TYPES


_EVENT_TYPES = frozenset({"text", "done", "reasoning", "tool_call", "tool_result", "metadata"})

register_protocol(
    ProtocolInfo(
        name="rais",
        label="RAIS",
        description="RAIS v1 (react-ai-stream useAIChat for React and Vue); draft extensions "
        "opt-in",
        encoder=RAISEncoder,
        decoder=RAISDecoder,
        response=RAISResponse,
        carries=frozenset({"text", "errors"}),
        sniff=_sniff,
        request_parser="assistant_stream_ce.requests:parse_rais_request",
    )
)
