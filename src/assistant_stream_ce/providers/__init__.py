"""Provider adapters: stream OpenAI, Anthropic or the built-in offline model into a run.

>>> from assistant_stream_ce import create_run
>>> from assistant_stream_ce.providers import run_provider
>>> async def run(controller):
...     await run_provider(controller, [{"role": "user", "content": "Hi"}], provider="offline")

The SDKs are optional extras (``pip install "assistant-stream-ce[openai]"`` / ``[anthropic]``)
imported only when their provider is used. Every failure is a `ProviderError` whose message is
safe to show to users: it never contains an API key, a bearer token or request headers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeGuard

from ..create_run import RunController
from ..errors import UnknownProviderError
from ._common import API_KEY_ENV, import_sdk, resolve_api_key
from ._loop import Answer, run_tool_loop
from ._messages import validate_messages
from .anthropic_messages import stream_anthropic_messages
from .offline import stream_offline_model
from .openai_chat import stream_openai_chat
from .tools import Tool, ToolInput, as_tool, as_tools, tool

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_MODELS",
    "OFFLINE_OPTIONS",
    "PROVIDERS",
    "Tool",
    "check_provider",
    "run_provider",
    "stream_anthropic_messages",
    "stream_offline_model",
    "stream_openai_chat",
    "tool",
    "validate_messages",
]

DEFAULT_MODELS: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-6",
    "offline": "offline",
}
PROVIDERS = tuple(DEFAULT_MODELS)
#: How many model steps `run_provider` runs at most when tools keep being called.
DEFAULT_MAX_STEPS = 10
# Options only the offline model understands; the real providers ignore them.
OFFLINE_OPTIONS = ("pace", "reasoning", "tool_call", "source", "update_state", "reply")


def check_provider(provider: str, api_key: str | None = None) -> None:
    """Pre-flight checks without any network call.

    Raises `UnknownProviderError`, `ProviderNotInstalledError` (with the pip command) or
    `MissingAPIKeyError` (naming the environment variable). ``api_key`` falls back to
    ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``.
    """
    if provider not in PROVIDERS:
        raise UnknownProviderError(
            f"unknown provider {provider!r}: use one of "
            + ", ".join(repr(name) for name in PROVIDERS),
            provider=provider if isinstance(provider, str) else None,
        )
    if provider == "offline":
        return
    import_sdk(provider)
    resolve_api_key(provider, api_key)


async def run_provider(
    controller: RunController,
    messages: Sequence[Mapping[str, Any]],
    *,
    provider: str,
    api_key: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    max_tokens: int | None = None,
    system: str | None = None,
    temperature: float | None = None,
    tools: Sequence[ToolInput] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    answers: Sequence[Answer] | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Answer ``messages`` (OpenAI-style) with ``provider`` into ``controller``.

    ``provider`` is ``"openai"``, ``"anthropic"`` or ``"offline"``; ``model`` defaults to
    `DEFAULT_MODELS`. Configuration errors (unknown provider, SDK missing, no key, invalid
    messages) are raised before any network call. ``api_key`` / ``base_url`` fall back to the
    SDKs' environment variables; ``max_tokens`` defaults to 1024 for Anthropic. ``options``: the
    offline model's (``pace``, ``reasoning``, ``tool_call``, ``source``, ``update_state``,
    ``reply``; ignored by the real providers) or extra request parameters for the real ones
    (``max_retries`` configures the client they create, ``client`` supplies one).

    ``tools``: plain functions (sync or async; their JSON schema comes from the type hints and
    docstring), `Tool` objects, or definitions (OpenAI or Anthropic shape, or a request's
    `ToolDefinition`). Tools with a function run on the server between model steps, their
    results streamed as tool results (an exception becomes an error result the model sees);
    calls of tools without one (client tools) or needing approval end the run unanswered.
    At most ``max_steps`` model steps run. Returns the conversation: ``messages`` plus every
    completed step's assistant message and tool results.

    ``needs_approval`` tools end the run with an approval request (UI message stream 6+:
    ``tool-approval-request``; elsewhere the call is left unanswered). ``answers``: the
    client's answers from the next request (`ChatRequest.answers`); those ``messages`` lacks
    are applied before the first step: an approved call runs, a denied one is reported to the
    model as denied, a result is added as the call's ``tool`` message.
    """
    if options.get("client") is None:
        check_provider(provider, api_key)
    elif provider not in ("openai", "anthropic"):
        check_provider(provider)
    validated = validate_messages(messages)
    offline = {key: options.pop(key) for key in OFFLINE_OPTIONS if key in options}
    made = [t if _is_provider_native(t) else as_tool(t) for t in tools or ()]
    by_name = as_tools([t for t in made if isinstance(t, Tool)])
    # What the provider sees: definitions given as mappings as they are, other tools' own.
    definitions = [
        given if isinstance(given, Mapping) else ours.definition()  # type: ignore[union-attr]
        for given, ours in zip(tools or (), made, strict=True)
    ] or None
    offered = list(by_name)  # the offline model calls a planned tool only when it is offered

    async def step(step_controller: RunController, history: list[dict[str, Any]]) -> None:
        if provider == "offline":
            await stream_offline_model(
                step_controller, history, tools=offered if tools else None, **offline
            )
            return
        common: dict[str, Any] = {
            "model": model or DEFAULT_MODELS[provider],
            "api_key": api_key,
            "base_url": base_url,
            "system": system,
            "temperature": temperature,
            "tools": definitions,
        }
        if provider == "openai":
            await stream_openai_chat(
                step_controller, history, max_tokens=max_tokens, **common, **options
            )
        else:
            await stream_anthropic_messages(
                step_controller,
                history,
                max_tokens=1024 if max_tokens is None else max_tokens,
                **common,
                **options,
            )

    return await run_tool_loop(
        controller,
        validated,
        step=step,
        tools=by_name,
        max_steps=max_steps,
        secrets=[api_key, os.environ.get(API_KEY_ENV.get(provider, ""))],
        answers=answers or (),
    )


def _is_provider_native(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """A provider's own tool definition (Anthropic server tools such as web search): passed
    through untouched, never run by us."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("type"), str)
        and value["type"] not in ("function", "custom")
        and "function" not in value
        and "input_schema" not in value
        and "parameters" not in value
    )
