"""Test your own streaming endpoints the way a client meets them.

httpx's ``ASGITransport`` does not stream a response body (an endless stream hangs it), and
Starlette's ``TestClient`` reads it whole. These helpers go through a real socket instead: `serve`
runs your app under uvicorn on 127.0.0.1 (an ephemeral port, in a background thread, so sync and
async tests can both call it), `fetch_stream` / `afetch_stream` POST to a route and decode the
reply with the protocol's own decoder, and `assert_conforms` runs the protocol checks of
``assistant-stream-ce check`` against it. They need the ``[server]`` extra (uvicorn and httpx)::

    from assistant_stream_ce.testing import fetch_stream, serve

    def test_chat() -> None:
        with serve(app) as server:
            result = fetch_stream(server.url("/api/chat"), protocol="data-stream", json=body)
        assert result.status_code == 200
        assert result.message.text == "Hello!"
"""

from __future__ import annotations

import asyncio
import json as json_module
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from .accumulator import Message, accumulate
from .assistant_stream_chunk import AssistantStreamChunk
from .serialization.registry import get_protocol

try:
    import httpx
    import uvicorn
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "assistant_stream_ce.testing needs uvicorn and httpx: "
        "pip install 'assistant-stream-ce[server]'"
    ) from exc

__all__ = [
    "LiveServer",
    "StreamResult",
    "afetch_stream",
    "assert_conforms",
    "fetch_stream",
    "serve",
]

#: What `fetch_stream` and `assert_conforms` POST when no ``json`` is given.
DEFAULT_CHAT = {"messages": [{"role": "user", "content": "Hello!"}]}


class LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread of its own (see `serve`)."""

    def __init__(self, app: Any, *, startup_timeout: float = 10.0, **uvicorn_options: Any) -> None:
        options: dict[str, Any] = {"log_level": "warning", "timeout_graceful_shutdown": 5}
        options.update(uvicorn_options)
        options["host"] = "127.0.0.1"  # loopback only
        options.setdefault("port", 0)  # an ephemeral port
        #: The ASGI app being served.
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, **options))
        self.startup_timeout = startup_timeout
        #: The port the server listens on (known once started).
        self.port = 0
        #: The server's event loop (its thread's own, while it runs).
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, name="live-server", daemon=True)
        self._error: BaseException | None = None

    def _serve(self) -> None:
        loop = self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.server.serve())
        except BaseException as exc:  # reported by start() when serving ends while it waits
            self._error = exc
        finally:
            loop.close()

    def start(self) -> LiveServer:
        """Start serving; raises `RuntimeError` if uvicorn has not started in time."""
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if not self._thread.is_alive():
                reason = repr(self._error) if self._error else "see uvicorn's log"
                raise RuntimeError(f"the server stopped while starting ({reason})")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start within {self.startup_timeout} s")
            time.sleep(0.005)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down (streams still open are cancelled after uvicorn's graceful timeout)."""
        self.server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.server.force_exit = True
            self._thread.join(timeout)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """The URL of ``path`` on this server (``""``: `base_url`)."""
        if path and not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def __enter__(self) -> LiveServer:
        return self if self.port else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def serve(app: Any, **uvicorn_options: Any) -> Iterator[LiveServer]:
    """Serve ``app`` on 127.0.0.1 (an ephemeral port) for the ``with`` block.

    ``uvicorn_options`` go to ``uvicorn.Config`` (``lifespan="off"``, ``http="httptools"``, …;
    ``port`` picks a fixed port). The server stops when the block ends.
    """
    server = LiveServer(app, **uvicorn_options).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class StreamResult:
    """What one streamed reply was: status, headers, raw body, decoded chunks and message."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    #: The decoded chunks (empty when the status is not 2xx, or 204).
    chunks: list[AssistantStreamChunk] = field(default_factory=list)
    #: The chunks added up into one message (``message.text``, ``.tool_calls``, ``.usage``, …).
    message: Message = field(default_factory=lambda: accumulate([]))
    #: True when the client hung up early (``stop_after``).
    aborted: bool = False

    def json(self) -> Any:
        """The body as JSON (for an error reply)."""
        return json_module.loads(self.body)


def _body(json: Any) -> Any:
    return DEFAULT_CHAT if json is None else json


def _request(url: str, method: str, json: Any, headers: Mapping[str, str] | None) -> dict[str, Any]:
    """The arguments of ``client.stream``: GET (a resume endpoint) sends no body."""
    request: dict[str, Any] = {
        "method": method.upper(),
        "url": url,
        "headers": {"Accept": "text/event-stream, text/plain, */*", **(headers or {})},
    }
    if request["method"] != "GET":
        request["json"] = _body(json)
    return request


class _Reader:
    """Decodes a reply as it arrives; says when to stop reading (``stop_after``)."""

    def __init__(
        self, protocol: str, strict: bool, max_time: float, stop_after: int | None
    ) -> None:
        self.decoder = get_protocol(protocol).decoder(strict=strict)
        self.max_time = max_time
        self.deadline = time.monotonic() + max_time
        self.stop_after = stop_after
        self.body = bytearray()
        self.chunks: list[AssistantStreamChunk] = []
        self.decoding = False
        self.aborted = False

    def start(self, response: httpx.Response) -> None:
        status = response.status_code
        self.decoding = 200 <= status < 300 and status != 204  # not an error, nor "nothing"

    def feed(self, data: bytes) -> bool:
        """Take one read; True when the client should hang up now."""
        self.body += data
        if self.decoding:
            self.chunks += self.decoder.feed(data)
            if self.stop_after is not None and len(self.chunks) >= self.stop_after:
                self.aborted = True
                return True
        if time.monotonic() > self.deadline:
            raise TimeoutError(f"the stream did not end within {self.max_time} s (max_time)")
        return False

    def result(self, response: httpx.Response) -> StreamResult:
        if not self.decoding:
            return StreamResult(response.status_code, response.headers, bytes(self.body))
        if not self.aborted:
            self.chunks += self.decoder.close()
        return StreamResult(
            response.status_code,
            response.headers,
            bytes(self.body),
            self.chunks,
            accumulate(self.chunks),
            aborted=self.aborted,
        )


def fetch_stream(
    url: str,
    *,
    protocol: str,
    json: Any = None,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    max_time: float = 60.0,
    stop_after: int | None = None,
    strict: bool = True,
) -> StreamResult:
    """POST ``json`` (default: one user message) to ``url`` and decode the streamed reply
    (``method="GET"`` sends no body: a resume endpoint).

    ``protocol`` names the registered protocol the route speaks (``"data-stream"``,
    ``"ui-message-stream"``, ``"ag-ui"``, …). With ``strict`` (the default) a frame the
    decoder cannot read raises `DecodeError`. ``timeout`` bounds each read and ``max_time`` the
    whole reply: a stream still open after it raises `TimeoutError` (keepalives do not count
    as an end). ``stop_after`` hangs up once that many chunks were decoded, as a client that
    goes away mid-stream (the result is then ``aborted``).
    """
    reader = _Reader(protocol, strict, max_time, stop_after)  # an unknown protocol fails here
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream(**_request(url, method, json, headers)) as response,
    ):
        reader.start(response)
        for data in response.iter_bytes():
            if reader.feed(data):
                break
    return reader.result(response)


async def afetch_stream(
    url: str,
    *,
    protocol: str,
    json: Any = None,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    max_time: float = 60.0,
    stop_after: int | None = None,
    strict: bool = True,
) -> StreamResult:
    """`fetch_stream` for async tests (httpx's ``AsyncClient`` over the real socket)."""
    reader = _Reader(protocol, strict, max_time, stop_after)
    async with (
        httpx.AsyncClient(timeout=timeout) as client,
        client.stream(**_request(url, method, json, headers)) as response,
    ):
        reader.start(response)
        async for data in response.aiter_bytes():
            if reader.feed(data):
                break
    return reader.result(response)


def assert_conforms(
    url: str, *, protocol: str | None = None, json: Any = None, timeout: float = 60.0
) -> None:
    """Run the protocol checks of ``assistant-stream-ce check`` against ``url``.

    Raises `AssertionError` listing every failed MUST (SHOULD failures are warnings and pass).
    ``protocol`` None detects it from the reply. The checks POST ``json`` several times (a
    read-through, a malformed body, an abort), so the route must answer each request anew.
    """
    from .tools.check import run_checks

    exchange, checker = run_checks(url, protocol, _body(json), timeout=timeout)
    if exchange.status is None:
        raise AssertionError(f"could not reach {url}: {exchange.transport_error}")
    if not exchange.format:
        raise AssertionError(f"{url}: {exchange.detect_error}")
    failed = checker.failed
    if failed:
        lines = [f"{url} ({exchange.format}): {len(failed)} MUST check(s) failed"]
        lines += [f"- {result.id}: {result.title} ({result.detail})" for result in failed]
        raise AssertionError("\n".join(lines))
