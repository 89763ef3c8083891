"""The seed documents' examples, pasted with only the import root changed, run for real."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from _live import LiveServer
from _util import collect

pytestmark = pytest.mark.http


# --- seed 000: FastAPI / Starlette integration ---------------------------------------------

from fastapi import FastAPI  # noqa: E402

from assistant_stream_ce import create_run  # noqa: E402
from assistant_stream_ce.serialization.data_stream import DataStreamResponse  # noqa: E402

app = FastAPI()


@app.get("/chat")
async def chat():  # type: ignore[no-untyped-def]
    async def run(controller):  # type: ignore[no-untyped-def]
        controller.append_text("Hello from FastAPI!")

    return DataStreamResponse(create_run(run))


from assistant_stream_ce.serialization.assistant_transport import (  # noqa: E402
    AssistantTransportResponse,
)


@app.get("/chat-sse")
async def chat_sse():  # type: ignore[no-untyped-def]
    async def run(controller):  # type: ignore[no-untyped-def]
        controller.append_text("Streaming over SSE...")

    return AssistantTransportResponse(create_run(run))


# The seed's error-handling pattern ("Bad input") plus a route whose callback raises.
@app.get("/chat-error-pattern")
async def chat_error_pattern():  # type: ignore[no-untyped-def]
    async def run(controller):  # type: ignore[no-untyped-def]
        try:
            raise ValueError("the number must be positive")
        except ValueError as e:
            controller.add_error(f"Bad input: {e}")
            return

    return DataStreamResponse(create_run(run))


@app.get("/chat-raises")
async def chat_raises():  # type: ignore[no-untyped-def]
    async def run(controller):  # type: ignore[no-untyped-def]
        controller.append_text("working...")
        raise RuntimeError("database unavailable")

    return DataStreamResponse(create_run(run))


@pytest.fixture
def server(live_server: Callable[[Any], LiveServer]) -> LiveServer:
    return live_server(app)


def test_seed_fastapi_data_stream_route(server: LiveServer) -> None:
    response = httpx.get(server.url("/chat"), timeout=10)
    assert response.status_code == 200
    assert response.headers["x-vercel-ai-data-stream"] == "v1"
    assert response.text == (
        '0:"Hello from FastAPI!"\n'
        'd:{"finishReason":"stop","usage":{"inputTokens":0,"outputTokens":0}}\n'
    )


def test_seed_fastapi_sse_route(server: LiveServer) -> None:
    response = httpx.get(server.url("/chat-sse"), timeout=10)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == (
        'data: {"type":"part-start","part":{"type":"text"},"path":[]}\n\n'
        'data: {"type":"text-delta","textDelta":"Streaming over SSE...","path":[0]}\n\n'
        'data: {"type":"part-finish","path":[0]}\n\n'
        'data: {"type":"message-finish","finishReason":"stop",'
        '"usage":{"inputTokens":0,"outputTokens":0}}\n\n'
        "data: [DONE]\n\n"
    )


def test_seed_error_pattern(server: LiveServer) -> None:
    response = httpx.get(server.url("/chat-error-pattern"), timeout=10)
    assert response.text == (
        '3:"Bad input: the number must be positive"\n'
        'd:{"finishReason":"stop","usage":{"inputTokens":0,"outputTokens":0}}\n'
    )


def test_seed_raising_callback_emits_error_then_ends_cleanly(server: LiveServer) -> None:
    response = httpx.get(server.url("/chat-raises"), timeout=10)
    assert response.text == '0:"working..."\n3:"database unavailable"\n'


async def test_seed_create_run_reraises_after_error_chunk() -> None:
    """Seed: create_run emits an ``error`` chunk with the exception string and re-raises."""

    async def run(controller):  # type: ignore[no-untyped-def]
        raise ValueError("nope")

    seen = []
    with pytest.raises(ValueError, match="nope"):
        async for chunk in create_run(run):
            seen.append(chunk)
    assert [(c.type, c.error) for c in seen] == [("error", "nope")]


# --- seed 002: getting started ---------------------------------------------------------------


async def test_seed_first_stream() -> None:
    from assistant_stream_ce import create_run

    async def my_run(controller):  # type: ignore[no-untyped-def]
        controller.append_text("Hello from a stream!")

    stream = create_run(my_run)
    chunks = await collect(stream)
    assert [(c.type, c.text_delta) for c in chunks] == [("text-delta", "Hello from a stream!")]


async def test_seed_state_updates() -> None:
    from assistant_stream_ce import create_run

    async def run(controller):  # type: ignore[no-untyped-def]
        # initialize state
        controller.state = {"messages": "", "count": 0}

        controller.state["messages"] += "Hello"
        controller.state["count"] = controller.state["count"] + 1

    stream = create_run(run, state={})
    chunks = await collect(stream)
    assert [c.type for c in chunks] == ["update-state"]
    assert chunks[0].operations == [
        {"type": "set", "path": [], "value": {"messages": "", "count": 0}},
        {"type": "append-text", "path": ["messages"], "value": "Hello"},
        {"type": "set", "path": ["count"], "value": 1},
    ]


async def test_seed_tool_calls() -> None:
    import json

    from assistant_stream_ce import create_run

    async def run(controller):  # type: ignore[no-untyped-def]
        tool = await controller.add_tool_call("search")
        tool.append_args_text(json.dumps({"q": "fastapi streaming"}))
        tool.set_response({"results": ["..."]})

    stream = create_run(run)
    chunks = await collect(stream)
    assert [c.type for c in chunks] == [
        "tool-call-begin",
        "tool-call-delta",
        "tool-call-args-text-finish",
        "tool-result",
    ]
    assert chunks[0].tool_name == "search"
    assert json.loads(chunks[1].args_text_delta) == {"q": "fastapi streaming"}
    assert chunks[3].result == {"results": ["..."]}


def test_seed_state_and_tool_calls_stream_over_http(
    live_server: Callable[[Any], LiveServer],
) -> None:
    """The seed's state and tool-call runs served as a data stream, decoded frame by frame."""
    api = FastAPI()

    @api.post("/chat")
    async def chat_route():  # type: ignore[no-untyped-def]
        async def run(controller):  # type: ignore[no-untyped-def]
            controller.state = {"messages": "", "count": 0}
            controller.state["messages"] += "Hello"
            controller.state["count"] = controller.state["count"] + 1
            tool = await controller.add_tool_call("search")
            tool.append_args_text(json.dumps({"q": "fastapi streaming"}))
            tool.set_response({"results": ["..."]})

        return DataStreamResponse(create_run(run, state={}))

    server = live_server(api)
    lines = httpx.post(server.url("/chat"), timeout=10).text.splitlines()
    codes = [line.split(":", 1)[0] for line in lines]
    assert codes == ["aui-state", "b", "c", "c", "a", "d"]
    assert json.loads(lines[0].split(":", 1)[1])[1] == {
        "type": "append-text",
        "path": ["messages"],
        "value": "Hello",
    }
