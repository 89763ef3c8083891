"""modules.tool_call.create_tool_call: a tool call as its own chunk stream (0.0.36 API)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from _util import collect
from assistant_stream_ce import accumulate, create_run
from assistant_stream_ce.modules.tool_call import ToolCallController, create_tool_call


async def test_stream_carries_the_call_and_ends_with_its_result() -> None:
    stream, controller = await create_tool_call("search", "call_1", parent_id="p")
    assert isinstance(controller, ToolCallController)
    controller.append_args_text('{"q":')
    controller.append_args_text('"x"}')
    controller.set_response({"hits": 1}, artifact={"raw": True})
    chunks = await asyncio.wait_for(collect(stream), 1)
    assert [c.type for c in chunks] == [
        "tool-call-begin",
        "tool-call-delta",
        "tool-call-delta",
        "tool-call-args-text-finish",
        "tool-result",
    ]
    begin, result = chunks[0], chunks[-1]
    assert (begin.tool_call_id, begin.tool_name, begin.parent_id) == ("call_1", "search", "p")
    assert (result.result, result.artifact, result.is_error) == ({"hits": 1}, {"raw": True}, False)


async def test_close_without_result_ends_the_stream() -> None:
    stream, controller = await create_tool_call("ask", "call_2")
    controller.close()
    controller.close()
    chunks = await asyncio.wait_for(collect(stream), 1)
    assert [c.type for c in chunks] == ["tool-call-begin", "tool-call-args-text-finish"]


async def test_controller_used_from_a_worker_thread_merges_into_a_run() -> None:
    async def run(run_controller: Any) -> None:
        stream, tool = await create_tool_call("calc", "call_3")
        run_controller.add_stream(stream)

        def work() -> None:
            tool.append_args_text('{"a": 1}')
            tool.set_response(2)

        thread = threading.Thread(target=work)
        thread.start()
        await asyncio.to_thread(thread.join)
        run_controller.append_text("done")

    message = accumulate(await collect(create_run(run)))
    tool_parts = [p for p in message.parts if p.type == "tool-call"]
    assert len(tool_parts) == 1
    part: Any = tool_parts[0]
    assert (part.tool_call_id, part.tool_name, part.args, part.result) == (
        "call_3",
        "calc",
        {"a": 1},
        2,
    )
    assert part.args_complete and part.has_result
    assert message.parts[-1].type == "text"
