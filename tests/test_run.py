"""create_run and RunController: ordering, merging, errors, cancellation, threads."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import warnings

import pytest

from _util import collect, merged
from assistant_stream_ce import (
    AnnotationsChunk,
    DataChunk,
    ErrorChunk,
    FileChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    RunController,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    create_run,
)
from assistant_stream_ce.create_run import CANCEL_GRACE_SECONDS


async def test_every_controller_method_emits_its_chunk_in_call_order() -> None:
    async def run(controller: RunController) -> None:
        controller.add_step_start("m1")
        controller.append_reasoning("think")
        controller.add_reasoning_part("summary")
        controller.append_text("hi")
        tool = await controller.add_tool_call("search", "call_1")
        tool.append_args_text('{"q":1}')
        tool.set_response({"ok": True}, artifact={"raw": 1}, is_error=False)
        controller.add_tool_result("call_1", "again")
        controller.add_data({"d": 1})
        controller.add_error("oops")
        controller.add_source("s1", "https://x.example", "X")
        controller.add_file("aGk=", "text/plain")
        controller.add_annotations([{"a": 1}])
        controller.add_step_finish("stop", 1, 2, False)

    chunks = await collect(create_run(run))
    assert chunks == [
        StepStartChunk("m1"),
        ReasoningDeltaChunk("think"),
        ReasoningPartStartChunk("summary"),
        TextDeltaChunk("hi"),
        ToolCallBeginChunk("call_1", "search"),
        ToolCallDeltaChunk("call_1", '{"q":1}'),
        ToolCallArgsTextFinishChunk("call_1"),
        ToolResultChunk("call_1", {"ok": True}, {"raw": 1}, False),
        ToolResultChunk("call_1", "again"),
        DataChunk({"d": 1}),
        ErrorChunk("oops"),
        SourceChunk("s1", "https://x.example", "url", "X"),
        FileChunk("aGk=", "text/plain"),
        AnnotationsChunk([{"a": 1}]),
        StepFinishChunk("stop", 1, 2, False),
    ]


@pytest.mark.parametrize("await_between", [False, True])
async def test_order_is_call_order_with_or_without_awaits(await_between: bool) -> None:
    async def pause() -> None:
        if await_between:
            await asyncio.sleep(0)

    async def run(controller: RunController) -> None:
        a = await controller.add_tool_call("a", "call_a")
        controller.append_text("t1")
        await pause()
        b = await controller.add_tool_call("b", "call_b")
        a.append_args_text("{}")
        await pause()
        b.append_args_text('{"x":')
        controller.append_text("t2")
        b.append_args_text("1}")
        await pause()
        b.set_response(2)
        a.set_response(1)

    chunks = await collect(create_run(run))
    assert [(c.type, getattr(c, "tool_call_id", None)) for c in chunks] == [
        ("tool-call-begin", "call_a"),
        ("text-delta", None),
        ("tool-call-begin", "call_b"),
        ("tool-call-delta", "call_a"),
        ("tool-call-delta", "call_b"),
        ("text-delta", None),
        ("tool-call-delta", "call_b"),
        ("tool-call-args-text-finish", "call_b"),
        ("tool-result", "call_b"),
        ("tool-call-args-text-finish", "call_a"),
        ("tool-result", "call_a"),
    ]


async def test_unread_adjacent_deltas_are_merged_per_target() -> None:
    async def run(controller: RunController) -> None:
        for token in ["a", "b", "c"]:
            controller.append_text(token)
        controller.with_parent_id("p").append_text("x")
        controller.append_reasoning("r1")
        controller.append_reasoning("r2")
        tool = await controller.add_tool_call("t", "call_1")
        tool.append_args_text("{")
        tool.append_args_text("}")

    chunks = await collect(create_run(run))
    assert chunks == [
        TextDeltaChunk("abc"),
        TextDeltaChunk("x", parent_id="p"),
        ReasoningDeltaChunk("r1r2"),
        ToolCallBeginChunk("call_1", "t"),
        ToolCallDeltaChunk("call_1", "{}"),
    ]


async def test_coalesce_false_keeps_every_delta() -> None:
    async def run(controller: RunController) -> None:
        for token in ["a", "b", "c"]:
            controller.append_text(token)

    chunks = await collect(create_run(run, coalesce=False))
    assert chunks == [TextDeltaChunk("a"), TextDeltaChunk("b"), TextDeltaChunk("c")]


async def test_a_large_unread_backlog_drains_in_bounded_batches_with_no_text_lost() -> None:
    token = "0123456789" * 10

    async def run(controller: RunController) -> None:
        for _ in range(20_000):
            controller.append_text(token)

    stream = create_run(run)
    batches = []
    while True:
        try:
            batch = await stream.next_batch()
        except StopAsyncIteration:
            break
        assert batch
        batches.append(batch)
    text = "".join(chunk.text_delta for batch in batches for chunk in batch)
    assert text == token * 20_000
    assert len(batches) > 10
    assert max(sum(len(c.text_delta) for c in batch) for batch in batches) < 100_000


async def test_empty_deltas_are_never_emitted() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("")
        controller.append_reasoning("")
        tool = await controller.add_tool_call("t", "call_1")
        tool.append_args_text("")

    assert [c.type for c in await collect(create_run(run))] == ["tool-call-begin"]


async def test_generated_tool_call_ids_look_like_openai_ids() -> None:
    ids = []

    async def run(controller: RunController) -> None:
        for _ in range(50):
            ids.append((await controller.add_tool_call("t")).tool_call_id)

    await collect(create_run(run))
    assert all(re.fullmatch(r"call_[A-Za-z0-9]{24}", i) for i in ids)
    assert len(set(ids)) == 50


async def test_with_parent_id_tags_parts() -> None:
    async def run(controller: RunController) -> None:
        child = controller.with_parent_id("group")
        child.append_text("t")
        child.append_reasoning("r")
        await child.add_tool_call("tool", "call_1")
        child.add_source("s", "https://s.example")
        child.add_file("d", "image/png")

    chunks = await collect(create_run(run))
    assert {c.parent_id for c in chunks} == {"group"}


async def test_callback_exception_emits_error_chunk_then_reraises() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("before")
        raise ValueError("model exploded")

    seen = []
    with pytest.raises(ValueError, match="model exploded"):
        async for chunk in create_run(run):
            seen.append(chunk)
    assert seen == [TextDeltaChunk("before"), ErrorChunk("model exploded")]


async def test_exception_without_message_uses_its_type_name() -> None:
    async def run(controller: RunController) -> None:
        raise KeyError

    seen = []
    with pytest.raises(KeyError):
        async for chunk in create_run(run):
            seen.append(chunk)
    assert seen == [ErrorChunk("KeyError")]


async def test_add_stream_merges_a_sub_stream_and_run_waits_for_it() -> None:
    async def sub() -> object:
        for word in ["x", "y"]:
            await asyncio.sleep(0.01)
            yield TextDeltaChunk(word)
        yield DataChunk("sub-done")

    async def run(controller: RunController) -> None:
        controller.add_stream(sub())  # type: ignore[arg-type]
        controller.append_text("main")

    chunks = await collect(create_run(run))
    assert chunks[0] == TextDeltaChunk("main")
    assert merged(chunks[1:]) == [
        ("delta", (("text", None), "xy")),
        ("data", DataChunk("sub-done")),
    ]


async def test_add_stream_accepts_another_run() -> None:
    async def inner(controller: RunController) -> None:
        controller.append_text("inner")
        controller.state["k"] = 1

    async def run(controller: RunController) -> None:
        controller.add_stream(create_run(inner, state={}))

    chunks = await collect(create_run(run))
    assert [c.type for c in chunks] == ["text-delta", "update-state"]


async def test_sub_stream_failure_fails_the_run() -> None:
    async def sub() -> object:
        yield TextDeltaChunk("x")
        raise RuntimeError("sub broke")

    async def run(controller: RunController) -> None:
        controller.add_stream(sub())  # type: ignore[arg-type]
        await asyncio.sleep(10)

    seen = []
    with pytest.raises(RuntimeError, match="sub broke"):
        async for chunk in create_run(run):
            seen.append(chunk)
    assert seen[-1] == ErrorChunk("sub broke")


async def test_early_close_sets_cancelled_and_lets_a_cooperative_callback_finish() -> None:
    observed = {}

    async def run(controller: RunController) -> None:
        controller.append_text("go")
        await controller.cancelled_event.wait()
        observed["cancelled"] = controller.is_cancelled
        observed["clean_exit"] = True

    stream = create_run(run)
    assert await stream.__anext__() == TextDeltaChunk("go")
    await stream.aclose()
    assert observed == {"cancelled": True, "clean_exit": True}


async def test_the_cancellation_signal_asked_for_after_the_close_is_already_set() -> None:
    """The run keeps a flag and makes its Event only when asked (one fewer object per stream);
    a signal taken after the close must still read as set and not block."""
    observed = {}

    async def run(controller: RunController) -> None:
        controller.append_text("go")
        while not controller.is_cancelled:  # noqa: ASYNC110 (a callback that polls)
            await asyncio.sleep(0.001)
        signal = controller.cancelled_event
        observed["set"] = signal.is_set()
        observed["waited"] = await asyncio.wait_for(signal.wait(), 1)

    stream = create_run(run)
    assert await stream.__anext__() == TextDeltaChunk("go")
    await stream.aclose()
    assert observed == {"set": True, "waited": True}


async def test_early_close_cancels_a_stuck_callback_and_its_sub_streams_after_grace() -> None:
    cancelled = []

    async def sub() -> object:
        try:
            await asyncio.sleep(100)
            yield TextDeltaChunk("never")
        finally:
            cancelled.append("sub")

    async def run(controller: RunController) -> None:
        controller.add_stream(sub())  # type: ignore[arg-type]
        controller.append_text("go")
        try:
            await asyncio.sleep(100)
        finally:
            cancelled.append("callback")

    stream = create_run(run)
    await stream.__anext__()
    started = time.monotonic()
    await stream.aclose()
    elapsed = time.monotonic() - started
    assert sorted(cancelled) == ["callback", "sub"]
    assert CANCEL_GRACE_SECONDS * 0.8 <= elapsed < 0.5
    assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()


async def test_a_finished_run_is_not_marked_cancelled_by_close() -> None:
    controllers = []

    async def run(controller: RunController) -> None:
        controllers.append(controller)
        controller.append_text("done")

    stream = create_run(run)
    await collect(stream)
    await stream.aclose()
    assert controllers[0].is_cancelled is False


async def test_controller_calls_from_other_threads_arrive_in_order() -> None:
    async def run(controller: RunController) -> None:
        def work() -> None:
            for i in range(200):
                controller.append_text(f"{i},")
            controller.state = {"n": 1}
            controller.state["n"] = 2
            controller.add_data("end")

        thread = threading.Thread(target=work)
        thread.start()
        await asyncio.to_thread(thread.join)
        await asyncio.sleep(0.01)

    chunks = await collect(create_run(run, state={}))
    text = "".join(c.text_delta for c in chunks if c.type == "text-delta")
    assert text == "".join(f"{i}," for i in range(200))
    assert chunks[-1] == DataChunk("end")
    ops = [op for c in chunks if c.type == "update-state" for op in c.operations]
    assert ops == [
        {"type": "set", "path": [], "value": {"n": 1}},
        {"type": "set", "path": ["n"], "value": 2},
    ]


async def test_tool_calls_from_another_thread() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("t", "call_1")
        await asyncio.to_thread(tool.append_args_text, "{}")
        await asyncio.to_thread(tool.set_response, "ok")
        await asyncio.sleep(0.01)

    chunks = await collect(create_run(run))
    assert [c.type for c in chunks] == [
        "tool-call-begin",
        "tool-call-delta",
        "tool-call-args-text-finish",
        "tool-result",
    ]


async def test_set_result_is_deprecated_but_works() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("t", "call_1")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tool.set_result(5)
        assert caught and issubclass(caught[0].category, DeprecationWarning)

    chunks = await collect(create_run(run))
    assert chunks[-1] == ToolResultChunk("call_1", 5)


async def test_close_finishes_arguments_once() -> None:
    async def run(controller: RunController) -> None:
        tool = await controller.add_tool_call("t", "call_1")
        tool.close()
        tool.close()
        tool.set_response(1)

    chunks = await collect(create_run(run))
    assert [c.type for c in chunks].count("tool-call-args-text-finish") == 1
