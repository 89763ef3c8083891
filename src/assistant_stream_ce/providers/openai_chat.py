"""OpenAI Chat Completions (and OpenAI-compatible servers) as a run: `stream_openai_chat`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..create_run import RunController
from ..modules.tool_call import ToolCallController
from ._common import (
    DEFAULT_FIRST_TOKEN_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    extra_field,
    import_sdk,
    make_client,
    map_finish_reason,
    stream_upstream,
    token_count,
)
from ._errors import stream_incomplete
from ._messages import to_openai_messages, to_openai_tools, validate_messages

if TYPE_CHECKING:
    import openai

__all__ = ["stream_openai_chat"]

PROVIDER = "openai"
LABEL = "OpenAI"


class _PendingCall:
    """One tool call of the stream, keyed by its ``index``; begun once its name is known."""

    __slots__ = ("args", "controller", "id", "name", "sent_args")

    def __init__(self, call_id: str | None) -> None:
        self.id = call_id
        self.name: str | None = None
        self.args: list[str] = []
        self.controller: ToolCallController | None = None
        self.sent_args = False


class _ToolCalls:
    """Routes ``delta.tool_calls`` fragments (parallel calls interleave by ``index``)."""

    def __init__(self, controller: RunController) -> None:
        self._controller = controller
        self._open: dict[int, _PendingCall] = {}

    async def feed(self, fragment: Any) -> None:
        index = getattr(fragment, "index", None)
        if not isinstance(index, int):
            index = len(self._open)
        call_id = getattr(fragment, "id", None) or None
        function = getattr(fragment, "function", None)
        name = getattr(function, "name", None) if function is not None else None
        arguments = getattr(function, "arguments", None) if function is not None else None
        call = self._open.get(index)
        if call is None or (call_id is not None and call.id is not None and call_id != call.id):
            # A new call; some servers reuse index 0 for every call and tell them apart by id.
            if call is not None:
                await self._finish(call)
            call = self._open[index] = _PendingCall(call_id)
        elif call_id is not None and call.id is None:
            call.id = call_id
        if name and call.controller is None:
            call.name = name
        if arguments:
            call.args.append(arguments)
        if call.controller is None and call.name:
            call.controller = await self._controller.add_tool_call(call.name, call.id)
        if call.controller is not None and call.args:
            text = "".join(call.args)
            call.args.clear()
            call.controller.append_args_text(text)
            call.sent_args = True

    async def _finish(self, call: _PendingCall) -> None:
        if call.controller is None:
            call.controller = await self._controller.add_tool_call(call.name or "unknown", call.id)
            if call.args:
                call.controller.append_args_text("".join(call.args))
                call.sent_args = True
        if not call.sent_args:
            call.controller.append_args_text("{}")  # "no arguments" is an empty object
        call.controller.close()

    async def finish_all(self) -> None:
        for call in self._open.values():
            await self._finish(call)
        self._open.clear()


def _request_params(
    model: str,
    messages: list[dict[str, Any]],
    *,
    client: Any,
    max_tokens: int | None,
    temperature: float | None,
    tools: Sequence[Mapping[str, Any]] | None,
    create_kwargs: dict[str, Any],
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if max_tokens is not None:
        # api.openai.com deprecated max_tokens (reasoning models reject it); compatible servers
        # (vLLM, llama.cpp, Ollama, …) all understand max_tokens.
        host = getattr(getattr(client, "base_url", None), "host", "")
        field = "max_completion_tokens" if host == "api.openai.com" else "max_tokens"
        params[field] = max_tokens
    if temperature is not None:
        params["temperature"] = temperature
    if tools:
        params["tools"] = to_openai_tools(tools)
    params.update(create_kwargs)
    if params.get("stream_options") is None:
        params.pop("stream_options", None)
    params["stream"] = True
    return params


async def stream_openai_chat(
    controller: RunController,
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str,
    client: openai.AsyncOpenAI | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    max_tokens: int | None = None,
    system: str | None = None,
    temperature: float | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    **create_kwargs: Any,
) -> None:
    """Stream a Chat Completions response into ``controller``.

    Emits text (and ``refusal`` text), reasoning (``reasoning_content`` or ``reasoning`` deltas,
    as vLLM, DeepSeek and OpenRouter send them), tool calls with streamed arguments, and one step
    with the mapped finish reason and usage. Without ``client`` one is made from ``api_key``
    (else ``OPENAI_API_KEY``) and ``base_url`` (else ``OPENAI_BASE_URL``); ``max_retries`` in
    ``create_kwargs`` goes to that client; ``first_token_timeout`` / ``idle_timeout`` (seconds,
    120 / 60 by default, None: no limit) bound an upstream that stalls. Other ``create_kwargs``
    go to ``chat.completions.create`` (``stream_options=None`` drops the usage request for servers
    that reject it). Failures raise `ProviderError` with a message safe to show. The upstream
    response is closed when the run is cancelled.
    """
    sdk = import_sdk(PROVIDER)
    converted = to_openai_messages(validate_messages(messages), system)
    max_retries = create_kwargs.pop("max_retries", None)
    timeouts = {
        "first_token_timeout": create_kwargs.pop(
            "first_token_timeout", DEFAULT_FIRST_TOKEN_TIMEOUT
        ),
        "idle_timeout": create_kwargs.pop("idle_timeout", DEFAULT_IDLE_TIMEOUT),
    }
    own_client = client is None
    if client is None:
        client = make_client(PROVIDER, sdk.AsyncOpenAI, api_key, base_url, max_retries)
    assert client is not None
    secrets = [api_key, getattr(client, "api_key", None)]
    target = getattr(client, "base_url", base_url)
    params = _request_params(
        model,
        converted,
        client=client,
        max_tokens=max_tokens,
        temperature=temperature,
        tools=tools,
        create_kwargs=create_kwargs,
    )
    await stream_upstream(
        lambda: client.chat.completions.create(**params),
        lambda stream: _consume(controller, stream),
        sdk=sdk,
        client=client,
        own_client=own_client,
        provider=PROVIDER,
        secrets=secrets,
        base_url=target,
        failures=(_InBandError,),
        **timeouts,
    )


async def _consume(controller: RunController, stream: Any) -> None:
    calls = _ToolCalls(controller)
    step_started = False
    finish_reason: str | None = None
    usage: Any = None
    async for chunk in stream:
        if controller.is_cancelled:
            return
        await controller.drain()  # a slow client slows the upstream read, not memory
        error = extra_field(chunk, "error")
        if error:
            # Some compatible servers put an error object in a normal chunk.
            raise _InBandError(error)
        if not step_started:
            controller.add_step_start(getattr(chunk, "id", None) or "chatcmpl")
            step_started = True
        if getattr(chunk, "usage", None) is not None:
            usage = chunk.usage
        for choice in getattr(chunk, "choices", None) or ():
            if getattr(choice, "index", 0) != 0:
                continue  # n > 1 is not supported: one run is one message
            delta = choice.delta
            if delta is not None:
                reasoning = extra_field(delta, "reasoning_content") or extra_field(
                    delta, "reasoning"
                )
                if isinstance(reasoning, str):
                    controller.append_reasoning(reasoning)
                if delta.content:
                    controller.append_text(delta.content)
                refusal = getattr(delta, "refusal", None)
                if refusal:
                    controller.append_text(refusal)
                for fragment in delta.tool_calls or ():
                    await calls.feed(fragment)
            if choice.finish_reason:
                finish_reason = choice.finish_reason
    if controller.is_cancelled:
        return
    await calls.finish_all()
    if finish_reason is None:
        raise stream_incomplete(PROVIDER, LABEL)
    if not step_started:
        controller.add_step_start("chatcmpl")
    input_tokens = token_count(getattr(usage, "prompt_tokens", 0), "prompt_tokens")
    output_tokens = token_count(getattr(usage, "completion_tokens", 0), "completion_tokens")
    controller.add_step_finish(map_finish_reason(finish_reason), input_tokens, output_tokens)


class _InBandError(Exception):
    """An ``error`` object inside a chunk; carries it as ``body`` for `from_sdk_error`."""

    def __init__(self, body: Any) -> None:
        super().__init__(json.dumps(body, default=str)[:300])
        self.body = body if isinstance(body, Mapping) else {"message": str(body)}
        self.status_code = None
