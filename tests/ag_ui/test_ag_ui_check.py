"""``check --format ag-ui`` passes our streams and fails broken ones on the right item."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.cli import main
from assistant_stream_ce.serialization.ag_ui import AGUIResponse

pytestmark = pytest.mark.http

Start = Callable[[Any], LiveServer]


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)


STARTED = {"type": "RUN_STARTED", "threadId": "t", "runId": "r", "protocolVersion": "1.0"}
FINISHED = {"type": "RUN_FINISHED", "threadId": "t", "runId": "r"}
TEXT = [
    {"type": "TEXT_MESSAGE_START", "messageId": "m", "role": "assistant"},
    {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "Hi"},
    {"type": "TEXT_MESSAGE_END", "messageId": "m"},
]
BROKEN: dict[str, tuple[bytes, str]] = {
    # name: (body, the item that must fail)
    "null-field": (
        sse(STARTED, {**TEXT[0], "name": None}, *TEXT[1:], FINISHED),
        "no-null-fields",
    ),
    "open-at-finish": (sse(STARTED, *TEXT[:2], FINISHED), "closed-before-finish"),
    "content-not-open": (sse(STARTED, TEXT[1], FINISHED), "lifecycle"),
    "no-run-started": (sse(*TEXT, FINISHED), "run-started-first"),
    "two-terminals": (
        sse(STARTED, *TEXT, FINISHED, {"type": "RUN_ERROR", "message": "late"}),
        "termination",
    ),
    "after-end": (sse(STARTED, FINISHED, *TEXT), "nothing-after-end"),
    "replace-missing-key": (
        sse(
            STARTED,
            {"type": "STATE_SNAPSHOT", "snapshot": {"a": 1}},
            {"type": "STATE_DELTA", "delta": [{"op": "replace", "path": "/b", "value": 2}]},
            FINISHED,
        ),
        "json-patch-applies",
    ),
    "unescaped-pointer": (
        sse(
            STARTED,
            {"type": "STATE_DELTA", "delta": [{"op": "add", "path": "a/b", "value": 2}]},
            FINISHED,
        ),
        "json-patch",
    ),
}


def broken_app() -> Starlette:
    async def endpoint(request: Request) -> Response:
        body, _ = BROKEN[request.path_params["name"]]
        return Response(body, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return Starlette(routes=[Route("/{name}", endpoint, methods=["POST"])])


def report(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    code = main(["check", url, "--format", "ag-ui", "--json"])
    results = json.loads(capsys.readouterr().out)["results"]
    return code, {result["id"]: result["status"] for result in results}


@pytest.mark.parametrize("name", list(BROKEN))
def test_check_fails_a_broken_ag_ui_stream_on_the_right_item(
    live_server: Start, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = live_server(broken_app())
    code, statuses = report(server.url(f"/{name}"), capsys)
    assert code == 1
    assert statuses[BROKEN[name][1]] == "fail"


async def state_run(controller: RunController) -> None:
    controller.add_step_start("s1")
    controller.append_text("Saving.")
    controller.state = {"a/b": {"c~d": []}, "log": "", "n": None}
    controller.state["a/b"]["c~d"].append({"x": 1})
    controller.state["a/b"]["c~d"][0]["x"] = 2
    controller.state["log"] += "one;"
    controller.state["new"] = {"deep": True}
    tool = await controller.add_tool_call("noop", "call_1")
    tool.set_response("done")
    controller.add_step_finish("stop", 1, 2)


def test_check_passes_our_stream_with_state_patches(
    live_server: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    async def endpoint(request: Request) -> Response:
        return AGUIResponse(create_run(state_run, state={"keep": 1}), state={"keep": 1})

    server = live_server(Starlette(routes=[Route("/agent", endpoint, methods=["POST"])]))
    code, statuses = report(server.url("/agent"), capsys)
    assert code == 0
    for item in (
        "run-started-first",
        "protocol-version",
        "termination",
        "nothing-after-end",
        "lifecycle",
        "closed-before-finish",
        "tool-call-args",
        "no-null-fields",
        "json-patch",
        "json-patch-applies",
        "no-empty-deltas",
    ):
        assert statuses[item] == "pass", item
