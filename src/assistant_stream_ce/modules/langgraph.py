"""LangGraph: mirror a graph's streamed messages and updates into the run state.

`append_langgraph_event` takes what ``graph.astream(..., stream_mode=["messages", "updates"])``
yields and writes it into a state (``controller.state`` or a plain dict): message chunks are
merged by id into ``state["messages"]`` as small operations (appended text is sent as
``append-text``, never as the whole message again); ``updates`` copy each node's channels,
except ``messages``, onto the state. Needs ``langchain-core`` (extra ``[langgraph]``).

`stream_graph` streams a compiled graph into a run; its interrupts become approval requests
and `resume_command` turns the client's answers into the ``Command(resume=...)`` that
continues the thread (these need ``langgraph`` too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import orjson
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import AIMessageChunk, add_ai_message_chunks
from langchain_core.messages.tool import ToolMessage

from ..create_run import RunController
from ..state import StateProxy
from .tool_call import ToolCallController, generate_openai_style_tool_call_id

__all__ = [
    "INTERRUPT_TOOL_NAME",
    "PendingInterrupt",
    "append_langgraph_event",
    "get_tool_call_subgraph_state",
    "pending_interrupts",
    "resume_command",
    "stream_graph",
]

SubgraphNode = Union[str, list[str], Callable[[list[str]], bool]]


def _plain(value: Any) -> Any:
    """The plain value behind a state proxy (anything else as it is)."""
    if isinstance(value, StateProxy):
        return value._assistant_stream_value_()
    return value


def _same_message(existing: Any, message: dict[str, Any]) -> bool:
    if not isinstance(existing, dict):
        return False
    message_id = message.get("id")
    if message_id is not None and existing.get("id") == message_id:
        return True
    tool_call_id = message.get("tool_call_id")
    return tool_call_id is not None and existing.get("tool_call_id") == tool_call_id


def _find_message(messages: Any, message: dict[str, Any]) -> int | None:
    for index, existing in enumerate(_plain(messages)):
        if _same_message(existing, message):
            return index
    return None


def _only_grows(current: Any, new: Any) -> bool:
    """True if ``new`` keeps every key and list item of ``current`` (so it can be patched)."""
    if current == new:
        return True
    if isinstance(current, dict) and isinstance(new, dict):
        return all(key in new and _only_grows(value, new[key]) for key, value in current.items())
    if isinstance(current, list) and isinstance(new, list):
        return len(current) <= len(new) and all(
            _only_grows(item, new[index]) for index, item in enumerate(current)
        )
    return True


def _patch(parent: Any, key: Any, new: Any) -> None:
    """Write ``new`` at ``parent[key]``, touching only what changed.

    Through a state proxy each write is one operation: new keys and list items are ``set``,
    a string that grew becomes ``append-text``. Call only where `_only_grows` holds.
    """
    current = _plain(parent[key])
    if current == new:
        return
    if isinstance(current, dict) and isinstance(new, dict):
        target = parent[key]
        for child_key, value in new.items():
            if child_key in current:
                _patch(target, child_key, value)
            else:
                target[child_key] = value
    elif isinstance(current, list) and isinstance(new, list):
        target = parent[key]
        for index, value in enumerate(new):
            if index < len(current):
                _patch(target, index, value)
            else:
                target.append(value)
    else:
        parent[key] = new


def _merge_chunk(existing: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = add_ai_message_chunks(
        AIMessageChunk(**{**existing, "type": "AIMessageChunk"}),
        AIMessageChunk(**{**update, "type": "AIMessageChunk"}),
    ).model_dump()
    merged["type"] = "ai"
    return merged


def append_langgraph_event(state: Any, _namespace: Any, type: str, payload: Any) -> None:
    """Write one LangGraph stream event into ``state``.

    ``type`` is the stream mode: ``"messages"`` (``payload`` is ``(message, metadata)``) or
    ``"updates"`` (``payload`` maps node names to the channels they wrote). Other types are
    ignored. ``_namespace`` is accepted for the subgraph namespace and not used.
    """
    if type == "messages":
        if "messages" not in state:
            state["messages"] = []
        messages = state["messages"]
        message = payload[0].model_dump()
        is_chunk = message.get("type") == "AIMessageChunk"
        if is_chunk:
            message["type"] = "ai"
        index = _find_message(messages, message)
        if index is None:
            messages.append(message)
        elif is_chunk:
            merged = _merge_chunk(_plain(messages[index]), message)
            if _only_grows(_plain(messages[index]), merged):
                _patch(messages, index, merged)
            else:
                messages[index] = merged
        else:
            messages[index] = message
    elif type == "updates":
        for channels in payload.values():
            if not isinstance(channels, dict):
                continue
            for channel, value in channels.items():
                if channel != "messages":
                    state[channel] = value


def _matches(name: str, wanted: str | list[str] | None) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return name == wanted
    return name in wanted


def get_tool_call_subgraph_state(
    controller: RunController,
    namespace: Sequence[str],
    subgraph_node: SubgraphNode,
    default_state: dict[str, Any],
    *,
    artifact_field_name: str | None = None,
    tool_name: str | list[str] | None = None,
) -> Any:
    """The state a subgraph run inside a tool call should write to.

    Walks ``namespace`` (``"node:task_id"`` parts); at the first part whose node is
    ``subgraph_node`` (a name, a list of names or a predicate on ``[name]``), makes sure the
    last message is the `ToolMessage` answering the last tool call (creating it when the last
    message is an AI message calling a matching ``tool_name``) and returns its artifact, or the
    artifact's ``artifact_field_name`` entry, created from ``default_state`` if missing.
    Otherwise returns the run state (set to ``default_state`` if it was None). Writes through
    the returned value stream to the client like any state write.
    """

    def is_subgraph_node(name: str) -> bool:
        if callable(subgraph_node):
            return bool(subgraph_node([name]))
        return _matches(name, subgraph_node)

    if controller.state is None:
        controller.state = default_state
    state = controller.state
    for part in namespace:
        if not is_subgraph_node(part.split(":")[0]):
            continue
        if "messages" not in state:
            return state
        messages = state["messages"]
        if not messages:
            return state
        last = len(messages) - 1
        last_message = messages[last]
        if last_message["type"] == "ai":
            tool_calls = last_message.get("tool_calls") or []
            if not tool_calls:
                return state
            tool_call = tool_calls[len(tool_calls) - 1]
            if not _matches(tool_call["name"], tool_name):
                return state
            messages.append(
                ToolMessage(
                    tool_call_id=tool_call["id"],
                    name=tool_call["name"],
                    artifact={} if artifact_field_name else default_state,
                    content="",
                    additional_kwargs={"streaming": True},
                ).model_dump()
            )
            last += 1
            last_message = messages[last]
        if last_message["type"] == "tool":
            if "artifact" not in last_message or last_message["artifact"] is None:
                last_message["artifact"] = {} if artifact_field_name else default_state
            artifact = last_message["artifact"]
            if not artifact_field_name:
                return artifact
            if artifact_field_name not in artifact:
                artifact[artifact_field_name] = default_state
            return artifact[artifact_field_name]
    return state


# -- a compiled graph, streamed into a run -----------------------------------------------------

_FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content-filter",
    "tool_calls": "tool-calls",
    "tool_use": "tool-calls",
    "function_call": "tool-calls",
}


def _content_pieces(message: BaseMessage) -> list[tuple[str, str]]:
    """("text" | "reasoning", text) pieces of a message's content, in order.

    Reads plain string content and content blocks (``text``; ``reasoning`` with ``reasoning``
    or a ``summary`` list; Anthropic ``thinking``), then ``additional_kwargs.reasoning_content``.
    Tool-use blocks are left to the message's tool call chunks.
    """
    pieces: list[tuple[str, str]] = []
    reasoning = message.additional_kwargs.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        pieces.append(("reasoning", reasoning))
    content = message.content
    blocks: list[Any] = [content] if isinstance(content, str) else list(content)
    for block in blocks:
        if isinstance(block, str):
            pieces.append(("text", block))
        elif isinstance(block, dict):
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                pieces.append(("text", block["text"]))
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                pieces.append(("reasoning", block["thinking"]))
            elif kind == "reasoning":
                if isinstance(block.get("reasoning"), str):
                    pieces.append(("reasoning", block["reasoning"]))
                for item in block.get("summary") or ():
                    if isinstance(item, dict) and isinstance(item.get("text"), str):
                        pieces.append(("reasoning", item["text"]))
    return [(kind, text) for kind, text in pieces if text]


def _json_text(value: Any) -> str:
    """JSON text of tool call arguments (values JSON lacks are written as strings)."""
    return orjson.dumps(value, default=str).decode()


# -- interrupts: approval requests, and the answers that resume the graph ----------------------

#: The tool name of the call standing for an interrupt that names neither a tool call nor an
#: action (``interrupt("Publish?")``).
INTERRUPT_TOOL_NAME = "interrupt"


@dataclass(frozen=True)
class PendingInterrupt:
    """A graph interrupt as the client sees it: a tool call waiting for approval.

    ``for_tool_call``: the interrupt asks about one of the graph's own tool calls (the one
    ``tool_call_id`` names); otherwise the call stands for the interrupt itself, with the id
    ``interrupt_<interrupt id>``. ``value`` is what the graph passed to ``interrupt()``.
    """

    interrupt_id: str
    value: Any
    tool_call_id: str
    tool_name: str
    args: Any
    for_tool_call: bool

    @property
    def approval_id(self) -> str:
        """The approval request's id (``approval_<call id>``, as for provider tools)."""
        return f"approval_{self.tool_call_id}"


def _action(value: Any) -> str | None:
    """The tool or action an interrupt value names (``action`` or ``name``), if any."""
    if not isinstance(value, Mapping):
        return None
    name = value.get("action", value.get("name"))
    return name if isinstance(name, str) and name else None


class _Calls:
    """The tool calls a graph's messages hold (latest last) and which have a `ToolMessage`."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[str, Any]] = {}
        self.answered: set[str] = set()

    def add(self, messages: Any) -> None:
        if isinstance(messages, BaseMessage):
            messages = [messages]
        if not isinstance(messages, (list, tuple)):
            return
        for message in messages:
            if isinstance(message, AIMessage):
                for call in message.tool_calls:
                    call_id = call.get("id")
                    if call_id:
                        self.calls.pop(call_id, None)
                        self.calls[call_id] = (call["name"], call["args"])
            elif isinstance(message, ToolMessage):
                self.answered.add(message.tool_call_id)

    def add_snapshot(self, snapshot: Any) -> None:
        """The calls of a ``StateSnapshot`` and of its interrupted subgraphs' snapshots."""
        values = snapshot.values
        if isinstance(values, Mapping):
            self.add(values.get("messages"))
        for task in snapshot.tasks:
            if hasattr(task.state, "tasks"):  # a subgraph's snapshot (not just its config)
                self.add_snapshot(task.state)

    def _find(self, value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return None
        call_id = value.get("tool_call_id")
        if isinstance(call_id, str) and call_id:
            return call_id
        name = _action(value)
        if name is None:
            return None
        args = value.get("args")
        for known, (call_name, call_args) in reversed(self.calls.items()):
            if known not in self.answered and call_name == name and args in (None, call_args):
                return known
        return None

    def pending(self, interrupt: Any) -> PendingInterrupt:
        """How ``interrupt`` reaches the client (see `stream_graph`)."""
        value = interrupt.value
        action = _action(value)
        call_id = self._find(value)
        if call_id is not None:
            name, args = self.calls.get(call_id) or (action or INTERRUPT_TOOL_NAME, None)
            if args is None:
                args = value.get("args") or {}
            return PendingInterrupt(interrupt.id, value, call_id, name, args, True)
        args = value if isinstance(value, Mapping) else {"value": value}
        if action is not None and isinstance(value.get("args"), Mapping):
            args = value["args"]
        return PendingInterrupt(
            interrupt.id,
            value,
            f"interrupt_{interrupt.id}",
            action or INTERRUPT_TOOL_NAME,
            dict(args),
            False,
        )


async def _snapshot(graph: Any, config: Any) -> Any:
    """The thread's ``StateSnapshot`` with its subgraphs', or None without a checkpointer."""
    try:
        return await graph.aget_state(config or {}, subgraphs=True)
    except ValueError:  # "No checkpointer set"
        return None


def _unique(pending: Iterable[PendingInterrupt]) -> list[PendingInterrupt]:
    seen: set[str] = set()
    out: list[PendingInterrupt] = []
    for item in pending:
        if item.tool_call_id not in seen:
            seen.add(item.tool_call_id)
            out.append(item)
    return out


async def pending_interrupts(graph: Any, config: Any) -> list[PendingInterrupt]:
    """The interrupts the thread ``config`` names is waiting on, as the client saw them.

    Empty for a graph without a checkpointer (nothing to resume) or a thread not interrupted.
    """
    return _pending_in(await _snapshot(graph, config), _Calls())


def _pending_in(snapshot: Any, calls: _Calls) -> list[PendingInterrupt]:
    """A snapshot's interrupts (``calls`` gets its tool calls)."""
    if snapshot is None:
        return []
    calls.add_snapshot(snapshot)
    return _unique(calls.pending(interrupt) for interrupt in snapshot.interrupts)


def _resume_value(answer: Any, ag_ui_resume: Any) -> Any:
    """What ``interrupt()`` returns for the client's answer.

    An approval decision is ``{"approved": bool, "reason"?: str}`` (plus the fields of an
    AG-UI resume payload); a tool result (assistant-ui, OpenAI clients, ai 5) is the result.
    """
    if answer.kind != "approval":
        return answer.result
    value: dict[str, Any] = {}
    for entry in ag_ui_resume if isinstance(ag_ui_resume, list) else ():
        payload = entry.get("payload") if isinstance(entry, Mapping) else None
        if entry.get("interruptId") == answer.approval_id and isinstance(payload, Mapping):
            value.update(payload)
    value["approved"] = bool(answer.approved)
    if answer.reason:
        value["reason"] = answer.reason
    return value


async def resume_command(graph: Any, request: Any, config: Any) -> Any:
    """The ``Command(resume={interrupt id: value})`` that answers the thread's interrupts.

    ``request`` is a `~assistant_stream_ce.requests.ChatRequest` (or its ``answers``): each
    answer to a call standing for a pending interrupt (see `stream_graph`) becomes that
    interrupt's resume value: ``{"approved": bool, "reason"?}`` for an approval decision,
    the result itself for a tool result. None when the request answers no pending interrupt
    (then it is a new turn).
    """
    from langgraph.types import Command

    answers = getattr(request, "answers", request)
    extra = getattr(request, "extra", None) or {}
    by_call = {item.tool_call_id: item for item in await pending_interrupts(graph, config)}
    resume: dict[str, Any] = {}
    for answer in answers:
        item = by_call.get(answer.tool_call_id)
        if item is not None:
            resume[item.interrupt_id] = _resume_value(answer, extra.get("resume"))
    return Command(resume=resume) if resume else None


def _approved(value: Any) -> bool | None:
    """The decision a resume value carries: ``{"approved": bool}`` or a bool; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("approved"), bool):
        return bool(value["approved"])
    return None


async def _emit_call(
    controller: RunController, call_id: str, name: str, args: Any
) -> ToolCallController:
    """Send a whole tool call (a call the client holds from an earlier run, sent again)."""
    tool = await controller.add_tool_call(name, call_id)
    tool.append_args_text(_json_text(args))
    tool.close()
    return tool


class _GraphStream:
    """Maps one graph run's ``(namespace, mode, payload)`` events onto a run controller."""

    def __init__(self, controller: RunController) -> None:
        self.controller = controller
        self.tools: dict[str, ToolCallController] = {}
        self.tool_ids: dict[tuple[Any, Any], str] = {}  # (message id, chunk index) → call id
        self.streamed: set[str] = set()  # ids of AI messages already sent
        self.message: tuple[Any, ...] | None = None  # (namespace, message id) being streamed
        self.message_tools: list[ToolCallController] = []
        self.finish_reason: str | None = None
        self.usage = [0, 0]
        self.calls = _Calls()  # the tool calls the nodes wrote, for matching interrupts
        self.interrupts: dict[str, Any] = {}  # interrupt id → Interrupt, in order
        self.denied: set[str] = set()  # calls the client denied (their results are not sent)

    def text_only(self, namespace: tuple[str, ...], payload: Any) -> bool:
        """The per-token fast path: a plain text chunk of the message being streamed.

        Returns False (nothing done) for anything else, which then goes through `handle`.
        """
        message, metadata = payload
        if (
            message.__class__ is not AIMessageChunk
            or self.message is None
            or self.message[1] != message.id
            or self.message[0] != namespace
            or message.tool_call_chunks
            or message.usage_metadata
            or message.additional_kwargs
            or message.chunk_position is not None
        ):
            return False
        content = message.content
        if content.__class__ is not str:
            return False
        response_metadata = message.response_metadata
        if response_metadata and (
            "finish_reason" in response_metadata or "stop_reason" in response_metadata
        ):
            return False
        tags = metadata.get("tags") if metadata else None
        if tags and ("nostream" in tags or "langsmith:nostream" in tags):
            return True
        if content:
            self.controller.append_text(content)
        return True

    async def handle(self, namespace: tuple[str, ...], mode: str, payload: Any) -> None:
        if mode == "messages":
            message, metadata = payload
            tags = (metadata or {}).get("tags") or ()
            if "nostream" in tags or "langsmith:nostream" in tags:
                return
            if isinstance(message, AIMessage):
                await self._ai_message(namespace, message)
            elif isinstance(message, ToolMessage):
                await self._tool_message(message)
        elif mode == "updates":
            self.end_message()  # a node finished: its model call (if any) is over
            for node, channels in payload.items():
                if node == "__interrupt__":
                    for interrupt in channels:  # a subgraph's come again at the root: once
                        self.interrupts.setdefault(interrupt.id, interrupt)
                elif isinstance(channels, Mapping):
                    self.calls.add(channels.get("messages"))
        elif mode == "custom":
            self.controller.add_data(payload)

    async def _ai_message(self, namespace: tuple[str, ...], message: AIMessage) -> None:
        message_id = message.id
        is_chunk = isinstance(message, AIMessageChunk)
        if not is_chunk and message_id is not None and message_id in self.streamed:
            return  # a node returned a message whose tokens were already streamed
        key = (namespace, message_id)
        if self.message != key:
            self.end_message()
            self.message = key
            if message_id is not None:
                self.streamed.add(message_id)
            self.controller.add_step_start(
                message_id or "msg_" + generate_openai_style_tool_call_id()[5:]
            )
        controller = self.controller
        for kind, text in _content_pieces(message):
            if kind == "text":
                controller.append_text(text)
            else:
                controller.append_reasoning(text)
        if isinstance(message, AIMessageChunk):
            for chunk in message.tool_call_chunks:
                await self._tool_call_chunk(message_id, chunk)
        else:
            for call in message.tool_calls:
                tool = await self._begin_tool(call.get("id"), call["name"])
                tool.append_args_text(_json_text(call["args"]))
        usage = message.usage_metadata
        if usage:
            self.usage[0] += usage.get("input_tokens", 0)
            self.usage[1] += usage.get("output_tokens", 0)
        metadata = message.response_metadata
        reason = metadata.get("finish_reason") or metadata.get("stop_reason")
        if isinstance(reason, str):
            self.finish_reason = _FINISH_REASONS.get(reason, "other")
        if not is_chunk or getattr(message, "chunk_position", None) == "last":
            self.end_message()

    async def _begin_tool(self, tool_call_id: str | None, name: str | None) -> ToolCallController:
        tool = await self.controller.add_tool_call(name or "", tool_call_id)
        self.tools[tool.tool_call_id] = tool
        self.message_tools.append(tool)
        return tool

    async def _tool_call_chunk(self, message_id: Any, chunk: Any) -> None:
        index = chunk.get("index")
        key = (message_id, index if index is not None else chunk.get("id"))
        tool_call_id = self.tool_ids.get(key)
        if tool_call_id is None:
            tool = await self._begin_tool(chunk.get("id"), chunk.get("name"))
            self.tool_ids[key] = tool.tool_call_id
        else:
            tool = self.tools[tool_call_id]
        tool.append_args_text(chunk.get("args") or "")

    async def _tool_message(self, message: ToolMessage) -> None:
        call_id = message.tool_call_id
        if call_id in self.denied:
            return  # the client shows the denial; the graph's note on it is for the model
        result = message.content
        tool = self.tools.get(call_id)
        if tool is None and call_id in self.calls.calls:  # a call of an earlier run (resumed)
            name, args = self.calls.calls[call_id]
            tool = await _emit_call(self.controller, call_id, name, args)
            self.tools[call_id] = tool
        if tool is None:
            self.controller.add_tool_result(call_id, result)
            return
        tool.set_response(result, artifact=message.artifact, is_error=message.status == "error")

    def end_message(self) -> None:
        """Close the streamed message: its tool calls' arguments, then its step."""
        if self.message is None:
            return
        for tool in self.message_tools:
            tool.close()
        reason = self.finish_reason or ("tool-calls" if self.message_tools else "stop")
        self.controller.add_step_finish(reason, self.usage[0], self.usage[1])
        self.message = None
        self.message_tools = []
        self.finish_reason = None
        self.usage = [0, 0]


async def stream_graph(
    controller: RunController,
    graph: Any,
    input: Any,
    config: Any | None = None,
    *,
    subgraphs: bool = True,
    **kwargs: Any,
) -> None:
    """Stream a compiled LangGraph graph's run into ``controller``, in any protocol.

    Runs ``graph.astream(input, config, stream_mode=["messages", "updates", "custom"],
    subgraphs=subgraphs, **kwargs)`` and maps it: AI message chunks become text and reasoning
    (string content, content blocks, ``reasoning_content``), tool call chunks become tool calls
    with streamed arguments, ``ToolMessage``s their results, ``custom`` events data, and each
    model call a step (with its finish reason and token usage). Calls tagged ``nostream`` are
    left out. When the run is cancelled (the client went away) the graph run is closed.

    Interrupts end the run with an approval request each (see `PendingInterrupt`): for the
    graph's tool call the value names (``{"tool_call_id": ...}``, or ``{"action" | "name":
    tool name, "args"?: ...}`` matching an unanswered call), else for a call standing for the
    interrupt. ``input`` may be `resume_command`'s ``Command``: the calls it answers are sent
    again first (approved: the call, so its result attaches; denied: ``tool-output-denied``,
    and the graph's own tool message for it is not sent).
    """
    mapper = _GraphStream(controller)
    from langgraph.types import Command

    if isinstance(input, Command) and input.resume is not None:
        await _replay_answers(controller, mapper, graph, config, input.resume)
    stream = graph.astream(
        input,
        config,
        stream_mode=["messages", "updates", "custom"],
        subgraphs=subgraphs,
        **kwargs,
    )
    try:
        async for event in stream:
            if subgraphs:
                namespace, mode, payload = event
            else:
                (mode, payload), namespace = event, ()
            if mode != "messages" or not mapper.text_only(namespace, payload):
                await mapper.handle(tuple(namespace), mode, payload)
            if controller.is_cancelled:
                break
        mapper.end_message()
    finally:
        await stream.aclose()
    if mapper.interrupts and not controller.is_cancelled:
        await _request_approvals(controller, mapper, graph, config)


async def _replay_answers(
    controller: RunController, mapper: _GraphStream, graph: Any, config: Any, resume: Any
) -> None:
    """Send again the calls a resume answers, with the client's decision."""
    pending = _pending_in(await _snapshot(graph, config), mapper.calls)
    by_id = {item.interrupt_id: item for item in pending}
    if isinstance(resume, Mapping) and resume and all(key in by_id for key in resume):
        answered = [(by_id[key], value) for key, value in resume.items()]
    else:  # one value for every pending interrupt
        answered = [(item, resume) for item in pending]
    for item, value in answered:
        if _approved(value) is False:
            reason = value.get("reason") if isinstance(value, Mapping) else None
            controller.add_tool_output_denied(
                item.tool_call_id, reason if isinstance(reason, str) else None
            )
            mapper.denied.add(item.tool_call_id)
            continue
        tool = await _emit_call(controller, item.tool_call_id, item.tool_name, item.args)
        mapper.tools[item.tool_call_id] = tool
        if not item.for_tool_call:
            tool.set_response(value)


async def _request_approvals(
    controller: RunController, mapper: _GraphStream, graph: Any, config: Any
) -> None:
    """An approval request for each interrupt the run ended with."""
    calls = mapper.calls
    snapshot = await _snapshot(graph, config)
    if snapshot is not None:
        calls.add_snapshot(snapshot)  # calls made before this run, or in hidden subgraphs
    for item in _unique(calls.pending(i) for i in mapper.interrupts.values()):
        if item.tool_call_id not in mapper.tools:
            mapper.tools[item.tool_call_id] = await _emit_call(
                controller, item.tool_call_id, item.tool_name, item.args
            )
        controller.add_tool_approval_request(item.tool_call_id, item.approval_id)
