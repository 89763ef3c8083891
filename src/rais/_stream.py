"""`stream_response` and `stream_run`: RAIS SSE strings from a provider or from any run."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from typing import Any, Literal

from assistant_stream_ce._source import as_chunk_source
from assistant_stream_ce.assistant_stream_chunk import AssistantStreamChunk, ErrorChunk
from assistant_stream_ce.create_run import RunController, create_run
from assistant_stream_ce.errors import InvalidMessagesError, ProviderError, StreamError
from assistant_stream_ce.providers import (
    DEFAULT_MODELS,
    check_provider,
    run_provider,
    validate_messages,
)
from assistant_stream_ce.serialization.assistant_stream_response import (
    HeartbeatOption,
    resolve_heartbeat_interval,
)
from assistant_stream_ce.serialization.rais import (
    GENERIC_ERROR,
    ExtensionsOption,
    RAISEncoder,
    RAISJSONEncoder,
    redact_secrets,
    resolve_extensions,
)
from assistant_stream_ce.serialization.stream_encoder import encode_batches

__all__ = ["provider_events", "stream_response", "stream_run"]

#: How events are framed: SSE (``data: …`` and a blank line) or the bare JSON (WebSocket).
Framing = Literal["sse", "json"]

logger = logging.getLogger("rais")

# Environment variables whose values never appear in an event.
_KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")


class _InternalFailure(StreamError):
    """Stands in for an unexpected exception: carries only the generic, safe message."""


def _encoder(framing: Framing, **options: Any) -> RAISEncoder:
    return RAISEncoder(**options) if framing == "sse" else RAISJSONEncoder(**options)


def _error_event(message: str, secrets: Iterable[str | None], framing: Framing = "sse") -> str:
    encoder = _encoder(framing, event_ids=False, redact=secrets)
    return encoder.encode_batch([ErrorChunk(message)]).decode()


async def stream_run(
    stream: AsyncIterable[AssistantStreamChunk],
    *,
    extensions: ExtensionsOption = False,
    heartbeat: HeartbeatOption = None,
    model: str | None = None,
    text_separator: str = "",
    event_ids: bool = False,
    redact: Iterable[str | None] = (),
) -> AsyncIterator[str]:
    """Turn a run (from `create_run`, or any chunk stream) into RAIS SSE strings, one per event.

    For ``StreamingResponse(stream_run(create_run(my_run)), media_type="text/event-stream")``.
    Text becomes ``text`` events and the stream ends with exactly one ``done``, or with one
    ``error`` (the run raised or reported an error) after which nothing follows and the run is
    stopped. ``heartbeat`` (seconds, off by default) yields ``: keep-alive`` comments while
    idle. Closing the generator (the client went away) cancels the run. See `RAISEncoder` for
    the other options.
    """
    encoder = RAISEncoder(
        extensions=extensions,
        event_ids=event_ids,
        model=model,
        text_separator=text_separator,
        redact=redact,
    )
    events = _events(stream, encoder, heartbeat, redact)
    try:
        async for event in events:
            yield event
    finally:
        await events.aclose()


async def _events(
    stream: AsyncIterable[AssistantStreamChunk],
    encoder: RAISEncoder,
    heartbeat: HeartbeatOption,
    redact: Iterable[str | None],
) -> AsyncGenerator[str, None]:
    """Drive ``stream`` through ``encoder``: one string per frame (see `stream_run`)."""
    interval = resolve_heartbeat_interval(heartbeat)

    def log_failure(exc: BaseException) -> None:
        if isinstance(exc, StreamError):
            logger.warning("the run failed: %s", redact_secrets(str(exc), redact))
        else:
            logger.error("the run failed; its error was sent as an error event", exc_info=exc)

    batches = encode_batches(
        as_chunk_source(stream),
        encoder,
        idle_timeout=interval,
        on_run_failure=log_failure,
        internal_error=GENERIC_ERROR,
    )
    try:
        async for batch in batches:
            for frame in batch:
                yield frame.decode()
    finally:
        await batches.aclose()


def _check_messages(messages: object) -> list[dict[str, Any]]:
    """The provider layer's checks, plus RAIS's: a non-empty list, every message with content."""
    checked = validate_messages(messages)
    if not checked:
        raise InvalidMessagesError("messages must not be empty")
    for i, message in enumerate(checked):
        if message.get("content") is None and not message.get("tool_calls"):
            raise InvalidMessagesError(f"messages[{i}].content must be a string, got null")
    return checked


def _secrets(api_key: str | None) -> tuple[str, ...]:
    values = [api_key, *(os.environ.get(name) for name in _KEY_VARIABLES)]
    return tuple(value for value in values if value)


async def stream_response(
    messages: list[dict[str, Any]],
    *,
    provider: str,
    api_key: str | None = None,
    model: str | None = None,
    max_tokens: int = 1024,
    system: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    extensions: ExtensionsOption = False,
    heartbeat: HeartbeatOption = None,
    **options: Any,
) -> AsyncIterator[str]:
    """Stream a model's answer to ``messages`` as RAIS SSE strings (``data: {...}\\n\\n``).

    ``provider`` is ``"openai"``, ``"anthropic"`` or ``"offline"`` (the built-in offline model;
    extra ``options`` such as ``pace`` are passed to the provider). ``api_key`` falls back to
    ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` and ``base_url`` to ``OPENAI_BASE_URL`` /
    ``ANTHROPIC_BASE_URL``; ``model`` defaults to ``gpt-4o-mini`` / ``claude-sonnet-4-6``;
    ``max_tokens`` and ``system`` apply to every provider.

    Yields ``text`` events then exactly one ``done``, or exactly one ``error`` event and nothing
    after it. Never raises: an unknown provider, a missing SDK or key, malformed ``messages``
    and provider failures are ``error`` events with a clear message that never contains the
    API key; unexpected exceptions give a generic message and are logged with their
    traceback. Closing the generator (the client disconnected) cancels the upstream request.
    ``extensions`` opts into the draft RFC events (see `RAISEncoder`); ``heartbeat`` (seconds)
    yields ``: keep-alive`` comments while the model is silent.
    """
    events = provider_events(
        messages,
        provider=provider,
        api_key=api_key,
        model=model,
        max_tokens=max_tokens,
        system=system,
        base_url=base_url,
        temperature=temperature,
        extensions=extensions,
        heartbeat=heartbeat,
        **options,
    )
    try:
        async for event in events:
            yield event
    finally:
        await events.aclose()


async def provider_events(
    messages: list[dict[str, Any]],
    *,
    provider: str,
    framing: Framing = "sse",
    api_key: str | None = None,
    model: str | None = None,
    max_tokens: int = 1024,
    system: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    extensions: ExtensionsOption = False,
    heartbeat: HeartbeatOption = None,
    **options: Any,
) -> AsyncGenerator[str, None]:
    """`stream_response` with a choice of framing: ``"sse"`` events or bare ``"json"``."""
    secrets = _secrets(api_key)
    try:
        resolve_extensions(extensions)
        resolve_heartbeat_interval(heartbeat)
        check_provider(provider, api_key)
        checked = _check_messages(messages)
    except (ProviderError, ValueError, TypeError) as exc:
        message = redact_secrets(str(exc), secrets)
        logger.info("RAIS request rejected: %s", message)
        yield _error_event(message, secrets, framing)
        return
    except Exception:
        logger.exception("checking the RAIS request failed")
        yield _error_event(GENERIC_ERROR, secrets, framing)
        return

    async def run(controller: RunController) -> None:
        try:
            await run_provider(
                controller,
                checked,
                provider=provider,
                api_key=api_key,
                model=model,
                base_url=base_url,
                max_tokens=max_tokens,
                system=system,
                temperature=temperature,
                **options,
            )
        except ProviderError:
            raise
        except Exception as exc:
            logger.exception("the %s provider failed unexpectedly", provider)
            raise _InternalFailure(GENERIC_ERROR) from exc

    encoder = _encoder(
        framing,
        extensions=extensions,
        event_ids=False,
        model=model or DEFAULT_MODELS.get(provider),
        redact=secrets,
    )
    events = _events(create_run(run), encoder, heartbeat, secrets)
    try:
        async for event in events:
            yield event
    finally:
        await events.aclose()
