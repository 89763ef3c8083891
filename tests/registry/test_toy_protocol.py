"""A protocol added through the registry alone shows up in the demo, `inspect` and `check`.

The toy protocol is newline-delimited JSON: ``{"t": text}`` per text delta, ``{"e": message}``
for an error and ``{"done": true}`` last. Nothing outside this file names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import httpx
import pytest

from _live import LiveServer
from assistant_stream_ce import ErrorChunk, TextDeltaChunk
from assistant_stream_ce.cli import main
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.serialization import (
    PROTOCOLS,
    AssistantStreamResponse,
    ProtocolInfo,
    StreamDecoder,
    StreamEncoder,
    register_protocol,
    unregister_protocol,
)
from assistant_stream_ce.serialization.sse import LineReader

pytestmark = pytest.mark.http


class ToyEncoder(StreamEncoder):
    media_type = "application/x-ndjson"
    keepalive = b"{}\n"
    sse = False
    headers: ClassVar[dict[str, str]] = {"x-toy-protocol": "1"}

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        frames = []
        for chunk in chunks:
            if chunk.type == "text-delta":
                frames.append(json.dumps({"t": chunk.text_delta}).encode() + b"\n")
            elif chunk.type == "error":
                frames.append(json.dumps({"e": chunk.error}).encode() + b"\n")
        return frames

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        return [] if failed else [b'{"done": true}\n']


class ToyDecoder(StreamDecoder):
    protocol = "toy"

    def reset(self) -> None:
        super().reset()
        self._lines = LineReader(self.protocol)

    def _feed(self, data: bytes) -> list[Any]:
        chunks: list[Any] = []
        for line in self._lines.feed(data):
            value = json.loads(line) if line else {}
            if "t" in value:
                chunks.append(TextDeltaChunk(value["t"]))
            elif "e" in value:
                chunks.append(ErrorChunk(value["e"]))
            elif value.get("done"):
                self.done = True
        return chunks

    def _close(self) -> list[Any]:
        return []


class ToyResponse(AssistantStreamResponse):
    def __init__(self, stream: Any, **options: Any) -> None:
        super().__init__(stream, ToyEncoder(), **options)


TOY = ProtocolInfo(
    name="toy",
    label="Toy NDJSON",
    description="newline-delimited JSON, for the registry test",
    encoder=ToyEncoder,
    decoder=ToyDecoder,
    response=ToyResponse,
    carries=frozenset({"text", "errors"}),
    marker=("x-toy-protocol", "1"),
)


@pytest.fixture
def toy() -> Iterator[ProtocolInfo]:
    register_protocol(TOY)
    try:
        yield TOY
    finally:
        unregister_protocol("toy")
    assert "toy" not in PROTOCOLS


@pytest.fixture
def demo(toy: ProtocolInfo, live_server: Callable[[Any], LiveServer]) -> LiveServer:
    return live_server(create_app(DemoConfig(pace=0.001)))


def test_the_demo_lists_and_serves_the_new_protocol(demo: LiveServer) -> None:
    formats = httpx.get(demo.url("/api/formats"), timeout=5).json()["formats"]
    toy = next(item for item in formats if item["name"] == "toy")
    assert toy["label"] == "Toy NDJSON" and toy["endpoint"] == "/api/chat/toy"
    assert toy["media_type"] == "application/x-ndjson" and toy["carries"] == ["errors", "text"]
    body = {"messages": [{"role": "user", "content": "Hello"}]}
    response = httpx.post(demo.url("/api/chat/toy"), json=body, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    assert lines[-1] == {"done": True}
    assert "".join(line.get("t", "") for line in lines).strip()


def test_inspect_detects_and_reads_the_new_protocol(
    demo: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = demo.url("/api/chat/toy")
    assert main(["inspect", url, "--json"]) == 0  # no --format: the marker header tells
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "toy" and report["ended"] == "done"
    assert report["tokens"] > 1 and report["message"]["parts"][0]["type"] == "text"
    assert main(["inspect", url, "--format", "toy"]) == 0
    assert "text-delta" in capsys.readouterr().out


def test_check_runs_the_generic_checks_on_the_new_protocol(
    demo: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", demo.url("/api/chat/toy"), "--format", "toy", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "toy" and report["ok"] is True
    ids = {result["id"]: result["status"] for result in report["results"]}
    assert ids["content-type"] == ids["frames-terminated"] == ids["valid-json"] == "pass"
    assert ids["client-abort"] == "pass"


def test_an_unknown_protocol_name_is_refused_by_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["inspect", "http://127.0.0.1:1/x", "--format", "toy"])
    assert "invalid choice: 'toy'" in capsys.readouterr().err
