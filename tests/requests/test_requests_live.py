"""`parse_request` in a real FastAPI app under uvicorn: the `chat_request` dependency, 422s that
name the protocol and field (never a 500), and the official `openai` SDK's own request body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import Depends, FastAPI

from _live import LiveServer
from assistant_stream_ce.requests import ChatRequest, chat_request, parse_request, request_openapi

pytestmark = pytest.mark.http

SEEN: list[ChatRequest] = []
PROTOCOL_NAMES = ("openai", "rais", "ui-message-stream", "assistant-transport", "data-stream")
DEPENDENCIES = {name: Depends(chat_request(name, max_bytes=100_000)) for name in PROTOCOL_NAMES}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/{protocol}")
    async def generic(protocol: str) -> dict[str, Any]:
        return {"protocol": protocol}

    for name in PROTOCOL_NAMES:

        async def route(
            request: ChatRequest = DEPENDENCIES[name],
        ) -> Any:
            SEEN.append(request)
            return {"messages": request.messages, "system": request.system}

        app.add_api_route(f"/parse/{name}", route, methods=["POST"])
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


def test_valid_bodies_are_parsed(server: LiveServer) -> None:
    response = httpx.post(
        server.url("/parse/rais"),
        json={"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"}]},
    )
    assert response.status_code == 200
    assert response.json() == {"messages": [{"role": "user", "content": "Hi"}], "system": "S"}


@pytest.mark.parametrize(
    ("protocol", "content", "field", "status"),
    [
        ("rais", b'{"messages": [{"role": "robot", "content": "x"}]}', "messages[0].role", 422),
        ("openai", b'{"messages": [{"role": "user"}]}', "messages[0].content", 422),
        ("ui-message-stream", b'{"messages": 3}', "messages", 422),
        ("assistant-transport", b'{"commands": [{"type": 1}]}', "commands[0].type", 422),
        ("data-stream", b"{broken", "body", 422),
        ("data-stream", b"[]", "body", 422),
        (
            "rais",
            b'{"messages": [{"role": "user", "content": "' + b"x" * 200_000 + b'"}]}',
            "body",
            413,
        ),
    ],
)
def test_malformed_bodies_are_4xx_naming_protocol_and_field(
    server: LiveServer, protocol: str, content: bytes, field: str, status: int
) -> None:
    response = httpx.post(
        server.url(f"/parse/{protocol}"),
        content=content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == status
    detail = response.json()["detail"]
    assert detail["protocol"] == protocol
    assert detail["field"] == field
    assert detail["type"] == "invalid_request"


def test_the_openai_sdk_request_body_parses() -> None:
    """The body the official SDK sends (captured by a recording server) parses as expected."""
    bodies: list[bytes] = []

    async def record(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        bodies.append(body)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    live = LiveServer(record).start()
    try:
        client = openai.OpenAI(api_key="sk-test", base_url=live.url("/v1"), max_retries=0)
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            stream=True,
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": '{"tempC":18}'},
            ],
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "parameters": {
                            "type": "object",
                            "properties": {"city": {"type": "string"}},
                        },
                    },
                }
            ],
        )
        list(stream)
    finally:
        live.stop()
    request = parse_request(bodies[0], protocol="openai")
    assert request.system == "Be brief."
    assert request.messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    assert [(a.tool_call_id, a.tool_name, a.result) for a in request.answers] == [
        ("call_1", "get_weather", {"tempC": 18})
    ]
    assert request.tools[0].parameters["properties"] == {"city": {"type": "string"}}
    assert request.extra["model"] == "gpt-4o-mini"


def test_openapi_documents_the_request_bodies() -> None:
    app = FastAPI()
    for name in PROTOCOL_NAMES:

        async def route(request: ChatRequest = DEPENDENCIES[name]) -> Any:
            return request.messages

        app.add_api_route(
            f"/parse/{name}", route, methods=["POST"], openapi_extra=request_openapi(name)
        )
    live = LiveServer(app).start()
    try:
        document = httpx.get(live.url("/openapi.json")).json()
    finally:
        live.stop()
    text = json.dumps(document)
    assert "$defs" not in text  # every reference was inlined
    for name in PROTOCOL_NAMES:
        body = document["paths"][f"/parse/{name}"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert body["required"] is True
        key = "commands" if name == "assistant-transport" else "messages"
        assert key in schema["properties"], name
        assert key in schema["required"], name
    ui = document["paths"]["/parse/ui-message-stream"]["post"]["requestBody"]
    ui_schema = ui["content"]["application/json"]["schema"]
    assert ui_schema["properties"]["messages"]["items"]["properties"]["role"]["enum"] == [
        "system",
        "user",
        "assistant",
    ]
