"""The official `openai` SDK reads our OpenAIStreamResponse served by uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamResponse

pytestmark = pytest.mark.http


async def tools_run(controller: RunController) -> None:
    """Reasoning, text, one call the run answers itself, two calls left for the client."""
    controller.add_step_start("s1")
    controller.append_reasoning("I should search, ")
    await asyncio.sleep(0)
    controller.append_reasoning("then ask the client.")
    controller.append_text("Looking it up. ")
    search = await controller.add_tool_call("search", "call_server")
    search.append_args_text('{"q":"paris"}')
    search.set_response({"hits": 3})
    controller.add_step_finish("tool-calls", 5, 7)
    controller.add_step_start("s2")
    controller.append_text("Found 3 hits.")
    weather = await controller.add_tool_call("get_weather", "call_w")
    clock = await controller.add_tool_call("get_time", "call_t")
    weather.append_args_text('{"city":')
    await asyncio.sleep(0)
    clock.append_args_text('{"tz":')
    await asyncio.sleep(0)
    weather.append_args_text('"Paris"}')
    clock.append_args_text('"CET"}')
    controller.add_step_finish("tool-calls", 11, 13)


async def text_run(controller: RunController) -> None:
    for word in ["Hello", " there", "!"]:
        controller.append_text(word)
        await asyncio.sleep(0)
    controller.add_step_finish("length", 1, 2)


async def failing_run(controller: RunController) -> None:
    controller.append_text("partial ")
    await asyncio.sleep(0)
    raise RuntimeError("the model backend is down")


RUNS = {"tools": tools_run, "text": text_run, "failing": failing_run}


@pytest.fixture
def client(live_server: Callable[[Any], LiveServer]) -> openai.OpenAI:
    async def completions(request: Request) -> Response:
        body = await request.json()
        if body.get("n", 1) != 1:
            return JSONResponse(
                {"error": {"message": "n must be 1", "type": "invalid_request_error"}},
                status_code=400,
            )
        run = RUNS[body["messages"][-1]["content"]]
        return OpenAIStreamResponse(create_run(run), model=body["model"])

    server = live_server(
        Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    )
    return openai.OpenAI(base_url=server.url("/v1"), api_key="sk-test", max_retries=0)


def test_sdk_reassembles_text_reasoning_tool_calls_finish_and_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="our-model",
        messages=[{"role": "user", "content": "tools"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    content, reasoning = "", ""
    calls: dict[int, dict[str, str]] = {}
    finish_reasons, usage, ids, models = [], None, set(), set()
    for chunk in stream:
        ids.add(chunk.id)
        models.add(chunk.model)
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            content += delta.content or ""
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            for call in delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                if call.id:
                    entry["id"] = call.id
                if call.function and call.function.name:
                    entry["name"] = call.function.name
                if call.function and call.function.arguments:
                    entry["arguments"] += call.function.arguments
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
    assert len(ids) == 1 and models == {"our-model"}
    assert content == "Looking it up. Found 3 hits."
    assert reasoning == "I should search, then ask the client."
    assert calls == {
        0: {"id": "call_w", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        1: {"id": "call_t", "name": "get_time", "arguments": '{"tz":"CET"}'},
    }
    assert finish_reasons == ["tool_calls"]
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (16, 20, 36)


def test_sdk_stream_helper_builds_the_final_completion(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="our-model", messages=[{"role": "user", "content": "tools"}]
    ) as stream:
        completion = stream.get_final_completion()
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Looking it up. Found 3 hits."
    tool_calls = choice.message.tool_calls or []
    assert [(t.id, t.function.name, json.loads(t.function.arguments)) for t in tool_calls] == [
        ("call_w", "get_weather", {"city": "Paris"}),
        ("call_t", "get_time", {"tz": "CET"}),
    ]


def test_sdk_sees_finish_reason_of_a_plain_text_run(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "text"}], stream=True
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello there!"
    # The run reported usage, so a usage chunk (choices: []) follows the finish chunk.
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 3


def test_usage_chunk_can_follow_the_request_exactly(
    live_server: Callable[[Any], LiveServer],
) -> None:
    """Passing the request's stream_options.include_usage mirrors OpenAI exactly."""

    async def completions(request: Request) -> Response:
        body = await request.json()
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return OpenAIStreamResponse(create_run(text_run), include_usage=include_usage)

    server = live_server(
        Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    )
    client = openai.OpenAI(base_url=server.url("/v1"), api_key="sk-test", max_retries=0)
    messages: Any = [{"role": "user", "content": "text"}]
    plain = list(client.chat.completions.create(model="m", messages=messages, stream=True))
    assert all(chunk.choices for chunk in plain)
    assert plain[-1].choices[0].finish_reason == "length"
    with_usage = list(
        client.chat.completions.create(
            model="m", messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    assert with_usage[-1].usage is not None and with_usage[-1].usage.total_tokens == 3


def test_sdk_raises_api_error_on_a_failing_run(client: openai.OpenAI) -> None:
    received = ""
    with pytest.raises(openai.APIError, match="the model backend is down"):
        for chunk in client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "failing"}], stream=True
        ):
            received += chunk.choices[0].delta.content or "" if chunk.choices else ""
    assert received == "partial "


async def test_async_sdk_reads_the_same_stream(client: openai.OpenAI) -> None:
    async_client = openai.AsyncOpenAI(base_url=str(client.base_url), api_key="sk-test")
    stream = await async_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "text"}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello there!"
    await async_client.close()
