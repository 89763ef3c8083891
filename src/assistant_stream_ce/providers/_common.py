"""Helpers shared by the provider adapters: SDK imports, keys, error classification."""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import os
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any

from ..errors import MissingAPIKeyError, ProviderError, ProviderNotInstalledError
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

logger = logging.getLogger("assistant_stream_ce.providers")

LABELS = {"openai": "OpenAI", "anthropic": "Anthropic"}
API_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}

_TRANSPORT_MODULES = {"httpx", "httpx2", "httpcore", "h11", "h2", "anyio", "ssl", "aiohttp", "json"}


def map_finish_reason(reason: str | None) -> str:
    """Our finish reason for a provider's (``tool_calls`` → ``tool-calls``; unknown → ``other``)."""
    return from_wire_finish_reason(reason)


#: The largest token count taken as real (anything larger is a broken upstream).
MAX_TOKEN_COUNT = 10**12


def token_count(value: Any, field: str = "tokens") -> int:
    """A usage figure from an upstream as a sane count: a non-negative whole number, else 0.

    Strings, lists, fractions, negatives, non-finite and absurdly large values are dropped
    (logged at debug level) instead of reaching the wire or failing the reply.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        logger.debug("upstream usage %s=%r is not a number; ignored", field, value)
        return 0
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        logger.debug("upstream usage %s=%r is not a whole number; ignored", field, value)
        return 0
    if not 0 <= value <= MAX_TOKEN_COUNT:
        logger.debug("upstream usage %s=%r is out of range; ignored", field, value)
        return 0
    return int(value)


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


#: Seconds an upstream may take to send its first event, and may then stay silent, by default.
DEFAULT_FIRST_TOKEN_TIMEOUT = 120.0
DEFAULT_IDLE_TIMEOUT = 60.0


class _Watchdog:
    """Cancels the task consuming an upstream that sends nothing for too long."""

    def __init__(self, first_token_timeout: float | None, idle_timeout: float | None) -> None:
        self.first = first_token_timeout
        self.idle = idle_timeout
        self.loop = asyncio.get_running_loop()
        self.progress_at = self.loop.time()
        self.started = False
        #: Which limit ran out: "first" or "idle".
        self.expired: str | None = None

    def touch(self) -> None:
        self.progress_at = self.loop.time()
        self.started = True

    async def watch(self, task: asyncio.Task[Any]) -> None:
        while True:
            limit = self.idle if self.started else self.first
            if limit is None:
                if self.started:
                    return
                await asyncio.sleep(0.5)
                continue
            remaining = self.progress_at + limit - self.loop.time()
            if remaining <= 0:
                self.expired = "idle" if self.started else "first"
                task.cancel()
                return
            # the first event may come any time and switch to the (shorter) idle limit
            await asyncio.sleep(remaining if self.idle is None else min(remaining, self.idle))


class _Watched:
    """An upstream stream whose every event counts as progress for the watchdog."""

    def __init__(self, stream: Any, watchdog: _Watchdog) -> None:
        self._stream = stream
        self._watchdog = watchdog
        self._iterator: Any = None

    def __aiter__(self) -> _Watched:
        self._iterator = self._stream.__aiter__()
        return self

    async def __anext__(self) -> Any:
        item = await self._iterator.__anext__()
        self._watchdog.touch()
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _check_timeout(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{name} must be None or a positive number of seconds, got {value!r}")
    return float(value)


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
    first_token_timeout: float | None = DEFAULT_FIRST_TOKEN_TIMEOUT,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
) -> None:
    """Open the provider's stream and consume it, always closing the stream (and a client we
    made). SDK and transport failures (and ``failures``) become a safe `ProviderError`; so does
    an upstream that sends no first event within ``first_token_timeout`` seconds of the request,
    or nothing for ``idle_timeout`` seconds after that (None: no limit)."""
    first_token_timeout = _check_timeout("first_token_timeout", first_token_timeout)
    idle_timeout = _check_timeout("idle_timeout", idle_timeout)
    stream: Any = None
    started = False
    watchdog = _Watchdog(first_token_timeout, idle_timeout)
    task = asyncio.current_task()
    assert task is not None
    guard = asyncio.get_running_loop().create_task(watchdog.watch(task))
    try:
        try:
            stream = await open_stream()
            started = True
            await consume(_Watched(stream, watchdog))
        except asyncio.CancelledError:
            if watchdog.expired is None:
                raise
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+: this cancel was ours
            if uncancel is not None:
                uncancel()
            label = LABELS[provider]
            if watchdog.expired == "first":
                message = (
                    f"{label} sent nothing for {first_token_timeout:g} s after the request "
                    "(first_token_timeout)"
                )
            else:
                message = f"{label} stream went silent for {idle_timeout:g} s (idle_timeout)"
            raise ProviderError(message, provider=provider, kind="timeout") from None
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
        guard.cancel()
        if stream is not None:
            await stream.close()
        if own_client:
            await client.close()
