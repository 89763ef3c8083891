"""The multi-step tool loop behind `run_provider`: model step, server tools, model step, …

Each model step streams into the run as usual (its own ``step-start`` / ``step-finish`` and
usage). A recording controller notes the step's text and tool calls on the way. Server tools
then run (concurrently) and their results stream as tool results between the steps; an
exception becomes an error result the model sees on the next step. The loop stops when the
model calls no tool, when a call is left for the client (a client tool, or a tool waiting for
approval), or after ``max_steps`` model steps.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from ..assistant_stream_chunk import denial_text
from ..create_run import RunController
from ..errors import error_message
from ..modules.tool_call import ToolCallController
from ..redaction import redact
from ._messages import find_call
from .tools import Tool

__all__ = ["Answer", "StepFunction", "apply_answers", "execute_tool", "run_tool_loop"]

logger = logging.getLogger("assistant_stream_ce.providers")

#: One model step: stream an answer to ``messages`` into the controller, offering ``tools``.
StepFunction = Callable[[RunController, list[dict[str, Any]]], Awaitable[None]]


class _RecordedCall(ToolCallController):
    """A tool call of the current step: its argument text and (if the model's side answered
    it, as the offline model does) its result."""

    __slots__ = ("answered", "args", "is_error", "result")

    def __init__(self, call: ToolCallController) -> None:
        super().__init__(call._core, call.tool_name, call.tool_call_id, call.parent_id)
        self.args: list[str] = []
        self.answered = False
        self.result: Any = None
        self.is_error = False

    def append_args_text(self, args_text_delta: str) -> None:
        if args_text_delta:
            self.args.append(args_text_delta)
        super().append_args_text(args_text_delta)

    def set_response(
        self, result: Any, *, artifact: Any | None = None, is_error: bool = False
    ) -> None:
        self.answered, self.result, self.is_error = True, result, is_error
        super().set_response(result, artifact=artifact, is_error=is_error)

    @property
    def arguments_text(self) -> str:
        return "".join(self.args) or "{}"


class _StepRecorder(RunController):
    """Forwards everything to the run and notes the step's text (before and after its first
    tool call) and tool calls."""

    __slots__ = ("calls", "tail", "texts")

    def __init__(self, controller: RunController) -> None:
        super().__init__(controller._core, controller._parent_id)
        self.calls: list[_RecordedCall] = []
        self.texts: list[str] = []
        self.tail: list[str] = []  # text after a call (a provider that answered it itself)

    def append_text(self, text_delta: str) -> None:
        if text_delta:
            (self.tail if self.calls else self.texts).append(text_delta)
        super().append_text(text_delta)

    async def add_tool_call(
        self, tool_name: str, tool_call_id: str | None = None
    ) -> ToolCallController:
        recorded = _RecordedCall(await super().add_tool_call(tool_name, tool_call_id))
        self.calls.append(recorded)
        return recorded


def _content(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, default=str)


def _tool_message(call_id: str, result: Any, is_error: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "tool", "tool_call_id": call_id, "content": _content(result)}
    if is_error:
        message["is_error"] = True
    return message


async def _ready(message: dict[str, Any]) -> dict[str, Any]:
    return message


async def execute_tool(
    tool: Tool,
    call_id: str,
    arguments_text: str,
    emit: ToolCallController | None,
    secrets: Sequence[str | None] = (),
) -> dict[str, Any]:
    """Run ``tool`` with the JSON ``arguments_text``; stream its result through ``emit``.

    Returns the ``tool`` message for the model. Arguments that are not JSON or do not match
    the tool's schema (`Tool.check_arguments`), and exceptions, become error results (the
    exception is logged; the model sees its type and message, with ``secrets`` and anything
    shaped like a credential redacted).
    """
    is_error = False
    try:
        arguments = json.loads(arguments_text) if arguments_text.strip() else {}
        if not isinstance(arguments, dict):
            raise ValueError("the arguments must be a JSON object")
        problems = tool.check_arguments(arguments)
        if problems:
            raise ValueError("; ".join(problems))
    except ValueError as exc:
        result: Any = f"Error: invalid arguments for {tool.name}: {exc}"
        is_error = True
    else:
        try:
            result = await tool.run(arguments)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("tool %r raised", tool.name, exc_info=True)
            result = redact(f"Error: {type(exc).__name__}: {error_message(exc)}", secrets)
            is_error = True
    if emit is not None:
        emit.set_response(result, is_error=is_error)
    return _tool_message(call_id, result, is_error)


class Answer(Protocol):
    """The client's answer to a pending call (`assistant_stream_ce.requests.ToolAnswer`)."""

    # read-only members, so that models with narrower field types (Literal) match
    @property
    def tool_call_id(self) -> str: ...
    @property
    def tool_name(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def result(self) -> Any: ...
    @property
    def is_error(self) -> bool: ...
    @property
    def approved(self) -> bool | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def arguments(self) -> Any: ...


def _decision(answer: Answer, tool: Tool | None) -> tuple[bool | None, str | None]:
    """(approved, reason) for an approval answer, (None, None) for a plain result.

    assistant-ui answers an approval with a tool result ``{"approved": bool, "reason"?}``
    for a tool that needs approval; the UI message stream sends approval answers proper.
    """
    if answer.kind == "approval":
        return bool(answer.approved), answer.reason
    result = answer.result
    if (
        tool is not None
        and tool.needs_approval
        and isinstance(result, Mapping)
        and isinstance(result.get("approved"), bool)
    ):
        reason = result.get("reason")
        return result["approved"], reason if isinstance(reason, str) else None
    return None, None


def _without_call(history: list[dict[str, Any]], call_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in history:
        calls = message.get("tool_calls")
        if calls and any(call.get("id") == call_id for call in calls):
            kept = [call for call in calls if call.get("id") != call_id]
            message = {k: v for k, v in message.items() if k != "tool_calls"}
            if kept:
                message["tool_calls"] = kept
            elif not message.get("content"):
                continue
        out.append(message)
    return out


async def _restream(controller: RunController, name: str, call_id: str, arguments: str) -> Any:
    """Stream a call of an earlier run again, so its outcome has a call to attach to in
    protocols that only show results of calls in the same response."""
    emit = await controller.add_tool_call(name, call_id)
    emit.append_args_text(arguments)
    emit.close()
    return emit


async def _deny(
    controller: RunController, name: str, call_id: str, arguments: str, reason: str | None
) -> dict[str, Any]:
    """Report a denied call to the client (its protocol's own form) and return the ``tool``
    message telling the model."""
    await _restream(controller, name, call_id, arguments)
    controller.add_tool_output_denied(call_id, reason)
    return _tool_message(call_id, denial_text(reason), False)


def _answers(message: Mapping[str, Any], call_id: str) -> bool:
    return message.get("role") == "tool" and message.get("tool_call_id") == call_id


async def apply_answers(
    controller: RunController,
    history: list[dict[str, Any]],
    tools: Mapping[str, Tool],
    answers: Sequence[Answer],
    secrets: Sequence[str | None] = (),
) -> list[dict[str, Any]]:
    """Fold the client's answers into ``history``.

    An approved call runs now (the call and its result are streamed again, so every
    protocol shows the outcome); a denied one is reported to the model as denied and to the
    client in its protocol's form (the call streamed again, then ``tool-output-denied``: UI
    message stream 6+'s own state, elsewhere an error result of the call); a plain result
    ``history`` lacks is added as the call's ``tool`` message. Answers ``history`` lacks go at
    its end; an approval ``history`` already holds as the call's result (``{"approved":
    true}``) is replaced by the outcome in place.
    """
    answered = {m.get("tool_call_id") for m in history if m.get("role") == "tool"}
    applied: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for answer in answers:
        call_id = answer.tool_call_id
        known = find_call(history, call_id) or {}
        name = answer.tool_name or known.get("name")
        if not isinstance(name, str) or not name:
            logger.warning("answer for tool call %r without a tool name ignored", call_id)
            continue
        tool = tools.get(name)
        arguments = known.get("arguments")
        if not isinstance(arguments, str):
            arguments = "{}" if answer.arguments is None else _content(answer.arguments)
        approved, reason = _decision(answer, tool)
        if call_id in answered:
            # The history holds the client's answer as the call's result: an approval
            # (assistant-ui, OpenAI clients: {"approved": true}) is replaced by the outcome.
            if approved is None:
                continue
            if approved and tool is not None and tool.function is not None:
                emit = await _restream(controller, name, call_id, arguments)
                outcome = await execute_tool(tool, call_id, arguments, emit, secrets)
            else:
                outcome = await _deny(controller, name, call_id, arguments, reason)
            history = [outcome if _answers(m, call_id) else m for m in history]
            continue
        if approved and (tool is None or tool.function is None):
            logger.warning("approved call %r of %r: no server function to run", call_id, name)
            continue
        if approved:
            assert tool is not None
            emit = await _restream(controller, name, call_id, arguments)
            message = await execute_tool(tool, call_id, arguments, emit, secrets)
        elif approved is False:
            message = await _deny(controller, name, call_id, arguments, reason)
        else:
            message = _tool_message(call_id, answer.result, answer.is_error)
        function = {"name": name, "arguments": arguments}
        applied.append(({"id": call_id, "type": "function", "function": function}, message))
        answered.add(call_id)
    if not applied:
        return history
    ids = {call["id"] for call, _ in applied}
    last = history[-1] if history else {}
    if (
        last.get("role") == "assistant"
        and {c.get("id") for c in last.get("tool_calls") or ()} == ids
    ):
        return [*history, *(message for _, message in applied)]  # the calls are already last
    turn = {"role": "assistant", "content": None, "tool_calls": [call for call, _ in applied]}
    for call_id in ids:
        history = _without_call(history, call_id)
    return [*history, turn, *(message for _, message in applied)]


async def run_tool_loop(
    controller: RunController,
    messages: Sequence[Mapping[str, Any]],
    *,
    step: StepFunction,
    tools: Mapping[str, Tool],
    max_steps: int,
    secrets: Sequence[str | None] = (),
    answers: Sequence[Answer] = (),
) -> list[dict[str, Any]]:
    """Run model steps and server tools until the model is done; return the history.

    ``answers`` (the client's answers to the calls the previous run left open) are applied
    first (see `apply_answers`). A call of a tool that needs approval ends the run with a
    ``tool-approval-request``. The returned history is ``messages`` plus the answers and every
    completed step's assistant message and tool results, the final answer included (a step
    that ends the run for the client is not included).
    """
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    history = [dict(message) for message in messages]
    if answers:
        history = await apply_answers(controller, history, tools, answers, secrets)
    for _ in range(max_steps):
        recorder = _StepRecorder(controller)
        await step(recorder, history)
        if controller.is_cancelled:
            return history
        if not recorder.calls:  # the final answer
            if recorder.texts:
                history.append({"role": "assistant", "content": "".join(recorder.texts)})
            return history
        answered_itself = all(call.answered for call in recorder.calls)
        text = recorder.texts if answered_itself else [*recorder.texts, *recorder.tail]
        turn: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(text) or None,
            "tool_calls": [
                {
                    "id": call.tool_call_id,
                    "type": "function",
                    "function": {"name": call.tool_name, "arguments": call.arguments_text},
                }
                for call in recorder.calls
            ],
        }
        left_for_client = False
        jobs: list[Awaitable[dict[str, Any] | None]] = []
        approvals: list[str] = []
        for call in recorder.calls:
            tool = tools.get(call.tool_name)
            if call.answered:
                jobs.append(_ready(_tool_message(call.tool_call_id, call.result, call.is_error)))
            elif tool is not None and tool.needs_approval:
                left_for_client = True
                approvals.append(call.tool_call_id)
            elif tool is None or tool.function is None:
                left_for_client = True
            else:
                jobs.append(
                    execute_tool(tool, call.tool_call_id, call.arguments_text, call, secrets)
                )
        ran = len([call for call in recorder.calls if not call.answered])
        results = [message for message in await asyncio.gather(*jobs) if message is not None]
        for call_id in approvals:
            controller.add_tool_approval_request(call_id, f"approval_{call_id}")
        if left_for_client or controller.is_cancelled:
            return history
        history.append(turn)
        history.extend(results)
        if not ran:  # the provider answered its own calls, and went on within the step
            if recorder.tail:
                history.append({"role": "assistant", "content": "".join(recorder.tail)})
            return history
    return history
