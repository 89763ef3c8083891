"""The seed's FastAPI example, verbatim, streaming from the real SDKs against the fake provider.

Only the environment is wired (``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` and the Anthropic
pair); the base URL's ``/s/<scenario>`` prefix picks what the fake provider plays.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _rais_client import assert_v1_lifecycle, reference_events, strict_events
from _rais_upstream import FakeUpstream

from _live import LiveServer

pytestmark = pytest.mark.http

# From shared/seeds/003 ("FastAPI example"), indentation restored.
SEED_EXAMPLE = """
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from rais import stream_response
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
class Message(BaseModel):
    role: str
    content: str
class ChatRequest(BaseModel):
    messages: list[Message]
@app.post("/api/chat")
async def chat(request: ChatRequest):
    return StreamingResponse(
        stream_response(
            [m.model_dump() for m in request.messages],
            provider="openai", # or "anthropic"
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "Connection": "keep-alive"},
    )
"""

KEY = "sk-test-Q7w3Zr9Lp2Xv8Nm4Kd6"
PROVIDERS = ["openai", "anthropic"]
ENV = {"openai": "OPENAI", "anthropic": "ANTHROPIC"}
QUESTION = {"messages": [{"role": "user", "content": "Hi"}]}


def load_app(path: Path, name: str) -> Any:
    """Import a file as module ``name`` (registered, so pydantic can resolve its models)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.app


def seed_app(provider: str, directory: Path) -> Any:
    source = SEED_EXAMPLE
    if provider == "anthropic":
        source = source.replace('provider="openai", # or "anthropic"', 'provider="anthropic",')
    path = directory / f"seed_example_{provider}.py"
    path.write_text(source)
    return load_app(path, f"seed_example_{provider}")


@pytest.fixture(scope="module")
def _seed_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveServer]]:
    directory = tmp_path_factory.mktemp("seed")
    servers = {name: LiveServer(seed_app(name, directory)).start() for name in PROVIDERS}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def serve_seed(
    _seed_servers: dict[str, LiveServer],
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str, str], LiveServer]:
    """The seed app for ``provider``, with the fake playing ``scenario`` (set by environment)."""

    def start(provider: str, scenario: str) -> LiveServer:
        monkeypatch.setenv(f"{ENV[provider]}_BASE_URL", upstream.base_url(provider, scenario))
        monkeypatch.setenv(f"{ENV[provider]}_API_KEY", KEY)
        return _seed_servers[provider]

    return start


def post(server: LiveServer, body: Any = QUESTION, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url("/api/chat"), json=body, timeout=10, **kwargs)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plain_text_streams_from_the_real_sdk(
    serve_seed: Callable[[str, str], LiveServer], upstream: FakeUpstream, provider: str
) -> None:
    response = post(serve_seed(provider, "text"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = strict_events(response.content, ids=False)
    assert_v1_lifecycle(events)
    assert "".join(e["text"] for e in events[:-1]) == "Hello from the fake model."
    assert events[-1] == {"type": "done"}
    # The SDK really called the fake, with our defaults.
    (request,) = upstream.fake.requests
    assert request.path == ("/v1/chat/completions" if provider == "openai" else "/v1/messages")
    assert request.body["messages"] == [{"role": "user", "content": "Hi"}]
    assert request.body["stream"] is True
    if provider == "anthropic":
        assert request.body["max_tokens"] == 1024
    sent_key = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent_key.removeprefix("Bearer ") == KEY


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("reasoning", "Hello from the fake model."),
        ("usage", "Once upon a time"),
        ("tools", "Let me check."),
    ],
)
def test_reasoning_tool_calls_and_usage_stream_as_plain_v1_text(
    serve_seed: Callable[[str, str], LiveServer], provider: str, scenario: str, text: str
) -> None:
    """RAIS v1 carries text only: reasoning, tool calls and usage from the provider are left out
    (no reserved or unknown event types), and the stream still ends with exactly one done."""
    response = post(serve_seed(provider, scenario))
    assert response.status_code == 200
    events = strict_events(response.content, ids=False)
    assert_v1_lifecycle(events)
    assert {e["type"] for e in events} == {"text", "done"}
    assert "".join(e.get("text", "") for e in events) == text
    assert events[-1] == {"type": "done"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_midstream_failure_is_one_error_event_after_the_text(
    serve_seed: Callable[[str, str], LiveServer], provider: str
) -> None:
    response = post(serve_seed(provider, "midstream-failure"))
    assert response.status_code == 200
    events = strict_events(response.content, ids=False)
    assert_v1_lifecycle(events)
    assert [e["type"] for e in events] == ["text", "text", "error"][-len(events) :]
    assert "".join(e.get("text", "") for e in events) == "Hello from"
    assert events[-1]["type"] == "error"
    assert "connection" in events[-1]["error"].lower() or "broke off" in events[-1]["error"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("scenario", "words"),
    [("401", "authentication"), ("429", "rate limit"), ("529", "overloaded")],
)
def test_provider_errors_are_one_clear_error_event(
    serve_seed: Callable[[str, str], LiveServer], provider: str, scenario: str, words: str
) -> None:
    if scenario == "529" and provider == "openai":
        words = "503"
    response = post(serve_seed(provider, scenario))
    assert response.status_code == 200
    events = strict_events(response.content, ids=False)
    assert len(events) == 1
    assert events[0]["type"] == "error"
    assert words in events[0]["error"].lower()
    assert KEY not in response.text and KEY[-4:] not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cors_lets_a_browser_on_another_origin_read_the_stream(
    serve_seed: Callable[[str, str], LiveServer], provider: str
) -> None:
    server = serve_seed(provider, "text")
    origin = {"Origin": "http://localhost:3000"}
    preflight = httpx.options(
        server.url("/api/chat"),
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    response = post(server, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert reference_events(response.content)[-1] == {"type": "done"}


def test_the_shipped_example_is_the_seed_example(
    live_server: Callable[[Any], LiveServer],
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = Path(__file__).parents[2] / "examples" / "rais_fastapi.py"
    code = [line.split("#")[0].rstrip() for line in example.read_text().splitlines()]
    for line in SEED_EXAMPLE.strip().splitlines():
        assert line.split("#")[0].rstrip() in code, line
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.openai_base_url("text"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    app = load_app(example, "rais_fastapi_example")
    events = reference_events(post(live_server(app)).content)
    assert "".join(e.get("text", "") for e in events) == "Hello from the fake model."
    assert events[-1] == {"type": "done"}
