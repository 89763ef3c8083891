"""AI SDK v4 (npm ``ai``, pinned in node/package.json) and our decoders read the data stream alike.

For every recorded data-stream body of the Node interop test (ours and those written by
``assistant-stream==0.0.36``) we parse the bytes with v4's ``processDataStream`` (every part, in
order) and with our ``DataStreamDecoder`` + ``accumulate``, and compare what both sides carry.
``decode_ai.mjs`` also runs v4's ``useChat`` code path (``callChatApi``) on the same bytes; the
tests pin down what that message holds, including where v4 reads our stream differently.

v4 knows only the codes ``0 2 3 8 9 a b c d e f g h i j k``: bodies with assistant-ui's
``aui-*`` frames (state, parent ids, reasoning summaries) are rejected, which is asserted; each
such run is also recorded again without state, parent ids and summaries, and that variant must
agree. Differences found (also in docs/round-trip.md, "AI SDK v4 (`ai` npm) reading the data
stream"):

* usage: we write ``inputTokens``/``outputTokens``; v4 reads only ``promptTokens``/
  ``completionTokens``, so its ``e``/``d`` parts carry no usage and ``useChat`` reports NaN;
* the args-finish frame ``c:{…,"isFinal":true}`` is read as a plain delta (``""``, or ``"{}"``
  for a call without arguments): the argument text agrees, but ``useChat`` only moves a call to
  ``call`` on a ``9`` frame, which only the ``ai-sdk-v4`` profile writes, so a call without a
  result stays ``partial-call`` and ``onToolCall`` never fires;
* ``a`` frames' ``artifact``/``isError`` are not in v4's types but pass through untouched;
* ``useChat`` throws at the first ``3`` frame (we record the error and go on), and keeps one text
  part per step (text after a tool call extends the text before it);
* argument text sent after the call's arguments were closed (the predecessor streams it after
  the step's ``e``) is dropped by us and npm assistant-stream, appended by v4;
* ``d`` states the finish reason ignoring errors (``tool-calls`` while a call waits); our
  message reports ``error`` once an error was seen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from node_client import decode_with_ai_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decoding"))

from _decoding_cases import OUR_RUNS, decode_pieces, weather_run
from test_split_anywhere import recorded

from _util import encode
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.accumulator import Message, parse_partial_json
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder, DataStreamEncoder

pytestmark = pytest.mark.interop

#: Recorded bodies with aui-* frames (rejected by v4; their runs are re-recorded without them).
WITH_AUI = ["ours-weather", "ours-rich", "assistant-stream-0.0.36-weather"]
#: Recorded bodies v4 reads as they are.
WITHOUT_AUI = ["ours-failing", "assistant-stream-0.0.36-rich"]
#: What v4 reads: the plain recordings and the aui-free variants of the others.
V4_READABLE = [*WITHOUT_AUI, *(f"{name} (no aui)" for name in WITH_AUI)]

NO_RESULT = "<no result>"

#: Argument text the predecessor writes after the step finish that closed the call's arguments
#: (it does not close them at ``e``): our decoder, like npm assistant-stream, drops it; v4 has no
#: notion of closed arguments and appends it. Per body: tool call id -> the late text.
LATE_ARGS = {"assistant-stream-0.0.36-weather (no aui)": {"call_1": '"Paris"}'}}


# -- streams -----------------------------------------------------------------------------------


def aui_lines(body: bytes) -> list[bytes]:
    return [line for line in body.split(b"\n") if line.startswith(b"aui-")]


async def without_aui_chunks(stream: Any) -> AsyncIterator[Any]:
    """A run's chunks minus what only aui-* frames carry: state, reasoning summaries
    (``reasoning-part-start``) and parent ids. Works on both libraries' chunks."""
    async for chunk in stream:
        if chunk.type in ("update-state", "reasoning-part-start"):
            continue
        if getattr(chunk, "parent_id", None) is not None:
            chunk = dataclasses.replace(chunk, parent_id=None)
        yield chunk


@functools.cache
def v4_bodies() -> dict[str, bytes]:
    """Every body v4 should read: the plain recordings, and the aui-heavy runs re-recorded
    (by the same encoder) without state, parent ids and summaries."""

    bodies = {name: recorded()[("data-stream", name)] for name in WITHOUT_AUI}

    async def record() -> dict[str, bytes]:
        for name in ("weather", "rich"):
            stream = without_aui_chunks(create_run(OUR_RUNS[name], state={}))
            bodies[f"ours-{name} (no aui)"] = await encode(DataStreamEncoder(), stream)
        import assistant_stream
        from assistant_stream.serialization import DataStreamEncoder as OldDataStream

        old = without_aui_chunks(assistant_stream.create_run(weather_run, state={}))
        text = "".join([part async for part in OldDataStream().encode_stream(old)])
        bodies["assistant-stream-0.0.36-weather (no aui)"] = text.encode()
        return bodies

    return asyncio.run(record())


def ours(body: bytes) -> Message:
    return decode_pieces(DataStreamDecoder(), [body])


# -- the one place where both sides' shapes are normalised --------------------------------------


def ours_view(message: Message) -> dict[str, Any]:
    """Our message as {parts, data, annotations, errors, steps} (usage is compared apart)."""
    parts: list[dict[str, Any]] = []
    for part in message.to_dict()["parts"]:
        kind = part["type"]
        if kind in ("text", "reasoning"):
            parts.append({"type": kind, "text": part["text"]})
        elif kind == "tool-call":
            parts.append(
                {
                    "type": "tool-call",
                    "id": part["tool_call_id"],
                    "name": part["tool_name"],
                    "argsText": part["args_text"],
                    "result": part["result"] if part["has_result"] else NO_RESULT,
                    "isError": part["is_error"],
                    "artifact": part["artifact"],
                }
            )
        elif kind == "source":
            parts.append(
                {
                    "type": "source",
                    "sourceType": part["source_type"],
                    "id": part["id"],
                    "url": part["url"],
                    "title": part["title"],
                }
            )
        else:
            parts.append({"type": "file", "data": part["data"], "mimeType": part["mime_type"]})
    steps = [
        {
            "messageId": step.message_id,
            "finishReason": step.finish_reason,
            "isContinued": step.is_continued,
            "finished": step.finished,
        }
        for step in message.steps
    ]
    return {
        "parts": parts,
        "data": list(message.data),
        "annotations": list(message.annotations),
        "errors": list(message.errors),
        "steps": steps,
    }


def v4_view(v4_parts: list[dict[str, Any]]) -> dict[str, Any]:
    """v4's parsed parts folded with our grouping rule (adjacent text or reasoning deltas form
    one part until another part starts; steps, data and errors do not split them), so that the
    comparison checks what v4 parsed, not how its ``useChat`` groups it (see `test_use_chat`).

    ``a`` extras (``artifact``, ``isError``) are read from the raw value v4 passes through.
    """
    parts: list[dict[str, Any]] = []
    calls: dict[str, dict[str, Any]] = {}
    tail: dict[str, Any] | None = None
    view: dict[str, Any] = {"data": [], "annotations": [], "errors": [], "steps": []}
    steps = view["steps"]
    for v4_part in v4_parts:
        kind, value = v4_part["type"], v4_part["value"]
        if kind in ("text", "reasoning"):
            if value and tail is not None and tail["type"] == kind:
                tail["text"] += value
            elif value:
                tail = {"type": kind, "text": value}
                parts.append(tail)
            continue
        if kind in ("tool_call_streaming_start", "tool_call") and value["toolCallId"] in calls:
            continue  # a `9` after `b`: closes the arguments (we never write one)
        if kind in ("tool_call_streaming_start", "tool_call"):
            call = {
                "type": "tool-call",
                "id": value["toolCallId"],
                "name": value["toolName"],
                "argsText": "" if kind != "tool_call" else json.dumps(value["args"]),
                "result": NO_RESULT,
                "isError": False,
                "artifact": None,
            }
            calls[call["id"]] = call
            parts.append(call)
            tail = None
        elif kind == "tool_call_delta":
            calls[value["toolCallId"]]["argsText"] += value["argsTextDelta"]
        elif kind == "tool_result":
            call = calls[value["toolCallId"]]
            call["result"] = value["result"]
            call["isError"] = value.get("isError", False)
            call["artifact"] = value.get("artifact")
        elif kind == "source":
            parts.append(
                {
                    "type": "source",
                    "sourceType": value["sourceType"],
                    "id": value["id"],
                    "url": value["url"],
                    "title": value.get("title"),
                }
            )
            tail = None
        elif kind == "file":
            parts.append({"type": "file", "data": value["data"], "mimeType": value["mimeType"]})
            tail = None
        elif kind == "data":
            view["data"].extend(value)
        elif kind == "message_annotations":
            view["annotations"].extend(value)
        elif kind == "error":
            view["errors"].append(value)
        elif kind == "start_step":
            steps.append(
                {
                    "messageId": value["messageId"],
                    "finishReason": None,
                    "isContinued": False,
                    "finished": False,
                }
            )
        elif kind == "finish_step":
            if not steps or steps[-1]["finished"]:
                steps.append({"messageId": None})
            steps[-1].update(
                finishReason=value["finishReason"],
                isContinued=value["isContinued"],
                finished=True,
            )
        # finish_message is compared apart; i/j (redacted reasoning, signatures) are not
        # written by either encoder and our decoder skips them.
    view["parts"] = parts
    return view


def v4_usages(v4_parts: list[dict[str, Any]]) -> list[Any]:
    """The usage v4 parsed from each ``e`` and then ``d`` part (None where it found none)."""
    usages = []
    for part in v4_parts:
        if part["type"] in ("finish_step", "finish_message"):
            usage = part["value"].get("usage")
            usages.append(
                None if usage is None else (usage["promptTokens"], usage["completionTokens"])
            )
    return usages


def ours_usages(message: Message, body: bytes) -> list[Any]:
    """Our per-step usage, then the message's total if the body has a ``d`` frame."""
    usages = [(step.input_tokens, step.output_tokens) for step in message.steps if step.finished]
    if b"\nd:" in b"\n" + body:
        usages.append((message.usage["input_tokens"], message.usage["output_tokens"]))
    return usages


# -- bodies with aui-* frames -------------------------------------------------------------------


@pytest.mark.parametrize("producer", WITH_AUI)
def test_ai_sdk_v4_rejects_aui_frames(producer: str) -> None:
    """AI SDK v4 rejects assistant-ui's ``aui-*`` frames (state, parent ids, reasoning
    summaries): ``processDataStream`` (and so ``useChat``) throws ``Invalid code`` at the first
    one. Fed one line at a time, everything before that line is delivered, and agrees with
    our decoder on the same prefix."""
    body = recorded()[("data-stream", producer)]
    first = aui_lines(body)[0]
    code = first.split(b":", 1)[0].decode()
    result = decode_with_ai_sdk(body, chunk_size=1)
    expected_error = f"Failed to parse stream string. Invalid code {code}."
    assert not result["ok"]
    assert result["error"] == expected_error
    assert not result["chat"]["ok"]
    assert result["chat"]["error"] == expected_error
    prefix = body[: body.index(first)]
    assert v4_view(result["parts"]) == ours_view(ours(prefix))


# -- bodies v4 reads ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", V4_READABLE)
def test_ai_sdk_v4_and_our_decoder_agree(name: str) -> None:
    body = v4_bodies()[name]
    assert not aui_lines(body)
    result = decode_with_ai_sdk(body)
    assert result["ok"], result
    assert decode_with_ai_sdk(body, chunk_size=1)["parts"] == result["parts"]
    message = ours(body)
    view = ours_view(message)
    assert view["parts"]  # the comparison is not vacuous
    for part in view["parts"]:
        if part["type"] == "tool-call" and part["id"] in LATE_ARGS.get(name, {}):
            part["argsText"] += LATE_ARGS[name][part["id"]]
    assert v4_view(result["parts"]) == view

    # usage: our dialect's keys are not v4's, so v4 parses none (see the next test)
    assert v4_usages(result["parts"]) == [None] * len(ours_usages(message, body))

    # finish: `d` states the reason ignoring errors; ours says "error" once one was seen
    finishes = [p["value"] for p in result["parts"] if p["type"] == "finish_message"]
    if b"\nd:" in b"\n" + body:
        assert len(finishes) == 1
        without_errors = dataclasses.replace(message, errors=[])
        assert finishes[0]["finishReason"] == without_errors.finish_reason
        if message.errors:
            assert message.finish_reason == "error"
        else:
            assert finishes[0]["finishReason"] == message.finish_reason
    else:  # the predecessor and failed runs write no `d`
        assert finishes == []


def test_usage_agrees_when_written_with_v4_keys() -> None:
    """With v4's usage keys (``promptTokens``/``completionTokens``), which our decoder also
    reads, both sides agree on every step's usage and the total; with ours v4 finds none."""
    body = v4_bodies()["ours-weather (no aui)"]
    lines = []
    for line in body.decode().split("\n"):
        code, _, payload = line.partition(":")
        if code in ("e", "d"):
            value = json.loads(payload)
            usage = value["usage"]
            value["usage"] = {
                "promptTokens": usage["inputTokens"],
                "completionTokens": usage["outputTokens"],
            }
            line = f"{code}:{json.dumps(value)}"
        lines.append(line)
    v4_keyed = "\n".join(lines).encode()
    message = ours(v4_keyed)
    assert message.to_dict() == ours(body).to_dict()
    result = decode_with_ai_sdk(v4_keyed)
    assert result["ok"], result
    assert (
        v4_usages(result["parts"])
        == ours_usages(message, v4_keyed)
        == [
            (12, 30),
            (40, 12),
            (52, 42),
        ]
    )
    assert result["chat"]["usage"] == {
        "promptTokens": 52,
        "completionTokens": 42,
        "totalTokens": 94,
    }
    assert decode_with_ai_sdk(body)["chat"]["usage"] == {
        "promptTokens": None,  # NaN
        "completionTokens": None,
        "totalTokens": None,
    }


# -- what v4's useChat holds ---------------------------------------------------------------------


@pytest.mark.parametrize("name", V4_READABLE)
def test_use_chat(name: str) -> None:
    """The message of v4's ``useChat`` code path: it throws at the first ``3`` frame; tool
    calls keep our parsed arguments and results, but never reach the ``call`` state (no ``9``
    frame), so ``onToolCall`` is never called; text equals ours."""
    body = v4_bodies()[name]
    chat = decode_with_ai_sdk(body)["chat"]
    message = ours(body)
    if message.errors:
        assert not chat["ok"]
        assert chat["error"] == message.errors[0]
    else:
        assert chat["ok"], chat
        assert chat["message"]["content"] == message.text
        finishes = [line for line in body.split(b"\n") if line.startswith(b"d:")]
        expected = json.loads(finishes[0][2:])["finishReason"] if finishes else "unknown"
        assert chat["finishReason"] == expected
    assert chat["toolCalls"] == []
    ours_calls = {call.tool_call_id: call for call in message.tool_calls}
    invocations = chat["message"].get("toolInvocations", [])
    for invocation in invocations:
        call = ours_calls[invocation["toolCallId"]]
        assert invocation["toolName"] == call.tool_name
        late = LATE_ARGS.get(name, {}).get(call.tool_call_id, "")
        assert invocation["args"] == (
            parse_partial_json(call.args_text + late) if late else call.args
        )
        if call.has_result and invocation["state"] == "result":
            assert invocation["result"] == call.result
        else:
            assert invocation["state"] == "partial-call"
    if message.errors:  # the calls before the first error were seen
        assert len(invocations) <= len(ours_calls)
    else:
        assert [i["toolCallId"] for i in invocations] == list(ours_calls)


async def client_tool_run(controller: RunController) -> None:
    """Text, an answered call, more text, then a call left to the client (one step)."""
    controller.append_text("Looking up. ")
    lookup = await controller.add_tool_call("lookup", "call_lookup")
    lookup.append_args_text('{"q":"x"}')
    lookup.set_response({"hits": 1})
    controller.append_text("Found it. Confirm?")
    confirm = await controller.add_tool_call("confirm", "call_confirm")
    confirm.append_args_text('{"ok":true}')


def test_client_tool_call_never_reaches_on_tool_call() -> None:
    """Our ``isFinal`` args finish is a plain delta to v4: the unanswered call stays
    ``partial-call`` in ``useChat`` and ``onToolCall`` is not called. With the v4 profile's
    ``9`` frame in its place, ``onToolCall`` fires, and our decoder reads the same message."""
    body = asyncio.run(encode(DataStreamEncoder(), create_run(client_tool_run)))
    final = b'c:{"toolCallId":"call_confirm","argsTextDelta":"","isFinal":true}\n'
    assert final in body and not aui_lines(body)
    message = ours(body)
    assert message.status == "requires-action"
    assert message.tool_calls[1].args_complete
    result = decode_with_ai_sdk(body)
    assert result["ok"], result
    assert v4_view(result["parts"]) == ours_view(message)
    chat = result["chat"]
    assert chat["finishReason"] == "tool-calls"
    assert chat["toolCalls"] == []
    confirm = chat["message"]["toolInvocations"][1]
    assert confirm["state"] == "partial-call"
    assert confirm["args"] == {"ok": True}
    # useChat keeps one text part per step: the text after the answered call extends the first
    assert [part["type"] for part in chat["message"]["parts"]] == [
        "text",
        "tool-invocation",
        "tool-invocation",
    ]
    assert chat["message"]["parts"][0]["text"] == "Looking up. Found it. Confirm?"
    assert [part.type for part in message.parts] == ["text", "tool-call", "text", "tool-call"]

    complete_call = b'9:{"toolCallId":"call_confirm","toolName":"confirm","args":{"ok":true}}\n'
    v4_profile = body.replace(final, complete_call)
    assert ours(v4_profile).to_dict() == message.to_dict()
    chat = decode_with_ai_sdk(v4_profile)["chat"]
    assert chat["toolCalls"] == [
        {"toolCallId": "call_confirm", "toolName": "confirm", "args": {"ok": True}}
    ]
    assert chat["message"]["toolInvocations"][1]["state"] == "call"
