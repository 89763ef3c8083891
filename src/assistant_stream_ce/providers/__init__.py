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

from collections.abc import Mapping, Sequence
from typing import Any

from ..create_run import RunController
from ..errors import UnknownProviderError
from ._common import import_sdk, resolve_api_key
from ._messages import validate_messages
from .anthropic_messages import stream_anthropic_messages
from .offline import stream_offline_model
from .openai_chat import stream_openai_chat

__all__ = [
    "DEFAULT_MODELS",
    "OFFLINE_OPTIONS",
    "PROVIDERS",
    "check_provider",
    "run_provider",
    "stream_anthropic_messages",
    "stream_offline_model",
    "stream_openai_chat",
    "validate_messages",
]

DEFAULT_MODELS: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-6",
    "offline": "offline",
}
PROVIDERS = tuple(DEFAULT_MODELS)
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
    tools: Sequence[Mapping[str, Any]] | None = None,
    **options: Any,
) -> None:
    """Answer ``messages`` (OpenAI-style) with ``provider`` into ``controller``.

    ``provider`` is ``"openai"``, ``"anthropic"`` or ``"offline"``; ``model`` defaults to
    `DEFAULT_MODELS`. Configuration errors (unknown provider, SDK missing, no key, invalid
    messages) are raised before any network call. ``api_key`` / ``base_url`` fall back to the
    SDKs' environment variables; ``max_tokens`` defaults to 1024 for Anthropic. ``options``: the
    offline model's (``pace``, ``reasoning``, ``tool_call``, ``source``, ``update_state``,
    ``reply``; ignored by the real providers) or extra request parameters for the real ones
    (``max_retries`` configures the client they create, ``client`` supplies one).
    """
    if options.get("client") is None:
        check_provider(provider, api_key)
    elif provider not in ("openai", "anthropic"):
        check_provider(provider)
    validated = validate_messages(messages)
    offline = {key: options.pop(key) for key in OFFLINE_OPTIONS if key in options}
    if provider == "offline":
        await stream_offline_model(controller, validated, **offline)
        return
    common: dict[str, Any] = {
        "model": model or DEFAULT_MODELS[provider],
        "api_key": api_key,
        "base_url": base_url,
        "system": system,
        "temperature": temperature,
        "tools": tools,
    }
    if provider == "openai":
        await stream_openai_chat(controller, validated, max_tokens=max_tokens, **common, **options)
    else:
        await stream_anthropic_messages(
            controller,
            validated,
            max_tokens=1024 if max_tokens is None else max_tokens,
            **common,
            **options,
        )
