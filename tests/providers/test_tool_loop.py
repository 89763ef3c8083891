"""`run_provider(tools=[...], max_steps=N)`: schemas from plain functions, server tools run
between model steps (their results streamed, exceptions as error results the model sees),
client tools end the run unanswered, ``max_steps`` stops the loop. Proven with the official
`openai` and `anthropic` SDKs against the local fake provider's scripted tool-calling turn, and
with the offline model; the multi-step run is encoded in every registered protocol."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
from typing import Any, Literal, Optional, TypedDict

import pytest

from _util import encode
from assistant_stream_ce import RunController, accumulate, create_run
from assistant_stream_ce.providers import Tool, run_provider, tool
from assistant_stream_ce.providers.tools import as_tool, json_schema_for
from assistant_stream_ce.serialization import PROTOCOLS
from fakes.fake_provider import FakeProvider
from fakes.run_result import SECRET_KEY, RunResult, assert_no_secret, run

# -- schemas ---------------------------------------------------------------------------------


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


class Address(TypedDict):
    street: str
    zip: int


@dataclasses.dataclass
class Window:
    start: str
    days: int = 1


def forecast(
    city: str,
    days: int = 3,
    unit: Unit = Unit.C,
    detail: Literal["short", "long"] = "short",
    tags: list[str] | None = None,
    extra: Optional[dict[str, float]] = None,  # noqa: UP045 - the old spelling is supported too
    address: Address | None = None,
    window: Window | None = None,
) -> dict[str, Any]:
    """Forecast the weather
    for a city.

    Args:
        city: The city's name,
            in English.
        days: How many days.

    Returns:
        The forecast.
    """
    return {}


def test_schema_from_type_hints_and_google_docstring() -> None:
    made = as_tool(forecast)
    assert made.name == "forecast" and made.is_server_tool and not made.needs_approval
    assert made.description == "Forecast the weather for a city."
    properties = made.parameters["properties"]
    assert made.parameters["required"] == ["city"]
    assert properties["city"] == {"type": "string", "description": "The city's name, in English."}
    assert properties["days"] == {"type": "integer", "description": "How many days.", "default": 3}
    assert properties["unit"] == {"enum": ["celsius", "fahrenheit"]}
    assert properties["detail"] == {"enum": ["short", "long"], "default": "short"}
    assert properties["tags"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
        "default": None,
    }
    assert properties["extra"]["anyOf"][0] == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }
    assert properties["address"]["anyOf"][0] == {
        "type": "object",
        "properties": {"street": {"type": "string"}, "zip": {"type": "integer"}},
        "required": ["street", "zip"],
    }
    assert properties["window"]["anyOf"][0]["required"] == ["start"]
    assert made.definition()["function"]["name"] == "forecast"


def test_sphinx_docstrings_decorator_options_and_definitions() -> None:
    @tool(name="book", needs_approval=True)
    async def book_table(people: int, when: str) -> str:
        """Book a table.

        :param people: How many guests.
        :param when: ISO date and time.
        """
        return "ok"

    assert isinstance(book_table, Tool) and book_table.name == "book"
    assert book_table.needs_approval
    assert book_table.parameters["properties"]["people"]["description"] == "How many guests."
    openai_style = {"type": "function", "function": {"name": "get_location"}}
    anthropic_style = {"name": "get_location", "input_schema": {"type": "object"}}
    for definition in (openai_style, anthropic_style):
        client_tool = as_tool(definition)
        assert client_tool.name == "get_location" and not client_tool.is_server_tool
    with pytest.raises(ValueError, match="needs a name"):
        as_tool(lambda x: x)
    assert json_schema_for(tuple[int, str])["prefixItems"] == [
        {"type": "integer"},
        {"type": "string"},
    ]


# -- the loop against the fake provider ------------------------------------------------------

CALLS: list[tuple[str, Any]] = []


def get_weather(city: str) -> dict[str, Any]:
    """The weather in a city (sync: runs in a worker thread)."""
    CALLS.append(("get_weather", city))
    return {"city": city, "tempC": 18}


async def get_time(tz: str) -> str:
    """The time in a time zone (async)."""
    CALLS.append(("get_time", tz))
    await asyncio.sleep(0)
    return "12:00"


def lookup(q: str) -> str:
    """Look something up (always fails)."""
    CALLS.append(("lookup", q))
    raise LookupError(f"nothing about {q}; key {SECRET_KEY}")


TOOLS = [get_weather, get_time, lookup]


async def loop_run(fake: FakeProvider, provider: str, **kwargs: Any) -> tuple[RunResult, Any]:
    CALLS.clear()
    history: list[Any] = []

    async def callback(controller: RunController) -> None:
        base = fake.openai_base_url if provider == "openai" else fake.anthropic_base_url
        history.append(
            await run_provider(
                controller,
                [{"role": "user", "content": "Weather, time and a lookup?"}],
                provider=provider,
                model="agent",
                api_key=SECRET_KEY,
                base_url=base,
                **kwargs,
            )
        )

    result = await run(callback)
    return result, history[0] if history else None


def chunk_kinds(result: RunResult) -> list[str]:
    return [c.type for c in result.chunks if c.type in ("step-start", "step-finish", "tool-result")]


@pytest.mark.http
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_three_server_tools_across_two_steps_one_raises(
    fake_provider: FakeProvider, provider: str
) -> None:
    result, history = await loop_run(fake_provider, provider, tools=TOOLS)
    assert result.error is None and result.errors == []
    assert sorted(CALLS) == [
        ("get_time", "Europe/Paris"),
        ("get_weather", "Paris"),
        ("lookup", "paris"),
    ]
    # results stream between the model steps
    assert chunk_kinds(result) == [
        "step-start",
        "step-finish",
        "tool-result",
        "tool-result",
        "step-start",
        "step-finish",
        "tool-result",
        "step-start",
        "step-finish",
    ]
    assert [(f.finish_reason, f.input_tokens, f.output_tokens) for f in result.finishes] == [
        ("tool-calls", 40, 25),
        ("tool-calls", 60, 10),
        ("stop", 80, 12),
    ]
    assert result.tool_calls["call_weather"].result == {"city": "Paris", "tempC": 18}
    assert result.tool_calls["call_time"].result == "12:00"
    failed = [c for c in result.chunks if c.type == "tool-result" and c.is_error]
    assert [c.tool_call_id for c in failed] == ["call_lookup"]
    assert failed[0].result.startswith("Error: LookupError: nothing about paris")
    # the model saw every result, the error included, and never the key
    error_mark = " (error)" if provider == "anthropic" else ""
    assert result.text.startswith("Let me check.Results: ")
    assert 'call_weather={"city": "Paris", "tempC": 18}' in result.text
    assert "call_time=12:00" in result.text
    assert (
        f"call_lookup=Error: LookupError: nothing about paris; key [redacted]{error_mark}"
        in result.text
    )
    assert_no_secret(result.dump())
    assert_no_secret(json.dumps([r.body for r in fake_provider.requests]))
    # three requests; the tools were offered with schemas from the type hints
    assert len(fake_provider.requests) == 3
    sent_tools = fake_provider.requests[0].body["tools"]
    if provider == "openai":
        assert sent_tools[0]["function"]["parameters"] == {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        }
    else:
        assert sent_tools[0]["input_schema"]["required"] == ["city"]
    # the returned history is what the next turn continues from, the final answer included
    assert [m["role"] for m in history] == [
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert history[1]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert history[-2]["is_error"] is True
    assert history[-1] == {"role": "assistant", "content": result.text.split("Let me check.")[1]}


@pytest.mark.http
async def test_max_steps_stops_the_loop(fake_provider: FakeProvider) -> None:
    result, history = await loop_run(fake_provider, "openai", tools=TOOLS, max_steps=2)
    assert len(fake_provider.requests) == 2
    assert [f.finish_reason for f in result.finishes] == ["tool-calls", "tool-calls"]
    # the second step's call still ran: its result is streamed and in the history
    assert result.tool_calls["call_lookup"].result.startswith("Error: LookupError")
    assert len(history) == 6
    fake_provider.reset()
    result, _ = await loop_run(fake_provider, "openai", tools=TOOLS, max_steps=0)
    assert isinstance(result.error, ValueError) and "max_steps" in str(result.error)
    assert fake_provider.requests == []  # refused before any request


@pytest.mark.http
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_client_tool_ends_the_run_unanswered(
    fake_provider: FakeProvider, provider: str
) -> None:
    client_time = {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object"}},
    }
    result, history = await loop_run(fake_provider, provider, tools=[get_weather, client_time])
    assert len(fake_provider.requests) == 1
    assert CALLS == [("get_weather", "Paris")]
    assert result.tool_calls["call_weather"].result == {"city": "Paris", "tempC": 18}
    assert result.tool_calls["call_time"].result is None and result.tool_calls["call_time"].closed
    assert [f.finish_reason for f in result.finishes] == ["tool-calls"]
    message = accumulate(result.chunks)
    assert message.finish_reason == "tool-calls"  # waiting for the client's result
    assert history == [{"role": "user", "content": "Weather, time and a lookup?"}]


# -- the offline model -----------------------------------------------------------------------


async def test_offline_model_calls_a_server_tool_and_answers_with_its_result() -> None:
    seen: list[str] = []

    async def get_weather(city: str) -> dict[str, Any]:
        """Weather."""
        seen.append(city)
        return {"tempC": 31, "sky": "clear"}

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            [{"role": "user", "content": "What is the weather in Rome?"}],
            provider="offline",
            tools=[get_weather],
            pace=0,
        )

    result = await run(callback)
    assert result.error is None and seen == ["Rome"]
    [call] = result.tool_calls.values()
    assert (call.name, call.result) == ("get_weather", {"tempC": 31, "sky": "clear"})
    assert [f.finish_reason for f in result.finishes] == ["tool-calls", "stop"]
    assert result.text.endswith('The tool returned: {"tempC": 31, "sky": "clear"}')


async def test_offline_model_without_tools_keeps_its_own_tool() -> None:
    histories: list[list[dict[str, Any]]] = []

    async def callback(controller: RunController) -> None:
        histories.append(
            await run_provider(
                controller,
                [{"role": "user", "content": "What is the weather in Rome?"}],
                provider="offline",
                pace=0,
            )
        )

    result = await run(callback)
    assert result.error is None
    # the offline model answered its own call within the step; the history has it all
    [history] = histories
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[1]["content"] == "Let me check the weather in Rome. "
    assert json.loads(history[2]["content"])["city"] == "Rome"
    assert history[3]["content"].startswith("It is ") and history[3]["content"] in result.text
    [call] = result.tool_calls.values()
    assert call.result["city"] == "Rome"
    assert [f.finish_reason for f in result.finishes] == ["tool-calls", "stop"]


# -- every protocol --------------------------------------------------------------------------


@pytest.mark.http
@pytest.mark.parametrize("name", list(PROTOCOLS))
async def test_the_multi_step_run_in_every_protocol(fake_provider: FakeProvider, name: str) -> None:
    info = PROTOCOLS[name]

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            [{"role": "user", "content": "Weather, time and a lookup?"}],
            provider="openai",
            model="agent",
            api_key=SECRET_KEY,
            base_url=fake_provider.openai_base_url,
            tools=TOOLS,
        )

    body = await encode(info.encoder(), create_run(callback))

    async def chunks() -> Any:
        yield body

    decoded = [chunk async for chunk in info.decoder().decode_stream(chunks())]
    message = accumulate(decoded)
    assert "call_time=12:00" in message.text
    if "usage" in info.carries:
        assert message.usage == {"input_tokens": 180, "output_tokens": 47}
    if "steps" in info.carries:
        assert [s.finish_reason for s in message.steps] == ["tool-calls", "tool-calls", "stop"]
    if "tool-results" in info.carries:
        results = {call.tool_call_id: call for call in message.tool_calls}
        assert results["call_time"].result == "12:00"
        assert results["call_lookup"].is_error
    assert message.errors == []
    assert message.finish_reason == "stop"  # every call was answered on the server


# -- cancellation ----------------------------------------------------------------------------


async def test_cancelling_the_run_during_a_server_tool_cancels_the_tool() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def get_weather(city: str) -> str:
        """Never returns unless cancelled."""
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            [{"role": "user", "content": "Weather in Oslo?"}],
            provider="offline",
            tools=[get_weather],
            pace=0,
        )

    stream = create_run(callback)
    async for chunk in stream:
        if chunk.type == "step-finish":
            break
    await asyncio.wait_for(started.wait(), 2)
    await stream.aclose()
    await asyncio.wait_for(cancelled.wait(), 2)


# -- arguments checked against the tool's schema ----------------------------------------------


def test_check_arguments_reports_schema_problems_and_never_raises() -> None:
    def book(people: int, when: Literal["lunch", "dinner"], note: str | None = None) -> str:
        """Book a table."""
        return "ok"

    made = as_tool(book)
    assert made.check_arguments({"people": 2, "when": "dinner"}) == []
    assert made.check_arguments({"people": 2, "when": "dinner", "note": None}) == []
    problems = made.check_arguments({"people": "two", "when": "breakfast"})
    assert problems == [
        "arguments.people: 'two' is not of type 'integer'",
        "arguments.when: 'breakfast' is not one of ['lunch', 'dinner']",
    ]
    assert made.check_arguments({"when": "lunch"}) == ["arguments: 'people' is a required property"]
    # a nested path, from an explicit schema
    listed = Tool(
        name="t",
        parameters={
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
        },
    )
    assert listed.check_arguments({"items": [1, "x"]}) == [
        "arguments.items[1]: 'x' is not of type 'integer'"
    ]
    # a broken schema (e.g. sent by a frontend) is a problem to report, not an exception
    broken = Tool(name="b", parameters={"type": "object", "properties": {"x": {"type": 5}}})
    [problem] = broken.check_arguments({"x": 1})
    assert problem.startswith("the tool's own parameter schema is invalid")
    dangling = Tool(name="d", parameters={"$ref": "#/$defs/missing"})
    [problem] = dangling.check_arguments({})
    assert problem.startswith("the tool's own parameter schema cannot be applied")


@pytest.mark.http
async def test_invalid_arguments_become_an_error_result_and_the_loop_continues(
    fake_provider: FakeProvider,
) -> None:
    """The scripted model calls get_weather {"city": "Paris"}, get_time {"tz":
    "Europe/Paris"} and lookup {"q": "paris"}: two schemas here reject their arguments."""

    def get_weather(city: int) -> str:  # the model sends a string
        """Weather by city number."""
        CALLS.append(("get_weather", city))
        return "sunny"

    strict_time = Tool(
        name="get_time",
        parameters={
            "type": "object",
            "properties": {"tz": {"type": "string", "pattern": "^UTC$"}},
            "required": ["tz"],
            "additionalProperties": False,
        },
        function=get_time,
    )

    def lookup(q: str) -> str:
        """Lookup (valid arguments: it runs)."""
        CALLS.append(("lookup", q))
        return "found"

    result, history = await loop_run(
        fake_provider, "openai", tools=[get_weather, strict_time, lookup]
    )
    assert result.error is None and result.errors == []
    assert CALLS == [("lookup", "paris")]  # neither invalid call reached its function
    failed = {c.tool_call_id for c in result.chunks if c.type == "tool-result" and c.is_error}
    assert failed == {"call_weather", "call_time"}
    assert result.tool_calls["call_weather"].result == (
        "Error: invalid arguments for get_weather: arguments.city: 'Paris' is not of type 'integer'"
    )
    assert result.tool_calls["call_time"].result == (
        "Error: invalid arguments for get_time: arguments.tz: 'Europe/Paris' does not match '^UTC$'"
    )
    # the model saw the problems and went on to its next steps
    assert [f.finish_reason for f in result.finishes] == ["tool-calls", "tool-calls", "stop"]
    assert "call_weather=Error: invalid arguments for get_weather" in result.text
    assert "call_lookup=found" in result.text
    assert [m.get("is_error", False) for m in history if m["role"] == "tool"] == [
        True,
        True,
        False,
    ]
