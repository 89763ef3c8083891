"""The demo chat server: a chat page and one streaming endpoint per wire protocol.

``POST /api/chat/<format>`` with a body in that protocol's own request shape (`parse_request`),
or the plain ``{"messages": [{"role": "user", "content": "..."}]}``, streams the reply of the
configured model (the built-in offline model by default) in that format — any protocol in the
registry (`assistant_stream_ce.serialization.PROTOCOLS`, read per request). The model gets the
``book_table`` tool (runs on the server after a person's approval) and the ``get_location``
client tool (the page answers it); the client's answers continue the run. Assistant transport
keeps each thread's conversation on the server. The OpenAI endpoint also answers at
``/api/chat/openai/chat/completions`` (what the official SDKs post to with ``base_url`` set to
``/api/chat/openai``).
``GET /api/formats`` lists them, ``GET /api/runs`` / ``/api/runs/last`` / ``/api/stats``
report what recent runs did (frames and text deltas written, how they ended — including runs
cancelled because the client went away).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from ..assistant_stream_chunk import UpdateStateChunk
from ..create_run import RunController, create_run
from ..errors import InvalidMessagesError, ProviderError
from ..history import HistoryStore
from ..providers import Tool, run_provider, validate_messages
from ..providers.tools import as_tool
from ..requests import ChatRequest, RequestError, ToolDefinition, parse_request
from ..requests import _drop_unanswered as drop_unanswered
from ..serialization import PROTOCOLS
from ..serialization.assistant_stream_response import AssistantStreamResponse
from ..serialization.decoding import Malformed, loads
from ..serialization.registry import ProtocolInfo
from ..serialization.stream_encoder import StreamEncoder

__all__ = ["DemoConfig", "create_app"]

logger = logging.getLogger("assistant_stream_ce.demo")

STATIC_DIR = Path(__file__).parent / "static"
_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<path d="M8 1l7 7-7 7-7-7z" fill="#6d5efc"/></svg>'
)

Provider = Literal["offline", "openai", "anthropic"]
RunStatus = Literal["running", "completed", "cancelled", "failed"]


# -- configuration and run records ---------------------------------------------------------


@dataclass
class DemoConfig:
    """Which model answers: the offline model (default) or a real provider."""

    provider: Provider = "offline"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    #: Offline model: seconds between streamed pieces (None = the model's default).
    pace: float | None = None
    #: The largest request body accepted, in bytes (413 above it).
    max_body_bytes: int = 1024 * 1024
    #: How deep a request body's JSON may nest (422 deeper).
    max_body_depth: int = 64


@dataclass
class RunRecord:
    """What one run did, as reported by ``/api/runs``."""

    id: int
    format: str
    provider: str
    status: RunStatus = "running"
    #: Protocol frames written (SSE events or data-stream lines; keepalives excluded).
    frames: int = 0
    #: Text-delta chunks written (each is one text frame in every protocol).
    text_deltas: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.time)
    duration_ms: float | None = None
    ended_early: str | None = None


class RunLog:
    """Recent runs and counters (per app, no globals)."""

    def __init__(self, keep: int = 50) -> None:
        self._ids = itertools.count(1)
        self.recent: deque[RunRecord] = deque(maxlen=keep)
        self.counts = {"runs": 0, "running": 0, "completed": 0, "cancelled": 0, "failed": 0}

    def start(self, fmt: str, provider: str) -> RunRecord:
        record = RunRecord(next(self._ids), fmt, provider)
        self.recent.append(record)
        self.counts["runs"] += 1
        self.counts["running"] += 1
        return record

    def end(self, record: RunRecord, status: RunStatus) -> None:
        if record.status != "running":
            return
        record.status = status
        record.duration_ms = round((time.time() - record.started) * 1000, 1)
        self.counts["running"] -= 1
        self.counts[status] += 1
        if status == "cancelled":
            logger.info("run %d (%s) cancelled: the client went away", record.id, record.format)
        else:
            logger.info("run %d (%s) %s", record.id, record.format, status)


class _CountingEncoder(StreamEncoder):
    """Wraps a response's encoder to count the frames and text deltas it writes."""

    media_type = ""
    keepalive = b""

    def __init__(
        self,
        inner: StreamEncoder,
        record: RunRecord,
        see: Callable[[Any], None] | None = None,
        finished: Callable[[], list[Any]] | None = None,
    ) -> None:
        self.inner = inner
        self.record = record
        self.see = see
        self.finished = finished
        self.media_type = inner.media_type  # type: ignore[misc]
        self.keepalive = inner.keepalive  # type: ignore[misc]

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        self.record.text_deltas += sum(1 for chunk in chunks if chunk.type == "text-delta")
        if self.see is not None:
            for chunk in chunks:
                self.see(chunk)
        frames = self.inner.encode_frames(chunks)
        self.record.frames += len(frames)
        return frames

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        last = self.finished() if self.finished is not None and not failed else []
        frames = self.inner.encode_frames(last) if last else []
        frames += self.inner.finish_frames(failed)
        self.record.frames += len(frames)
        return frames

    @property
    def closed(self) -> bool:
        return self.inner.closed


class _RecordedResponse(Response):
    """Serves an `AssistantStreamResponse` and records how the run ended."""

    def __init__(self, inner: AssistantStreamResponse, record: RunRecord, log: RunLog) -> None:
        self.inner = inner
        self.record = record
        self.log = log
        self.status_code = inner.status_code
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = self.record

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                record.bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.inner(scope, receive, counting_send)
        finally:
            record.ended_early = self.inner.ended_early
            if self.inner.ended_early is not None:
                self.log.end(record, "cancelled")
            else:
                self.log.end(record, "completed")


# -- the app -------------------------------------------------------------------------------


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# Bodies larger than this are parsed on a worker thread, so one big request never stalls others.
_PARSE_INLINE_BYTES = 64 * 1024


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests (counting stops past ``limit``), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


async def _read_json(request: Request, config: DemoConfig) -> Any:
    """The request's JSON body, or `_BadRequest` (415, 413, 400 or 422) saying what is wrong."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _BadRequest(415, "send the body as JSON (Content-Type: application/json)")
    limit = config.max_body_bytes
    too_large = _BadRequest(413, f"the body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    pieces: list[bytes] = []
    size = 0
    async for piece in request.stream():
        size += len(piece)
        if size > limit:
            raise too_large
        pieces.append(piece)
    raw = b"".join(pieces)

    def parse() -> Any:
        try:
            value = loads(raw.decode("utf-8"))
        except (Malformed, UnicodeDecodeError) as exc:
            detail = exc.detail if isinstance(exc, Malformed) else "invalid UTF-8"
            raise _BadRequest(400, f"the body is not valid JSON: {detail}") from None
        if _depth(value, config.max_body_depth) > config.max_body_depth:
            raise _BadRequest(422, f"the body nests deeper than {config.max_body_depth} levels")
        return value

    if len(raw) <= _PARSE_INLINE_BYTES:
        return parse()
    return await asyncio.to_thread(parse)


def _pace(request: Request, config: DemoConfig) -> float | None:
    raw = request.query_params.get("pace")
    if raw is None:
        return config.pace
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("the 'pace' query parameter must be a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= 2:
        raise ValueError("the 'pace' query parameter must be between 0 and 2 seconds")
    return value


def _simple_body_problem(body: Any) -> str | None:
    """What is wrong with ``body`` as the page's own ``{"messages": [...]}`` body, if anything."""
    if not isinstance(body, dict) or "messages" not in body:
        return "the body must be a JSON object with a 'messages' array"
    if body["messages"] == []:
        return "'messages' must not be empty"
    return None


def _protocol_request(body: Any, protocol: str) -> ChatRequest | None:
    """A body in ``protocol``'s own request shape, parsed (None if it is not one, or says
    nothing to answer)."""
    if not isinstance(body, dict):
        return None
    try:
        request = parse_request(body, protocol=protocol)
    except (RequestError, ValueError):
        return None
    if not request.messages and not request.answers:
        return None
    return request


# -- the demo's tools ------------------------------------------------------------------------


async def book_table(city: str, people: int, time: str) -> dict[str, Any]:
    """Book a table at a restaurant (a person approves each booking first).

    Args:
        city: Where.
        people: How many people.
        time: When, e.g. "7pm".
    """
    reference = hashlib.sha256(f"{city}|{people}|{time}".encode()).hexdigest()[:6].upper()
    return {"booked": True, "city": city, "people": people, "time": time, "reference": reference}


#: A tool the page runs itself (a client tool: no function here).
GET_LOCATION = Tool(
    name="get_location",
    description="The user's current location (the browser answers).",
    parameters={"type": "object", "properties": {}},
)


def _demo_tools(protocol: str, offered: list[ToolDefinition]) -> list[Tool]:
    """The server's approval tool, the page's client tool (where the protocol can send a
    tool's result back: not RAIS) and any other tool the frontend offers."""
    tools = [as_tool(book_table, needs_approval=True)]
    if protocol != "rais":
        tools.append(GET_LOCATION)
    names = {t.name for t in tools}
    tools.extend(as_tool(d.to_openai()) for d in offered if d.name not in names)
    return tools


class _PendingCalls:
    """Notes the tool calls a run streams, to store the turn left for the client (assistant
    transport keeps the conversation on the server)."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[str, list[str]] = {}  # id -> [name, argument text…]
        self.answered: set[str] = set()

    def see(self, chunk: Any) -> None:
        kind = chunk.type
        if kind == "step-start":
            self.text.clear()
            self.calls.clear()
        elif kind == "text-delta":
            self.text.append(chunk.text_delta)
        elif kind == "tool-call-begin":
            self.calls[chunk.tool_call_id] = [chunk.tool_name]
        elif kind in ("tool-call-delta", "tool-call-args-text-finish"):
            if chunk.tool_call_id in self.calls and chunk.args_text_delta:
                self.calls[chunk.tool_call_id].append(chunk.args_text_delta)
        elif kind in ("tool-result", "tool-output-denied"):
            self.answered.add(chunk.tool_call_id)

    def turn(self) -> list[dict[str, Any]]:
        """The last step's assistant message, if it left a call for the client."""
        if all(call_id in self.answered for call_id in self.calls):
            return []
        calls = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": parts[0], "arguments": "".join(parts[1:]) or "{}"},
            }
            for call_id, parts in self.calls.items()
            if call_id not in self.answered
        ]
        return [{"role": "assistant", "content": "".join(self.text) or None, "tool_calls": calls}]


def _response_options(fmt: ProtocolInfo, request: Request, chat: ChatRequest | None) -> Any:
    options: dict[str, Any] = dict(fmt.demo_options)
    if fmt.name == "ui-message-stream":
        version = request.query_params.get("sdk_version", "5")
        if version not in ("5", "6", "7"):
            raise ValueError("the 'sdk_version' query parameter must be 5, 6 or 7")
        options["sdk_version"] = int(version)
        if chat is not None:
            options["message_id"] = chat.message_id
            options["continued_tool_calls"] = [a.tool_call_id for a in chat.answers]
    elif fmt.name == "ag-ui" and chat is not None:
        # an approved call the client holds runs again: only its result is sent (HttpAgent
        # would append its arguments a second time)
        continued = [a.tool_call_id for a in chat.answers]
        options.update(thread_id=chat.thread_id, run_id=chat.run_id, continued_tool_calls=continued)
    return options


def create_app(config: DemoConfig | None = None) -> FastAPI:
    """The demo application (offline model unless ``config`` names a provider)."""
    config = config or DemoConfig()
    log = RunLog()
    app = FastAPI(title="assistant-stream-ce demo", docs_url=None, redoc_url=None)
    app.state.runs = log
    app.state.config = config
    threads = app.state.threads = HistoryStore()

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(_FAVICON, media_type="image/svg+xml")

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/formats")
    async def formats() -> dict[str, Any]:
        return {
            "formats": [
                {**info.describe(), "endpoint": f"/api/chat/{info.name}"}
                for info in PROTOCOLS.values()
            ],
            "provider": config.provider,
            "model": config.model,
        }

    @app.get("/api/runs")
    async def runs() -> dict[str, Any]:
        return {"runs": [asdict(record) for record in reversed(log.recent)]}

    @app.get("/api/runs/last")
    async def last_run() -> Response:
        if not log.recent:
            return _error(404, "no run yet")
        return JSONResponse(asdict(log.recent[-1]))

    @app.get("/api/stats")
    async def stats() -> dict[str, Any]:
        return dict(log.counts)

    @app.post("/api/chat/{format_name}")
    async def chat(format_name: str, request: Request) -> Response:
        fmt = PROTOCOLS.get(format_name)
        if fmt is None:
            return _error(404, f"unknown format {format_name!r}; use one of {', '.join(PROTOCOLS)}")
        if fmt.name == "rais" and "last-event-id" in request.headers:
            return Response(status_code=204)  # RAIS: no resumption, say so instead of replaying
        try:
            body = await _read_json(request, config)
        except _BadRequest as problem:
            return _error(problem.status, problem.message)
        try:
            pace = _pace(request, config)
        except ValueError as exc:
            return _error(422, str(exc))
        # The protocol's own request shape (useChat, HttpAgent, assistant-ui runtimes, the
        # page's tabs) via parse_request; else the plain {"messages": [{role, content}]}.
        chat = _protocol_request(body, fmt.name)
        messages: list[dict[str, Any]] = []
        if chat is None:
            complaint = _simple_body_problem(body)
            if complaint is None:
                try:
                    messages = validate_messages(body["messages"])
                except InvalidMessagesError as exc:
                    complaint = str(exc)
            if complaint is not None:
                return _error(422, complaint)
        else:
            messages = chat.messages
        try:
            response_options = _response_options(fmt, request, chat)
        except ValueError as exc:
            return _error(422, str(exc))
        # assistant transport: the conversation so far is on the server, by thread
        thread = chat.thread_id if chat is not None and fmt.name == "assistant-transport" else None
        if thread is not None:
            stored = threads.load(thread)
            if not chat or not chat.answers:  # a new message: drop calls left unanswered
                stored = drop_unanswered(stored)
            messages = [*stored, *messages]
        answers = chat.answers if chat is not None else []
        tools = _demo_tools(fmt.name, chat.tools if chat is not None else [])
        pending = _PendingCalls()
        outcome: list[list[dict[str, Any]]] = []

        record = log.start(fmt.name, config.provider)
        options: dict[str, Any] = {}
        if config.provider == "offline":
            options.update(reasoning=True, tool_call=True, source=True, update_state=True)
            if pace is not None:
                options["pace"] = pace
        else:
            options.update(api_key=config.api_key, model=config.model, base_url=config.base_url)

        async def run(controller: RunController) -> None:
            try:
                history = await run_provider(
                    controller,
                    messages,
                    provider=config.provider,
                    tools=tools,
                    answers=answers,
                    **options,
                )
            except asyncio.CancelledError:
                log.end(record, "cancelled")
                raise
            except ProviderError:
                log.end(record, "failed")
                raise  # its message is safe to show (keys redacted)
            except Exception as exc:
                log.end(record, "failed")
                logger.exception("run %d failed unexpectedly", record.id)
                # the exception's own text may hold anything: the client gets a plain message
                raise RuntimeError("the model failed unexpectedly (see the server log)") from exc
            if controller.is_cancelled:
                log.end(record, "cancelled")
            else:
                outcome.append(history)

        def finished() -> list[Any]:
            """Store the thread; assistant-ui's transport runtime shows its thread from the
            state (the app's converter), so the stored thread also ends the run as
            ``state.messages``."""
            if thread is None or not outcome:
                return []
            saved = [*outcome[0], *pending.turn()]
            threads.save(thread, saved)
            return [UpdateStateChunk([{"type": "set", "path": ["messages"], "value": saved}])]

        state: dict[str, Any] = {"messages": messages} if thread is not None else {}
        response = fmt.response(create_run(run, state=state), **response_options)
        response.encoder = _CountingEncoder(response.encoder, record, pending.see, finished)
        return _RecordedResponse(response, record, log)

    # The official OpenAI SDKs post to ``<base_url>/chat/completions``: with
    # ``base_url=".../api/chat/openai"`` they reach the OpenAI endpoint.
    @app.post("/api/chat/openai/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await chat("openai", request)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
