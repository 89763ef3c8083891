"""Providers served over real HTTP: protocols out, secrets kept, upstream closed on disconnect."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization.data_stream import DataStreamResponse
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamResponse
from fakes.fake_provider import SLOW_WORDS, FakeProvider
from fakes.run_result import SECRET_KEY, assert_no_secret, parse_data_stream

pytestmark = pytest.mark.http

PROVIDERS = ["openai", "anthropic"]


@pytest.fixture
def app_server(fake_provider: FakeProvider, live_server: Callable[[Any], LiveServer]) -> LiveServer:
    """Our app answering "Hi" with a provider: ``POST /data/{provider}/{model}`` (data stream)
    and ``POST /openai/{provider}/chat/completions`` (Chat Completions, model from the body)."""

    async def chat(request: Request) -> Response:
        provider = request.path_params["provider"]
        model = request.path_params.get("model") or (await request.json())["model"]
        base_url = (
            fake_provider.openai_base_url
            if provider == "openai"
            else fake_provider.anthropic_base_url
        )

        async def callback(controller: RunController) -> None:
            await run_provider(
                controller,
                [{"role": "user", "content": "Hi"}],
                provider=provider,
                model=model,
                api_key=SECRET_KEY,
                base_url=base_url,
                max_retries=0,
            )

        run = create_run(callback)
        if "model" in request.path_params:
            return DataStreamResponse(run)
        return OpenAIStreamResponse(run, model=model)

    routes = [
        Route("/data/{provider}/{model}", chat, methods=["POST"]),
        Route("/openai/{provider}/chat/completions", chat, methods=["POST"]),
    ]
    return live_server(Starlette(routes=routes))


async def post(server: LiveServer, path: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(server.url(path))
        assert response.status_code == 200
        return response.text


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_data_stream_carries_text_and_tool_calls(
    app_server: LiveServer, provider: str
) -> None:
    frames = parse_data_stream(await post(app_server, f"/data/{provider}/tools"))
    assert "".join(value for code, value in frames if code == "0") == "Let me check."
    assert [(v["toolCallId"], v["toolName"]) for c, v in frames if c == "b"] == [
        ("call_weather", "get_weather"),
        ("call_time", "get_time"),
    ]
    args: dict[str, str] = {}
    for code, value in frames:
        if code == "c":
            args[value["toolCallId"]] = args.get(value["toolCallId"], "") + value["argsTextDelta"]
    assert {k: json.loads(v) for k, v in args.items()} == {
        "call_weather": {"city": "Paris"},
        "call_time": {"tz": "Europe/Paris"},
    }
    [(_, done)] = [(c, v) for c, v in frames if c == "d"]
    assert done["finishReason"] == "tool-calls"
    assert done["usage"] == {"inputTokens": 40, "outputTokens": 25}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_openai_sdk_reads_a_provider_run_served_as_chat_completions(
    app_server: LiveServer, provider: str
) -> None:
    client = openai.AsyncOpenAI(base_url=app_server.url(f"/openai/{provider}"), api_key="x")
    stream = await client.chat.completions.create(
        model="tools", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    content = ""
    calls: dict[int, list[str]] = {}
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, ["", "", ""])
                entry[0] = call.id or entry[0]
                if call.function is not None:
                    entry[1] = call.function.name or entry[1]
                    entry[2] += call.function.arguments or ""
            finish = choice.finish_reason or finish
    await client.close()
    assert content == "Let me check."
    assert {i: (c[0], c[1], json.loads(c[2])) for i, c in calls.items()} == {
        0: ("call_weather", "get_weather", {"city": "Paris"}),
        1: ("call_time", "get_time", {"tz": "Europe/Paris"}),
    }
    assert finish == "tool_calls"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_errors_reach_the_client_without_the_key(
    app_server: LiveServer, provider: str
) -> None:
    body = await post(app_server, f"/data/{provider}/echo-key")
    [message] = [value for code, value in parse_data_stream(body) if code == "3"]
    label = "OpenAI" if provider == "openai" else "Anthropic"
    assert message.startswith(f"{label} request failed: 401 authentication error:")
    assert_no_secret(body)
    client = openai.AsyncOpenAI(
        base_url=app_server.url(f"/openai/{provider}"), api_key="x", max_retries=0
    )
    with pytest.raises(openai.APIError) as info:
        stream = await client.chat.completions.create(
            model="429", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        async for _ in stream:
            pass
    await client.close()
    assert f"{label} request failed: rate limit (429)" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_client_disconnect_closes_the_upstream_connection(
    app_server: LiveServer, fake_provider: FakeProvider, provider: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("POST", app_server.url(f"/data/{provider}/slow")) as response:
            received = ""
            async for text in response.aiter_text():
                received += text
                if "0:" in received:
                    break
        closed_at = time.monotonic()  # leaving the block closed our connection mid-stream
    record = await asyncio.to_thread(fake_provider.wait_closed, 5.0)
    assert record is not None, "the upstream request was not closed"
    assert record.path == ("/v1/chat/completions" if provider == "openai" else "/v1/messages")
    assert record.events_sent < SLOW_WORDS
    delay = record.time - closed_at
    assert delay < 0.25, f"upstream closed {delay:.3f} s after the client left"
    assert fake_provider.completed == []


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("scenario", ["slow", "stall"])
async def test_closing_the_run_closes_the_upstream_response(
    fake_provider: FakeProvider, provider: str, scenario: str
) -> None:
    """Tokens flowing (``slow``: the adapter sees ``is_cancelled``) or an upstream gone quiet
    (``stall``: the callback task is cancelled after the grace period) — both close it."""
    base_url = (
        fake_provider.openai_base_url if provider == "openai" else fake_provider.anthropic_base_url
    )

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            [{"role": "user", "content": "Hi"}],
            provider=provider,
            model=scenario,
            api_key=SECRET_KEY,
            base_url=base_url,
        )

    stream = create_run(callback)
    async for chunk in stream:
        if chunk.type == "text-delta":
            break
    closed_at = time.monotonic()
    await stream.aclose()
    assert all(task.done() for task in stream._core.all_tasks())
    record = await asyncio.to_thread(fake_provider.wait_closed, 5.0)
    assert record is not None, "the upstream request was not closed"
    assert record.time - closed_at < 0.25
    assert fake_provider.completed == []
