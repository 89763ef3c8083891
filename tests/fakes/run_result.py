"""Run a callback and summarise its chunks; check that no secret leaked (for provider tests)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from assistant_stream_ce import RunController, create_run

# A realistic-looking key: the tests check that no fragment of it ever reaches a chunk.
SECRET_KEY = "sk-proj-Zq7XfakeKEY0123456789abcdefSECRETtail42"


@dataclass
class ToolCall:
    name: str
    args: str = ""
    closed: bool = False
    result: Any = None


@dataclass
class RunResult:
    chunks: list[Any]
    error: BaseException | None
    text: str = ""
    reasoning: str = ""
    tool_calls: dict[str, ToolCall] = field(default_factory=dict)
    steps: list[Any] = field(default_factory=list)
    finishes: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)

    def args(self, tool_call_id: str) -> Any:
        return json.loads(self.tool_calls[tool_call_id].args)

    def dump(self) -> str:
        """Every chunk as text (to search for leaked secrets)."""
        return "\n".join(repr(chunk) for chunk in self.chunks)


async def run(callback: Callable[[RunController], Awaitable[Any]], **kwargs: Any) -> RunResult:
    """Run ``callback`` through `create_run` (no coalescing) and collect what it emitted."""
    chunks: list[Any] = []
    error: BaseException | None = None
    try:
        async for chunk in create_run(callback, coalesce=False, **kwargs):
            chunks.append(chunk)
    except Exception as exc:
        error = exc
    result = RunResult(chunks, error)
    for chunk in chunks:
        kind = chunk.type
        if kind == "text-delta":
            result.text += chunk.text_delta
        elif kind == "reasoning-delta":
            result.reasoning += chunk.reasoning_delta
        elif kind == "tool-call-begin":
            result.tool_calls[chunk.tool_call_id] = ToolCall(chunk.tool_name)
        elif kind == "tool-call-delta":
            result.tool_calls[chunk.tool_call_id].args += chunk.args_text_delta
        elif kind == "tool-call-args-text-finish":
            result.tool_calls[chunk.tool_call_id].closed = True
        elif kind == "tool-result":
            result.tool_calls[chunk.tool_call_id].result = chunk.result
        elif kind == "step-start":
            result.steps.append(chunk)
        elif kind == "step-finish":
            result.finishes.append(chunk)
        elif kind == "error":
            result.errors.append(chunk.error)
        elif kind == "source":
            result.sources.append(chunk)
    return result


def assert_no_secret(text: str, secret: str = SECRET_KEY) -> None:
    """No 8-character fragment of ``secret`` appears in ``text``."""
    for start in range(len(secret) - 7):
        fragment = secret[start : start + 8]
        assert fragment not in text, f"secret fragment {fragment!r} leaked"


def parse_data_stream(body: str) -> list[tuple[str, Any]]:
    """The assistant-ui data stream as (code, value) frames (blank keepalive lines skipped)."""
    frames = []
    for line in body.split("\n"):
        if line:
            code, _, payload = line.partition(":")
            frames.append((code, json.loads(payload)))
    return frames
