"""Self-tests of the npm assistant-stream decode harness (tests/interop/node/decode.mjs).

The byte strings are the complete examples of /work/shared/protocols/assistant-ui-data-stream.md
§9 and assistant-transport.md §8, so they also pin down how the real client reads them.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

try:  # tests/interop imported as a package
    from .node_client import NODE_DIR, decode_with_assistant_stream, ensure_node_modules
except ImportError:  # rootdir-relative import (no __init__.py)
    from node_client import (  # type: ignore[no-redef,unused-ignore]
        NODE_DIR,
        decode_with_assistant_stream,
        ensure_node_modules,
    )

pytestmark = pytest.mark.interop

# --- assistant-ui data stream, §9 -------------------------------------------------------------

DATA_STREAM_EXAMPLE = (
    b'f:{"messageId":"msg_1"}\n'
    b'g:"The user wants the weather. "\n'
    b'g:"I will call the tool."\n'
    b'0:"Let me check."\n'
    b'b:{"toolCallId":"call_1","toolName":"get_weather"}\n'
    b'c:{"toolCallId":"call_1","argsTextDelta":"{\\"city\\":"}\n'
    b'c:{"toolCallId":"call_1","argsTextDelta":"\\"Paris\\"}"}\n'
    b'c:{"toolCallId":"call_1","argsTextDelta":"","isFinal":true}\n'
    b'a:{"toolCallId":"call_1","result":{"tempC":18,"sky":"cloudy"}}\n'
    b'aui-state:[{"type":"set","path":["lastCity"],"value":"Paris"}]\n'
    b'e:{"finishReason":"tool-calls","usage":{"inputTokens":12,"outputTokens":30},'
    b'"isContinued":false}\n'
    b'f:{"messageId":"msg_2"}\n'
    b'0:"It is 18 C and cloudy in Paris."\n'
    b'h:{"sourceType":"url","id":"src_1","url":"https://weather.example/paris",'
    b'"title":"Paris forecast"}\n'
    b'e:{"finishReason":"stop","usage":{"inputTokens":40,"outputTokens":12},'
    b'"isContinued":false}\n'
    b'd:{"finishReason":"stop","usage":{"inputTokens":52,"outputTokens":42}}\n'
)

DATA_STREAM_ERROR_EXAMPLE = (
    b'f:{"messageId":"msg_1"}\n'
    b'g:"The user wants the weather."\n'
    b'0:"Let me check."\n'
    b'b:{"toolCallId":"call_1","toolName":"get_weather"}\n'
    b'c:{"toolCallId":"call_1","argsTextDelta":"{\\"city\\":"}\n'
    b'c:{"toolCallId":"call_1","argsTextDelta":"","isFinal":true}\n'
    b'3:"upstream model timed out"\n'
)

# --- assistant transport, §8 ------------------------------------------------------------------


def _sse(*events: str) -> bytes:
    return b"".join(f"data: {event}\n\n".encode() for event in events)


TRANSPORT_EXAMPLE = _sse(
    '{"type":"step-start","messageId":"msg_1"}',
    '{"type":"part-start","part":{"type":"reasoning"},"path":[]}',
    '{"type":"text-delta","textDelta":"The user wants the weather. ","path":[0]}',
    '{"type":"text-delta","textDelta":"I will call the tool.","path":[0]}',
    '{"type":"part-finish","path":[0]}',
    '{"type":"part-start","part":{"type":"text"},"path":[]}',
    '{"type":"text-delta","textDelta":"Let me check.","path":[1]}',
    '{"type":"part-finish","path":[1]}',
    '{"type":"part-start","part":{"type":"tool-call","toolCallId":"call_1",'
    '"toolName":"get_weather"},"path":[]}',
    '{"type":"text-delta","textDelta":"{\\"city\\":","path":[2]}',
    '{"type":"text-delta","textDelta":"\\"Paris\\"}","path":[2]}',
    '{"type":"tool-call-args-text-finish","path":[2]}',
    '{"type":"result","result":{"tempC":18,"sky":"cloudy"},"isError":false,"path":[2]}',
    '{"type":"part-finish","path":[2]}',
    '{"type":"update-state","operations":[{"type":"set","path":["lastCity"],"value":"Paris"}]}',
    '{"type":"step-finish","finishReason":"tool-calls",'
    '"usage":{"inputTokens":12,"outputTokens":30},"isContinued":false}',
    '{"type":"step-start","messageId":"msg_2"}',
    '{"type":"part-start","part":{"type":"text"},"path":[]}',
    '{"type":"text-delta","textDelta":"It is 18 C and cloudy in Paris.","path":[3]}',
    '{"type":"part-finish","path":[3]}',
    '{"type":"part-start","part":{"type":"source","sourceType":"url","id":"src_1",'
    '"url":"https://weather.example/paris","title":"Paris forecast"},"path":[]}',
    '{"type":"part-finish","path":[4]}',
    '{"type":"step-finish","finishReason":"stop",'
    '"usage":{"inputTokens":40,"outputTokens":12},"isContinued":false}',
    '{"type":"message-finish","finishReason":"stop","usage":{"inputTokens":52,"outputTokens":42}}',
    "[DONE]",
)

TRANSPORT_ERROR_EXAMPLE = _sse(
    '{"type":"step-start","messageId":"msg_1"}',
    '{"type":"part-start","part":{"type":"reasoning"},"path":[]}',
    '{"type":"text-delta","textDelta":"The user wants the weather.","path":[0]}',
    '{"type":"part-finish","path":[0]}',
    '{"type":"part-start","part":{"type":"tool-call","toolCallId":"call_1",'
    '"toolName":"get_weather"},"path":[]}',
    '{"type":"text-delta","textDelta":"{\\"city\\":","path":[1]}',
    '{"type":"tool-call-args-text-finish","path":[1]}',
    '{"type":"part-finish","path":[1]}',
    '{"type":"error","error":"upstream model timed out"}',
    "[DONE]",
)

DONE_EVENT = b"data: [DONE]\n\n"


@pytest.fixture(scope="module", autouse=True)
def _node_modules() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not available")
    ensure_node_modules()


def _ok(protocol: str, body: bytes, *, lenient: bool = False) -> dict[str, Any]:
    result = decode_with_assistant_stream(protocol, body, lenient=lenient)
    assert result["ok"] is True, result
    message = result["message"]
    assert isinstance(message, dict)
    return message


def _strip_volatile(part: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in part.items() if k not in ("timing", "status")}


def _assert_weather_message(message: dict[str, Any]) -> None:
    assert message["role"] == "assistant"
    assert message["status"] == {"type": "complete", "reason": "stop"}
    parts = message["parts"]
    assert [p["type"] for p in parts] == ["reasoning", "text", "tool-call", "text", "source"]
    assert parts[0]["text"] == "The user wants the weather. I will call the tool."
    assert parts[1]["text"] == "Let me check."
    assert _strip_volatile(parts[2]) == {
        "type": "tool-call",
        "state": "result",
        "toolCallId": "call_1",
        "toolName": "get_weather",
        "argsText": '{"city":"Paris"}',
        "args": {"city": "Paris"},
        "result": {"tempC": 18, "sky": "cloudy"},
        "isError": False,
    }
    assert parts[3]["text"] == "It is 18 C and cloudy in Paris."
    assert _strip_volatile(parts[4]) == {
        "type": "source",
        "sourceType": "url",
        "id": "src_1",
        "url": "https://weather.example/paris",
        "title": "Paris forecast",
    }
    assert all(p["status"] == {"type": "complete", "reason": "unknown"} for p in parts)

    metadata = message["metadata"]
    assert metadata["unstable_state"] == {"lastCity": "Paris"}
    assert metadata["unstable_data"] == []
    assert metadata["unstable_annotations"] == []
    assert metadata["steps"] == [
        {
            "state": "finished",
            "messageId": "msg_1",
            "finishReason": "tool-calls",
            "usage": {"inputTokens": 12, "outputTokens": 30},
            "isContinued": False,
        },
        {
            "state": "finished",
            "messageId": "msg_2",
            "finishReason": "stop",
            "usage": {"inputTokens": 40, "outputTokens": 12},
            "isContinued": False,
        },
    ]


def test_node_dir_layout() -> None:
    assert (NODE_DIR / "decode.mjs").is_file()
    assert (NODE_DIR / "package-lock.json").is_file()
    assert (NODE_DIR / "node_modules" / "assistant-stream").is_dir()


def test_data_stream_complete_example() -> None:
    result = decode_with_assistant_stream("data-stream", DATA_STREAM_EXAMPLE)
    assert result["ok"] is True, result
    assert result["warnings"] == []
    _assert_weather_message(result["message"])


def test_assistant_transport_complete_example() -> None:
    result = decode_with_assistant_stream("assistant-transport", TRANSPORT_EXAMPLE)
    assert result["ok"] is True, result
    assert result["warnings"] == []
    _assert_weather_message(result["message"])


def test_data_stream_error_example() -> None:
    message = _ok("data-stream", DATA_STREAM_ERROR_EXAMPLE)
    assert message["status"] == {
        "type": "incomplete",
        "reason": "error",
        "error": {"code": "unknown", "message": "upstream model timed out"},
    }
    assert [p["type"] for p in message["parts"]] == ["reasoning", "text", "tool-call"]
    call = message["parts"][2]
    assert call["toolCallId"] == "call_1"
    assert call["argsText"] == '{"city":'
    assert call["args"] == {}
    assert call["state"] == "call"
    assert "result" not in call


def test_assistant_transport_error_example() -> None:
    message = _ok("assistant-transport", TRANSPORT_ERROR_EXAMPLE)
    assert message["status"]["type"] == "incomplete"
    assert message["status"]["reason"] == "error"
    assert message["status"]["error"]["message"] == "upstream model timed out"
    assert [p["type"] for p in message["parts"]] == ["reasoning", "tool-call"]
    assert message["parts"][1]["argsText"] == '{"city":'
    assert message["parts"][1]["args"] == {}


def test_data_stream_missing_final_newline_fails() -> None:
    body = DATA_STREAM_EXAMPLE.removesuffix(b"\n")
    result = decode_with_assistant_stream("data-stream", body)
    assert result["ok"] is False
    assert "incomplete line" in result["error"]
    # the JS decoder throws on an unterminated final line even when lenient
    assert decode_with_assistant_stream("data-stream", body, lenient=True)["ok"] is False


def test_assistant_transport_missing_done_fails_strict_only() -> None:
    body = TRANSPORT_EXAMPLE.removesuffix(DONE_EVENT)
    assert body != TRANSPORT_EXAMPLE
    result = decode_with_assistant_stream("assistant-transport", body)
    assert result["ok"] is False
    assert "[DONE]" in result["error"]

    lenient = decode_with_assistant_stream("assistant-transport", body, lenient=True)
    assert lenient["ok"] is True, lenient
    assert any("[DONE]" in w for w in lenient["warnings"])
    _assert_weather_message(lenient["message"])


def test_data_stream_unknown_code_strict_vs_lenient() -> None:
    body = b'0:"hi"\nzz:"what"\nno colon here\n'
    strict = decode_with_assistant_stream("data-stream", body)
    assert strict["ok"] is False
    assert "zz" in strict["error"]

    lenient = decode_with_assistant_stream("data-stream", body, lenient=True)
    assert lenient["ok"] is True, lenient
    assert lenient["message"]["parts"][0]["text"] == "hi"
    # console output is captured, never printed on stdout
    assert len(lenient["warnings"]) == 2
    assert any("zz" in w for w in lenient["warnings"])


def test_data_stream_other_parts_and_metadata() -> None:
    text = "h\u00e9llo \U0001f600 \u4e16\u754c"  # multi-byte UTF-8 split across 7-byte slices
    body = (
        f'0:"{text}"\r\n'.encode()
        + b"\n"  # keepalive blank line
        + b'2:[{"a":1}]\n'
        + b'8:[{"n":2}]\n'
        + b'k:{"data":"aGk=","mimeType":"text/plain"}\n'
        + b'aui-data:{"name":"chart","data":{"x":1}}\n'
        + b'b:{"toolCallId":"t1","toolName":"lookup"}\n'
        + b'c:{"toolCallId":"t1","argsTextDelta":"{}","isFinal":true}\n'
        + b'a:{"toolCallId":"t1","result":"boom","isError":true,"artifact":{"z":1}}\n'
        + b'aui-state:[{"type":"set","path":[],"value":{"s":"a"}},'
        + b'{"type":"append-text","path":["s"],"value":"b"}]\n'
    )
    message = _ok("data-stream", body)
    assert message["status"] == {"type": "complete", "reason": "unknown"}
    parts = [_strip_volatile(p) for p in message["parts"]]
    assert parts == [
        {"type": "text", "text": text},
        {"type": "file", "mimeType": "text/plain", "data": "aGk="},
        {"type": "data", "name": "chart", "data": {"x": 1}},
        {
            "type": "tool-call",
            "state": "result",
            "toolCallId": "t1",
            "toolName": "lookup",
            "argsText": "{}",
            "args": {},
            "artifact": {"z": 1},
            "result": "boom",
            "isError": True,
        },
    ]
    assert message["metadata"]["unstable_data"] == [{"a": 1}]
    assert message["metadata"]["unstable_annotations"] == [{"n": 2}]
    assert message["metadata"]["unstable_state"] == {"s": "ab"}


def test_data_stream_unanswered_tool_call_requires_action() -> None:
    body = (
        b'b:{"toolCallId":"c1","toolName":"ask"}\n'
        b'c:{"toolCallId":"c1","argsTextDelta":"{\\"q\\":1}","isFinal":true}\n'
    )
    message = _ok("data-stream", body)
    assert message["status"] == {"type": "requires-action", "reason": "tool-calls"}
    assert message["parts"][0]["args"] == {"q": 1}


def test_unknown_protocol_is_rejected() -> None:
    with pytest.raises(ValueError):
        decode_with_assistant_stream("ui-message-stream", b"")
