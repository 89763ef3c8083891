"""Anthropic Messages as a run: `stream_anthropic_messages`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..create_run import RunController
from ..modules.tool_call import ToolCallController
from ._common import (
    DEFAULT_FIRST_TOKEN_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    import_sdk,
    make_client,
    map_finish_reason,
    stream_upstream,
    token_count,
)
from ._errors import stream_incomplete
from ._messages import to_anthropic_messages, to_anthropic_tools, validate_messages

if TYPE_CHECKING:
    import anthropic

__all__ = ["stream_anthropic_messages"]

PROVIDER = "anthropic"
LABEL = "Anthropic"
TOOL_BLOCKS = ("tool_use", "server_tool_use", "mcp_tool_use")


class _ToolBlock:
    __slots__ = ("controller", "initial_input", "sent_args")

    def __init__(self, controller: ToolCallController, initial_input: Any) -> None:
        self.controller = controller
        self.initial_input = initial_input
        self.sent_args = False


async def stream_anthropic_messages(
    controller: RunController,
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str,
    client: anthropic.AsyncAnthropic | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    max_tokens: int = 1024,
    system: str | None = None,
    temperature: float | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    thinking: Mapping[str, Any] | None = None,
    **create_kwargs: Any,
) -> None:
    """Stream a Messages API response into ``controller``.

    ``messages`` are OpenAI-style (system messages are lifted into ``system``, tool calls and
    results become ``tool_use`` / ``tool_result`` blocks). Emits text, thinking as reasoning,
    ``tool_use`` blocks as tool calls with streamed arguments, web citations as sources, and one
    step with the mapped stop reason and usage. Without ``client`` one is made from ``api_key``
    (else ``ANTHROPIC_API_KEY``) and ``base_url`` (else ``ANTHROPIC_BASE_URL``); ``max_retries``
    in ``create_kwargs`` goes to that client; ``first_token_timeout`` / ``idle_timeout``
    (seconds, 120 / 60 by default, None: no limit) bound an upstream that stalls; the rest goes
    to ``messages.create``. Failures raise
    `ProviderError` with a message safe to show. The upstream response is closed when the run
    is cancelled.
    """
    sdk = import_sdk(PROVIDER)
    system_text, converted = to_anthropic_messages(validate_messages(messages), system)
    max_retries = create_kwargs.pop("max_retries", None)
    timeouts = {
        "first_token_timeout": create_kwargs.pop(
            "first_token_timeout", DEFAULT_FIRST_TOKEN_TIMEOUT
        ),
        "idle_timeout": create_kwargs.pop("idle_timeout", DEFAULT_IDLE_TIMEOUT),
    }
    own_client = client is None
    if client is None:
        client = make_client(PROVIDER, sdk.AsyncAnthropic, api_key, base_url, max_retries)
    assert client is not None
    secrets = [api_key, getattr(client, "api_key", None), getattr(client, "auth_token", None)]
    target = getattr(client, "base_url", base_url)
    params: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": converted}
    if system_text:
        params["system"] = system_text
    if tools:
        params["tools"] = to_anthropic_tools(tools)
    if thinking is not None:
        params["thinking"] = dict(thinking)
    params.update(create_kwargs)
    if temperature is not None:
        # Recent SDKs no longer declare `temperature`; the API still reads it from the body.
        params["extra_body"] = {**(params.get("extra_body") or {}), "temperature": temperature}
    params["stream"] = True
    await stream_upstream(
        lambda: client.messages.create(**params),
        lambda stream: _consume(controller, stream),
        sdk=sdk,
        client=client,
        own_client=own_client,
        provider=PROVIDER,
        secrets=secrets,
        base_url=target,
        **timeouts,
    )


def _input_tokens(usage: Any) -> int:
    total = 0
    for field in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        total += token_count(getattr(usage, field, None), field)
    return total


async def _consume(controller: RunController, stream: Any) -> None:
    tools: dict[int, _ToolBlock] = {}
    input_tokens = output_tokens = 0
    stop_reason: str | None = None
    sources = 0
    async for event in stream:
        if controller.is_cancelled:
            return
        await controller.drain()  # a slow client slows the upstream read, not memory
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            delta = event.delta
            delta_type = getattr(delta, "type", None)
            if delta_type == "text_delta":
                controller.append_text(delta.text)
            elif delta_type == "thinking_delta":
                controller.append_reasoning(delta.thinking)
            elif delta_type == "input_json_delta":
                tool = tools.get(event.index)
                if tool is not None and delta.partial_json:
                    tool.controller.append_args_text(delta.partial_json)
                    tool.sent_args = True
            elif delta_type == "citations_delta":
                url = getattr(delta.citation, "url", None)
                if isinstance(url, str) and url:
                    sources += 1
                    title = getattr(delta.citation, "title", None)
                    controller.add_source(f"source-{sources}", url, title)
        elif kind == "content_block_start":
            block = event.content_block
            if getattr(block, "type", None) in TOOL_BLOCKS:
                tool_controller = await controller.add_tool_call(block.name, block.id)
                tools[event.index] = _ToolBlock(tool_controller, getattr(block, "input", None))
        elif kind == "content_block_stop":
            tool = tools.pop(event.index, None)
            if tool is not None:
                if not tool.sent_args:
                    initial = tool.initial_input
                    tool.controller.append_args_text(
                        json.dumps(initial) if isinstance(initial, dict) and initial else "{}"
                    )
                tool.controller.close()
        elif kind == "message_start":
            message = event.message
            controller.add_step_start(getattr(message, "id", None) or "msg")
            input_tokens = _input_tokens(message.usage)
            output_tokens = token_count(getattr(message.usage, "output_tokens", 0), "output_tokens")
        elif kind == "message_delta":
            stop_reason = getattr(event.delta, "stop_reason", None) or stop_reason
            usage = getattr(event, "usage", None)
            if usage is not None:
                output_tokens = (
                    token_count(getattr(usage, "output_tokens", None), "output_tokens")
                    or output_tokens
                )
                if token_count(getattr(usage, "input_tokens", None), "input_tokens"):
                    input_tokens = _input_tokens(usage)
        elif kind == "message_stop":
            for tool in tools.values():
                tool.controller.close()
            controller.add_step_finish(map_finish_reason(stop_reason), input_tokens, output_tokens)
            return
    if not controller.is_cancelled:
        raise stream_incomplete(PROVIDER, LABEL)
