"""The Anthropic Messages adapter, driven by the official SDK against the fake server."""

from __future__ import annotations

import sys
from typing import Any

import anthropic
import pytest

from assistant_stream_ce import RunController
from assistant_stream_ce.errors import MissingAPIKeyError, ProviderError, ProviderNotInstalledError
from assistant_stream_ce.providers import check_provider, run_provider, stream_anthropic_messages
from fakes.fake_provider import FakeProvider
from fakes.run_result import SECRET_KEY, assert_no_secret, run

pytestmark = pytest.mark.http

HELLO = [{"role": "user", "content": "Hi"}]


async def anthropic_run(fake: FakeProvider, model: str, **kwargs: Any) -> Any:
    async def callback(controller: RunController) -> None:
        options: dict[str, Any] = {"api_key": SECRET_KEY, "base_url": fake.anthropic_base_url}
        options.update(kwargs)
        messages = options.pop("messages", HELLO)
        await run_provider(controller, messages, provider="anthropic", model=model, **options)

    return await run(callback)


async def test_text_step_and_request(fake_provider: FakeProvider) -> None:
    messages = [
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": "Hi"},
    ]
    result = await anthropic_run(fake_provider, "text", messages=messages, system="Be brief.")
    assert result.error is None
    assert result.text == "Hello from the fake model."
    assert [s.message_id for s in result.steps] == ["msg_fake0001"]
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == ("stop", 12, 5)
    [request] = fake_provider.requests
    assert request.path == "/v1/messages"
    assert request.body["system"] == "Be brief.\n\nAnswer in English."
    assert request.body["messages"] == [{"role": "user", "content": "Hi"}]
    assert request.body["max_tokens"] == 1024  # the default
    assert request.body["stream"] is True


async def test_max_tokens_and_thinking_are_passed(fake_provider: FakeProvider) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}

    async def callback(controller: RunController) -> None:
        await stream_anthropic_messages(
            controller,
            HELLO,
            model="reasoning",
            api_key=SECRET_KEY,
            base_url=fake_provider.anthropic_base_url,
            max_tokens=2048,
            thinking=thinking,
        )

    result = await run(callback)
    assert result.reasoning == "The user greets me. I will greet back."
    assert result.text == "Hello from the fake model."
    body = fake_provider.requests[0].body
    assert (body["max_tokens"], body["thinking"]) == (2048, thinking)


async def test_temperature_reaches_the_request_body(fake_provider: FakeProvider) -> None:
    result = await anthropic_run(fake_provider, "text", temperature=0.25)
    assert result.error is None
    assert fake_provider.requests[0].body["temperature"] == 0.25


async def test_two_tool_use_blocks_with_streamed_arguments(fake_provider: FakeProvider) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    result = await anthropic_run(fake_provider, "tools", tools=tools)
    assert result.error is None
    assert result.text == "Let me check."
    assert {i: (c.name, c.closed) for i, c in result.tool_calls.items()} == {
        "call_weather": ("get_weather", True),
        "call_time": ("get_time", True),
    }
    assert result.args("call_weather") == {"city": "Paris"}
    assert result.args("call_time") == {"tz": "Europe/Paris"}
    # Each call's arguments are closed at its content_block_stop, before the next call begins.
    order = [
        (c.type, c.tool_call_id)
        for c in result.chunks
        if c.type in ("tool-call-begin", "tool-call-args-text-finish")
    ]
    assert order == [
        ("tool-call-begin", "call_weather"),
        ("tool-call-args-text-finish", "call_weather"),
        ("tool-call-begin", "call_time"),
        ("tool-call-args-text-finish", "call_time"),
    ]
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == (
        "tool-calls",
        40,
        25,
    )
    assert fake_provider.requests[0].body["tools"] == [
        {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}
    ]


@pytest.mark.parametrize(
    ("scenario", "reason", "usage"),
    [("usage", "length", (21, 7)), ("refusal", "content-filter", (9, 2))],
)
async def test_stop_reason_and_usage(
    fake_provider: FakeProvider, scenario: str, reason: str, usage: tuple[int, int]
) -> None:
    result = await anthropic_run(fake_provider, scenario)
    [finish] = result.finishes
    assert (finish.finish_reason, finish.input_tokens, finish.output_tokens) == (reason, *usage)


async def test_midstream_failure_ends_the_run_with_an_error(fake_provider: FakeProvider) -> None:
    result = await anthropic_run(fake_provider, "midstream-failure", max_retries=0)
    assert result.text == "Hello from"
    assert isinstance(result.error, ProviderError) and result.error.kind == "stream"
    assert result.errors == [str(result.error)]
    assert str(result.error).startswith("Anthropic stream broke off mid-way")


async def test_overloaded_error_event_mid_stream(fake_provider: FakeProvider) -> None:
    result = await anthropic_run(fake_provider, "error-event")
    assert result.text == "Hello"
    assert isinstance(result.error, ProviderError)
    assert (result.error.kind, result.error.status_code) == ("overloaded", None)
    assert result.errors == ["Anthropic is overloaded: Overloaded (try again later)"]


@pytest.mark.parametrize(
    ("scenario", "status", "kind", "expected"),
    [
        (
            "401",
            401,
            "authentication",
            "Anthropic request failed: 401 authentication error: invalid x-api-key "
            "(check the API key)",
        ),
        ("429", 429, "rate_limit", "Anthropic request failed: rate limit (429): This request"),
        ("500", 500, "server", "Anthropic request failed: 500 server error: Internal server error"),
        ("529", 529, "overloaded", "Anthropic is overloaded (529): Overloaded (try again later)"),
        ("overloaded", 529, "overloaded", "Anthropic is overloaded (529)"),
    ],
)
async def test_http_errors_have_helpful_safe_messages(
    fake_provider: FakeProvider, scenario: str, status: int, kind: str, expected: str
) -> None:
    result = await anthropic_run(fake_provider, scenario, max_retries=0)
    error = result.error
    assert isinstance(error, ProviderError)
    assert (error.provider, error.status_code, error.kind) == ("anthropic", status, kind)
    assert str(error).startswith(expected)
    assert [c.type for c in result.chunks] == ["error"]
    assert_no_secret(result.dump() + str(error))


@pytest.mark.parametrize("source", ["argument", "environment"])
async def test_echoed_key_never_reaches_a_chunk(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_provider.anthropic_base_url)
    if source == "environment":
        monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET_KEY)
        key = None
    else:
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        key = SECRET_KEY

    async def callback(controller: RunController) -> None:
        await run_provider(controller, HELLO, provider="anthropic", api_key=key, model="echo-key")

    result = await run(callback)
    [request] = fake_provider.requests
    assert SECRET_KEY in request.headers.get("x-api-key", "") + request.headers.get(
        "authorization", ""
    )
    assert isinstance(result.error, ProviderError) and result.error.status_code == 401
    assert "[redacted]" in str(result.error)
    assert_no_secret(result.dump() + str(result.error))


async def test_conversation_is_converted_for_the_messages_api(fake_provider: FakeProvider) -> None:
    messages = [
        {"role": "user", "content": "Weather in Oslo and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"city":"Oslo"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "3 C"},
        {"role": "tool", "tool_call_id": "c2", "content": "19 C"},
        {"role": "user", "content": [{"type": "text", "text": "Thanks!"}]},
    ]
    result = await anthropic_run(fake_provider, "text", messages=messages)
    assert result.error is None
    assert fake_provider.requests[0].body["messages"] == [
        {"role": "user", "content": "Weather in Oslo and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "c1", "name": "w", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "c2", "name": "w", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "3 C"},
                {"type": "tool_result", "tool_use_id": "c2", "content": "19 C"},
                {"type": "text", "text": "Thanks!"},
            ],
        },
    ]


async def test_a_given_client_is_used_and_left_open(fake_provider: FakeProvider) -> None:
    client = anthropic.AsyncAnthropic(base_url=fake_provider.anthropic_base_url, api_key="k-1")

    async def callback(controller: RunController) -> None:
        await run_provider(controller, HELLO, provider="anthropic", model="text", client=client)

    result = await run(callback)
    assert result.text == "Hello from the fake model."
    assert not client.is_closed()
    await client.close()


def test_check_provider_reports_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        check_provider("anthropic")
    check_provider("anthropic", api_key="k")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    check_provider("anthropic")
    check_provider("offline")
    monkeypatch.setitem(sys.modules, "anthropic", None)
    with pytest.raises(ProviderNotInstalledError, match=r"assistant-stream-ce\[anthropic\]"):
        check_provider("anthropic", api_key="k")


async def test_tool_use_edge_cases(fake_provider: FakeProvider) -> None:
    """Arguments in one fragment after the empty one; a block with no argument text."""
    result = await anthropic_run(fake_provider, "tools-edge")
    assert result.error is None
    assert result.args("call_a") == {"q": "paris"}
    assert result.args("call_b") == {}
    assert all(call.closed for call in result.tool_calls.values())


async def test_error_event_in_the_middle_of_tool_arguments(fake_provider: FakeProvider) -> None:
    result = await anthropic_run(fake_provider, "tools-error")
    assert isinstance(result.error, ProviderError) and result.error.kind == "server"
    assert (
        str(result.error) == "Anthropic reported an error mid-stream (server error): Internal error"
    )
    call = result.tool_calls["call_a"]
    assert (call.args, call.closed) == ('{"q": "pa', False)


async def test_arguments_split_at_every_character_arrive_whole(fake_provider: FakeProvider) -> None:
    """One ``input_json_delta`` per character after a leading empty one: no fragment is
    parsed on its own, and each call ends with its complete, valid JSON."""
    result = await anthropic_run(fake_provider, "tools-bytewise")
    assert result.error is None
    assert result.args("call_weather") == {"city": "Paris"}
    assert result.args("call_time") == {"tz": "Europe/Paris"}
    deltas = [c for c in result.chunks if c.type == "tool-call-delta"]
    assert len(deltas) == len('{"city": "Paris"}') + len('{"tz": "Europe/Paris"}')
    assert all(c.args_text_delta for c in deltas)  # the empty first fragment is not emitted
