"""`assistant_stream_ce.testing`: a real server for users' own endpoint tests, and its readers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from starlette.responses import Response, StreamingResponse

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.errors import DecodeError
from assistant_stream_ce.serialization import PROTOCOLS
from assistant_stream_ce.testing import (
    LiveServer,
    afetch_stream,
    assert_conforms,
    fetch_stream,
    serve,
)

pytestmark = pytest.mark.http


async def weather(controller: RunController) -> None:
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city": "Paris"}')
    tool.set_response({"tempC": 18})
    controller.append_text("It is 18 °C ")
    controller.append_text("in Paris.")


async def forever(controller: RunController) -> None:
    await asyncio.Event().wait()


#: Set (from the server's thread) when a `slow` run saw its client go away.
SLOW_RUN_CANCELLED = threading.Event()


async def slow(controller: RunController) -> None:
    for i in range(250):  # 5 s, unless the client leaves
        if controller.is_cancelled:
            SLOW_RUN_CANCELLED.set()
            return
        controller.append_text(f"tok{i} ")
        await asyncio.sleep(0.02)


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat/{protocol}")
    async def chat(protocol: str, body: dict[str, Any]) -> Any:
        if not body.get("messages"):
            raise HTTPException(422, "messages must not be empty")
        return PROTOCOLS[protocol].response(create_run(weather, state={}))

    @app.get("/resume/{chat_id}")
    async def resume(chat_id: str) -> Any:
        if chat_id != "active":
            return Response(status_code=204)  # nothing to resume
        return PROTOCOLS["ui-message-stream"].response(create_run(weather, state={}))

    @app.post("/slow")
    async def slow_route() -> Any:
        return PROTOCOLS["ag-ui"].response(create_run(slow))

    @app.post("/endless")
    async def endless() -> Any:
        return PROTOCOLS["data-stream"].response(create_run(forever), heartbeat=0.05)

    @app.post("/garbage")
    async def garbage() -> Any:
        async def body() -> AsyncIterator[bytes]:
            yield b'0:"fine"\n'
            yield b"0:not json\n"

        return StreamingResponse(body(), media_type="text/plain")

    @app.post("/bad-sse")
    async def bad_sse() -> Any:
        async def body() -> AsyncIterator[bytes]:
            yield b"data: {not json\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def server() -> Any:
    with serve(make_app()) as live:
        yield live


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_fetch_stream_decodes_every_protocol(server: LiveServer, protocol: str) -> None:
    result = fetch_stream(server.url(f"/chat/{protocol}"), protocol=protocol)

    assert result.status_code == 200
    assert result.message.text == "It is 18 °C in Paris."
    if "tool-results" in PROTOCOLS[protocol].carries:
        (call,) = result.message.tool_calls
        assert (call.tool_name, call.args, call.result) == (
            "get_weather",
            {"city": "Paris"},
            {"tempC": 18},
        )
    else:  # RAIS v1 carries text only; the OpenAI stream leaves out calls the server answered
        assert result.message.tool_calls == []
    assert result.chunks and result.body
    assert result.headers["content-type"].startswith(PROTOCOLS[protocol].media_type)


async def test_afetch_stream_reads_from_an_async_test(server: LiveServer) -> None:
    url = server.url("/chat/ui-message-stream")
    result = await afetch_stream(url, protocol="ui-message-stream")

    assert result.message.text == "It is 18 °C in Paris."
    assert [call.tool_call_id for call in result.message.tool_calls] == ["call_1"]


@pytest.mark.parametrize("fetch", ["sync", "async"])
def test_an_error_reply_keeps_its_status_and_body(server: LiveServer, fetch: str) -> None:
    url, body = server.url("/chat/data-stream"), {"messages": []}
    if fetch == "sync":
        result = fetch_stream(url, protocol="data-stream", json=body)
    else:
        result = asyncio.run(afetch_stream(url, protocol="data-stream", json=body))

    assert result.status_code == 422
    assert result.json() == {"detail": "messages must not be empty"}
    assert result.chunks == [] and result.message.text == ""


@pytest.mark.parametrize("fetch", ["sync", "async"])
def test_a_resume_endpoint_is_read_with_get(server: LiveServer, fetch: str) -> None:
    def get(chat_id: str) -> Any:
        url = server.url(f"/resume/{chat_id}")
        if fetch == "sync":
            return fetch_stream(url, protocol="ui-message-stream", method="get")
        return asyncio.run(afetch_stream(url, protocol="ui-message-stream", method="GET"))

    assert get("active").message.text == "It is 18 °C in Paris."
    nothing = get("done")
    assert (nothing.status_code, nothing.chunks, nothing.body) == (204, [], b"")


def test_a_frame_the_decoder_cannot_read_fails_unless_lenient(server: LiveServer) -> None:
    with pytest.raises(DecodeError, match="line 2"):
        fetch_stream(server.url("/garbage"), protocol="data-stream")

    lenient = fetch_stream(server.url("/garbage"), protocol="data-stream", strict=False)
    assert lenient.message.text == "fine"


@pytest.mark.parametrize("fetch", ["sync", "async"])
def test_a_stream_that_never_ends_times_out(server: LiveServer, fetch: str) -> None:
    url = server.url("/endless")  # keepalives every 50 ms: no single read ever times out
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not end within 0\.3 s"):
        if fetch == "sync":
            fetch_stream(url, protocol="data-stream", max_time=0.3)
        else:
            asyncio.run(afetch_stream(url, protocol="data-stream", max_time=0.3))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("fetch", ["sync", "async"])
def test_stop_after_hangs_up_mid_stream_and_the_run_sees_it(server: LiveServer, fetch: str) -> None:
    SLOW_RUN_CANCELLED.clear()
    url, started = server.url("/slow"), time.monotonic()
    if fetch == "sync":
        result = fetch_stream(url, protocol="ag-ui", stop_after=4)
    else:
        result = asyncio.run(afetch_stream(url, protocol="ag-ui", stop_after=4))

    assert result.aborted and len(result.chunks) >= 4
    assert result.message.text.startswith("tok0 ")
    assert SLOW_RUN_CANCELLED.wait(5), "the run never saw its client go away"
    assert time.monotonic() - started < 4  # well before the run's 5 s


def test_a_stream_read_to_its_end_is_not_aborted(server: LiveServer) -> None:
    result = fetch_stream(server.url("/chat/ag-ui"), protocol="ag-ui", stop_after=10_000)
    assert not result.aborted and result.message.text == "It is 18 °C in Paris."


def test_an_unknown_protocol_fails_before_any_request(server: LiveServer) -> None:
    with pytest.raises(ValueError, match="unknown protocol 'data_stream'"):
        fetch_stream(server.url("/chat/data-stream"), protocol="data_stream")


@pytest.mark.parametrize("protocol", ["data-stream", "ui-message-stream", "ag-ui"])
def test_our_responses_conform(server: LiveServer, protocol: str) -> None:
    assert_conforms(server.url(f"/chat/{protocol}"), protocol=protocol)


def test_a_broken_endpoint_does_not_conform(server: LiveServer) -> None:
    with pytest.raises(AssertionError, match=r"MUST check\(s\) failed") as failure:
        assert_conforms(server.url("/bad-sse"), protocol="ag-ui")
    assert "- valid-json: every frame's payload is valid JSON" in str(failure.value)


def test_an_unreachable_endpoint_is_named(server: LiveServer) -> None:
    with serve(make_app()) as other:
        url = other.url("/chat/data-stream")
    with pytest.raises(AssertionError, match="could not reach"):
        assert_conforms(url, protocol="data-stream", timeout=2)


def test_the_server_stops_with_its_block() -> None:
    with serve(make_app(), lifespan="off") as live:
        assert live.url("") == live.base_url == f"http://127.0.0.1:{live.port}"
        url = live.url("chat/data-stream")  # a path without its leading slash still works
        assert fetch_stream(url, protocol="data-stream").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json={"messages": [{"role": "user", "content": "Hi"}]}, timeout=2)


def test_a_server_that_fails_to_start_says_so() -> None:
    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with (
        pytest.raises(RuntimeError, match="stopped while starting"),
        serve(FastAPI(lifespan=broken), lifespan="on"),
    ):
        pass
