"""A fake OpenAI + Anthropic server replaying recorded streams, for tests that use the real SDKs.

Routes: ``POST /v1/chat/completions`` (OpenAI Chat Completions) and ``POST /v1/messages``
(Anthropic Messages). Streams are written byte for byte the way the real APIs write them
(OpenAI: ``data: <compact JSON>\\n\\n`` ending with ``data: [DONE]``; Anthropic: ``event: <type>``
plus ``data: <compact JSON>``). Non-streaming requests (``"stream": false``) get a 400.

The scenario is the request's ``model`` field (any other model name plays ``"text"``):

``text``
    ``"Hello from the fake model."`` in four deltas; finish ``stop`` / ``end_turn``.
``reasoning``
    Reasoning then text. OpenAI: ``reasoning_content`` deltas (DeepSeek / old vLLM), Anthropic: a
    ``thinking`` block with a ``signature_delta``.
``reasoning-field``
    OpenAI only: reasoning in ``delta.reasoning`` with OpenRouter's ``reasoning_details`` (Anthropic
    plays ``reasoning``).
``reasoning-both``
    OpenAI only: every reasoning delta carries the same text in ``reasoning_content`` *and*
    ``reasoning`` (a consumer must take one, not both).
``tools``
    ``"Let me check."`` then two tool calls, ``get_weather`` ``{"city":"Paris"}`` (id
    ``call_weather``) and ``get_time`` ``{"tz":"Europe/Paris"}`` (id ``call_time``), arguments
    streamed in pieces.
    OpenAI interleaves the two calls' fragments (parallel calls); Anthropic sends two ``tool_use``
    blocks (with the leading empty ``partial_json``). Finish ``tool_calls`` / ``tool_use``.
``tools-bytewise``
    The ``tools`` calls with their argument JSON split one character per fragment (OpenAI:
    the two calls' characters interleaved; Anthropic: one ``input_json_delta`` per character
    after the leading empty one).
``tools-edge``
    Edge cases of tool calls: ``lookup`` (id ``call_a``) with its whole arguments
    ``{"q": "paris"}`` in one fragment, then ``now`` (id ``call_b``) with no argument text at
    all. OpenAI sends both at ``index`` 0 (as some compatible servers do; the ids tell them
    apart); Anthropic sends two blocks, the second with only the empty ``partial_json``.
``tools-error``
    ``lookup`` starts and half its arguments arrive, then the stream fails (OpenAI: dropped
    connection; Anthropic: ``event: error`` with ``api_error``).
``agent``
    A tool-calling conversation, scripted by the tool results the request already carries
    (OpenAI ``tool`` messages, Anthropic ``tool_result`` blocks). None yet: ``"Let me check."``
    and the ``tools`` scenario's two parallel calls (``get_weather`` / ``get_time``), finish
    ``tool_calls`` / ``tool_use``, usage 40 in / 25 out. Two: one call ``lookup``
    ``{"q": "paris"}`` (id ``call_lookup``), usage 60 / 10. Three or more: the final answer
    ``"Results: <id>=<content>[ (error)]; …"`` naming every result it was given, finish
    ``stop`` / ``end_turn``, usage 80 / 12.
``usage``
    Text, stopped by the token limit (``length`` / ``max_tokens``), usage 21 in / 7 out (OpenAI
    adds token details).
``refusal``
    OpenAI: ``finish_reason: "content_filter"``; Anthropic: ``stop_reason: "refusal"``.
``midstream-failure``
    Two text deltas, then the connection is dropped without ending the body.
``error-event``
    Two text deltas, then an in-band error (OpenAI ``data: {"error": …}``, Anthropic
    ``event: error`` with ``overloaded_error``).
``401`` / ``429`` / ``500`` / ``529`` (alias ``overloaded``)
    The provider's JSON error body with that status (``retry-after-ms: 1`` so SDK retries are quick;
    every attempt is recorded). ``529`` on the OpenAI route is a 503.
``echo-key``
    401 whose error message echoes the whole API key the client sent (some servers do).
``slow``
    400 one-word deltas, 10 ms apart (4 s in all), for abort tests.
``stall``
    One text delta, then nothing for 30 s (an upstream that stops talking), then the end.

Usage: OpenAI sends a final usage chunk (``choices: []``) only when the request asks for it with
``stream_options.include_usage``; Anthropic always reports usage in ``message_start`` and
``message_delta``.

What the server saw is readable from the test thread: `FakeProvider.requests` (path, JSON body,
lower-cased headers), `FakeProvider.closed_connections` (a record per stream the client closed
before it ended, with a ``time.monotonic()`` timestamp) and `FakeProvider.completed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from _live import LiveServer

__all__ = ["ClosedConnection", "FakeProvider", "RecordedRequest"]

Scope = dict[str, Any]
# A scenario step: bytes to write, a float (seconds to wait) or None (drop the connection).
Step = bytes | float | None

CREATED = 1767225600
SLOW_WORDS = 400
SLOW_DELAY = 0.01
STALL_SECONDS = 30.0
RETRY_HEADERS = [(b"retry-after-ms", b"1")]


@dataclass
class RecordedRequest:
    """One request the fake received."""

    path: str
    body: Any
    headers: dict[str, str]
    time: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str:
        return str(self.body.get("model", "")) if isinstance(self.body, dict) else ""


@dataclass
class ClosedConnection:
    """A stream the client closed before it ended."""

    path: str
    model: str
    time: float
    events_sent: int


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- OpenAI -----------------------------------------------------------------------------------


class _OpenAIStream:
    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": "chatcmpl-fake0001",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            body["usage"] = None
        return f"data: {_json(body)}\n\n".encode()

    def usage(self, prompt: int, completion: int, details: bool = False) -> list[Step]:
        if not self.include_usage:
            return []
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if details:
            usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
            usage["completion_tokens_details"] = {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            }
        body = {
            "id": "chatcmpl-fake0001",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": [],
            "usage": usage,
        }
        return [f"data: {_json(body)}\n\n".encode()]

    def start(self) -> bytes:
        return self.chunk({"role": "assistant", "content": "", "refusal": None})

    def texts(self, *pieces: str) -> list[Step]:
        return [self.chunk({"content": piece}) for piece in pieces]


DONE = b"data: [DONE]\n\n"
TEXT_PIECES = ("Hello", " from", " the fake", " model.")
REASONING_PIECES = ("The user greets me. ", "I will greet back.")


def tool_results(body: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(tool call id, content, is_error) for every tool result in a request body."""
    out: list[tuple[str, str, bool]] = []
    for message in body.get("messages") or ():
        if message.get("role") == "tool":
            out.append((message["tool_call_id"], str(message.get("content")), False))
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    text = block.get("content")
                    if isinstance(text, list):
                        text = "".join(b.get("text", "") for b in text if isinstance(b, dict))
                    out.append((block["tool_use_id"], str(text), bool(block.get("is_error"))))
    return out


def agent_answer(results: list[tuple[str, str, bool]]) -> str:
    return "Results: " + "; ".join(
        f"{call_id}={content}" + (" (error)" if is_error else "")
        for call_id, content, is_error in results
    )


def openai_steps(
    scenario: str, model: str, include_usage: bool, body: dict[str, Any] | None = None
) -> list[Step]:
    s = _OpenAIStream(model, include_usage)
    if scenario == "agent":
        results = tool_results(body or {})
        if len(results) >= 3:
            text = agent_answer(results)
            return [
                s.start(),
                *s.texts(text[:10], text[10:]),
                s.chunk({}, "stop"),
                *s.usage(80, 12),
                DONE,
            ]
        if len(results) == 2:
            first = {
                "index": 0,
                "id": "call_lookup",
                "type": "function",
                "function": {"name": "lookup", "arguments": ""},
            }
            return [
                s.start(),
                s.chunk({"tool_calls": [first]}),
                s.chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"q": '}}]}),
                s.chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"paris"}'}}]}),
                s.chunk({}, "tool_calls"),
                *s.usage(60, 10),
                DONE,
            ]
        scenario = "tools"
    if scenario in ("reasoning", "reasoning-field", "reasoning-both"):
        steps: list[Step] = [s.start()]
        for piece in REASONING_PIECES:
            if scenario == "reasoning":
                delta: dict[str, Any] = {"reasoning_content": piece}
            elif scenario == "reasoning-field":
                delta = {
                    "reasoning": piece,
                    "reasoning_details": [
                        {"type": "reasoning.text", "text": piece, "format": "unknown", "index": 0}
                    ],
                }
            else:
                delta = {"reasoning_content": piece, "reasoning": piece}
            steps.append(s.chunk(delta))
        return [*steps, *s.texts(*TEXT_PIECES), s.chunk({}, "stop"), *s.usage(12, 30), DONE]
    if scenario == "tools-bytewise":
        # The two calls' arguments interleaved one character per fragment.
        weather, clock = '{"city": "Paris"}', '{"tz": "Europe/Paris"}'
        steps = [s.start(), *s.texts("Let me", " check.")]
        for index, (id_, name) in enumerate(
            [("call_weather", "get_weather"), ("call_time", "get_time")]
        ):
            function = {"name": name, "arguments": ""}
            steps.append(
                s.chunk(
                    {
                        "tool_calls": [
                            {"index": index, "id": id_, "type": "function", "function": function}
                        ]
                    }
                )
            )
        for position in range(max(len(weather), len(clock))):
            for index, text in enumerate((weather, clock)):
                if position < len(text):
                    fragment = {"index": index, "function": {"arguments": text[position]}}
                    steps.append(s.chunk({"tool_calls": [fragment]}))
        return [*steps, s.chunk({}, "tool_calls"), *s.usage(40, 25), DONE]
    if scenario == "tools":

        def call(index: int, fragment: dict[str, Any]) -> bytes:
            return s.chunk({"tool_calls": [{"index": index, **fragment}]})

        def args(index: int, text: str) -> bytes:
            return call(index, {"function": {"arguments": text}})

        return [
            s.start(),
            *s.texts("Let me", " check."),
            call(
                0,
                {
                    "id": "call_weather",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                },
            ),
            call(
                1,
                {
                    "id": "call_time",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": ""},
                },
            ),
            args(0, '{"ci'),
            args(1, '{"tz": '),
            args(0, 'ty": "Par'),
            args(1, '"Europe/Paris"}'),
            args(0, 'is"}'),
            s.chunk({}, "tool_calls"),
            *s.usage(40, 25),
            DONE,
        ]
    if scenario in ("tools-edge", "tools-error"):

        def frag(fragment: dict[str, Any]) -> bytes:
            return s.chunk({"tool_calls": [{"index": 0, **fragment}]})

        def first(call_id: str, name: str, arguments: str) -> bytes:
            function = {"name": name, "arguments": arguments}
            return frag({"id": call_id, "type": "function", "function": function})

        if scenario == "tools-error":
            return [
                s.start(),
                first("call_a", "lookup", ""),
                frag({"function": {"arguments": '{"q": "pa'}}),
                None,
            ]
        # Whole arguments in one fragment, then a second call that reuses index 0 (told apart
        # by its id) and sends no argument text at all.
        return [
            s.start(),
            first("call_a", "lookup", '{"q": "paris"}'),
            first("call_b", "now", ""),
            s.chunk({}, "tool_calls"),
            *s.usage(3, 4),
            DONE,
        ]
    if scenario == "usage":
        return [
            s.start(),
            *s.texts("Once upon", " a time"),
            s.chunk({}, "length"),
            *s.usage(21, 7, details=True),
            DONE,
        ]
    if scenario == "refusal":
        return [s.start(), *s.texts("I can't"), s.chunk({}, "content_filter"), *s.usage(9, 2), DONE]
    if scenario == "midstream-failure":
        return [s.start(), *s.texts("Hello", " from"), None]
    if scenario == "error-event":
        error = {
            "error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
        return [s.start(), *s.texts("Hello", " from"), f"data: {_json(error)}\n\n".encode(), DONE]
    if scenario == "stall":
        return [s.start(), *s.texts("Hello"), STALL_SECONDS, s.chunk({}, "stop"), DONE]
    if scenario == "slow":
        steps = [s.start()]
        for i in range(SLOW_WORDS):
            steps += [SLOW_DELAY, s.chunk({"content": f"word{i} "})]
        return [*steps, s.chunk({}, "stop"), *s.usage(5, SLOW_WORDS), DONE]
    return [s.start(), *s.texts(*TEXT_PIECES), s.chunk({}, "stop"), *s.usage(12, 5), DONE]


def openai_error(scenario: str, key: str) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
    def body(message: str, type_: str, code: str | None) -> dict[str, Any]:
        return {"error": {"message": message, "type": type_, "param": None, "code": code}}

    if scenario == "401":
        masked = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
        message = (
            f"Incorrect API key provided: {masked}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        return 401, body(message, "invalid_request_error", "invalid_api_key"), []
    if scenario == "echo-key":
        message = f"Incorrect API key provided: {key}. Authorization: Bearer {key}"
        return 401, body(message, "invalid_request_error", "invalid_api_key"), []
    if scenario == "429":
        message = (
            "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s."
        )
        return 429, body(message, "requests", "rate_limit_exceeded"), RETRY_HEADERS
    if scenario == "500":
        message = "The server had an error while processing your request. Sorry about that!"
        return 500, body(message, "server_error", None), RETRY_HEADERS
    message = "The engine is currently overloaded, please try again later."
    return 503, body(message, "server_error", None), RETRY_HEADERS


# -- Anthropic --------------------------------------------------------------------------------


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {_json(data)}\n\n".encode()


class _AnthropicStream:
    def __init__(self, model: str) -> None:
        self.model = model
        self.index = -1

    def start(self, input_tokens: int = 12) -> list[Step]:
        message: dict[str, Any] = {
            "id": "msg_fake0001",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
                "service_tier": "standard",
            },
        }
        return [
            _event({"type": "message_start", "message": message}),
            _event({"type": "ping"}),
        ]

    def block(self, content_block: dict[str, Any], deltas: list[dict[str, Any]]) -> list[Step]:
        self.index += 1
        index = self.index
        steps: list[Step] = [
            _event({"type": "content_block_start", "index": index, "content_block": content_block})
        ]
        for delta in deltas:
            steps.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        steps.append(_event({"type": "content_block_stop", "index": index}))
        return steps

    def text(self, *pieces: str) -> list[Step]:
        return self.block(
            {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces]
        )

    def end(self, stop_reason: str, output_tokens: int) -> list[Step]:
        return [
            _event(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": output_tokens},
                }
            ),
            _event({"type": "message_stop"}),
        ]


def anthropic_steps(scenario: str, model: str, body: dict[str, Any] | None = None) -> list[Step]:
    s = _AnthropicStream(model)
    if scenario == "agent":
        results = tool_results(body or {})
        if len(results) >= 3:
            text = agent_answer(results)
            return [*s.start(80), *s.text(text[:10], text[10:]), *s.end("end_turn", 12)]
        if len(results) == 2:
            lookup = s.block(
                {"type": "tool_use", "id": "call_lookup", "name": "lookup", "input": {}},
                [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in ("", '{"q": ', '"paris"}')
                ],
            )
            return [*s.start(60), *lookup, *s.end("tool_use", 10)]
        scenario = "tools"
    if scenario in ("reasoning", "reasoning-field", "reasoning-both"):
        thinking = s.block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [
                *({"type": "thinking_delta", "thinking": p} for p in REASONING_PIECES),
                {"type": "signature_delta", "signature": "EqQBCkYIARgCIkBfakesignature=="},
            ],
        )
        return [*s.start(), *thinking, *s.text(*TEXT_PIECES), *s.end("end_turn", 30)]
    if scenario in ("tools", "tools-bytewise"):

        def tool(id_: str, name: str, pieces: list[str]) -> list[Step]:
            if scenario == "tools-bytewise":
                pieces = list("".join(pieces))  # one character per input_json_delta
            return s.block(
                {"type": "tool_use", "id": id_, "name": name, "input": {}},
                [{"type": "input_json_delta", "partial_json": p} for p in ["", *pieces]],
            )

        return [
            *s.start(40),
            *s.text("Let me", " check."),
            *tool("call_weather", "get_weather", ['{"ci', 'ty": "Par', 'is"}']),
            *tool("call_time", "get_time", ['{"tz": ', '"Europe/Paris"}']),
            *s.end("tool_use", 25),
        ]
    if scenario in ("tools-edge", "tools-error"):

        def edge_tool(id_: str, name: str, pieces: list[str], stop: bool = True) -> list[Step]:
            steps = s.block(
                {"type": "tool_use", "id": id_, "name": name, "input": {}},
                [{"type": "input_json_delta", "partial_json": p} for p in pieces],
            )
            return steps if stop else steps[:-1]

        if scenario == "tools-error":
            error = {"type": "error", "error": {"type": "api_error", "message": "Internal error"}}
            return [
                *s.start(),
                *edge_tool("call_a", "lookup", ["", '{"q": "pa'], stop=False),
                _event(error),
            ]
        return [
            *s.start(),
            *edge_tool("call_a", "lookup", ["", '{"q": "paris"}']),
            *edge_tool("call_b", "now", [""]),
            *s.end("tool_use", 4),
        ]
    if scenario == "usage":
        return [*s.start(21), *s.text("Once upon", " a time"), *s.end("max_tokens", 7)]
    if scenario == "refusal":
        return [*s.start(9), *s.text("I can't"), *s.end("refusal", 2)]
    if scenario == "midstream-failure":
        s.index += 1
        return [
            *s.start(),
            _event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            ),
            *(
                _event(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": p},
                    }
                )
                for p in ("Hello", " from")
            ),
            None,
        ]
    if scenario == "error-event":
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return [
            *s.start(),
            _event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            ),
            _event(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "Hello"},
                }
            ),
            _event(error),
        ]
    if scenario == "stall":
        return [*s.start(), *s.text("Hello"), STALL_SECONDS, *s.end("end_turn", 1)]
    if scenario == "slow":
        steps = [
            *s.start(5),
            _event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            ),
        ]
        for i in range(SLOW_WORDS):
            delta = {"type": "text_delta", "text": f"word{i} "}
            steps += [
                SLOW_DELAY,
                _event({"type": "content_block_delta", "index": 0, "delta": delta}),
            ]
        steps.append(_event({"type": "content_block_stop", "index": 0}))
        return [*steps, *s.end("end_turn", SLOW_WORDS)]
    return [*s.start(), *s.text(*TEXT_PIECES), *s.end("end_turn", 5)]


def anthropic_error(
    scenario: str, key: str
) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
    def body(type_: str, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": type_, "message": message}}

    if scenario == "401":
        return 401, body("authentication_error", "invalid x-api-key"), []
    if scenario == "echo-key":
        return 401, body("authentication_error", f"invalid x-api-key: {key}"), []
    if scenario == "429":
        message = (
            "This request would exceed the rate limit for your organization of 50 input tokens "
            "per minute. Please try again later."
        )
        return 429, body("rate_limit_error", message), RETRY_HEADERS
    if scenario == "500":
        return 500, body("api_error", "Internal server error"), RETRY_HEADERS
    return 529, body("overloaded_error", "Overloaded"), RETRY_HEADERS


ERROR_SCENARIOS = {"401", "429", "500", "529", "overloaded", "echo-key"}


# -- the ASGI app -----------------------------------------------------------------------------


class _DropConnection(Exception):
    """Raised inside the app to make uvicorn drop the connection mid-body."""


class FakeProvider:
    """The fake provider server under uvicorn on 127.0.0.1 (use as a context manager)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.closed_connections: list[ClosedConnection] = []
        self.completed: list[RecordedRequest] = []
        self._closed = threading.Event()
        self._server: LiveServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        self._server = LiveServer(self).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake provider is not started"
        return self._server.url("")

    @property
    def openai_base_url(self) -> str:
        """Base URL for ``openai.OpenAI(base_url=...)`` (ends with ``/v1``)."""
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """Base URL for ``anthropic.Anthropic(base_url=...)``."""
        return self.url

    def wait_closed(self, timeout: float = 2.0) -> ClosedConnection | None:
        """Wait until the client closes a stream early; the first such record, or None."""
        if self._closed.wait(timeout):
            return self.closed_connections[0]
        return None

    def reset(self) -> None:
        """Forget recorded requests and closed connections."""
        self.requests.clear()
        self.closed_connections.clear()
        self.completed.clear()
        self._closed.clear()

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """The ASGI app (the instance itself, so uvicorn sees an ASGI 3 callable)."""
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message: dict[str, Any] = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        record = RecordedRequest(path, body, headers)
        self.requests.append(record)
        if scope["method"] != "POST" or path not in ("/v1/chat/completions", "/v1/messages"):
            await self._json(send, 404, {"error": {"message": f"no route {path}"}})
            return
        if not isinstance(body, dict):
            await self._json(send, 400, {"error": {"message": "body is not a JSON object"}})
            return
        scenario = record.model
        is_openai = path == "/v1/chat/completions"
        if scenario in ERROR_SCENARIOS:
            if is_openai:
                auth = headers.get("authorization", "")
                key = auth.removeprefix("Bearer ")
                status, payload, extra = openai_error(scenario, key)
            else:
                key = headers.get("x-api-key") or headers.get("authorization", "")
                status, payload, extra = anthropic_error(scenario, key)
            await self._json(send, status, payload, extra)
            return
        if body.get("stream") is not True:
            await self._json(send, 400, {"error": {"message": "the fake only streams"}})
            return
        if is_openai:
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            steps = openai_steps(scenario, scenario, include, body)
        else:
            steps = anthropic_steps(scenario, scenario, body)
        await self._stream(record, receive, send, steps)

    async def _json(
        self,
        send: Any,
        status: int,
        payload: Any,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        data = _json(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            *(extra_headers or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _stream(
        self, record: RecordedRequest, receive: Any, send: Any, steps: list[Step]
    ) -> None:
        disconnected = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        watcher = asyncio.ensure_future(watch())
        sent = 0
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-cache"),
                    ],
                }
            )
            for step in steps:
                if disconnected.is_set():
                    break
                if step is None:
                    raise _DropConnection("scenario drops the connection")
                if isinstance(step, float):
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(disconnected.wait(), step)
                    continue
                await send({"type": "http.response.body", "body": step, "more_body": True})
                sent += 1
            if not disconnected.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                self.completed.append(record)
        finally:
            watcher.cancel()
        if disconnected.is_set():
            self.closed_connections.append(
                ClosedConnection(record.path, record.model, time.monotonic(), sent)
            )
            self._closed.set()
