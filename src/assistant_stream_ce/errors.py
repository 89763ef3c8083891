"""The library's exception hierarchy: every error it raises on purpose is a `StreamError`."""

from __future__ import annotations

__all__ = ["DecodeError", "ProviderError", "SerializationError", "StreamError"]


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


class DecodeError(StreamError, ValueError):
    """Bytes received from a stream do not follow the protocol."""


class ProviderError(StreamError):
    """A model provider failed; the message is safe to show (no keys, no headers)."""
