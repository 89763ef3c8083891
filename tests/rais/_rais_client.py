"""RAIS readers for tests: the reference client's parsing, and a strict framing check."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from assistant_stream_ce import RunController

_ID_LINE = re.compile(r"id: (\d+)")


def reference_events(body: bytes | str) -> list[Any]:
    """Events as react-ai-stream's ``parseSSE`` reads them (split on LF LF, ``data: `` lines)."""
    text = body.decode() if isinstance(body, bytes) else body
    events: list[Any] = []
    for part in text.split("\n\n")[:-1]:
        for line in part.split("\n"):
            if line.startswith("data: "):
                events.append(json.loads(line[6:].strip()))
    return events


def strict_events(body: bytes | str, *, ids: bool) -> list[dict[str, Any]]:
    """Parse our output strictly: LF only, comment blocks or ``[id: n LF] data: <json>`` blocks.

    Checks ids count up from 1 when ``ids`` is set (and are absent otherwise).
    """
    text = body.decode() if isinstance(body, bytes) else body
    assert "\r" not in text
    assert text.endswith("\n\n"), f"body does not end with a blank line: {text[-40:]!r}"
    events: list[dict[str, Any]] = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith(":") for line in lines):
            continue
        if ids:
            assert len(lines) == 2, f"expected 'id:' + 'data:' lines: {block!r}"
            match = _ID_LINE.fullmatch(lines[0])
            assert match is not None, block
            assert int(match.group(1)) == len(events) + 1
            lines = lines[1:]
        assert len(lines) == 1, f"one data line per event: {block!r}"
        assert lines[0].startswith("data: "), block
        event = json.loads(lines[0][6:])
        assert isinstance(event, dict)
        events.append(event)
    return events


def assert_v1_lifecycle(events: list[dict[str, Any]]) -> None:
    """RAIS v1: text* then exactly one terminal (done or error) event, last; no other types."""
    assert events, "no events"
    *body, last = events
    assert last["type"] in ("done", "error")
    for event in body:
        assert event["type"] == "text", event
        assert isinstance(event["text"], str) and event["text"]
    if last["type"] == "error":
        assert isinstance(last["error"], str) and last["error"]
        assert set(last) == {"type", "error"}
    else:
        assert last == {"type": "done"}


async def weather_run(controller: RunController) -> None:
    """The shared scenario: reasoning, a tool call with its result, two steps of text."""
    controller.append_reasoning("The user wants the weather. ")
    controller.append_reasoning("I will call the tool.")
    controller.append_text("Let me check.")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    await asyncio.sleep(0)
    tool.append_args_text('"Paris"}')
    await asyncio.sleep(0)
    tool.set_response({"tempC": 18, "sky": "cloudy"})
    controller.state["lastCity"] = "Paris"
    controller.add_source("src_1", "https://weather.example/paris", "Forecast")
    controller.add_step_finish("tool-calls", 12, 30)
    controller.append_text("It is 18 C and cloudy in Paris.")
    controller.add_step_finish("stop", 40, 12)
