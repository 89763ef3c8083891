"""The same provider stream, served as the assistant-ui data stream and as OpenAI chat
completions, decodes with the real clients (npm `assistant-stream`, the `openai` SDK) to the same
text, reasoning and tool calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from node_client import decode_with_assistant_stream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization.data_stream import DataStreamResponse
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamResponse
from fakes.fake_provider import FakeProvider

pytestmark = [pytest.mark.interop, pytest.mark.http]

EXPECTED = {
    "text": ("Hello from the fake model.", "", []),
    "reasoning": (
        "Hello from the fake model.",
        "The user greets me. I will greet back.",
        [],
    ),
    "tools": (
        "Let me check.",
        "",
        [
            ("call_weather", "get_weather", {"city": "Paris"}),
            ("call_time", "get_time", {"tz": "Europe/Paris"}),
        ],
    ),
}

Decoded = tuple[str, str, list[tuple[str, str, Any]]]


@pytest.fixture(scope="module")
def fake() -> Any:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def app(fake: FakeProvider, live_server: Callable[[Any], LiveServer]) -> LiveServer:
    """``POST /{protocol}/{provider}/chat/completions`` with the scenario as the model."""

    async def chat(request: Request) -> Response:
        provider = request.path_params["provider"]
        model = (await request.json())["model"]
        base_url = fake.openai_base_url if provider == "openai" else fake.anthropic_base_url

        async def run(controller: RunController) -> None:
            messages = [{"role": "user", "content": "Hi"}]
            await run_provider(
                controller, messages, provider=provider, model=model, api_key="sk-test",
                base_url=base_url, max_retries=0,
            )  # fmt: skip

        if request.path_params["protocol"] == "data-stream":
            return DataStreamResponse(create_run(run))
        return OpenAIStreamResponse(create_run(run), model=model)

    return live_server(
        Starlette(routes=[Route("/{protocol}/{provider}/chat/completions", chat, methods=["POST"])])
    )


def read_with_node(server: LiveServer, provider: str, scenario: str) -> Decoded:
    body = httpx.post(
        server.url(f"/data-stream/{provider}/chat/completions"), json={"model": scenario}
    ).content
    result = decode_with_assistant_stream("data-stream", body)
    assert result["ok"], result
    parts = result["message"]["parts"]
    text = "".join(p["text"] for p in parts if p["type"] == "text")
    reasoning = "".join(p["text"] for p in parts if p["type"] == "reasoning")
    calls = [(p["toolCallId"], p["toolName"], p["args"]) for p in parts if p["type"] == "tool-call"]
    return text, reasoning, calls


async def read_with_openai_sdk(server: LiveServer, provider: str, scenario: str) -> Decoded:
    client = openai.AsyncOpenAI(base_url=server.url(f"/openai/{provider}"), api_key="unused")
    stream = await client.chat.completions.create(
        model=scenario, messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    text = reasoning = ""
    calls: dict[int, list[str]] = {}
    async for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, ["", "", ""])
                entry[0] = call.id or entry[0]
                if call.function is not None:
                    entry[1] = call.function.name or entry[1]
                    entry[2] += call.function.arguments or ""
    await client.close()
    return text, reasoning, [(c[0], c[1], json.loads(c[2])) for _, c in sorted(calls.items())]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
async def test_both_protocols_decode_to_the_same_message(
    app: LiveServer, provider: str, scenario: str
) -> None:
    from_node = await asyncio.to_thread(read_with_node, app, provider, scenario)
    from_sdk = await read_with_openai_sdk(app, provider, scenario)
    assert from_node == from_sdk == EXPECTED[scenario]
