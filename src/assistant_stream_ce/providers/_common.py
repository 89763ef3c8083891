"""Helpers shared by the provider adapters: SDK imports, keys, error classification."""

from __future__ import annotations

import importlib
import os
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any

from ..errors import MissingAPIKeyError, ProviderNotInstalledError
from ..finish_reasons import from_wire_finish_reason
from ._errors import from_sdk_error

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "LABELS",
    "extra_field",
    "import_sdk",
    "is_provider_failure",
    "make_client",
    "map_finish_reason",
    "resolve_api_key",
    "stream_upstream",
]

LABELS = {"openai": "OpenAI", "anthropic": "Anthropic"}
API_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}

_TRANSPORT_MODULES = {"httpx", "httpx2", "httpcore", "h11", "h2", "anyio", "ssl", "aiohttp", "json"}


def map_finish_reason(reason: str | None) -> str:
    """Our finish reason for a provider's (``tool_calls`` → ``tool-calls``; unknown → ``other``)."""
    return from_wire_finish_reason(reason)


def import_sdk(provider: str) -> ModuleType:
    """The provider's SDK module, or `ProviderNotInstalledError` with the pip command."""
    try:
        return importlib.import_module(provider)
    except ImportError:
        raise ProviderNotInstalledError(
            f"the {provider!r} provider needs the {provider} SDK: "
            f'pip install "assistant-stream-ce[{provider}]"',
            provider=provider,
        ) from None


def resolve_api_key(provider: str, api_key: str | None) -> str:
    """``api_key`` or the provider's environment variable, or `MissingAPIKeyError`."""
    key = api_key or os.environ.get(API_KEY_ENV[provider])
    if not key:
        env = API_KEY_ENV[provider]
        hint = (
            " (local OpenAI-compatible servers accept any placeholder, e.g. api_key='local')"
            if provider == "openai"
            else ""
        )
        raise MissingAPIKeyError(
            f"no API key for the {provider!r} provider: pass api_key=... or set {env}{hint}",
            provider=provider,
        )
    return key


def is_provider_failure(exc: BaseException, sdk: ModuleType) -> bool:
    """True for SDK errors and transport failures (not for programming errors in our code)."""
    base = getattr(sdk, "OpenAIError", None) or getattr(sdk, "AnthropicError", None)
    if isinstance(base, type) and isinstance(exc, base):
        return True
    if isinstance(exc, (OSError, EOFError)):
        return True
    module = type(exc).__module__.split(".", 1)[0]
    return module in _TRANSPORT_MODULES


def extra_field(obj: Any, name: str) -> Any:
    """A field the SDK's types do not declare (kept in pydantic's ``model_extra``)."""
    extra = getattr(obj, "model_extra", None)
    if isinstance(extra, dict) and name in extra:
        return extra[name]
    return getattr(obj, name, None)


def make_client(
    provider: str,
    client_class: Callable[..., Any],
    api_key: str | None,
    base_url: str | None,
    max_retries: int | None,
) -> Any:
    """An SDK client for ``api_key`` (else the provider's key variable) and ``base_url``."""
    options: dict[str, Any] = {"api_key": resolve_api_key(provider, api_key), "base_url": base_url}
    if max_retries is not None:
        options["max_retries"] = max_retries
    return client_class(**options)


async def stream_upstream(
    open_stream: Callable[[], Awaitable[Any]],
    consume: Callable[[Any], Awaitable[None]],
    *,
    sdk: ModuleType,
    client: Any,
    own_client: bool,
    provider: str,
    secrets: Iterable[str | None],
    base_url: object,
    failures: tuple[type[BaseException], ...] = (),
) -> None:
    """Open the provider's stream and consume it, always closing the stream (and a client we
    made). SDK and transport failures (and ``failures``) become a safe `ProviderError`."""
    stream: Any = None
    started = False
    try:
        try:
            stream = await open_stream()
            started = True
            await consume(stream)
        except Exception as exc:
            if not isinstance(exc, failures) and not is_provider_failure(exc, sdk):
                raise
            raise from_sdk_error(
                exc,
                provider=provider,
                label=LABELS[provider],
                secrets=secrets,
                base_url=base_url,
                mid_stream=started,
            ) from None
    finally:
        if stream is not None:
            await stream.close()
        if own_client:
            await client.close()
