"""The part machine: flat chunks in, the life of each message part out.

Chunks say "here is more text" or "here is a result for call X"; most protocols (and the message
accumulator) need parts that open, grow and close. `PartMachine` keeps that bookkeeping in one
place and tells a `PartListener` when something opens or closes:

- **Segments** (text and reasoning): deltas extend the open segment while its kind and parent
  stay the same; a change of either, ``reasoning-part-start``, or any other part (a tool call, a
  source, a file) closes it, and the next delta opens a new one.
- **Tool calls**: a call opens at ``tool-call-begin`` (a duplicate id is refused); its argument
  text stays open until ``tool-call-args-text-finish``, its result, or `close_all_args` (the
  consumer decides when: before an error, a step finish or the end). The listener learns whether
  any argument text came (``"{}"`` stands in for none). The call itself closes after its result
  or at `close_all`.
- Every part gets the next index (``index``) when it opens: the assistant transport addresses
  parts by it.

The machine writes nothing; the consumer writes frames in its listener methods and on the hot
path (a delta only costs `segment_for` and an append).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PartListener", "PartMachine", "Segment", "ToolCall", "without_continued_inputs"]


class Segment:
    """An open run of text or reasoning deltas."""

    __slots__ = ("id", "index", "kind", "parent_id", "summary", "tag")

    def __init__(self, kind: str, parent_id: str | None, index: int, summary: str | None) -> None:
        #: ``"text"`` or ``"reasoning"``.
        self.kind = kind
        self.parent_id = parent_id
        self.index = index
        #: A reasoning summary from ``reasoning-part-start``.
        self.summary = summary
        #: A protocol id for the segment (set by a listener that needs one).
        self.id: str | None = None
        #: Anything the listener wants to keep with the segment (a frame template, a part).
        self.tag: Any = None


class ToolCall:
    """One tool call: its argument text (open or closed) and whether it was answered."""

    __slots__ = (
        "answered",
        "args_open",
        "closed",
        "has_args",
        "id",
        "index",
        "name",
        "parent_id",
        "pieces",
        "tag",
    )

    def __init__(self, tool_call_id: str, name: str, parent_id: str | None, index: int) -> None:
        self.id = tool_call_id
        self.name = name
        self.parent_id = parent_id
        self.index = index
        self.args_open = True
        #: Whether argument text arrived before the arguments closed (excluding the final piece).
        self.has_args = False
        #: The argument text pieces (kept only when the machine keeps arguments).
        self.pieces: list[str] = []
        self.answered = False
        self.closed = False
        self.tag: Any = None

    @property
    def args_text(self) -> str:
        """The argument text kept so far (``keep_args``)."""
        pieces = self.pieces
        if len(pieces) > 1:
            self.pieces = pieces = ["".join(pieces)]
        return pieces[0] if pieces else ""


class PartListener:
    """What a consumer of the part machine hears (every method does nothing by default)."""

    def segment_opened(self, segment: Segment) -> None:
        """A text or reasoning segment opened (its first delta follows)."""

    def segment_closed(self, segment: Segment) -> None:
        """The open segment closed."""

    def tool_opened(self, tool: ToolCall) -> None:
        """A tool call began."""

    def args_closed(self, tool: ToolCall, last_text: str) -> None:
        """A call's arguments are complete; ``last_text`` is a final piece not yet written
        (from ``tool-call-args-text-finish``), ``""`` otherwise."""

    def tool_closed(self, tool: ToolCall) -> None:
        """A call's part ends (after its result, or at `PartMachine.close_all`)."""


class PartMachine:
    """Part bookkeeping for one message (see the module docs)."""

    __slots__ = ("keep_args", "listener", "next_index", "segment", "tools")

    def __init__(self, listener: PartListener, *, keep_args: bool = False) -> None:
        self.listener = listener
        #: Whether tool calls keep their argument text (``ToolCall.args_text``).
        self.keep_args = keep_args
        self.segment: Segment | None = None
        self.tools: dict[str, ToolCall] = {}
        self.next_index = 0

    # -- segments ----------------------------------------------------------------------------

    def segment_for(self, kind: str, parent_id: str | None) -> Segment:
        """The open segment for a delta of ``kind`` and ``parent_id``, opening one if needed."""
        segment = self.segment
        if segment is not None and segment.kind == kind and segment.parent_id == parent_id:
            return segment
        return self.start_segment(kind, parent_id)

    def start_segment(
        self, kind: str, parent_id: str | None, summary: str | None = None
    ) -> Segment:
        """Close the open segment and open a new one."""
        self.close_segment()
        segment = self.segment = Segment(kind, parent_id, self.next_index, summary)
        self.next_index += 1
        self.listener.segment_opened(segment)
        return segment

    def close_segment(self) -> None:
        """Close the open segment, if any."""
        segment = self.segment
        if segment is not None:
            self.segment = None
            self.listener.segment_closed(segment)

    def standalone(self) -> int:
        """Index for a part that opens and closes at once (a source, a file)."""
        self.close_segment()
        index = self.next_index
        self.next_index += 1
        return index

    # -- tool calls --------------------------------------------------------------------------

    def begin_tool(self, tool_call_id: str, name: str, parent_id: str | None) -> ToolCall | None:
        """Open a tool call; ``None`` (nothing opens) for an id already used."""
        if tool_call_id in self.tools:
            return None
        self.close_segment()
        tool = ToolCall(tool_call_id, name, parent_id, self.next_index)
        self.next_index += 1
        self.tools[tool_call_id] = tool
        self.listener.tool_opened(tool)
        return tool

    def args_delta(self, tool_call_id: str, text: str) -> ToolCall | None:
        """The call whose open arguments ``text`` extends; ``None`` if unknown or closed."""
        tool = self.tools.get(tool_call_id)
        if tool is None or not tool.args_open:
            return None
        if text:
            tool.has_args = True
            if self.keep_args:
                tool.pieces.append(text)
        return tool

    def finish_args(self, tool_call_id: str, last_text: str = "") -> ToolCall | None:
        """Close a call's arguments (with a final piece); ``None`` if unknown or already closed."""
        tool = self.tools.get(tool_call_id)
        if tool is None or not tool.args_open:
            return None
        self._close_args(tool, last_text)
        return tool

    def _close_args(self, tool: ToolCall, last_text: str = "") -> None:
        tool.args_open = False
        if last_text and self.keep_args:
            tool.pieces.append(last_text)
        self.listener.args_closed(tool, last_text)

    def result(self, tool_call_id: str) -> ToolCall | None:
        """A result arrived: close the call's arguments and mark it answered (``None`` if the
        call is unknown). The consumer writes the result, then calls `close_tool`."""
        tool = self.tools.get(tool_call_id)
        if tool is None:
            return None
        if tool.args_open:
            self._close_args(tool)
        tool.answered = True
        return tool

    def close_tool(self, tool: ToolCall) -> None:
        """End a call's part (once)."""
        if not tool.closed:
            tool.closed = True
            self.listener.tool_closed(tool)

    def close_all_args(self) -> None:
        """Close every call's open arguments."""
        for tool in self.tools.values():
            if tool.args_open:
                self._close_args(tool)

    def close_all(self) -> None:
        """Close the open segment, all open arguments and every call's part."""
        self.close_segment()
        for tool in self.tools.values():
            if tool.args_open:
                self._close_args(tool)
            self.close_tool(tool)

    @property
    def unanswered(self) -> bool:
        """Whether a call is still waiting for its result (the client's turn)."""
        return any(not tool.answered for tool in self.tools.values())


#: The chunks that make a tool call's part and its input (not its outcome).
_CALL_INPUT = frozenset({"tool-call-begin", "tool-call-delta", "tool-call-args-text-finish"})


def without_continued_inputs(chunks: list[Any], continued: frozenset[str]) -> list[Any]:
    """``chunks`` without the input of the calls in ``continued``: calls of a message the
    client holds already (an answered call sent again), of which only the outcome is written."""
    if not continued:
        return chunks
    return [
        chunk
        for chunk in chunks
        if not (chunk.type in _CALL_INPUT and chunk.tool_call_id in continued)
    ]
