"""Every code block in README.md and docs/*.md runs as a user would run it.

- Python blocks are executed as scripts (``python -c``-style, in a fresh namespace) with the
  OpenAI and Anthropic SDKs pointed at the local fake provider, and ``http://127.0.0.1:8000``
  (the demo's address in the docs) replaced by a demo server started for the test. A block
  that defines ``app`` is then served under uvicorn and every POST route is called: each must
  stream a reply its protocol's decoder reads without an error. A block that defines a run
  callback ``run`` (and no app) is run to completion: it must not fail.
- Shell blocks are run line by line after the README's own setup: ``assistant-stream-ce``
  commands against the demo server (exit status 0). The two setup commands themselves
  (``bash scripts/demo.sh``, ``bash scripts/test.sh``) are what CI and the demo tests run, and
  ``pip install``/``uninstall`` lines need the network: those lines are listed, not run.
- Diff blocks (migrations): the added lines run as Python.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx
import pytest

from _live import LiveServer
from assistant_stream_ce import accumulate, create_run
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.serialization import PROTOCOLS, detect_protocol, get_protocol
from fakes.fake_provider import FakeProvider

pytestmark = pytest.mark.http

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEMO_URL = "http://127.0.0.1:8000"
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
NOT_RUN = (
    re.compile(r"^bash scripts/(demo|test)\.sh\b"),  # the setup commands (CI runs them)
    re.compile(r"^pip (un)?install\b"),  # needs the network, changes the environment
)
CHAT = {"messages": [{"role": "user", "content": "What's the weather in Paris?"}]}
# What `useChat`'s DefaultChatTransport posts, for routes that take a `UIChatRequest`.
UI_CHAT = {
    "id": "chat-1",
    "trigger": "submit-message",
    "messages": [
        {
            "id": "u1",
            "role": "user",
            "parts": [{"type": "text", "text": CHAT["messages"][0]["content"]}],
        }
    ],
}


def blocks() -> Iterator[Any]:
    for path in DOCS:
        for index, match in enumerate(FENCE.finditer(path.read_text())):
            indent, language, code = match.groups()
            code = textwrap.dedent(code) if indent else code
            yield pytest.param(language, code, id=f"{path.name}#{index}-{language or 'text'}")


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def demo(live_server: Any) -> LiveServer:
    server: LiveServer = live_server(create_app(DemoConfig(pace=0)))
    return server


@pytest.fixture(autouse=True)
def registry_restored() -> Iterator[None]:
    """A block may register a protocol: the registry is as before after each block."""
    before = dict(PROTOCOLS)
    yield
    PROTOCOLS.clear()
    PROTOCOLS.update(before)


@pytest.fixture
def provider_env(fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-docs-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_provider.anthropic_base_url)


def check_app(app: Any, live_server: Any) -> int:
    """Call every POST route of ``app``; each must stream a reply without an error."""
    server: LiveServer = live_server(app)
    routes = [route for route in app.routes if "POST" in getattr(route, "methods", ())]
    assert routes, "the block defines an app without POST routes"
    for route in routes:
        response = httpx.post(server.url(route.path), json=CHAT, timeout=30)
        if response.status_code == 422:  # a route that takes the useChat body
            response = httpx.post(server.url(route.path), json=UI_CHAT, timeout=30)
        assert response.status_code == 200, (route.path, response.text)
        name = detect_protocol(response.headers, _first_json(response.content))
        assert name is not None, f"{route.path}: unknown protocol {response.headers}"
        chunks = get_protocol(name).decoder().decode(response.content)
        message = accumulate(chunks)
        assert message.parts, f"{route.path}: an empty reply"
        assert not message.errors, f"{route.path} ({name}): {message.errors}"
    return len(routes)


def _first_json(body: bytes) -> Any:
    import json

    for line in body.decode().splitlines():
        payload = line[6:] if line.startswith("data: ") else None
        if payload and payload != "[DONE]":
            try:
                return json.loads(payload)
            except ValueError:
                return None
    return None


async def _drain(run: Any) -> list[Any]:
    return [chunk async for chunk in create_run(run, state={})]


@pytest.mark.parametrize(("language", "code"), list(blocks()))
def test_code_block_runs(
    language: str,
    code: str,
    demo: LiveServer,
    live_server: Any,
    provider_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = code.replace(DEMO_URL, demo.url("").rstrip("/"))
    if language == "diff":  # a migration: the new side must run
        code = "\n".join(line[2:] for line in code.splitlines() if line.startswith("+ "))
        language = "python"
    if language == "python":
        if re.search(r"^from lang(graph|chain)", code, re.MULTILINE) and not find_spec("langgraph"):
            pytest.skip("needs the [langgraph] extra (Python 3.11 or newer)")
        namespace: dict[str, Any] = {"__name__": "__docs__"}
        exec(compile(code, "<docs>", "exec"), namespace)
        if "app" in namespace:
            assert check_app(namespace["app"], live_server) > 0
        elif callable(namespace.get("run")):
            chunks = asyncio.run(_drain(namespace["run"]))
            assert chunks and not any(chunk.type == "error" for chunk in chunks), chunks
        return
    if language in ("bash", "sh", "shell"):
        ran = 0
        for line in code.splitlines():
            command = line.split("  #")[0].strip()
            if not command or command.startswith("#"):
                continue
            if any(pattern.search(command) for pattern in NOT_RUN):
                continue
            assert command.startswith("assistant-stream-ce "), f"no rule to run: {command}"
            executable = shutil.which("assistant-stream-ce", path=str(Path(sys.executable).parent))
            assert executable is not None
            result = subprocess.run(
                [executable, *command.split()[1:]],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "NO_COLOR": "1"},
            )
            assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
            ran += 1
        return
    # ``text`` blocks are diagrams and sample output, not code
    assert language == "text", f"a {language or 'plain'} code block: no rule runs it"
