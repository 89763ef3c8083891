"""npm assistant-stream and our decoders read every recorded stream to the same message."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from node_client import decode_with_assistant_stream

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "decoding"))

from _decoding_cases import decoded_dict
from test_split_anywhere import recorded

pytestmark = pytest.mark.interop

PRODUCERS = [
    "ours-weather",
    "ours-rich",
    "ours-failing",
    "assistant-stream-0.0.36-weather",
    "assistant-stream-0.0.36-rich",
]


def ours_summary(message: dict[str, Any]) -> dict[str, Any]:
    parts = []
    for part in message["parts"]:
        if part["type"] in ("text", "reasoning"):
            parts.append({"type": part["type"], "text": part["text"]})
        elif part["type"] == "tool-call":
            parts.append(
                {
                    "type": "tool-call",
                    "id": part["tool_call_id"],
                    "name": part["tool_name"],
                    "argsText": part["args_text"],
                    "args": part["args"],
                    "result": part["result"] if part["has_result"] else "<none>",
                    "isError": part["is_error"],
                }
            )
        elif part["type"] == "source":
            parts.append({"type": "source", "id": part["id"], "url": part["url"]})
        else:
            parts.append({"type": "file", "data": part["data"], "mimeType": part["mime_type"]})
    steps = [(s["finish_reason"], s["usage"]["input_tokens"]) for s in message["steps"]]
    return {"parts": parts, "state": message["state"], "data": message["data"], "steps": steps}


def node_summary(message: dict[str, Any]) -> dict[str, Any]:
    parts = []
    for part in message["parts"]:
        kind = part["type"]
        if kind in ("text", "reasoning"):
            parts.append({"type": kind, "text": part["text"]})
        elif kind == "tool-call":
            parts.append(
                {
                    "type": "tool-call",
                    "id": part["toolCallId"],
                    "name": part["toolName"],
                    "argsText": part["argsText"],
                    "args": part["args"],
                    "result": part.get("result", "<none>"),
                    "isError": bool(part.get("isError", False)),
                }
            )
        elif kind == "source":
            parts.append({"type": "source", "id": part["id"], "url": part["url"]})
        else:
            parts.append({"type": "file", "data": part["data"], "mimeType": part["mimeType"]})
    metadata = message["metadata"]
    steps = [
        (s["finishReason"], s["usage"]["inputTokens"])
        for s in metadata["steps"]
        if s.get("state") == "finished"
    ]
    return {
        "parts": parts,
        "state": metadata.get("unstable_state"),
        "data": metadata.get("unstable_data", []),
        "steps": steps,
    }


@pytest.mark.parametrize("protocol", ["data-stream", "assistant-transport"])
@pytest.mark.parametrize("producer", PRODUCERS)
def test_node_and_python_decoders_agree(protocol: str, producer: str) -> None:
    body = recorded().get((protocol, producer))
    if body is None:
        pytest.skip("assistant-stream 0.0.36 is not installed")
    node = decode_with_assistant_stream(protocol, body, lenient=producer.startswith("assistant"))
    assert node["ok"], node
    ours = decoded_dict(protocol, body, {})
    theirs = node_summary(node["message"])
    mine = ours_summary(ours)
    if theirs["state"] is None:
        mine["state"] = None if mine["state"] == {} else mine["state"]
    assert mine == theirs
    status = node["message"]["status"]
    expected = {"complete": "complete", "requires-action": "requires-action"}.get(
        ours["status"], "incomplete"
    )
    assert status["type"] == expected
