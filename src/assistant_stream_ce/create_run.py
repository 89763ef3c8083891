"""`create_run`: turn an async callback driving a `RunController` into a stream of chunks."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from ._buffer import (
    ARGS,
    DEFAULT_HIGH_WATER,
    DEFAULT_MAX_BUFFERED,
    REASONING,
    TEXT,
    ChunkBuffer,
)
from .assistant_stream_chunk import (
    AnnotationsChunk,
    AssistantStreamChunk,
    DataChunk,
    ErrorChunk,
    FileChunk,
    ReasoningPartStartChunk,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    ToolApprovalRequestChunk,
    ToolCallBeginChunk,
    ToolOutputDeniedChunk,
    ToolResultChunk,
)
from .errors import error_message
from .modules.tool_call import ToolCallController, generate_openai_style_tool_call_id
from .state import PathKey, StateProxy, StateStore, copy_json_value

__all__ = ["ReadOnlyCancellationSignal", "RunController", "RunStream", "create_run"]

logger = logging.getLogger(__name__)

# How long a callback may keep running after its consumer went away before it is cancelled.
CANCEL_GRACE_SECONDS = 0.05
# How long `aclose` then waits for the cancelled tasks to end (a callback may ignore it).
CANCEL_WAIT_SECONDS = 1.0

_get_ident = threading.get_ident

RunCallback = Callable[["RunController"], Awaitable[Any]]


class ReadOnlyCancellationSignal:
    """Lets a callback observe (not trigger) cancellation of its run."""

    __slots__ = ("_event",)

    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    def is_set(self) -> bool:
        """True once the run's consumer has gone away."""
        return self._event.is_set()

    async def wait(self) -> bool:
        """Wait until the run is cancelled."""
        return await self._event.wait()


class _RunCore:
    """What every controller of one run shares: buffer, state, loop, tasks, cancellation."""

    __slots__ = (
        "buffer",
        "cancel_event",
        "cancelled",
        "failed",
        "first_task",
        "loop",
        "producers",
        "state_store",
        "tasks",
        "thread_id",
    )

    def __init__(self, state: Any, coalesce: bool, **limits: int) -> None:
        self.buffer = ChunkBuffer(coalesce=coalesce, **limits)
        self.state_store = StateStore(self, state)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread_id = -1
        self.producers = 0
        # The callback's task, then the others (sub-streams, tools) in a set made on demand:
        # most runs never start a second task.
        self.first_task: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] | None = None
        # Cancellation: a flag; the Event exists only once someone waits on it (one fewer
        # object per stream for the many runs that are only polled, or never cancelled).
        self.cancelled = False
        self.cancel_event: asyncio.Event | None = None
        self.failed = False

    def cancel(self) -> None:
        """The run's consumer went away: `RunController.is_cancelled` turns true."""
        self.cancelled = True
        if self.cancel_event is not None:
            self.cancel_event.set()

    def cancel_signal(self) -> asyncio.Event:
        event = self.cancel_event
        if event is None:
            event = self.cancel_event = asyncio.Event()
            if self.cancelled:
                event.set()
        return event

    # -- thread-aware entry points -------------------------------------------------------

    def _call(self, function: Callable[..., None], *args: Any) -> None:
        if _get_ident() == self.thread_id:
            function(*args)
        elif self.loop is not None:
            self.loop.call_soon_threadsafe(function, *args)
        else:
            raise RuntimeError("the run has not started: controllers exist only inside a run")

    def push(self, chunk: Any) -> None:
        if _get_ident() == self.thread_id:
            self.buffer.push(chunk)
        else:
            self._call(self.buffer.push, chunk)

    def push_text(self, text: str, parent_id: str | None) -> None:
        if _get_ident() == self.thread_id:
            self.buffer.push_delta(TEXT, parent_id, text, parent_id)
        else:
            self._call(self.buffer.push_delta, TEXT, parent_id, text, parent_id)

    def push_reasoning(self, text: str, parent_id: str | None) -> None:
        if _get_ident() == self.thread_id:
            self.buffer.push_delta(REASONING, parent_id, text, parent_id)
        else:
            self._call(self.buffer.push_delta, REASONING, parent_id, text, parent_id)

    def push_args_delta(self, tool_call_id: str, text: str) -> None:
        if _get_ident() == self.thread_id:
            self.buffer.push_delta(ARGS, tool_call_id, text, None)
        else:
            self._call(self.buffer.push_delta, ARGS, tool_call_id, text, None)

    def emit_state(self, operation: Any) -> None:
        self.buffer.push_state_operation(operation)

    def state_call(self, function: Callable[..., None], *args: Any) -> None:
        self._call(function, *args)

    def close_state_batch(self) -> None:
        self._call(self.buffer.close_state_batch)

    # -- producers -----------------------------------------------------------------------

    def producer_done(self) -> None:
        self.producers -= 1
        if self.producers == 0:
            self.buffer.finish()

    def fail(self, exc: BaseException) -> None:
        """A producer raised: emit the error chunk, stop the others, end with ``exc``.

        ``SystemExit`` and ``KeyboardInterrupt`` from a callback fail the run like any error
        (logged): they never reach the server that consumes it.
        """
        if not isinstance(exc, Exception):
            logger.error("a producer of the run raised %s", type(exc).__name__, exc_info=exc)
            exc = RuntimeError(f"the run was stopped by {type(exc).__name__}")
        if self.failed:
            logger.error("another producer of the run also failed", exc_info=exc)
            return
        self.failed = True
        self.buffer.push(ErrorChunk(error_message(exc)))
        self.buffer.finish(exc)
        current = asyncio.current_task()
        for task in self.all_tasks():
            if task is not current and not task.done():
                task.cancel()

    def all_tasks(self) -> list[asyncio.Task[None]]:
        """Every task the run started that is still referenced (done or not)."""
        first = [] if self.first_task is None else [self.first_task]
        return first if self.tasks is None else first + list(self.tasks)

    def start_task(self, coroutine: Any) -> None:
        assert self.loop is not None
        self.producers += 1
        task = self.loop.create_task(coroutine)
        if self.first_task is None:
            self.first_task = task
            return
        tasks = self.tasks
        if tasks is None:
            tasks = self.tasks = set()
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def pump(self, stream: AsyncIterable[Any]) -> None:
        """Copy a sub-stream's chunks into the buffer (deltas are merged like our own)."""
        buffer = self.buffer
        try:
            if isinstance(stream, RunStream):
                while True:
                    try:
                        batch = await stream.next_batch()
                    except StopAsyncIteration:
                        break
                    if batch:
                        for chunk in batch:
                            buffer.push(chunk)
                        if not buffer.writable:
                            await buffer.wait_writable()  # backpressure from a slow client
            else:
                add = buffer.add
                async for chunk in stream:
                    add(chunk)
                    if not buffer.writable:
                        await buffer.wait_writable()  # backpressure from a slow client
        except asyncio.CancelledError:
            self.producer_done()
            raise
        except BaseException as exc:
            self.fail(exc)
        else:
            self.producer_done()
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except BaseException:
                    logger.debug("closing a sub-stream failed", exc_info=True)


class RunController:
    """What a run callback uses to emit text, reasoning, tool calls, state, sources and more.

    Every method may be called from the event loop's thread (fast path) or from any other
    thread (the call is handed to the loop in order).
    """

    __slots__ = ("_buffer", "_core", "_parent_id", "_thread_id")

    def __init__(self, core: _RunCore, parent_id: str | None = None) -> None:
        self._core = core
        self._parent_id = parent_id
        # Controllers exist only once the run has started: its loop thread is known.
        self._buffer = core.buffer
        self._thread_id = core.thread_id

    def with_parent_id(self, parent_id: str) -> RunController:
        """A controller whose text, reasoning, tool calls, sources and files carry ``parent_id``."""
        return RunController(self._core, parent_id)

    # -- content -------------------------------------------------------------------------

    def append_text(self, text_delta: str) -> None:
        """Stream a piece of assistant text (empty strings are ignored)."""
        if text_delta:
            if _get_ident() == self._thread_id:
                parent_id = self._parent_id
                self._buffer.push_delta(TEXT, parent_id, text_delta, parent_id)
            else:
                self._core.push_text(text_delta, self._parent_id)

    def append_reasoning(self, reasoning_delta: str) -> None:
        """Stream a piece of reasoning text (empty strings are ignored)."""
        if reasoning_delta:
            if _get_ident() == self._thread_id:
                parent_id = self._parent_id
                self._buffer.push_delta(REASONING, parent_id, reasoning_delta, parent_id)
            else:
                self._core.push_reasoning(reasoning_delta, self._parent_id)

    def add_reasoning_part(
        self, unstable_summary: str | None = None, *, summary: str | None = None
    ) -> None:
        """Start a new reasoning part, optionally with a summary of it.

        ``unstable_summary`` is upstream assistant-stream's name; ``summary`` is kept as well.
        """
        if unstable_summary is None:
            unstable_summary = summary
        self._core.push(ReasoningPartStartChunk(unstable_summary, self._parent_id))

    async def add_tool_call(
        self, tool_name: str, tool_call_id: str | None = None
    ) -> ToolCallController:
        """Start a tool call; stream its arguments and result through the returned controller."""
        if tool_call_id is None:
            tool_call_id = generate_openai_style_tool_call_id()
        self._core.push(
            ToolCallBeginChunk(tool_call_id, tool_name, "tool-call-begin", self._parent_id)
        )
        return ToolCallController(self._core, tool_name, tool_call_id, self._parent_id)

    def add_tool_result(self, tool_call_id: str, result: Any) -> None:
        """Set the result of a tool call started earlier (by id)."""
        self._core.push(ToolResultChunk(tool_call_id, result))

    def add_tool_approval_request(self, tool_call_id: str, approval_id: str) -> None:
        """Ask the user to approve a tool call before it runs (the run should end after it)."""
        self._core.push(ToolApprovalRequestChunk(tool_call_id, approval_id))

    def add_tool_output_denied(self, tool_call_id: str, reason: str | None = None) -> None:
        """Report that the user denied a tool call (it did not run), with their reason."""
        self._core.push(ToolOutputDeniedChunk(tool_call_id, reason=reason))

    def add_stream(self, stream: AsyncIterable[AssistantStreamChunk]) -> None:
        """Merge another chunk stream (for example another run) into this one, as it arrives.

        The run ends only when the callback and every added stream have finished.
        """
        self._core.start_task(self._core.pump(stream))

    def add_data(self, data: Any) -> None:
        """Attach an arbitrary JSON value to the message."""
        self._core.push(DataChunk(data))

    def add_error(self, error: str) -> None:
        """Report an error to the user (the run may continue)."""
        self._core.push(ErrorChunk(error))

    def add_source(self, id: str, url: str, title: str | None = None) -> None:
        """Cite a URL source."""
        self._core.push(SourceChunk(id, url, "url", title, "source", self._parent_id))

    def add_file(self, data: str, mime_type: str) -> None:
        """Attach a file (base64 data or a URL) with its media type."""
        self._core.push(FileChunk(data, mime_type, "file", self._parent_id))

    def add_annotations(self, annotations: list[Any]) -> None:
        """Attach message annotations."""
        self._core.push(AnnotationsChunk(annotations))

    def add_step_start(self, message_id: str) -> None:
        """Mark the start of a model step."""
        self._core.push(StepStartChunk(message_id))

    def add_step_finish(
        self,
        finish_reason: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        is_continued: bool = False,
    ) -> None:
        """Mark the end of a model step with its finish reason and token usage."""
        self._core.push(StepFinishChunk(finish_reason, input_tokens, output_tokens, is_continued))

    # -- state ---------------------------------------------------------------------------

    @property
    def state(self) -> Any:
        """The run state: containers come back as live proxies, other values as they are."""
        store = self._core.state_store
        data = store.data
        if isinstance(data, (dict, list)):
            return StateProxy(store, ())
        return data

    @state.setter
    def state(self, value: Any) -> None:
        self._core.state_call(self._core.state_store.set, (), value)

    def append_state_text(self, path: Sequence[PathKey], text_delta: str) -> None:
        """Append text to the string at ``path`` in the state (emits ``append-text``)."""
        self._core.state_call(self._core.state_store.append_text, tuple(path), text_delta)

    def flush(self) -> None:
        """Close the current batch of state operations (later ones go into a new chunk)."""
        self._core.close_state_batch()

    async def drain(self) -> None:
        """Wait while the client is far behind (more than the run's ``high_water`` characters
        wait to be sent). A producer that can wait — a loop over an upstream stream — awaits
        this between items, so a slow client slows it down instead of growing memory."""
        buffer = self._core.buffer
        if not buffer.writable:
            await buffer.wait_writable()

    # -- cancellation --------------------------------------------------------------------

    @property
    def is_cancelled(self) -> bool:
        """True once the consumer of the run has gone away (for example, a client disconnect)."""
        return self._core.cancelled

    @property
    def cancelled_event(self) -> ReadOnlyCancellationSignal:
        """A signal to ``await .wait()`` on or poll with ``.is_set()``."""
        assert self._core.loop is not None, "the run has not started"
        return ReadOnlyCancellationSignal(self._core.cancel_signal())


_NO_BATCH: list[Any] = []  # never appended to: RunStream only replaces or slices it


class RunStream(AsyncIterator[AssistantStreamChunk]):
    """The async iterator of chunks returned by `create_run`.

    The callback starts on first iteration. ``aclose()`` (called by the response classes when
    the client goes away) marks the run cancelled, gives the callback `CANCEL_GRACE_SECONDS` to
    finish on its own, then cancels it and its sub-streams.
    """

    __slots__ = ("_batch", "_callback", "_closed", "_core", "_index", "_initial_state", "_started")

    def __init__(self, callback: RunCallback, state: Any, coalesce: bool, **limits: int) -> None:
        self._started = False
        self._closed = False
        self._callback = callback
        self._core = _RunCore(state, coalesce, **limits)
        self._initial_state = copy_json_value(state)
        # Chunks taken by `__anext__` and not yet returned (a shared empty list until then).
        self._batch: list[Any] = _NO_BATCH
        self._index = 0

    def _start(self) -> None:
        core = self._core
        core.loop = asyncio.get_running_loop()
        core.thread_id = _get_ident()
        self._started = True
        core.start_task(self._run_callback(RunController(core)))

    async def _run_callback(self, controller: RunController) -> None:
        core = self._core
        try:
            await self._callback(controller)
        except asyncio.CancelledError:
            core.buffer.cancelled = True
            core.producer_done()
            raise
        except BaseException as exc:
            core.fail(exc)
        else:
            core.producer_done()

    def take_nowait(self) -> list[Any] | None:
        """The chunks ready right now, or None (starts the run on first use).

        Together with `next_batch` this lets a consumer skip awaiting when data is ready.
        """
        if self._index < len(self._batch):
            rest = self._batch[self._index :]
            self._batch = _NO_BATCH
            self._index = 0
            return rest
        if not self._started:
            if self._closed:
                return None
            self._start()
        return self._core.buffer.take_nowait()

    async def next_batch(self, timeout: float | None = None) -> list[Any] | None:
        """The next list of ready chunks; None if none arrived within ``timeout`` seconds.

        Raises StopAsyncIteration at the end, or the callback's exception (after its error
        chunk was delivered).
        """
        if self._index < len(self._batch):
            rest = self._batch[self._index :]
            self._batch = _NO_BATCH
            self._index = 0
            return rest
        if not self._started:
            if self._closed:
                raise StopAsyncIteration
            self._start()
        return await self._core.buffer.next_batch(timeout)

    def interrupt(self) -> None:
        """Make a pending `next_batch` return None at once (no chunk is lost)."""
        self._core.buffer.interrupt()

    @property
    def initial_state(self) -> Any:
        """A copy of the state the run starts from (``create_run(state=...)``)."""
        return copy_json_value(self._initial_state)

    @property
    def buffer(self) -> ChunkBuffer:
        """The run's chunk buffer (for consumers that drive it directly after `take_nowait`)."""
        return self._core.buffer

    def __aiter__(self) -> RunStream:
        return self

    async def __anext__(self) -> AssistantStreamChunk:
        batch = self._batch
        index = self._index
        if index < len(batch):
            self._index = index + 1
            return batch[index]  # type: ignore[no-any-return]
        if not self._started:
            if self._closed:
                raise StopAsyncIteration
            self._start()
        buffer = self._core.buffer
        new_batch = await buffer.next_batch()
        while not new_batch:
            new_batch = await buffer.next_batch()
        self._batch = new_batch
        self._index = 1
        return new_batch[0]  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Stop the run: signal cancellation, wait briefly, then cancel what is still running."""
        if self._closed:
            return
        self._closed = True
        core = self._core
        if not self._started:
            core.buffer.finish()
            return
        pending = [task for task in core.all_tasks() if not task.done()]
        if not pending:
            return
        core.buffer.cancelled = True  # the run is stopped before it finished
        core.cancel()
        _, still_running = await asyncio.wait(pending, timeout=CANCEL_GRACE_SECONDS)
        for task in still_running:
            task.cancel()
        if still_running:
            _, ignoring = await asyncio.wait(still_running, timeout=CANCEL_WAIT_SECONDS)
            if ignoring:
                logger.warning(
                    "%d task(s) of the run kept running %.1f s after being cancelled (a callback "
                    "that catches CancelledError must re-raise it); no longer waiting for them",
                    len(ignoring),
                    CANCEL_WAIT_SECONDS,
                )

    def __del__(self) -> None:
        if self._closed or not self._started:
            return
        for task in self._core.all_tasks():
            if not task.done():
                loop = self._core.loop
                if loop is not None and not loop.is_closed():
                    loop.call_soon_threadsafe(task.cancel)


def create_run(
    callback: RunCallback,
    *,
    state: Any | None = None,
    coalesce: bool = True,
    high_water: int = DEFAULT_HIGH_WATER,
    max_buffered: int = DEFAULT_MAX_BUFFERED,
) -> RunStream:
    """Run ``callback(controller)`` and stream the chunks it produces.

    ``state`` is the initial run state (what the client already holds). If the callback raises,
    an ``error`` chunk with the exception's message is emitted and the exception is re-raised to
    the consumer. With ``coalesce`` (the default) adjacent text, reasoning or argument deltas
    that the consumer has not read yet are merged into one chunk.

    Backpressure: while more than ``high_water`` characters wait for a slow client, sub-streams
    (``add_stream``) and producers awaiting ``controller.drain()`` wait; past ``max_buffered``
    an ``append_*`` raises `BufferOverflowError` (the run ends with its error frame).
    """
    return RunStream(callback, state, coalesce, high_water=high_water, max_buffered=max_buffered)


# Names assistant-stream 0.0.36 made importable from this module (through its own imports),
# kept here even where this module stops using them (tests/test_compat_surface.py checks).
from .assistant_stream_chunk import ReasoningDeltaChunk as ReasoningDeltaChunk  # noqa: E402
from .assistant_stream_chunk import TextDeltaChunk as TextDeltaChunk  # noqa: E402
from .modules.tool_call import create_tool_call as create_tool_call  # noqa: E402
from .state_manager import StateManager as StateManager  # noqa: E402
