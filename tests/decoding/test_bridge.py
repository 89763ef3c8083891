"""The bridge example over real HTTP: OpenAI upstream → our decoder → data stream → decoder."""

from __future__ import annotations

import asyncio
import importlib.util
import pathlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.accumulator import accumulate
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamResponse

pytestmark = pytest.mark.http

EXAMPLE = (
    pathlib.Path(__file__).resolve().parents[2] / "examples" / "bridge_openai_to_data_stream.py"
)


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("bridge_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def upstream_run(controller: RunController) -> None:
    controller.append_reasoning("The user wants the weather.")
    controller.append_text("Let me check. 😀")
    await asyncio.sleep(0.01)
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    await asyncio.sleep(0.01)
    tool.append_args_text('"Paris"}')
    tool.close()
    controller.add_step_finish("tool-calls", 12, 30)


def test_bridge_serves_the_upstream_stream_as_a_data_stream(
    live_server: Callable[[Any], LiveServer],
) -> None:
    seen: list[Any] = []

    async def completions(request: Request) -> Response:
        seen.append(await request.json())
        return OpenAIStreamResponse(create_run(upstream_run), model="up")

    upstream = live_server(
        Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    )
    bridge = live_server(load_example().make_app(upstream.url("/v1/chat/completions")))
    response = httpx.post(
        bridge.url("/api/chat"), json={"messages": [{"role": "user", "content": "hi"}]}, timeout=10
    )
    assert response.headers["x-vercel-ai-data-stream"] == "v1"
    assert seen[0]["messages"] == [{"role": "user", "content": "hi"}] and seen[0]["stream"]
    message = accumulate(DataStreamDecoder().decode(response.content)).to_dict()
    assert [(p["type"], p.get("text")) for p in message["parts"]] == [
        ("reasoning", "The user wants the weather."),
        ("text", "Let me check. 😀"),
        ("tool-call", None),
    ]
    call = message["parts"][2]
    assert (call["tool_call_id"], call["tool_name"], call["args"]) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert message["usage"] == {"input_tokens": 12, "output_tokens": 30}
    assert (message["status"], message["finish_reason"]) == ("requires-action", "tool-calls")
