"""The OpenAI Chat Completions adapter, driven by the official SDK against the fake server."""

from __future__ import annotations

import socket
import sys
from typing import Any

import httpx
import openai
import pytest

from assistant_stream_ce import RunController
from assistant_stream_ce.errors import (
    InvalidMessagesError,
    MissingAPIKeyError,
    ProviderError,
    ProviderNotInstalledError,
    UnknownProviderError,
)
from assistant_stream_ce.providers import run_provider, stream_openai_chat
from assistant_stream_ce.providers.openai_chat import _request_params
from assistant_stream_ce.redaction import redact
from fakes.fake_provider import FakeProvider
from fakes.run_result import SECRET_KEY, assert_no_secret, run

pytestmark = pytest.mark.http

HELLO = [{"role": "user", "content": "Hi"}]


async def openai_run(fake: FakeProvider, model: str, **kwargs: Any) -> Any:
    async def callback(controller: RunController) -> None:
        options: dict[str, Any] = {"api_key": SECRET_KEY, "base_url": fake.openai_base_url}
        options.update(kwargs)
        messages = options.pop("messages", HELLO)
        await run_provider(controller, messages, provider="openai", model=model, **options)

    return await run(callback)


async def test_text_step_and_request(fake_provider: FakeProvider) -> None:
    result = await openai_run(fake_provider, "text", system="Be brief.", max_tokens=50)
    assert result.error is None
    assert result.text == "Hello from the fake model."
    assert [s.message_id for s in result.steps] == ["chatcmpl-fake0001"]
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == ("stop", 12, 5)
    [request] = fake_provider.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["max_tokens"] == 50
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize("scenario", ["reasoning", "reasoning-field", "reasoning-both"])
async def test_reasoning_from_either_field_taken_once(
    fake_provider: FakeProvider, scenario: str
) -> None:
    result = await openai_run(fake_provider, scenario)
    assert result.error is None
    assert result.reasoning == "The user greets me. I will greet back."
    assert result.text == "Hello from the fake model."
    kinds = [c.type for c in result.chunks if c.type in ("reasoning-delta", "text-delta")]
    assert kinds.index("text-delta") > max(i for i, k in enumerate(kinds) if k == "reasoning-delta")


async def test_parallel_tool_calls_with_streamed_arguments(fake_provider: FakeProvider) -> None:
    tools = [
        {"name": "get_weather", "parameters": {"type": "object"}},
        {"type": "function", "function": {"name": "get_time"}},
    ]
    result = await openai_run(fake_provider, "tools", tools=tools)
    assert result.error is None
    assert result.text == "Let me check."
    assert {i: (c.name, c.closed) for i, c in result.tool_calls.items()} == {
        "call_weather": ("get_weather", True),
        "call_time": ("get_time", True),
    }
    assert result.args("call_weather") == {"city": "Paris"}
    assert result.args("call_time") == {"tz": "Europe/Paris"}
    # The two calls' argument deltas arrived interleaved, each routed by index.
    arg_owners = [c.tool_call_id for c in result.chunks if c.type == "tool-call-delta"]
    assert arg_owners[:4] == ["call_weather", "call_time", "call_weather", "call_time"]
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == (
        "tool-calls",
        40,
        25,
    )
    sent = fake_provider.requests[0].body["tools"]
    assert sent == [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "get_time"}},
    ]


@pytest.mark.parametrize(
    ("scenario", "reason", "usage"),
    [
        ("usage", "length", (21, 7)),
        ("refusal", "content-filter", (9, 2)),
        ("text", "stop", (12, 5)),
    ],
)
async def test_finish_reason_and_usage(
    fake_provider: FakeProvider, scenario: str, reason: str, usage: tuple[int, int]
) -> None:
    result = await openai_run(fake_provider, scenario)
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == (reason, *usage)


async def test_stream_options_none_drops_the_usage_request(fake_provider: FakeProvider) -> None:
    result = await openai_run(fake_provider, "text", stream_options=None)
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == ("stop", 0, 0)
    assert "stream_options" not in fake_provider.requests[0].body


async def test_midstream_failure_ends_the_run_with_an_error(fake_provider: FakeProvider) -> None:
    result = await openai_run(fake_provider, "midstream-failure", max_retries=0)
    assert result.text == "Hello from"
    assert isinstance(result.error, ProviderError)
    assert result.error.kind == "stream"
    assert result.errors == [str(result.error)]
    assert "OpenAI stream broke off mid-way" in result.errors[0]
    assert result.finishes == []


async def test_in_band_error_event(fake_provider: FakeProvider) -> None:
    result = await openai_run(fake_provider, "error-event")
    assert result.text == "Hello from"
    assert isinstance(result.error, ProviderError)
    assert result.error.kind == "server"
    assert result.errors == [
        "OpenAI reported an error mid-stream (server error): "
        "The server had an error while processing your request."
    ]


@pytest.mark.parametrize(
    ("scenario", "status", "kind", "expected"),
    [
        (
            "401",
            401,
            "authentication",
            "OpenAI request failed: 401 authentication error: Incorrect API key provided: ",
        ),
        ("429", 429, "rate_limit", "OpenAI request failed: rate limit (429): Rate limit reached"),
        ("500", 500, "server", "OpenAI request failed: 500 server error: The server had an error"),
        (
            "529",
            503,
            "overloaded",
            "OpenAI is overloaded (503): The engine is currently overloaded",
        ),
    ],
)
async def test_http_errors_have_helpful_safe_messages(
    fake_provider: FakeProvider, scenario: str, status: int, kind: str, expected: str
) -> None:
    result = await openai_run(fake_provider, scenario, max_retries=0)
    error = result.error
    assert isinstance(error, ProviderError)
    assert (error.provider, error.status_code, error.kind) == ("openai", status, kind)
    assert str(error).startswith(expected)
    assert result.errors == [str(error)]
    assert result.chunks[-1].type == "error" and len(result.chunks) == 1
    assert_no_secret(result.dump() + str(error))


async def test_sdk_retries_retryable_errors_by_default(fake_provider: FakeProvider) -> None:
    result = await openai_run(fake_provider, "429")
    assert isinstance(result.error, ProviderError) and result.error.kind == "rate_limit"
    assert len(fake_provider.requests) == 3  # the SDK's two retries, honouring retry-after-ms


async def test_echoed_key_given_by_argument_never_reaches_a_chunk(
    fake_provider: FakeProvider,
) -> None:
    result = await openai_run(fake_provider, "echo-key")
    assert isinstance(result.error, ProviderError)
    assert str(result.error).startswith("OpenAI request failed: 401 authentication error:")
    assert "[redacted]" in str(result.error)
    assert_no_secret(result.dump() + str(result.error) + repr(result.error.__dict__))
    assert result.error.__cause__ is None and result.error.__suppress_context__


async def test_echoed_key_from_the_environment_never_reaches_a_chunk(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.openai_base_url)

    async def callback(controller: RunController) -> None:
        await run_provider(controller, HELLO, provider="openai", model="echo-key")

    result = await run(callback)
    [request] = fake_provider.requests  # base_url and key both came from the environment
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert isinstance(result.error, ProviderError) and result.error.status_code == 401
    assert_no_secret(result.dump() + str(result.error))


async def test_connection_failure_names_the_server_not_the_key() -> None:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # nothing listens here once the socket is closed
        # A port sharing four digits in a row with the test key ("…0123456789…") is redacted
        # as a possible fragment of it, by design: take one that is not.
        if redact(str(port), [SECRET_KEY]) == str(port):
            break
    base_url = f"http://user:pw@127.0.0.1:{port}/v1"

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            HELLO,
            provider="openai",
            api_key=SECRET_KEY,
            base_url=base_url,
            max_retries=0,
        )

    result = await run(callback)
    assert isinstance(result.error, ProviderError)
    assert result.error.kind == "connection"
    assert str(result.error).startswith(
        f"Could not connect to OpenAI at http://127.0.0.1:{port}/v1"
    )
    assert "pw" not in str(result.error)


async def test_a_given_client_is_used_and_left_open(fake_provider: FakeProvider) -> None:
    client = openai.AsyncOpenAI(base_url=fake_provider.openai_base_url, api_key=SECRET_KEY)

    async def callback(controller: RunController) -> None:
        await stream_openai_chat(controller, HELLO, model="text", client=client, temperature=0.5)

    result = await run(callback)
    assert result.text == "Hello from the fake model."
    assert fake_provider.requests[0].body["temperature"] == 0.5
    assert not client.is_closed()
    await client.close()


async def test_config_errors_are_raised_before_any_request(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    async def attempt(**kwargs: Any) -> BaseException | None:
        async def callback(controller: RunController) -> None:
            options: dict[str, Any] = {
                "provider": "openai",
                "base_url": fake_provider.openai_base_url,
            }
            options.update(kwargs)
            messages = options.pop("messages", HELLO)
            await run_provider(controller, messages, **options)

        return (await run(callback)).error

    error = await attempt()
    assert isinstance(error, MissingAPIKeyError) and "OPENAI_API_KEY" in str(error)
    error = await attempt(provider="gemini", api_key="x")
    assert isinstance(error, UnknownProviderError) and "'gemini'" in str(error)
    error = await attempt(api_key="k", messages=[{"role": "robot", "content": "hi"}])
    assert isinstance(error, InvalidMessagesError) and "messages[0].role 'robot'" in str(error)
    monkeypatch.setitem(sys.modules, "openai", None)  # as if the SDK were not installed
    error = await attempt(api_key="k")
    assert isinstance(error, ProviderNotInstalledError)
    assert 'pip install "assistant-stream-ce[openai]"' in str(error)
    assert fake_provider.requests == []


async def test_conversation_with_tool_calls_is_sent_in_openai_shape(
    fake_provider: FakeProvider,
) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"tempC": 3}'},
    ]
    result = await openai_run(fake_provider, "text", messages=messages)
    assert result.error is None
    sent = fake_provider.requests[0].body["messages"]
    assert sent[1]["tool_calls"] == [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    ]
    assert sent[2] == {"role": "tool", "tool_call_id": "c1", "content": '{"tempC": 3}'}


async def test_tool_call_edge_cases(fake_provider: FakeProvider) -> None:
    """Whole arguments in one fragment; a second call reusing index 0; a call without args."""
    result = await openai_run(fake_provider, "tools-edge")
    assert result.error is None
    assert {i: (c.name, c.closed) for i, c in result.tool_calls.items()} == {
        "call_a": ("lookup", True),
        "call_b": ("now", True),
    }
    assert result.args("call_a") == {"q": "paris"}
    assert result.args("call_b") == {}  # no argument text means an empty object
    assert [f.finish_reason for f in result.finishes] == ["tool-calls"]


async def test_failure_in_the_middle_of_tool_arguments(fake_provider: FakeProvider) -> None:
    result = await openai_run(fake_provider, "tools-error", max_retries=0)
    assert isinstance(result.error, ProviderError) and result.error.kind == "stream"
    call = result.tool_calls["call_a"]
    assert (call.name, call.args, call.closed) == ("lookup", '{"q": "pa', False)
    assert result.chunks[-1].type == "error"


def test_max_tokens_field_depends_on_the_server() -> None:
    class Client:
        def __init__(self, url: str) -> None:
            self.base_url = httpx.URL(url)

    def params(url: str) -> dict[str, Any]:
        return _request_params(
            "m",
            [],
            client=Client(url),
            max_tokens=9,
            temperature=None,
            tools=None,
            create_kwargs={"seed": 1},
        )

    official = params("https://api.openai.com/v1/")
    assert official["max_completion_tokens"] == 9 and "max_tokens" not in official
    local = params("http://127.0.0.1:8000/v1/")
    assert local["max_tokens"] == 9 and local["seed"] == 1 and local["stream"] is True


async def test_interleaved_arguments_split_at_every_character(fake_provider: FakeProvider) -> None:
    """Two parallel calls whose fragments (no ids after the first) alternate one character at a
    time: every character lands on the call of its ``index``."""
    result = await openai_run(fake_provider, "tools-bytewise")
    assert result.error is None
    assert result.args("call_weather") == {"city": "Paris"}
    assert result.args("call_time") == {"tz": "Europe/Paris"}
    assert all(call.closed for call in result.tool_calls.values())
