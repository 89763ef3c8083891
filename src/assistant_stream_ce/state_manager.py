"""`StateManager`: the 0.0.36 state host, batching operations into update-state chunks.

Runs use `RunController.state` instead; this class stays for code that builds its own host
around a callback. Writes through `state` apply at once; their operations are batched and
passed to the callback as one `UpdateStateChunk` on the next loop iteration or at `flush`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from .assistant_stream_chunk import ObjectStreamOperation, UpdateStateChunk
from .state import AssistantState, Flusher, PathKey, StateDraft, StateProxy

__all__ = ["StateManager"]


class StateManager:
    """Holds a state, hands out a proxy over it and emits its operations in batches.

    Must be created inside a running event loop (batches are flushed on it).
    """

    def __init__(
        self,
        put_chunk_callback: Callable[[UpdateStateChunk], None],
        state_data: Any | None = None,
    ) -> None:
        self._state = AssistantState(state_data)
        self._put_chunk_callback = put_chunk_callback
        self._loop = asyncio.get_running_loop()
        self._flusher = Flusher(self._emit_operations, self._loop.call_soon_threadsafe)
        self._draft = StateDraft(self._state, self._flusher.add)
        self._state_proxy = StateProxy(self._draft, ())

    @property
    def state(self) -> Any:
        """A proxy over the state, or None while the state is None."""
        if self._state.state is None:
            return None
        return self._state_proxy

    @property
    def state_data(self) -> Any:
        """The current state value."""
        return self._state.state

    def add_operations(self, operations: list[ObjectStreamOperation]) -> None:
        """Apply operations now and queue them for the next batch."""
        self._draft.add_operations(operations)

    def append_text(self, path: Sequence[PathKey], value: str) -> None:
        """Append text to the string at ``path`` (emits ``append-text``)."""
        self._draft.append_text(path, value)

    def flush(self) -> None:
        """Emit the queued operations now."""
        self._flusher.flush()

    def get_value_at_path(self, path: list[str]) -> Any:
        """The value at ``path`` (KeyError if it does not exist)."""
        return self._draft.get_value_at_path(path)

    def _emit_operations(self, operations: list[ObjectStreamOperation]) -> None:
        self._put_chunk_callback(UpdateStateChunk(operations=operations))
