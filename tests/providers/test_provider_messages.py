"""Conversation validation and conversion, secret redaction, error classes (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from assistant_stream_ce.errors import (
    InvalidMessagesError,
    MissingAPIKeyError,
    ProviderConfigError,
    ProviderError,
    StreamError,
    UnknownProviderError,
)
from assistant_stream_ce.providers import DEFAULT_MODELS, check_provider, validate_messages
from assistant_stream_ce.providers._common import map_finish_reason
from assistant_stream_ce.providers._errors import redact, safe_url
from assistant_stream_ce.providers._messages import (
    to_anthropic_messages,
    to_anthropic_tools,
    to_openai_messages,
    to_openai_tools,
)


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ("hello", "messages must be a list of {role, content} objects, got str"),
        (None, "messages must be a list of {role, content} objects, got null"),
        ([1], "messages[0] must be an object, got int"),
        ([{"content": "x"}], "messages[0].role must be a string, got null"),
        ([{"role": 3, "content": "x"}], "messages[0].role must be a string, got int"),
        ([{"role": "bot", "content": "x"}], "messages[0].role 'bot' is not one of"),
        ([{"role": "user", "content": 5}], "messages[0].content must be a string or a list"),
        ([{"role": "user"}], "messages[0].content is required for a user message"),
        ([{"role": "user", "content": ["hi"]}], "messages[0].content[0] must be a content part"),
        (
            [{"role": "user", "content": [{"type": "text", "text": 1}]}],
            "messages[0].content[0].text must be a string",
        ),
        ([{"role": "tool", "content": "x"}], "messages[0].tool_call_id must be a string"),
        (
            [{"role": "user", "content": "x", "tool_calls": []}],
            "messages[0].tool_calls is only allowed on assistant messages",
        ),
        (
            [{"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}],
            "messages[0].tool_calls[0].function must be an object with a string 'name'",
        ),
    ],
)
def test_validation_names_the_first_problem(messages: Any, message: str) -> None:
    with pytest.raises(InvalidMessagesError) as info:
        validate_messages(messages)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ProviderConfigError)


def test_validation_returns_plain_dict_copies() -> None:
    original = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    validated = validate_messages(original)
    assert validated == original
    assert validated[0] is not original[0]
    assert validate_messages(()) == []


def test_openai_conversion_injects_system_and_stringifies_arguments() -> None:
    messages = validate_messages(
        [
            {"role": "user", "content": "Hi"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}],
            },
            {"role": "assistant", "content": "ok", "tool_calls": []},
        ]
    )
    assert to_openai_messages(messages, system="S") == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "assistant", "content": "ok"},
    ]
    assert to_openai_messages(messages[:1]) == [{"role": "user", "content": "Hi"}]


def test_anthropic_conversion_lifts_system_and_merges_turns() -> None:
    messages = validate_messages(
        [
            {"role": "system", "content": "One."},
            {"role": "developer", "content": [{"type": "text", "text": "Two."}]},
            {"role": "user", "content": "a"},
            {"role": "user", "content": [{"type": "text", "text": "b"}]},
            {"role": "assistant", "content": ""},
            {"role": "assistant", "content": "c"},
        ]
    )
    system, turns = to_anthropic_messages(messages, system="Zero.")
    assert system == "Zero.\n\nOne.\n\nTwo."
    assert turns == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": "c"},
    ]
    assert to_anthropic_messages(validate_messages([{"role": "user", "content": "x"}])) == (
        None,
        [{"role": "user", "content": "x"}],
    )


def test_anthropic_conversion_of_tool_calls_results_and_images() -> None:
    messages = validate_messages(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "image_url", "image_url": {"url": "https://x.example/a.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "t1", "function": {"name": "look", "arguments": ""}}],
            },
            {
                "role": "tool",
                "tool_call_id": "t1",
                "content": [{"type": "text", "text": "a cat"}],
                "is_error": True,
            },
        ]
    )
    _, turns = to_anthropic_messages(messages)
    assert turns == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                },
                {"type": "image", "source": {"type": "url", "url": "https://x.example/a.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "look", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [{"type": "text", "text": "a cat"}],
                    "is_error": True,
                }
            ],
        },
    ]


def test_anthropic_conversion_rejects_arguments_that_are_not_a_json_object() -> None:
    def assistant(arguments: str) -> list[dict[str, Any]]:
        call = {"id": "c", "function": {"name": "f", "arguments": arguments}}
        return validate_messages([{"role": "assistant", "content": None, "tool_calls": [call]}])

    with pytest.raises(InvalidMessagesError, match=r"tool_calls\[0\] arguments are not valid"):
        to_anthropic_messages(assistant("{nope"))
    with pytest.raises(InvalidMessagesError, match="must be a JSON object"):
        to_anthropic_messages(assistant("[1]"))


def test_tool_definitions_convert_both_ways() -> None:
    openai_tool = {
        "type": "function",
        "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
    }
    anthropic_tool = {"name": "g", "input_schema": {"type": "object"}}
    server_tool = {"type": "web_search_20250305", "name": "web_search"}
    assert to_anthropic_tools([openai_tool, anthropic_tool, server_tool]) == [
        {"name": "f", "description": "d", "input_schema": {"type": "object"}},
        anthropic_tool,
        server_tool,
    ]
    assert to_openai_tools([openai_tool, anthropic_tool]) == [
        openai_tool,
        {"type": "function", "function": {"name": "g", "parameters": {"type": "object"}}},
    ]


def test_redaction_removes_keys_fragments_and_token_patterns() -> None:
    key = "sk-live-0123456789abcdefghij"
    text = (
        f"bad key {key}; prefix {key[:10]}***; tail ***{key[-9:]}; "
        "Authorization: Bearer abc.def-ghi, x-api-key: zzz-yyy, other sk-ant-api03-QQQQ"
    )
    out = redact(text, [key, None])
    for start in range(len(key) - 7):
        assert key[start : start + 8] not in out
    assert "abc.def-ghi" not in out and "zzz-yyy" not in out and "QQQQ" not in out
    assert "Bearer [redacted]" in out and "x-api-key: [redacted]" in out
    assert redact("nothing secret here", [key]) == "nothing secret here"
    assert redact("short abcd key", ["abcd"]) == "short [redacted] key"


def test_safe_url_drops_credentials_and_query() -> None:
    assert safe_url("https://u:p@host.example:8443/v1?key=s#f") == "https://host.example:8443/v1"
    assert safe_url("not a url") == "the configured base URL"


def test_finish_reason_mapping() -> None:
    assert [
        map_finish_reason(r)
        for r in ["stop", "length", "tool_calls", "content_filter", "end_turn", "max_tokens"]
    ] == ["stop", "length", "tool-calls", "content-filter", "stop", "length"]
    assert [map_finish_reason(r) for r in ["tool_use", "refusal", "pause_turn", None]] == [
        "tool-calls",
        "content-filter",
        "other",
        "unknown",
    ]


def test_error_classes() -> None:
    plain = ProviderError("boom")
    assert (str(plain), plain.provider, plain.status_code, plain.kind) == ("boom", None, None, None)
    detailed = ProviderError("x", provider="openai", status_code=429, kind="rate_limit")
    assert (detailed.provider, detailed.status_code, detailed.kind) == ("openai", 429, "rate_limit")
    assert isinstance(detailed, StreamError)
    missing = MissingAPIKeyError("no key", provider="openai")
    assert (missing.kind, missing.provider) == ("config", "openai")
    with pytest.raises(UnknownProviderError, match="use one of 'openai', 'anthropic', 'offline'"):
        check_provider("nope")
    assert DEFAULT_MODELS == {
        "openai": "gpt-4o-mini",
        "anthropic": "claude-sonnet-4-6",
        "offline": "offline",
    }
