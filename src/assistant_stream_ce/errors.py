"""The library's exception hierarchy: every error it raises on purpose is a `StreamError`."""

from __future__ import annotations

__all__ = [
    "BufferOverflowError",
    "DecodeError",
    "InvalidMessagesError",
    "MissingAPIKeyError",
    "ProviderConfigError",
    "ProviderError",
    "ProviderNotInstalledError",
    "RunClosedError",
    "SerializationError",
    "StreamError",
    "UnknownProviderError",
    "error_message",
]


class StreamError(Exception):
    """Base class of every error raised by assistant-stream-ce."""


class SerializationError(StreamError, TypeError):
    """A chunk holds a value that cannot be written as valid JSON.

    ``chunk_type`` names the chunk (``"tool-result"``) and ``value_type`` the offending
    Python type (``"set"``, ``"float (nan)"``).
    """

    def __init__(self, chunk_type: str, value_type: str, detail: str = "") -> None:
        self.chunk_type = chunk_type
        self.value_type = value_type
        message = f"{chunk_type} chunk could not be serialised: value of type {value_type}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class RunClosedError(StreamError, RuntimeError):
    """A run's controller was used after the run ended (nothing it adds would be sent)."""


class BufferOverflowError(StreamError, RuntimeError):
    """More was produced than a slow client can take: the run is stopped (see `create_run`'s
    ``max_buffered``)."""


class DecodeError(StreamError, ValueError):
    """Bytes received from a stream do not follow the protocol."""


class ProviderError(StreamError):
    """A model provider failed; the message is safe to show (no keys, no headers).

    ``provider`` names the provider (``"openai"``), ``status_code`` is the HTTP status when there
    was one, and ``kind`` classifies the failure: ``"authentication"``, ``"permission"``,
    ``"rate_limit"``, ``"overloaded"``, ``"server"``, ``"bad_request"``, ``"not_found"``,
    ``"timeout"``, ``"connection"``, ``"stream"`` or ``"config"``.
    """

    def __init__(
        self,
        message: str = "",
        *,
        provider: str | None = None,
        status_code: int | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code
        self.kind = kind


class ProviderConfigError(ProviderError):
    """A provider cannot be used as configured; raised before any network call."""

    def __init__(self, message: str = "", *, provider: str | None = None) -> None:
        super().__init__(message, provider=provider, kind="config")


class UnknownProviderError(ProviderConfigError):
    """The provider name is not one this library knows."""


class ProviderNotInstalledError(ProviderConfigError):
    """The provider's SDK is not installed; the message names the extra to install."""


class MissingAPIKeyError(ProviderConfigError):
    """No API key was given and the provider's environment variable is not set."""


class InvalidMessagesError(ProviderConfigError, ValueError):
    """The conversation passed to a provider is not a valid list of messages."""


def error_message(exc: BaseException) -> str:
    """The text of an error chunk for an exception: its message, else its type name."""
    return str(exc) or type(exc).__name__
