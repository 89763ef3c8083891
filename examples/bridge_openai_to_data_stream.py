"""Bridge: read an upstream OpenAI-compatible stream, serve it to assistant-ui as a data stream.

    UPSTREAM_URL=http://127.0.0.1:8001/v1/chat/completions \\
        uvicorn examples.bridge_openai_to_data_stream:app --port 8000

Point assistant-ui's ``useDataStreamRuntime({api: "http://127.0.0.1:8000/api/chat"})`` at it.
Text, reasoning (``reasoning_content`` / ``reasoning``), tool calls, the finish reason, usage and
in-band errors of the upstream stream all reach the frontend.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from assistant_stream_ce import AssistantStreamChunk
from assistant_stream_ce.serialization.data_stream import DataStreamResponse
from assistant_stream_ce.serialization.openai_stream import OpenAIStreamDecoder


async def upstream_chunks(url: str, payload: dict[str, Any]) -> AsyncIterator[AssistantStreamChunk]:
    """POST ``payload`` to an OpenAI-compatible endpoint and yield its stream as chunks."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client,
        client.stream("POST", url, json=payload) as response,
    ):
        response.raise_for_status()
        async for chunk in OpenAIStreamDecoder().decode_stream(response.aiter_bytes()):
            yield chunk


def make_app(upstream_url: str, model: str = "gpt-4o-mini") -> Starlette:
    """An app with ``POST /api/chat`` that forwards ``messages`` to the upstream model."""

    async def chat(request: Request) -> DataStreamResponse:
        body = await request.json()
        payload = {
            "model": body.get("model", model),
            "messages": body.get("messages", []),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        return DataStreamResponse(upstream_chunks(upstream_url, payload))

    return Starlette(routes=[Route("/api/chat", chat, methods=["POST"])])


app = make_app(os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8001/v1/chat/completions"))
