"""Hostile upstreams (issue 14): a stalled one is cut off with a timeout that says which, bad
usage figures never reach the wire, and a key hidden in the base URL never leaves the process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from assistant_stream_ce import RunController
from assistant_stream_ce.errors import ProviderError
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.providers._common import token_count
from assistant_stream_ce.providers.openai_chat import _consume
from assistant_stream_ce.redaction import redact
from fakes.fake_provider import FakeProvider
from fakes.run_result import run

pytestmark = pytest.mark.http

HELLO = [{"role": "user", "content": "Hi"}]
KEY = "sk-live-Zq81Xw72Vb63Nm54Lp09"


def base_url(fake: FakeProvider, provider: str) -> str:
    return fake.openai_base_url if provider == "openai" else fake.anthropic_base_url


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_an_upstream_that_goes_silent_is_cut_off_by_the_idle_timeout(
    fake_provider: FakeProvider, provider: str
) -> None:
    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            HELLO,
            provider=provider,
            model="stall",
            api_key=KEY,
            base_url=base_url(fake_provider, provider),
            idle_timeout=0.3,
        )

    started = time.monotonic()
    result = await run(callback)
    assert time.monotonic() - started < 5
    assert isinstance(result.error, ProviderError) and result.error.kind == "timeout"
    assert "went silent for 0.3 s (idle_timeout)" in str(result.error)
    assert result.text == "Hello"  # what came before is kept


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_an_upstream_that_never_answers_is_cut_off_by_the_first_token_timeout(
    silent_server: str, provider: str
) -> None:
    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            HELLO,
            provider=provider,
            model="m",
            api_key=KEY,
            base_url=silent_server,
            first_token_timeout=0.3,
        )

    started = time.monotonic()
    result = await run(callback)
    assert time.monotonic() - started < 5
    assert isinstance(result.error, ProviderError) and result.error.kind == "timeout"
    assert "sent nothing for 0.3 s after the request (first_token_timeout)" in str(result.error)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_key_in_the_base_url_never_appears_in_an_error(provider: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://user:{KEY}@127.0.0.1:{port}/{KEY}/v1"

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            HELLO,
            provider=provider,
            model="m",
            api_key=KEY,
            base_url=url,
            max_retries=0,
        )

    result = await run(callback)
    assert isinstance(result.error, ProviderError) and result.error.kind == "connection"
    text = str(result.error)
    assert "Could not connect" in text and KEY not in text and KEY.lower() not in text
    assert "Zq81" not in text


def test_redaction_ignores_case() -> None:
    out = redact(f"invalid key {KEY.lower()} (was {KEY.upper()[:12]}…)", [KEY])
    assert KEY.lower() not in out and "ZQ81" not in out.upper().replace("[REDACTED]", "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (12.0, 12),
        (None, 0),
        ("12", 0),
        ([1], 0),
        (1e400, 0),
        (12.5, 0),
        (-5, 0),
        (10**30, 0),
        (True, 0),
    ],
)
def test_token_counts_are_sane_or_dropped(value: Any, expected: int) -> None:
    assert token_count(value) == expected


async def test_bad_upstream_usage_does_not_break_a_good_reply() -> None:
    def delta(**fields: Any) -> Any:
        return SimpleNamespace(**{"content": None, "tool_calls": None, **fields})

    def chunk(**fields: Any) -> Any:
        choice = SimpleNamespace(delta=delta(**fields), finish_reason=None, index=0)
        return SimpleNamespace(id="c1", choices=[choice], usage=None)

    finish = SimpleNamespace(
        id="c1",
        choices=[SimpleNamespace(delta=delta(), finish_reason="stop", index=0)],
        usage=None,
    )
    usage = SimpleNamespace(
        id="c1", choices=[], usage=SimpleNamespace(prompt_tokens="12", completion_tokens=1e400)
    )

    async def stream() -> Any:
        for item in (chunk(content="Hello"), finish, usage):
            yield item

    async def callback(controller: RunController) -> None:
        await _consume(controller, stream())

    result = await run(callback)
    assert result.error is None
    assert result.text == "Hello"
    step = result.finishes[-1]
    assert (step.finish_reason, step.input_tokens, step.output_tokens) == ("stop", 0, 0)
