"""The built-in offline model: deterministic, answers the last user message, no network."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider, stream_offline_model
from fakes.fake_provider import FakeProvider
from fakes.run_result import run


def ask(question: str, **options: Any) -> Any:
    async def callback(controller: RunController) -> None:
        options.setdefault("pace", 0)
        await run_provider(
            controller, [{"role": "user", "content": question}], provider="offline", **options
        )

    return callback


async def test_weather_question_streams_reasoning_tool_source_and_answer() -> None:
    result = await run(ask("What's the weather like in Berlin today?"))
    assert result.error is None
    assert "Berlin" in result.reasoning and "get_weather" in result.reasoning
    [(call_id, call)] = result.tool_calls.items()
    assert call.name == "get_weather" and call.closed
    assert result.args(call_id) == {"city": "Berlin"}
    assert call.result["city"] == "Berlin" and isinstance(call.result["tempC"], int)
    [source] = result.sources
    assert source.url == "https://weather.example.com/berlin"
    assert result.text.startswith("Let me check the weather in Berlin. It is ")
    assert f"{call.result['tempC']} °C and {call.result['sky']} in Berlin" in result.text
    assert [f.finish_reason for f in result.finishes] == ["tool-calls", "stop"]
    assert len(result.steps) == 2
    assert all(f.input_tokens > 0 and f.output_tokens > 0 for f in result.finishes)
    assert result.finishes[1].input_tokens > result.finishes[0].input_tokens
    # Arguments are streamed in several pieces, and the reply word by word.
    assert sum(c.type == "tool-call-delta" for c in result.chunks) > 1
    assert sum(c.type == "text-delta" for c in result.chunks) > 10


async def test_other_questions_search_and_answer_about_the_topic() -> None:
    result = await run(ask("Tell me about the history of the bicycle"))
    [(call_id, call)] = result.tool_calls.items()
    assert call.name == "search"
    assert result.args(call_id) == {"query": "Tell me about the history of the bicycle"}
    assert "“Tell me about the history of the bicycle”" in result.text
    assert result.sources[0].url.startswith("https://search.example.com/?q=Tell+me+about")
    other = await run(ask("How do volcanoes form?"))
    assert other.text != result.text and "volcanoes" in other.text


async def test_same_conversation_gives_the_same_stream() -> None:
    first = await run(ask("Is it going to rain in Lyon?"))
    second = await run(ask("Is it going to rain in Lyon?"))
    assert first.dump() == second.dump()
    assert "Lyon" in first.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [("hello!", "Hello! I am the offline demo model"), ("", "Hello! I am the offline demo model")],
)
async def test_greetings_are_answered_without_a_tool(question: str, expected: str) -> None:
    result = await run(ask(question))
    assert result.text.startswith(expected)
    assert result.tool_calls == {} and len(result.steps) == 1


async def test_options_turn_parts_off_and_replace_the_reply() -> None:
    result = await run(
        ask("Weather in Rome?", reasoning=False, tool_call=False, source=False, reply="Sunny.")
    )
    assert (result.reasoning, result.tool_calls, result.sources) == ("", {}, [])
    assert result.text == "Sunny."
    assert [f.finish_reason for f in result.finishes] == ["stop"]


async def test_update_state_records_the_question_and_result() -> None:
    result = await run(ask("Weather in Oslo?", update_state=True), state={"theme": "dark"})
    operations = [op for c in result.chunks if c.type == "update-state" for op in c.operations]
    assert {tuple(op["path"]) for op in operations} == {("lastQuestion",), ("lastToolResult",)}
    left_alone = await run(ask("Weather in Oslo?", update_state=True), state=["a"])
    assert not any(c.type == "update-state" for c in left_alone.chunks)


async def test_a_tool_result_as_last_message_is_summarised() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "3 °C, snow"},
    ]

    async def callback(controller: RunController) -> None:
        await stream_offline_model(controller, messages, pace=0)

    result = await run(callback)
    assert result.text == "The tool returned: 3 °C, snow"
    assert result.tool_calls == {}


async def test_pace_spaces_the_words() -> None:
    started = time.monotonic()
    result = await run(ask("hi", reasoning=False, pace=0.01))
    words = sum(c.type == "text-delta" for c in result.chunks)
    assert words > 10
    assert time.monotonic() - started >= words * 0.01 * 0.9
    with pytest.raises(ValueError, match="pace"):
        await stream_offline_model(None, [], pace=-1)  # type: ignore[arg-type]


async def test_cancellation_stops_the_model_promptly() -> None:
    stream = create_run(ask("Weather in Paris?", pace=0.05))
    first = await stream.__anext__()
    assert first.type == "step-start"
    started = time.monotonic()
    await stream.aclose()
    assert time.monotonic() - started < 0.2
    # The callback saw `is_cancelled` during its pause and returned: no task is left.
    await asyncio.sleep(0)
    assert all(task.done() for task in stream._core.all_tasks())


async def test_offline_options_do_not_reach_real_providers(fake_provider: FakeProvider) -> None:
    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            [{"role": "user", "content": "Hi"}],
            provider="openai",
            api_key="k-12345678",
            base_url=fake_provider.openai_base_url,
            model="text",
            pace=0,
            reasoning=False,
        )

    result = await run(callback)
    assert result.text == "Hello from the fake model."
    assert "pace" not in fake_provider.requests[0].body
    assert "reasoning" not in fake_provider.requests[0].body


async def test_asked_what_came_before_it_repeats_the_last_question_and_reply() -> None:
    history = [
        {"role": "user", "content": "What is the weather in Oslo?"},
        {"role": "assistant", "content": "It is 9 °C and windy in Oslo right now."},
        {"role": "user", "content": "What did I ask before?"},
    ]

    async def callback(controller: RunController) -> None:
        await run_provider(controller, history, provider="offline", pace=0)

    result = await run(callback)
    assert result.tool_calls == {}
    assert result.text == (
        "Before this you asked “What is the weather in Oslo”, and I answered “It is 9 °C and "
        "windy in Oslo right now”. Earlier questions in this conversation: 1."
    )
    first = await run(ask("What was my last question?"))
    assert first.tool_calls == {}
    assert first.text.startswith("This is your first question")
