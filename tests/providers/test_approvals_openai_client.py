"""An OpenAI-protocol client approves a call by answering it with ``{"approved": true}``: the
official `openai` SDK against a FastAPI app under uvicorn (the offline model, a tool that needs
approval). The call reaches the client as ``tool_calls``; the SDK's next request carries the
answer as the call's result; the server runs the tool and the model answers with its result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import openai
import pytest
from fastapi import Depends, FastAPI

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider, tool
from assistant_stream_ce.requests import ChatRequest, chat_request
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamResponse

pytestmark = pytest.mark.http

RAN: list[str] = []


@tool(needs_approval=True)
def get_weather(city: str) -> dict[str, Any]:
    """The weather in a city (each call needs a person's approval)."""
    RAN.append(city)
    return {"tempC": 25}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(
        request: Annotated[ChatRequest, Depends(chat_request("openai"))],
    ) -> OpenAIStreamResponse:
        async def run(controller: RunController) -> None:
            await run_provider(
                controller,
                request.messages,
                provider="offline",
                tools=[get_weather],
                answers=request.answers,
                pace=0,
            )

        return OpenAIStreamResponse(create_run(run), model=str(request.extra.get("model")))

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


def collect(stream: Any) -> tuple[str, list[dict[str, Any]], str | None]:
    text, calls, finish = "", {}, None
    for chunk in stream:
        for choice in chunk.choices:
            delta = choice.delta
            text += delta.content or ""
            for fragment in delta.tool_calls or ():
                call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
                call["id"] = fragment.id or call["id"]
                if fragment.function is not None:
                    call["name"] += fragment.function.name or ""
                    call["arguments"] += fragment.function.arguments or ""
            finish = choice.finish_reason or finish
    return text, [calls[i] for i in sorted(calls)], finish


@pytest.mark.parametrize("approved", [True, False])
def test_approval_answered_as_a_tool_result(server: LiveServer, approved: bool) -> None:
    RAN.clear()
    client = openai.OpenAI(api_key="sk-test", base_url=server.url("/v1"), max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Lisbon?"}]
    text, calls, finish = collect(
        client.chat.completions.create(model="m", messages=messages, stream=True)
    )
    assert finish == "tool_calls" and RAN == []
    [call] = calls
    assert (call["name"], json.loads(call["arguments"])) == ("get_weather", {"city": "Lisbon"})
    answer = {"approved": True} if approved else {"approved": False, "reason": "too far"}
    messages += [
        {
            "role": "assistant",
            "content": text or None,
            "tool_calls": [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(answer)},
    ]
    text, calls, finish = collect(
        client.chat.completions.create(model="m", messages=messages, stream=True)
    )
    assert finish == "stop" and calls == []
    if approved:
        assert RAN == ["Lisbon"]
        assert text.endswith('The tool returned: {"tempC": 25}')
    else:
        assert RAN == []
        assert text.endswith("The tool returned: The user denied this tool call. Reason: too far")
