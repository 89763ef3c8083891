"""The encoder interface: chunks in, protocol bytes out, one batch at a time."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, ClassVar

from .._buffer import ChunkBuffer
from ..assistant_stream_chunk import AssistantStreamChunk
from ..create_run import RunController, RunStream, create_run

__all__ = ["MessageTotals", "StreamEncoder", "as_run_stream"]

logger = logging.getLogger("assistant_stream_ce.serialization")

Emit = Callable[[bytes], None]


def as_run_stream(stream: AsyncIterable[AssistantStreamChunk]) -> RunStream:
    """Wrap any async iterable of chunks as a `RunStream` (a run that merges it in)."""
    if isinstance(stream, RunStream):
        return stream

    async def forward(controller: RunController) -> None:
        controller.add_stream(stream)

    return create_run(forward)


class MessageTotals:
    """What a message-finish frame reports: the final reason and the usage summed over steps."""

    __slots__ = ("input_tokens", "last_reason", "output_tokens", "unanswered")

    def __init__(self) -> None:
        self.last_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.unanswered: set[str] = set()

    def step_finished(self, chunk: Any) -> None:
        self.last_reason = chunk.finish_reason
        self.input_tokens += int(chunk.input_tokens or 0)
        self.output_tokens += int(chunk.output_tokens or 0)

    def finish_reason(self) -> str:
        """``tool-calls`` while a call waits for a result (client's turn), else the last step's."""
        if self.unanswered:
            return "tool-calls"
        if self.last_reason is None or self.last_reason == "tool-calls":
            return "stop"
        return self.last_reason

    def usage(self) -> dict[str, int]:
        return {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens}


def log_failure_at_terminal_frame(buffer: ChunkBuffer) -> bool:
    """At a terminal frame (the stream ends early): log the run's exception if it already
    raised, and say whether it did."""
    exception = buffer.exception
    if exception is None:
        return False
    logger.error("the run failed; its error was sent to the client", exc_info=exception)
    return True


class StreamEncoder(ABC):
    """Turns chunks into the bytes of one wire protocol.

    An encoder instance holds the state of one response (open parts, indices); make a new one
    per stream. `encode_batch` may be called many times, then `finish` exactly once.
    """

    #: Media type of the response body.
    media_type: ClassVar[str]
    #: Bytes sent when the stream has been idle for the heartbeat interval.
    keepalive: ClassVar[bytes]
    #: Protocol-specific response headers (markers such as ``x-vercel-ai-data-stream``).
    headers: ClassVar[dict[str, str]] = {}

    @abstractmethod
    def encode_batch(self, chunks: list[Any]) -> bytes:
        """Encode ready chunks (in order) into one piece of the body."""

    @abstractmethod
    def finish(self, failed: bool = False) -> bytes:
        """Close every open part and write the protocol's end of stream.

        ``failed`` says the run ended by raising (its error frame was already written), so no
        successful message finish may follow.
        """

    @property
    def closed(self) -> bool:
        """True once a terminal frame was written (an error that ends the protocol's stream).

        The response classes then finish the body at once and cancel the run.
        """
        return False

    def get_media_type(self) -> str:
        """The response media type (kept for compatibility)."""
        return self.media_type

    def get_keepalive_token(self) -> str:
        """The idle keepalive text (kept for compatibility)."""
        return self.keepalive.decode()

    def encode_chunk(self, chunk: AssistantStreamChunk) -> str:
        """Encode a single chunk (convenience; prefer `encode_batch`)."""
        return self.encode_batch([chunk]).decode()

    async def iter_bytes(self, stream: AsyncIterable[AssistantStreamChunk]) -> AsyncIterator[bytes]:
        """Encode a whole stream: one ``bytes`` per ready batch, then the end of stream.

        If the run fails, its error frame has already been encoded; the failure is logged and
        the stream still ends properly. Closing this iterator early closes the run.
        """
        run = as_run_stream(stream)
        failed = False
        try:
            # The first take starts the run; afterwards the buffer is driven directly.
            batch = run.take_nowait()
            buffer = run.buffer
            take_nowait = buffer.take_nowait
            next_batch = buffer.next_batch
            while True:
                if batch is None:
                    try:
                        batch = await next_batch()
                    except StopAsyncIteration:
                        break
                    except Exception:
                        logger.exception("the run failed; its error was sent to the client")
                        failed = True
                        break
                if batch:
                    data = self.encode_batch(batch)
                    if data:
                        yield data
                    if self.closed:
                        failed = log_failure_at_terminal_frame(buffer)
                        break
                batch = take_nowait()
            yield self.finish(failed)
        finally:
            await run.aclose()

    async def encode_stream(
        self, stream: AsyncIterable[AssistantStreamChunk]
    ) -> AsyncIterator[str]:
        """Like `iter_bytes`, as text (the interface of the library we succeed)."""
        async for data in self.iter_bytes(stream):
            yield data.decode()
