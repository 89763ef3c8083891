"""The real clients against the demo server itself (`assistant_stream_ce.demo.create_app`,
offline model, under uvicorn): npm ``ai`` 5, 6 and 7 chats (``AbstractChat`` +
``DefaultChatTransport``) on the UI message stream, ``@ag-ui/client``'s ``HttpAgent`` on AG-UI,
the official ``openai`` Python SDK on the OpenAI endpoint, and assistant-ui's
``useDataStreamRuntime`` and ``useAssistantTransportRuntime`` on their protocols.

- The booking approval completes through ``ai`` 7's chat (``addToolApprovalResponse``, approve
  and deny) and through ``HttpAgent`` (interrupt, then ``runAgent({resume})``). The demo's
  ``book_table`` ran exactly when approved: its result's reference is the one only that
  function computes (the offline model's own answer would say ``BK-…``).
- The ``get_location`` client tool: the client answers the call (``onToolCall`` +
  ``addToolOutput``; a tool message), the run continues and the model repeats the answer.
- Two turns keep their history: the second request carries the first turn, and the offline
  model, asked "what did I ask before?", repeats the first question and its reply.
- ``useAssistantTransportRuntime`` builds its thread only from the run state (through the app's
  converter): the demo keeps the conversation on the server and ends each run with it as
  ``state.messages``, so the real runtime shows the whole thread.

The harnesses are the interop ones (``node_ui/``, ``node_agui/``, ``node_aui/``); a recording
wrapper notes every request body the demo received.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from test_ag_ui_approvals import resume_agent
from test_ai_sdk_reads_ui_message_stream import NODE_UI, ensure_node_ui
from test_approvals_with_ai_chat import drive as drive_ai_chat
from test_requests_from_assistant_ui import drive as drive_runtime

from _live import LiveServer
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.requests import parse_request

pytestmark = [pytest.mark.interop, pytest.mark.http, pytest.mark.timeout(60)]

BOOKING = "Book a table in Oslo for 3 people at 8pm"
BOOKED = {"city": "Oslo", "people": 3, "time": "8pm"}
WHERE = "Where am I?"
LOCATION = {"city": "Lyon", "country": "France"}
FIRST = "What is the weather in Oslo?"
RECALL = "What did I ask before?"


def booking_reference(city: str, people: int, time: str) -> str:
    """The reference the demo's ``book_table`` gives a booking (and nothing else does)."""
    return hashlib.sha256(f"{city}|{people}|{time}".encode()).hexdigest()[:6].upper()


REFERENCE = booking_reference("Oslo", 3, "8pm")


class RecordingApp:
    """Wraps the demo: notes each POST's path and body once the body has arrived."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.posts: list[tuple[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        pieces: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                pieces.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.posts.append((scope["path"], json.loads(b"".join(pieces))))
            return message

        await self.app(scope, recording_receive, send)

    def bodies(self, path: str) -> list[Any]:
        return [body for posted_to, body in self.posts if posted_to == path]


@pytest.fixture(scope="module")
def recorder() -> RecordingApp:
    return RecordingApp(create_app(DemoConfig(pace=0)))


@pytest.fixture(scope="module")
def demo(recorder: RecordingApp) -> Iterator[LiveServer]:
    live = LiveServer(recorder).start()
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def fresh_record(recorder: RecordingApp) -> None:
    recorder.posts.clear()


def runs(demo: LiveServer) -> list[dict[str, Any]]:
    """The demo's run log, oldest first."""
    recent: list[dict[str, Any]] = httpx.get(demo.url("/api/runs"), timeout=5).json()["runs"]
    return recent[::-1]


def texts(parts: list[dict[str, Any]]) -> list[str]:
    return [p["text"] for p in parts if p["type"] == "text"]


def recall_of(question: str, reply: str) -> str:
    """How the offline model's recall answer begins, given the earlier question and reply."""
    return f"Before this you asked “{question.rstrip('?')}”, and I answered “{reply[:30]}"


# -- approvals ---------------------------------------------------------------------------------

UI_STREAM = "/api/chat/ui-message-stream"


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_ai7_chat_approves_or_denies_a_booking(
    demo: LiveServer, recorder: RecordingApp, decision: str
) -> None:
    before = len(runs(demo))
    result = drive_ai_chat(
        "ai7", demo.url(f"{UI_STREAM}?sdk_version=7"), decision, f"--text={BOOKING}"
    )
    assert result["errors"] == [] and result["error"] is None and result["status"] == "ready"
    # two runs on the demo: the request, then the continuation (how each ended is recorded
    # after its last byte, which the client may see first: not checked)
    assert [r["format"] for r in runs(demo)[before:]] == ["ui-message-stream"] * 2
    first, second = recorder.bodies(UI_STREAM)
    assert first == result["bodies"][0] and second == result["bodies"][1]
    [_user, assistant] = result["messages"]
    assert second["messageId"] == assistant["id"]  # the continued message
    [asked] = [p for p in second["messages"][-1]["parts"] if p["type"] == "tool-book_table"]
    assert asked["state"] == "approval-responded"
    assert asked["approval"]["approved"] is (decision == "approve")
    [part] = [p for p in assistant["parts"] if p["type"] == "tool-book_table"]
    assert part["input"] == BOOKED
    said = texts(assistant["parts"])
    if decision == "approve":
        assert part["state"] == "output-available"
        assert part["output"] == {"booked": True, **BOOKED, "reference": REFERENCE}
        assert said[-1].startswith("The tool returned: ") and REFERENCE in said[-1]
    else:
        assert part["state"] == "output-denied" and "output" not in part
        assert part["approval"] == {
            "id": asked["approval"]["id"],
            "approved": False,
            "reason": "not today",
        }
        assert said[-1] == "The tool returned: The user denied this tool call. Reason: not today"
        assert REFERENCE not in json.dumps(result["messages"])


AG_UI = "/api/chat/ag-ui"


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_http_agent_interrupt_then_resume_books_or_not(
    demo: LiveServer, recorder: RecordingApp, decision: str
) -> None:
    result = resume_agent(
        {
            "url": demo.url(AG_UI),
            "threadId": f"thread-booking-{decision}",
            "messages": [{"id": "u1", "role": "user", "content": BOOKING}],
            "decision": decision,
        }
    )
    assert result["ok"], result["error"]
    assert result["errors"] == [] and result["warnings"] == []
    interrupted, resumed = result["outcomes"]
    assert interrupted["type"] == "interrupt" and resumed["type"] == "success"
    [interrupt] = result["pending"]
    assert interrupt["reason"] == "tool_approval"
    assert recorder.bodies(AG_UI) == result["bodies"]
    resume = result["bodies"][1]["resume"]
    assert [r["interruptId"] for r in resume] == [interrupt["id"]]
    calls = [c for m in result["messages"] for c in m.get("toolCalls") or ()]
    # one call, its arguments whole (the resumed run sends only its result)
    assert [(c["id"], c["function"]["name"]) for c in calls] == [
        (interrupt["toolCallId"], "book_table")
    ]
    assert json.loads(calls[0]["function"]["arguments"]) == BOOKED
    [tool] = [m for m in result["messages"] if m["role"] == "tool"]
    assert tool["toolCallId"] == interrupt["toolCallId"]
    last = result["messages"][-1]
    assert last["role"] == "assistant"
    if decision == "approve":
        assert json.loads(tool["content"]) == {"booked": True, **BOOKED, "reference": REFERENCE}
        assert last["content"].startswith("The tool returned: ") and REFERENCE in last["content"]
    else:
        assert tool["content"] == "The user denied this tool call."
        assert last["content"] == "The tool returned: The user denied this tool call."
        assert REFERENCE not in json.dumps(result["messages"])


# -- the client tool ---------------------------------------------------------------------------


def test_ai7_chat_answers_the_client_tool_and_the_run_continues(
    demo: LiveServer, recorder: RecordingApp
) -> None:
    result = drive_ai_chat(
        "ai7",
        demo.url(f"{UI_STREAM}?sdk_version=7"),
        "approve",  # no approval is asked for
        f"--text={WHERE}",
        f"--tool-output=get_location={json.dumps(LOCATION)}",
    )
    assert result["errors"] == [] and result["error"] is None and result["status"] == "ready"
    [call] = result["toolCalls"]  # what onToolCall was given
    assert (call["toolName"], call["input"]) == ("get_location", {})
    _first, second = recorder.bodies(UI_STREAM)
    [answered] = [p for p in second["messages"][-1]["parts"] if p["type"] == "tool-get_location"]
    assert answered["toolCallId"] == call["toolCallId"]
    assert (answered["state"], answered["output"]) == ("output-available", LOCATION)
    [_user, assistant] = result["messages"]
    assert (
        texts(assistant["parts"])[-1]
        == f"The tool returned: {json.dumps(LOCATION, separators=(',', ':'))}"
    )


GET_LOCATION = {
    "name": "get_location",
    "description": "The user's current location.",
    "parameters": {"type": "object", "properties": {}},
}


def test_http_agent_answers_the_client_tool_and_the_run_continues(
    demo: LiveServer, recorder: RecordingApp
) -> None:
    result = resume_agent(
        {
            "url": demo.url(AG_UI),
            "threadId": "thread-location",
            "messages": [{"id": "u1", "role": "user", "content": WHERE}],
            "tools": [GET_LOCATION],
            "toolResults": {"get_location": json.dumps(LOCATION)},
        }
    )
    assert result["ok"], result["error"]
    assert result["errors"] == [] and result["warnings"] == []
    first, second = recorder.bodies(AG_UI)
    assert first["tools"] == second["tools"] == [GET_LOCATION]
    waiting, finished = result["outcomes"]
    calls = [c for m in result["messages"] for c in m.get("toolCalls") or ()]
    assert [c["function"]["name"] for c in calls] == ["get_location"]
    assert waiting == {"type": "success", "pendingToolCallIds": [calls[0]["id"]]}
    assert finished == {"type": "success"}
    # the answer went back as a tool message and the model repeated it
    [answer] = [m for m in second["messages"] if m["role"] == "tool"]
    assert answer["toolCallId"] == calls[0]["id"] and json.loads(answer["content"]) == LOCATION
    assert result["messages"][-1]["content"] == f"The tool returned: {json.dumps(LOCATION)}"


# -- two turns keep their history --------------------------------------------------------------


@pytest.mark.parametrize("client", ["ai5", "ai6", "ai7"])
def test_ai_chat_two_turns_keep_their_history(
    demo: LiveServer, recorder: RecordingApp, client: str
) -> None:
    node = ensure_node_ui()
    url = demo.url(f"{UI_STREAM}?sdk_version={client[-1]}")
    proc = subprocess.run(
        [node, "ui_client.mjs", client, url, "--chat-only", f"--text={FIRST}", f"--then={RECALL}"],
        cwd=NODE_UI,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    chat = json.loads(proc.stdout)["chat"]
    assert chat["errors"] == [] and chat["error"] is None and chat["status"] == "ready"
    user1, reply1, user2, reply2 = chat["messages"]
    assert (user1["role"], reply1["role"], user2["role"], reply2["role"]) == (
        "user",
        "assistant",
        "user",
        "assistant",
    )
    # the second request carried the first turn as the chat holds it
    _first, second = recorder.bodies(UI_STREAM)
    assert [m["id"] for m in second["messages"]] == [user1["id"], reply1["id"], user2["id"]]
    assert texts(second["messages"][1]["parts"]) == texts(reply1["parts"])
    # …and the model saw it
    [recall] = texts(reply2["parts"])
    assert recall.startswith(recall_of(FIRST, texts(reply1["parts"])[-1]))


def test_http_agent_two_turns_keep_their_history(demo: LiveServer, recorder: RecordingApp) -> None:
    result = resume_agent(
        {
            "url": demo.url(AG_UI),
            "threadId": "thread-two-turns",
            "messages": [{"id": "u1", "role": "user", "content": FIRST}],
            "followUp": RECALL,
        }
    )
    assert result["ok"], result["error"]
    assert result["errors"] == [] and result["warnings"] == []
    assert [o["type"] for o in result["outcomes"]] == ["success", "success"]
    first, second = recorder.bodies(AG_UI)
    replies = [
        m["content"] for m in second["messages"] if m["role"] == "assistant" and m.get("content")
    ]
    # the second run's input: the first turn as the agent holds it, then the new question
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert second["messages"][-1]["content"] == RECALL and replies
    assert second["threadId"] == first["threadId"] == "thread-two-turns"
    assert result["messages"][-1]["content"].startswith(recall_of(FIRST, replies[-1]))


def test_openai_sdk_two_turns_keep_their_history(demo: LiveServer, recorder: RecordingApp) -> None:
    client = openai.OpenAI(
        base_url=demo.url("/api/chat/openai"), api_key="unused", max_retries=0, timeout=30
    )

    def ask(messages: list[ChatCompletionMessageParam]) -> str:
        stream = client.chat.completions.create(
            model="assistant-stream-ce-demo", messages=messages, stream=True
        )
        return "".join(choice.delta.content or "" for chunk in stream for choice in chunk.choices)

    history: list[ChatCompletionMessageParam] = [{"role": "user", "content": FIRST}]
    reply = ask(history)
    assert reply.startswith("Let me check the weather in Oslo. It is ")
    history += [{"role": "assistant", "content": reply}, {"role": "user", "content": RECALL}]
    recall = ask(history)
    path = "/api/chat/openai/chat/completions"
    assert [body["messages"] for body in recorder.bodies(path)] == [history[:1], history]
    assert recall.startswith(recall_of(FIRST, reply))


def test_assistant_ui_data_stream_runtime_keeps_its_history(
    demo: LiveServer, recorder: RecordingApp
) -> None:
    """useDataStreamRuntime: a question the client tool answers, then a second question."""
    path = "/api/chat/data-stream"
    thread = drive_runtime("data-stream", demo.url(path), text=WHERE, answer=LOCATION, then=RECALL)
    assert [m["role"] for m in thread] == ["user", "assistant", "user", "assistant"]
    [call] = [p for p in thread[1]["content"] if p["type"] == "tool-call"]
    assert (call["toolName"], call["result"]) == ("get_location", LOCATION)
    reply = texts(thread[1]["content"])
    assert reply[-1] == f"The tool returned: {json.dumps(LOCATION, separators=(',', ':'))}"
    asked, answered, again = (
        parse_request(body, protocol="data-stream").messages for body in recorder.bodies(path)
    )
    assert asked == [{"role": "user", "content": WHERE}]
    # the answer went back with the first turn; the next question with all of it
    assert answered[0] == asked[0] and answered[2]["role"] == "tool"
    assert json.loads(answered[2]["content"]) == LOCATION
    assert again == [
        *answered,
        {"role": "assistant", "content": reply[-1]},
        {"role": "user", "content": RECALL},
    ]
    [recall] = texts(thread[3]["content"])
    assert recall.startswith(recall_of(WHERE, reply[-1]))


def test_assistant_ui_transport_runtime_keeps_its_history(
    demo: LiveServer, recorder: RecordingApp
) -> None:
    """useAssistantTransportRuntime: the demo keeps the thread on the server and ends each run
    with it as ``state.messages``, which the runtime's converter shows."""
    path = "/api/chat/assistant-transport"
    thread = drive_runtime(
        "assistant-transport", demo.url(path), text=WHERE, answer=LOCATION, then=RECALL
    )
    roles = [m["role"] for m in thread]
    assert roles[:2] == ["user", "assistant"] and roles[-2:] == ["user", "assistant"]
    calls = [p for m in thread for p in m["content"] if p["type"] == "tool-call"]
    assert [(c["toolName"], c["result"]) for c in calls] == [("get_location", LOCATION)]
    said = [text for m in thread if m["role"] == "assistant" for text in texts(m["content"])]
    told = f"The tool returned: {json.dumps(LOCATION)}"  # the answer as the model got it
    assert told in said
    assert said[-1].startswith(recall_of(WHERE, told))
    asked, answered, again = (
        parse_request(body, protocol="assistant-transport") for body in recorder.bodies(path)
    )
    assert asked.messages == [{"role": "user", "content": WHERE}]
    [answer] = answered.answers  # the client's answer, as an add-tool-result command
    assert (answer.tool_name, answer.result) == ("get_location", LOCATION)
    assert again.messages == [{"role": "user", "content": RECALL}]
    assert asked.thread_id == answered.thread_id == again.thread_id
