"""Tool calls: a controller for streaming one call's arguments and setting its result."""

from __future__ import annotations

import asyncio
import secrets
import string
import threading
import warnings
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from ..assistant_stream_chunk import (
    AssistantStreamChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
)

if TYPE_CHECKING:
    from typing import Protocol

    class _ChunkSink(Protocol):
        def push(self, chunk: Any) -> None: ...

        def push_args_delta(self, tool_call_id: str, text: str) -> None: ...


__all__ = ["ToolCallController", "create_tool_call", "generate_openai_style_tool_call_id"]

_ID_ALPHABET = string.ascii_letters + string.digits


def generate_openai_style_tool_call_id() -> str:
    """A new tool call id shaped like OpenAI's: ``call_`` and 24 letters or digits."""
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


class ToolCallController:
    """Streams one tool call: argument text, then a result.

    Get one from ``await controller.add_tool_call(name)``. Safe to call from other threads.
    """

    __slots__ = ("_args_closed", "_core", "_has_result", "parent_id", "tool_call_id", "tool_name")

    def __init__(
        self, core: _ChunkSink, tool_name: str, tool_call_id: str, parent_id: str | None = None
    ) -> None:
        self._core = core
        self.tool_name = tool_name
        self.tool_call_id = tool_call_id
        self.parent_id = parent_id
        self._args_closed = False
        self._has_result = False

    def append_args_text(self, args_text_delta: str) -> None:
        """Stream a piece of the JSON argument text."""
        if args_text_delta:
            self._core.push_args_delta(self.tool_call_id, args_text_delta)

    def close(self) -> None:
        """Mark the argument text complete (idempotent)."""
        if not self._args_closed:
            self._args_closed = True
            self._core.push(ToolCallArgsTextFinishChunk(self.tool_call_id))

    def set_response(
        self, result: Any, *, artifact: Any | None = None, is_error: bool = False
    ) -> None:
        """Finish the arguments (if still open) and set the call's result."""
        self.close()
        self._has_result = True
        self._core.push(ToolResultChunk(self.tool_call_id, result, artifact, is_error))

    def set_result(self, result: Any) -> None:
        """Deprecated: use `set_response`."""
        warnings.warn(
            "ToolCallController.set_result() is deprecated; use set_response()",
            DeprecationWarning,
            stacklevel=2,
        )
        self.set_response(result)


# -- a tool call as its own stream (0.0.36's `create_tool_call`) ------------------------------


class _QueueCore:
    """Stands in for a run's core: a standalone tool call's chunks go to a queue."""

    __slots__ = ("_loop", "_thread_id", "queue")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread_id = threading.get_ident()
        self.queue: asyncio.Queue[AssistantStreamChunk | None] = asyncio.Queue()

    def push(self, chunk: AssistantStreamChunk | None) -> None:
        if threading.get_ident() == self._thread_id:
            self.queue.put_nowait(chunk)
        else:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, chunk)

    def push_args_delta(self, tool_call_id: str, text: str) -> None:
        self.push(ToolCallDeltaChunk(tool_call_id, text))


class _StandaloneToolCallController(ToolCallController):
    """A `ToolCallController` whose stream ends with its result or at `close`."""

    __slots__ = ("_ended",)

    def __init__(
        self, core: _QueueCore, tool_name: str, tool_call_id: str, parent_id: str | None
    ) -> None:
        super().__init__(core, tool_name, tool_call_id, parent_id)
        self._ended = False

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._core.push(None)

    def set_response(
        self, result: Any, *, artifact: Any | None = None, is_error: bool = False
    ) -> None:
        """Finish the arguments, set the call's result and end its stream."""
        ToolCallController.close(self)
        self._has_result = True
        self._core.push(ToolResultChunk(self.tool_call_id, result, artifact, is_error))
        self._end()

    def close(self) -> None:
        """Finish the arguments and end the stream (no result will follow)."""
        ToolCallController.close(self)
        self._end()


async def create_tool_call(
    tool_name: str, tool_call_id: str, parent_id: str | None = None
) -> tuple[AsyncGenerator[AssistantStreamChunk, None], ToolCallController]:
    """A tool call as its own chunk stream plus the controller that feeds it.

    The stream starts with the call's begin chunk and ends once the controller sets a result
    or is closed. Merge it into a run with `RunController.add_stream`. Must be awaited inside
    a running event loop; the controller may then be used from any thread.
    """
    core = _QueueCore()
    core.push(ToolCallBeginChunk(tool_call_id, tool_name, "tool-call-begin", parent_id))
    controller = _StandaloneToolCallController(core, tool_name, tool_call_id, parent_id)

    async def stream() -> AsyncGenerator[AssistantStreamChunk, None]:
        while True:
            chunk = await core.queue.get()
            if chunk is None:
                return
            yield chunk

    return stream(), controller
