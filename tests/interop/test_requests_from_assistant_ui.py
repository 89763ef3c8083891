"""The bodies the real assistant-ui runtimes POST, captured live, parse into the expected
`ChatRequest`: ``useAssistantTransportRuntime`` (npm ``@assistant-ui/react``, its
``add-message`` and ``add-tool-result`` commands) and ``useDataStreamRuntime`` (npm
``@assistant-ui/react-data-stream``), pinned in ``node_aui/package.json``.

``node_aui/drive_runtime.mjs`` renders the runtime's hook under ``AssistantRuntimeProvider`` (with
react-test-renderer: no browser), registers a human tool and a system prompt, and sends a user
message. The server (our own response class for the protocol, under uvicorn) answers with a call
to that tool and nothing else; the script answers it with the message part's ``addToolResult``,
which makes the runtime post again; the server then finishes with text. Each body the server
received is parsed with `parse_request` as it arrives (the server's own logic runs on it) and
checked here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.requests import ToolAnswer, ToolDefinition, parse_request
from assistant_stream_ce.serialization.assistant_transport import AssistantTransportResponse
from assistant_stream_ce.serialization.data_stream import DataStreamResponse

pytestmark = [pytest.mark.interop, pytest.mark.http]

NODE_DIR = Path(__file__).resolve().parent / "node_aui"
DRIVER_TIMEOUT_MS = 30_000

QUESTION = "What is the weather where I am?"
SYSTEM = "Answer in one sentence."
ANSWER = {"city": "Paris"}
CALL_ID = "call_location"
CALL_ARGS = '{"reason":"to look up the weather"}'
FINAL_TEXT = "It is 18 °C in Paris."
GET_LOCATION = ToolDefinition(
    name="get_location",
    description="Ask the user where they are.",
    parameters={
        "type": "object",
        "properties": {"reason": {"type": "string"}},
        "required": ["reason"],
    },
)

#: The raw bodies each endpoint received, in order.
BODIES: dict[str, list[bytes]] = {"assistant-transport": [], "data-stream": []}


def asked_call() -> dict[str, Any]:
    """The server's first reply in the OpenAI chat shape: some text and the call it leaves open."""
    return {
        "role": "assistant",
        "content": "Let me ask where you are. ",
        "tool_calls": [
            {
                "id": CALL_ID,
                "type": "function",
                "function": {"name": "get_location", "arguments": CALL_ARGS},
            }
        ],
    }


async def ask_for_location(controller: RunController) -> dict[str, Any]:
    controller.append_text("Let me ask where you are. ")
    call = await controller.add_tool_call("get_location", CALL_ID)
    call.append_args_text(CALL_ARGS)
    call.close()  # no result: the client owes it
    controller.add_step_finish("tool-calls", 12, 7)
    return asked_call()


async def tell_weather(controller: RunController) -> dict[str, Any]:
    controller.append_text(FINAL_TEXT)
    controller.add_step_finish("stop", 20, 6)
    return {"role": "assistant", "content": FINAL_TEXT}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/assistant-transport")
    async def transport(request: Request) -> AssistantTransportResponse:
        raw = await request.body()
        BODIES["assistant-transport"].append(raw)
        chat = parse_request(raw, protocol="assistant-transport")
        # The conversation lives in the state, which the client sends back with each request
        # (its converter shows state.messages): add the new message or the client's answer.
        history: list[dict[str, Any]] = [*chat.state["messages"], *chat.messages]
        history += [
            {
                "role": "tool",
                "tool_call_id": answer.tool_call_id,
                "content": json.dumps(answer.result, separators=(",", ":")),
            }
            for answer in chat.unapplied_answers()
        ]
        reply = tell_weather if chat.answers else ask_for_location

        async def run(controller: RunController) -> None:
            said = await reply(controller)
            controller.state["messages"] = [*history, said]

        return AssistantTransportResponse(create_run(run, state=chat.state))

    @app.post("/data-stream")
    async def data_stream(request: Request) -> DataStreamResponse:
        raw = await request.body()
        BODIES["data-stream"].append(raw)
        chat = parse_request(raw, protocol="data-stream")
        reply = tell_weather if chat.answers else ask_for_location

        async def run(controller: RunController) -> None:
            await reply(controller)

        return DataStreamResponse(create_run(run))

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


def drive(runtime: str, url: str, **options: Any) -> list[dict[str, Any]]:
    """Run the two turns with the real runtime; return the thread it ends with (simplified).
    ``options`` replace the script's ``text`` and ``answer`` or add ``then``."""
    if not (NODE_DIR / "node_modules" / "@assistant-ui" / "react" / "package.json").is_file():
        pytest.fail(f"run `npm ci` in {NODE_DIR} (scripts/test.sh does)")
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` was not found on PATH; the interop tests need Node.js (>= 20)")
    config = {
        "runtime": runtime,
        "url": url,
        "text": QUESTION,
        "answer": ANSWER,
        "timeoutMs": DRIVER_TIMEOUT_MS,
        **options,
    }
    proc = subprocess.run(
        [node, "drive_runtime.mjs", json.dumps(config)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_MS / 1000 + 15,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    assert report["ok"], f"{report['error']}\nthread: {report['thread']}\n{proc.stderr}"
    thread: list[dict[str, Any]] = report["thread"]
    return thread


def tool_parts(thread: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        part for message in thread for part in message["content"] if part["type"] == "tool-call"
    ]


def texts(thread: list[dict[str, Any]]) -> list[str]:
    return [
        part["text"] for message in thread for part in message["content"] if part["type"] == "text"
    ]


def shown_call() -> dict[str, Any]:
    """The server's call as the runtime shows it once answered."""
    return {
        "type": "tool-call",
        "toolCallId": CALL_ID,
        "toolName": "get_location",
        "args": {"reason": "to look up the weather"},
        "result": ANSWER,
    }


def test_assistant_transport_commands(server: LiveServer) -> None:
    bodies = BODIES["assistant-transport"]
    bodies.clear()
    thread = drive("assistant-transport", server.url("/assistant-transport"))
    # the client shows what the server's state holds: the question, the answered call, the reply
    assert [m["role"] for m in thread] == ["user", "assistant", "assistant"]
    assert tool_parts(thread) == [shown_call()]
    assert texts(thread) == [QUESTION, "Let me ask where you are. ", FINAL_TEXT]
    assert len(bodies) == 2

    first = parse_request(bodies[0], protocol="assistant-transport")
    raw_first = json.loads(bodies[0])
    assert [c["type"] for c in raw_first["commands"]] == ["add-message"]
    assert first.messages == [{"role": "user", "content": QUESTION}]
    assert first.answers == []
    assert first.system == SYSTEM
    assert first.tools == [GET_LOCATION]
    assert first.state == {"messages": []}  # the initial state, as the client holds it
    # a new thread: a local placeholder id, kept by the next request
    assert first.thread_id is not None and first.thread_id.startswith("__LOCALID_")
    assert first.extra == {"parentId": None}

    second = parse_request(bodies[1], protocol="assistant-transport")
    raw_second = json.loads(bodies[1])
    assert [c["type"] for c in raw_second["commands"]] == ["add-tool-result"]
    assert second.messages == []  # the history is the server's, sent back as its state
    assert second.answers == [
        ToolAnswer(
            tool_call_id=CALL_ID,
            tool_name="get_location",
            kind="result",
            result=ANSWER,
            is_error=False,
        )
    ]
    assert second.unapplied_answers() == second.answers
    assert second.state == {"messages": [{"role": "user", "content": QUESTION}, asked_call()]}
    assert second.system == SYSTEM
    assert second.tools == [GET_LOCATION]
    assert second.thread_id == first.thread_id
    assert second.extra == {}  # parentId goes with add-message only


def test_data_stream_runtime(server: LiveServer) -> None:
    bodies = BODIES["data-stream"]
    bodies.clear()
    thread = drive("data-stream", server.url("/data-stream"))
    # the local runtime continues the same assistant message after the answer
    assert [m["role"] for m in thread] == ["user", "assistant"]
    assert tool_parts(thread) == [shown_call()]
    assert texts(thread) == [QUESTION, "Let me ask where you are. ", FINAL_TEXT]
    assert len(bodies) == 2

    first = parse_request(bodies[0], protocol="data-stream")
    assert first.messages == [{"role": "user", "content": QUESTION}]
    assert first.answers == []
    assert first.system == SYSTEM
    assert first.tools == [GET_LOCATION]
    assert first.thread_id is not None and first.thread_id.startswith("__LOCALID_")
    assistant_id = first.message_id  # the id the runtime gave the reply it is waiting for
    assert assistant_id == thread[1]["id"]
    assert first.extra == {"parentId": thread[0]["id"], "runConfig": {}}

    second = parse_request(bodies[1], protocol="data-stream")
    # the whole history, with the client's answer as the call's tool message
    assert second.messages == [
        {"role": "user", "content": QUESTION},
        asked_call(),
        {"role": "tool", "tool_call_id": CALL_ID, "content": '{"city":"Paris"}'},
    ]
    assert second.answers == [
        ToolAnswer(
            tool_call_id=CALL_ID,
            tool_name="get_location",
            kind="result",
            result=ANSWER,
            arguments=json.loads(CALL_ARGS),  # from the history's call
        )
    ]
    assert second.unapplied_answers() == []  # already in messages
    assert second.system == SYSTEM
    assert second.tools == [GET_LOCATION]
    assert second.thread_id == first.thread_id
    assert second.message_id == assistant_id  # the same assistant message is continued
    assert second.extra == first.extra
