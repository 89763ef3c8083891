"""A built-in offline model: deterministic, no key, no network — for demos and tests."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from ..create_run import RunController
from ..state import StateProxy
from ._messages import last_user_text, message_text, validate_messages

__all__ = ["stream_offline_model"]

_WEATHER_WORDS = re.compile(
    r"\b(weather|temperature|forecast|rain|raining|sunny|snow|wind|hot|cold|umbrella)\b", re.I
)
_GREETING = re.compile(r"^\s*(hi|hello|hey|hallo|bonjour|good (morning|afternoon|evening))\b", re.I)
_CITY = re.compile(r"\b(?:in|at|for|near)\s+([A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)?)")
_BOOKING_WORDS = re.compile(r"\b(book|booking|reserve|reservation)\b", re.I)
_LOCATION_WORDS = re.compile(r"\b(where am i|my location|near me|nearby|around me)\b", re.I)
_RECALL_WORDS = re.compile(
    r"\b(what did i (just |first )?(ask|say)|what was my (last |previous |first )?question)\b",
    re.I,
)
_PEOPLE = re.compile(r"\b(\d{1,2})\s*(?:people|persons|guests|of us)\b", re.I)
_TIME = re.compile(r"\b(?:at\s+)?(\d{1,2}(?::\d{2})?\s*(?:am|pm))\b", re.I)
_SKIES = ["sunny", "partly cloudy", "cloudy", "light rain", "clear", "windy"]
_NOT_CITIES = {"The", "A", "An", "My", "Our", "This", "That"}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _tokens(text: str) -> int:
    """A rough token count (about four characters per token)."""
    return max(1, (len(text) + 3) // 4) if text else 0


@dataclass
class _Plan:
    """What the offline model will say and do for one question."""

    reasoning: str
    intro: str
    tool_name: str | None
    tool_args: dict[str, Any]
    tool_result: Any
    source: tuple[str, str] | None  # (url, title)
    answer: str


def _city(question: str) -> str | None:
    for match in _CITY.finditer(question):
        name = match.group(1).rstrip("?.!,")
        if name.split()[0] not in _NOT_CITIES:
            return name
    return None


def _topic(question: str) -> str:
    topic = " ".join(question.strip().rstrip("?.!").split())
    return topic if len(topic) <= 60 else topic[:57].rstrip() + "…"


def _plan(messages: Sequence[Mapping[str, Any]], question: str) -> _Plan:
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        result = message_text(last.get("content"))
        return _Plan(
            "The tool has answered; I will summarise its result for the user.",
            "",
            None,
            {},
            None,
            None,
            f"The tool returned: {result}" if result else "The tool returned no result.",
        )
    if not question.strip():
        return _Plan(
            "There is no question yet, so I will introduce myself.",
            "",
            None,
            {},
            None,
            None,
            "Hello! I am the offline demo model. Ask me something — for example “What is the "
            "weather in Paris?” — and I will think, call a tool and stream the answer.",
        )
    if _RECALL_WORDS.search(question):
        return _recall_plan(messages)
    if _GREETING.match(question) and len(question.split()) <= 4:
        return _Plan(
            "The user is greeting me. A short, friendly reply is enough.",
            "",
            None,
            {},
            None,
            None,
            "Hello! I am the offline demo model, running without any API key. Ask me about the "
            "weather somewhere, or anything else, and watch the reasoning, tool call and answer "
            "stream in.",
        )
    digest = _digest(question)
    if _WEATHER_WORDS.search(question):
        named = _city(question)
        city = named or "Paris"
        assumption = "" if named else " No place is named, so I will assume Paris."
        temp = 8 + int(digest[:4], 16) % 20
        sky = _SKIES[int(digest[4:6], 16) % len(_SKIES)]
        advice = "A light jacket should be enough." if temp >= 15 else "Take a warm coat."
        if "rain" in sky:
            advice = "Take an umbrella."
        slug = quote_plus(city.lower())
        return _Plan(
            f"The user asks about the weather.{assumption} I will call get_weather for {city} "
            "and answer with the temperature and sky.",
            f"Let me check the weather in {city}. ",
            "get_weather",
            {"city": city},
            {"city": city, "tempC": temp, "sky": sky},
            (f"https://weather.example.com/{slug}", f"Weather in {city}"),
            f"It is {temp} °C and {sky} in {city} right now. {advice}",
        )
    if _BOOKING_WORDS.search(question):
        return _booking_plan(question, digest)
    if _LOCATION_WORDS.search(question):
        return _Plan(
            "The user asks about where they are. I will call get_location to find out.",
            "Let me find out where you are. ",
            "get_location",
            {},
            {"city": "Paris", "country": "France"},
            None,
            "You are in Paris, France.",
        )
    topic = _topic(question)
    hits = 2 + int(digest[:2], 16) % 7
    title = f"{topic[:1].upper()}{topic[1:]} — an overview"
    url = f"https://search.example.com/?q={quote_plus(topic)}"
    return _Plan(
        f"The user asks: “{topic}”. I will search for it and summarise what I find.",
        "Let me look that up. ",
        "search",
        {"query": topic},
        {"hits": hits, "top": {"title": title, "url": url}},
        (url, title),
        f"I found {hits} results about “{topic}”. The most relevant one, “{title}”, is a good "
        "place to start. (This answer comes from the offline demo model — no real model was "
        "called.)",
    )


def _recall_plan(messages: Sequence[Mapping[str, Any]]) -> _Plan:
    """What the conversation before the last user message held: its last question and the
    last reply to it (the model sees the whole history, as every client sends it)."""
    earlier = list(messages)
    while earlier and earlier[-1].get("role") != "user":
        earlier.pop()
    earlier = earlier[:-1]  # the recall question itself
    questions = [message_text(m.get("content")) for m in earlier if m.get("role") == "user"]
    replies = [
        message_text(m.get("content"))
        for m in earlier
        if m.get("role") == "assistant" and message_text(m.get("content")).strip()
    ]
    if not questions:
        return _Plan(
            "The user asks what they asked before, but this is the first question.",
            "",
            None,
            {},
            None,
            None,
            "This is your first question: there is nothing earlier in our conversation.",
        )
    answer = f"Before this you asked “{_topic(questions[-1])}”"
    if replies:
        answer += f", and I answered “{_topic(replies[-1])}”"
    return _Plan(
        f"The user asks what they asked before. The conversation holds {len(questions)} earlier "
        "question(s); I will repeat the last one and my reply.",
        "",
        None,
        {},
        None,
        None,
        f"{answer}. Earlier questions in this conversation: {len(questions)}.",
    )


def _booking_plan(question: str, digest: str) -> _Plan:
    city = _city(question) or "Paris"
    people_match = _PEOPLE.search(question)
    time_match = _TIME.search(question)
    people = int(people_match.group(1)) if people_match else 2
    when = time_match.group(1).lower().replace(" ", "") if time_match else "7pm"
    args = {"city": city, "people": people, "time": when}
    reference = f"BK-{digest[:6].upper()}"
    return _Plan(
        f"The user wants to book a table in {city} for {people} at {when}. I will call "
        "book_table; a person may need to approve it first.",
        f"I will book a table for {people} in {city} at {when}. ",
        "book_table",
        args,
        {"booked": True, **args, "reference": reference},
        None,
        f"Your table for {people} in {city} at {when} is booked (reference {reference}).",
    )


async def _stream_words(controller: RunController, text: str, pace: float, emit: Any) -> bool:
    """Emit ``text`` word by word; False if the run was cancelled on the way."""
    for word in re.findall(r"\s*\S+\s*", text):
        if controller.is_cancelled:
            return False
        emit(word)
        await asyncio.sleep(pace)
    return not controller.is_cancelled


async def stream_offline_model(
    controller: RunController,
    messages: Sequence[Mapping[str, Any]],
    *,
    pace: float = 0.02,
    reasoning: bool = True,
    tool_call: bool = True,
    source: bool = True,
    update_state: bool = False,
    reply: str | None = None,
    tools: Sequence[str] | None = None,
) -> None:
    """A deterministic offline assistant answering the last user message.

    Streams (``pace`` seconds between words, 0 allowed) optional reasoning, then — for a
    weather question a ``get_weather`` call, for a booking ``book_table``, for "where am I" or
    "near me" ``get_location``, otherwise a ``search`` call, with streamed
    arguments and a result — a cited source and the reply, in steps with plausible usage.
    Asked "what did I ask?" (or "what was my last question?") it repeats the conversation's
    previous question and its own last reply, without a tool: a check that history arrived.
    ``reply`` replaces the generated answer text; ``update_state`` records the question (and
    tool result) in the run state. The same messages always give the same stream.

    ``tools``: the names of the tools offered (as `run_provider`'s tool loop passes them).
    When the planned tool is one of them, the step ends after the call (finish
    ``tool-calls``, no result: the caller or the client runs it); after the ``tool`` message
    comes back the model summarises it. Otherwise the model answers its own call.
    """
    if pace < 0:
        raise ValueError("pace must be >= 0")
    validated = validate_messages(messages)
    question = last_user_text(validated)
    plan = _plan(validated, question)
    answer = reply if reply is not None else plan.answer
    seed = _digest(json.dumps(validated, sort_keys=True, default=str))
    prompt_tokens = 12 + sum(_tokens(message_text(m.get("content"))) for m in validated)
    use_tool = tool_call and plan.tool_name is not None

    step_tokens = 0

    def text(word: str) -> None:
        nonlocal step_tokens
        step_tokens += 1
        controller.append_text(word)

    def think(word: str) -> None:
        nonlocal step_tokens
        step_tokens += 1
        controller.append_reasoning(word)

    controller.add_step_start(f"msg_offline_{seed[:16]}")
    if reasoning and not await _stream_words(controller, plan.reasoning, pace, think):
        return
    if use_tool:
        assert plan.tool_name is not None
        if not await _stream_words(controller, plan.intro, pace, text):
            return
        tool = await controller.add_tool_call(plan.tool_name, f"call_offline_{seed[16:32]}")
        args = json.dumps(plan.tool_args, ensure_ascii=False)
        for start in range(0, len(args), 8):
            if controller.is_cancelled:
                return
            tool.append_args_text(args[start : start + 8])
            await asyncio.sleep(pace)
        tool.close()
        step_tokens += _tokens(args)
        if tools is not None and plan.tool_name in tools:
            controller.add_step_finish("tool-calls", prompt_tokens, step_tokens)
            return
        await asyncio.sleep(pace)
        tool.set_response(plan.tool_result)
        controller.add_step_finish("tool-calls", prompt_tokens, step_tokens)
        prompt_tokens += step_tokens + _tokens(json.dumps(plan.tool_result))
        step_tokens = 0
        controller.add_step_start(f"msg_offline_{seed[32:48]}")
    if update_state:
        _update_state(controller, question, plan.tool_result if use_tool else None)
    if source and plan.source is not None:
        controller.add_source(f"src_{seed[48:56]}", plan.source[0], plan.source[1])
    if not await _stream_words(controller, answer, pace, text):
        return
    controller.add_step_finish("stop", prompt_tokens, step_tokens)


def _update_state(controller: RunController, question: str, tool_result: Any) -> None:
    state = controller.state
    if state is None:
        controller.state = {"lastQuestion": question, "lastToolResult": tool_result}
        return
    # Only an object state is updated; a list or a plain value is left alone.
    if isinstance(state, StateProxy) and isinstance(state._assistant_stream_value_(), dict):
        state["lastQuestion"] = question
        state["lastToolResult"] = tool_result
