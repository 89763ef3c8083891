"""Tool calls: a controller for streaming one call's arguments and setting its result."""

from __future__ import annotations

import secrets
import string
import warnings
from typing import TYPE_CHECKING, Any

from ..assistant_stream_chunk import ToolCallArgsTextFinishChunk, ToolResultChunk

if TYPE_CHECKING:
    from ..create_run import _RunCore

__all__ = ["ToolCallController", "generate_openai_style_tool_call_id"]

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
        self, core: _RunCore, tool_name: str, tool_call_id: str, parent_id: str | None = None
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
