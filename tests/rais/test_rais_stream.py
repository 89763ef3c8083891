"""`rais_event`, `stream_response` and `stream_run` as plain async generators."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import pytest
from _rais_client import assert_v1_lifecycle, strict_events, weather_run
from _rais_upstream import FakeUpstream

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.rais import GENERIC_ERROR
from rais import rais_event, stream_response, stream_run

HI = [{"role": "user", "content": "Hi"}]
KEY = "sk-arg-Zq81Xw72Vb63Nm54"


async def events(generator: Any) -> list[dict[str, Any]]:
    return strict_events("".join([piece async for piece in generator]), ids=False)


async def pieces(generator: Any) -> list[str]:
    return [piece async for piece in generator]


def test_rais_event_is_byte_identical_to_the_seed() -> None:
    assert rais_event({"type": "text", "text": "Hello"}) == (
        'data: {"type": "text", "text": "Hello"}\n\n'
    )
    assert rais_event({"type": "done"}) == 'data: {"type": "done"}\n\n'
    data = {"type": "text", "text": "é 🌍 \u2028 \n"}
    assert rais_event(data) == "data: " + json.dumps(data) + "\n\n"
    assert "\n" not in rais_event(data)[:-2]


async def test_the_offline_provider_streams_text_then_done() -> None:
    out = await events(
        stream_response([{"role": "user", "content": "Weather in Paris?"}], provider="offline")
    )
    assert_v1_lifecycle(out)
    assert len(out) > 2 and "Paris" in "".join(e.get("text", "") for e in out)


async def test_each_event_is_its_own_string() -> None:
    out = await pieces(stream_response(HI, provider="offline", pace=0))
    assert all(piece.startswith("data: {") and piece.count("\n\n") == 1 for piece in out)
    assert out[-1] == 'data: {"type":"done"}\n\n'


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": "Hi"}, "messages must be a list"),
        ({"messages": None}, "messages must be a list"),
        ({"messages": []}, "must not be empty"),
        ({"messages": [{"content": "x"}]}, "messages[0].role must be a string"),
        ({"messages": [{"role": 1, "content": "x"}]}, "messages[0].role must be a string"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"role": "assistant"}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "'robot' is not one of"),
        ({"messages": ["hello"]}, "messages[0] must be an object"),
        ({"messages": HI, "provider": "gemini"}, "unknown provider 'gemini'"),
        ({"messages": HI, "provider": "openai"}, "OPENAI_API_KEY"),
        ({"messages": HI, "provider": "anthropic"}, "ANTHROPIC_API_KEY"),
        ({"messages": HI, "extensions": ["sources"]}, "unknown RAIS extension"),
        ({"messages": HI, "heartbeat": -1}, "heartbeat"),
    ],
)
async def test_bad_input_gives_exactly_one_clear_error_event(
    kwargs: dict[str, Any], message: str
) -> None:
    kwargs = {"provider": "offline", **kwargs}
    out = await events(stream_response(kwargs.pop("messages"), **kwargs))
    assert len(out) == 1 and out[0]["type"] == "error"
    assert message in out[0]["error"]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_missing_sdk_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setitem(sys.modules, provider, None)  # makes `import <provider>` fail
    out = await events(stream_response(HI, provider=provider, api_key=KEY))
    assert len(out) == 1 and out[0]["type"] == "error"
    assert f'pip install "assistant-stream-ce[{provider}]"' in out[0]["error"]


async def test_unexpected_failures_are_generic_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        out = await events(stream_response(HI, provider="offline", pace="fast"))
    assert out == [{"type": "error", "error": GENERIC_ERROR}]
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_defaults_and_options_reach_the_provider(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    env = provider.upper()
    monkeypatch.setenv(f"{env}_BASE_URL", upstream.base_url(provider, "text"))
    monkeypatch.setenv(f"{env}_API_KEY", KEY)
    out = await events(stream_response(HI, provider=provider))
    assert "".join(e.get("text", "") for e in out) == "Hello from the fake model."
    # (temperature only for OpenAI: anthropic 2.12's messages.create() has no such parameter)
    extra = {"temperature": 0.5} if provider == "openai" else {}
    out = await events(
        stream_response(HI, provider=provider, max_tokens=77, system="Be brief.", **extra)
    )
    assert out[-1] == {"type": "done"}
    default, custom = upstream.router.original_bodies
    assert default["model"] == {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-6"}[provider]
    if provider == "openai":
        assert custom["temperature"] == 0.5
        assert custom["max_tokens"] == 77
        assert custom["messages"][0] == {"role": "system", "content": "Be brief."}
    else:
        assert default["max_tokens"] == 1024 and custom["max_tokens"] == 77
        assert "Be brief." in json.dumps(custom["system"])


async def test_the_base_url_argument_wins_and_model_picks_the_scenario(
    upstream: FakeUpstream,
) -> None:
    out = await events(
        stream_response(
            HI,
            provider="openai",
            api_key=KEY,
            base_url=upstream.fake_url("/v1"),
            model="midstream-failure",
        )
    )
    assert_v1_lifecycle(out)
    assert out[-1]["type"] == "error"
    assert "".join(e.get("text", "") for e in out) == "Hello from"
    assert upstream.fake.requests[0].model == "midstream-failure"


async def test_extensions_are_opt_in() -> None:
    question = [{"role": "user", "content": "Weather in Paris?"}]
    plain = await events(stream_response(question, provider="offline", pace=0))
    assert {e["type"] for e in plain} == {"text", "done"}
    rich = await events(stream_response(question, provider="offline", pace=0, extensions=True))
    types = [e["type"] for e in rich]
    assert "reasoning" in types and "tool_call" in types and "tool_result" in types
    assert types[-2:] == ["done", "metadata"]
    assert rich[-1]["model"] == "offline"


async def test_stream_run_heartbeat_yields_keepalive_comments() -> None:
    async def run(controller: RunController) -> None:
        controller.append_text("a")
        await asyncio.sleep(0.12)
        controller.append_text("b")

    out = await pieces(stream_run(create_run(run), heartbeat=0.05))
    assert ": keep-alive\n\n" in out
    assert strict_events("".join(out), ids=False)[-1] == {"type": "done"}


async def test_an_error_stops_the_run_and_nothing_follows() -> None:
    stopped = asyncio.Event()

    async def run(controller: RunController) -> None:
        controller.append_text("a")
        await asyncio.sleep(0)
        controller.add_error("it broke")
        try:
            await asyncio.sleep(10)
            controller.append_text("never")
        finally:
            stopped.set()

    out = await asyncio.wait_for(events(stream_run(create_run(run))), 2)
    assert out == [{"type": "text", "text": "a"}, {"type": "error", "error": "it broke"}]
    assert stopped.is_set()


async def test_closing_the_generator_cancels_the_run() -> None:
    cancelled = asyncio.Event()

    async def run(controller: RunController) -> None:
        controller.append_text("first")
        try:
            await asyncio.sleep(10)
        finally:
            cancelled.set()

    generator = stream_run(create_run(run))
    assert await generator.__anext__() == 'data: {"type":"text","text":"first"}\n\n'
    await asyncio.wait_for(generator.aclose(), 1)
    assert cancelled.is_set()


async def test_cancelling_the_consumer_task_cancels_the_run() -> None:
    cancelled = asyncio.Event()

    async def run(controller: RunController) -> None:
        controller.append_text("first")
        try:
            await asyncio.sleep(10)
        finally:
            cancelled.set()

    first = asyncio.Event()

    async def consume() -> None:
        async for _ in stream_run(create_run(run)):
            first.set()

    task = asyncio.ensure_future(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), 1)


async def test_stream_run_with_extensions_and_ids() -> None:
    out = "".join(await pieces(stream_run(create_run(weather_run, state={}), event_ids=True)))
    assert out.startswith("id: 1\ndata: ")
    assert_v1_lifecycle(strict_events(out, ids=True))
