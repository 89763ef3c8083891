"""A small example server: one scripted, offline assistant served in every protocol.

`assistant-stream-ce demo` runs it. ``POST /api/chat/<format>`` with
``{"messages": [{"role": "user", "content": "..."}]}`` where format is ``data-stream``,
``assistant-transport`` or ``openai``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .create_run import RunController, create_run
from .serialization.assistant_transport import AssistantTransportResponse
from .serialization.data_stream import DataStreamResponse
from .serialization.openai_stream import OpenAIStreamResponse

RESPONSES: dict[str, Any] = {
    "data-stream": DataStreamResponse,
    "assistant-transport": AssistantTransportResponse,
    "openai": OpenAIStreamResponse,
}

_INDEX = """<!doctype html><meta charset="utf-8"><title>assistant-stream-ce</title>
<h1>assistant-stream-ce example server</h1>
<p>POST <code>{"messages":[{"role":"user","content":"Hi"}]}</code> to one of:</p>
<ul>{items}</ul>
<pre>curl -N -X POST http://127.0.0.1:8000/api/chat/data-stream \\
  -H 'content-type: application/json' \\
  -d '{"messages":[{"role":"user","content":"Weather in Paris?"}]}'</pre>
"""


def _last_user_text(body: Any) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ValueError("the body must be a JSON object with a 'messages' list")
    for message in reversed(body["messages"]):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError("each message must be an object with a string 'role'")
        if message["role"] == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


async def scripted_reply(controller: RunController, question: str, pace: float = 0.03) -> None:
    """Stream a short reply with reasoning, a tool call, state and a source."""
    controller.add_step_start("step_1")
    for word in f"The user asked: {question!r}. I will look up the weather.".split(" "):
        controller.append_reasoning(word + " ")
        await asyncio.sleep(pace)
    tool = await controller.add_tool_call("get_weather")
    for piece in ('{"city": ', '"Paris"', "}"):
        tool.append_args_text(piece)
        await asyncio.sleep(pace)
    tool.set_response({"tempC": 18, "sky": "cloudy"})
    controller.state = {"lastCity": "Paris", "log": ""}
    controller.add_step_finish("tool-calls", input_tokens=12, output_tokens=20)
    controller.add_step_start("step_2")
    for word in ["It", "is", "18", "°C", "and", "cloudy", "in", "Paris", "right", "now."]:
        controller.append_text(word + " ")
        controller.state["log"] += "."
        await asyncio.sleep(pace)
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_step_finish("stop", input_tokens=40, output_tokens=12)


async def chat(request: Request) -> Response:
    protocol = request.path_params["protocol"]
    response_class = RESPONSES.get(protocol)
    if response_class is None:
        return JSONResponse(
            {"error": f"unknown format {protocol!r}; use one of {sorted(RESPONSES)}"},
            status_code=404,
        )
    try:
        question = _last_user_text(await request.json())
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)

    async def run(controller: RunController) -> None:
        await scripted_reply(controller, question)

    return response_class(create_run(run, state={}))  # type: ignore[no-any-return]


async def index(request: Request) -> Response:
    items = "".join(f"<li><code>/api/chat/{name}</code></li>" for name in RESPONSES)
    return HTMLResponse(_INDEX.replace("{items}", items))


def create_app() -> Starlette:
    """The example application."""
    return Starlette(
        routes=[Route("/", index), Route("/api/chat/{protocol}", chat, methods=["POST"])]
    )
