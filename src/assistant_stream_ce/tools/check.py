"""``assistant-stream-ce check``: conformance checks of a streaming endpoint for one protocol.

Sends the request, records the stream, and judges headers, framing, JSON, the protocol's
lifecycle and termination, keepalives, the answer to a malformed body and the behaviour when a
client aborts. Each item is MUST or SHOULD and ends ``pass``, ``warn`` (a SHOULD not met, or
nothing to judge) or ``fail`` (a MUST not met). For RAIS it covers the compliance checklist of
the RAIS v1 spec (headers, one ``data: `` line per event, reserved types, a single terminal
event, ids and ``Last-Event-ID``, safe error text, abort).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, TextIO

import httpx

from ..serialization import get_protocol
from ..serialization._json_patch import PatchError, apply_patch, parse_pointer
from ..serialization.sse import DATA_PREFIX
from ._fetch import Exchange, record
from ._wire import Frame, is_sse

__all__ = ["CheckResult", "Checker", "run_check", "run_checks"]

Level = Literal["MUST", "SHOULD"]
Status = Literal["pass", "warn", "fail"]

_KNOWN_DATA_STREAM_CODES = frozenset(
    {"0", "g", "b", "c", "9", "a", "h", "k", "2", "8", "3", "f", "e", "d", "i", "j"}
    | {"aui-text-delta", "aui-reasoning-delta", "aui-reasoning-part-start", "aui-data"}
    | {"aui-state"}
)
_RAIS_RESERVED = frozenset(
    {"metadata", "tool_call", "tool_result", "reasoning", "partial_tool_result"}
)
_SECRET_PATTERNS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\bsk-[A-Za-z0-9_-]{8,}"
    r"|\bBearer\s+[A-Za-z0-9._-]{8,}|x-api-key|api[_-]?key\s*[=:]",
    re.IGNORECASE,
)


@dataclass
class CheckResult:
    """One judged item."""

    id: str
    level: Level
    status: Status
    title: str
    detail: str = ""


class Checker:
    """Collects results; a failed SHOULD becomes ``warn``."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def item(self, id: str, level: Level, title: str, ok: bool, detail: str = "") -> None:
        status: Status = "pass" if ok else ("fail" if level == "MUST" else "warn")
        self.results.append(CheckResult(id, level, status, title, detail))

    def note(self, id: str, level: Level, title: str, detail: str) -> None:
        """Nothing to judge (for example, no keepalive was sent): a warning with a reason."""
        self.results.append(CheckResult(id, level, "warn", title, detail))

    @property
    def failed(self) -> list[CheckResult]:
        return [result for result in self.results if result.status == "fail"]


def _first(frames: list[Frame], predicate: Callable[[Frame], bool]) -> int | None:
    for index, frame in enumerate(frames):
        if predicate(frame):
            return index
    return None


def _where(index: int, frame: Frame) -> str:
    return f"frame {index + 1} ({frame.type or 'unparsed'}, {frame.at * 1000:.0f} ms)"


# -- generic checks --------------------------------------------------------------------------


def _check_headers(ex: Exchange, c: Checker) -> None:
    fmt = ex.format
    headers = ex.headers
    expected = get_protocol(fmt).media_type
    c.item(
        "content-type",
        "MUST",
        f"Content-Type is {expected}",
        ex.media_type == expected,
        headers.get("content-type", "(missing)"),
    )
    if fmt == "data-stream":
        marker = headers.get("x-vercel-ai-data-stream", "").strip()
        c.item(
            "data-stream-header",
            "MUST",
            "x-vercel-ai-data-stream: v1 (assistant-ui picks its decoder by it)",
            marker == "v1",
            marker or "(missing)",
        )
    directives = {d.strip().lower() for d in headers.get("cache-control", "").split(",")}
    c.item(
        "cache-control",
        "MUST" if fmt == "rais" else "SHOULD",
        "Cache-Control: no-cache",
        "no-cache" in directives or "no-store" in directives,
        headers.get("cache-control", "(missing)"),
    )
    c.item(
        "x-accel-buffering",
        "SHOULD",
        "X-Accel-Buffering: no (proxies must not buffer the stream)",
        headers.get("x-accel-buffering", "").lower() == "no",
        headers.get("x-accel-buffering", "(missing)"),
    )
    c.item(
        "not-compressed",
        "SHOULD",
        "body is not compressed (compression buffers streams)",
        headers.get("content-encoding", "identity").lower() == "identity",
        headers.get("content-encoding", "none"),
    )
    c.item(
        "streamed",
        "SHOULD",
        "body is streamed (no Content-Length)",
        "content-length" not in headers,
        headers.get("content-length", "chunked"),
    )
    if fmt == "rais":
        connection = headers.get("connection", "")
        c.item(
            "rais-connection",
            "SHOULD",
            "Connection: keep-alive (HTTP/1.1)",
            connection.lower() == "keep-alive" or not connection,
            connection or "(absent; HTTP/1.1 keeps the connection alive by default)",
        )
        origin = headers.get("access-control-allow-origin")
        c.item(
            "rais-cors",
            "SHOULD",
            "Access-Control-Allow-Origin for cross-origin clients",
            origin is not None,
            origin or "(missing: browsers on another origin cannot read the stream)",
        )


def _check_framing(ex: Exchange, c: Checker) -> None:
    fmt = ex.format
    frames = ex.frames
    bad_utf8 = _first(frames, lambda f: f.text_error is not None)
    c.item(
        "utf-8",
        "MUST",
        "body is UTF-8",
        bad_utf8 is None,
        ""
        if bad_utf8 is None
        else f"{_where(bad_utf8, frames[bad_utf8])}: {frames[bad_utf8].text_error}",
    )
    has_cr = b"\r" in ex.body
    c.item(
        "line-endings",
        "MUST" if fmt == "rais" else "SHOULD",
        "LF line endings only (clients that split on \\n\\n see nothing with CRLF)",
        not has_cr,
        "CR found in the body" if has_cr else "",
    )
    unterminated = _first(frames, lambda f: not f.terminated)
    what = "a blank line" if is_sse(fmt) else "a line feed"
    c.item(
        "frames-terminated",
        "MUST",
        f"every frame ends with {what}",
        unterminated is None and ex.transport_error is None,
        ex.transport_error
        or (
            ""
            if unterminated is None
            else f"the body ended inside {_where(unterminated, frames[unterminated])}"
        ),
    )
    if not is_sse(fmt):
        if fmt != "data-stream":
            return
        no_code = _first(ex.data_frames, lambda f: f.code is None)
        c.item(
            "line-format",
            "MUST",
            "every non-blank line is <code>:<JSON>",
            no_code is None,
            "" if no_code is None else f"line {no_code + 1}: {ex.data_frames[no_code].raw[:60]!r}",
        )
        return
    data_frames = ex.data_frames
    no_space = _first(
        data_frames,
        lambda f: any(
            line.startswith(DATA_PREFIX[:-1]) and not line.startswith(DATA_PREFIX)
            for line in f.raw.splitlines()
        ),
    )
    c.item(
        "data-space",
        "MUST" if fmt == "rais" else "SHOULD",
        "data lines are written 'data: ' (one space; the RAIS client ignores 'data:{')",
        no_space is None,
        "" if no_space is None else _where(no_space, data_frames[no_space]),
    )
    multi = _first(data_frames, lambda f: sum(1 for n, _ in f.fields if n == "data") > 1)
    c.item(
        "one-data-line",
        "MUST" if fmt == "rais" else "SHOULD",
        "exactly one data line per event (single-line JSON)",
        multi is None,
        "" if multi is None else _where(multi, data_frames[multi]),
    )
    named = _first(data_frames, lambda f: any(n == "event" and v != "message" for n, v in f.fields))
    c.item(
        "no-event-field",
        "MUST" if fmt == "assistant-transport" else "SHOULD",
        "no 'event:' names (strict decoders reject them)",
        named is None,
        "" if named is None else _where(named, data_frames[named]),
    )
    with_id = [f for f in data_frames if any(n == "id" for n, _ in f.fields)]
    if fmt == "openai":
        c.item(
            "no-id-lines",
            "SHOULD",
            "no 'id:' lines (the openai Python SDK then breaks on comment keepalives)",
            not with_id,
            f"{len(with_id)} events carry an id" if with_id else "",
        )
    elif fmt == "rais":
        c.item(
            "rais-event-ids",
            "SHOULD",
            "every event has an 'id:' line (for reconnects)",
            bool(data_frames) and len(with_id) == len(data_frames),
            f"{len(with_id)} of {len(data_frames)} events carry an id",
        )


def _check_json(ex: Exchange, c: Checker) -> None:
    frames = ex.data_frames
    bad = _first(frames, lambda f: f.json_error is not None)
    c.item(
        "valid-json",
        "MUST",
        "every frame's payload is valid JSON"
        + (" (besides [DONE])" if ex.format != "data-stream" else ""),
        bad is None,
        ""
        if bad is None
        else f"{_where(bad, frames[bad])}: {frames[bad].json_error}: {frames[bad].data!r:.80}",
    )


def _check_keepalives(ex: Exchange, c: Checker) -> None:
    keepalives = ex.keepalives
    if is_sse(ex.format):
        bad = [f for f in keepalives if f.fields]  # e.g. `event: ping` with no data
        pings = _first(
            ex.data_frames, lambda f: (f.data or "").strip().lower() in ("", "ping", "keep-alive")
        )
        ok = not bad and pings is None
        detail = (
            "a keepalive block carries fields other than comments"
            if bad
            else (
                f"{_where(pings, ex.data_frames[pings])} is a data ping"
                if pings is not None
                else ""
            )
        )
        title = "keepalives are SSE comment lines, never data events"
    else:
        ok = True
        detail = ""
        title = "keepalives are blank lines"
    if ok and not keepalives:
        c.note(
            "keepalive",
            "SHOULD",
            title,
            "no keepalive during this stream (shorter than the server's interval); "
            "none of its frames is a data ping",
        )
        return
    c.item(
        "keepalive", "MUST", title, ok, detail or f"{len(keepalives)} keepalives, all well-formed"
    )


def _check_text_and_errors(ex: Exchange, c: Checker) -> None:
    frames = ex.data_frames
    empty = _first(frames, lambda f: f.text == "" or _is_empty_delta(ex.format, f))
    c.item(
        "no-empty-deltas",
        "SHOULD",
        "no empty text deltas",
        empty is None,
        "" if empty is None else _where(empty, frames[empty]),
    )
    leaks = [f.error for f in frames if f.error is not None and _SECRET_PATTERNS.search(f.error)]
    c.item(
        "safe-errors",
        "MUST" if ex.format == "rais" else "SHOULD",
        "error text has no stack traces, keys or auth headers",
        not leaks,
        f"{leaks[0]!r:.120}" if leaks else "",
    )


def _is_empty_delta(fmt: str, frame: Frame) -> bool:
    value = frame.value
    if fmt == "rais":
        return isinstance(value, dict) and value.get("type") == "text" and value.get("text") == ""
    if fmt == "data-stream":
        return frame.code == "0" and value == ""
    if fmt == "assistant-transport":
        return (
            isinstance(value, dict)
            and value.get("type") == "text-delta"
            and value.get("textDelta") == ""
        )
    if fmt == "ag-ui":
        return (
            isinstance(value, dict)
            and value.get("type") in ("TEXT_MESSAGE_CONTENT", "REASONING_MESSAGE_CONTENT")
            and value.get("delta") == ""
        )
    return False


# -- per-protocol shape and lifecycle ----------------------------------------------------------


def _check_data_stream(ex: Exchange, c: Checker) -> None:
    frames = [f for f in ex.data_frames if f.json_error is None and f.code is not None]
    unknown = _first(frames, lambda f: f.code not in _KNOWN_DATA_STREAM_CODES)
    c.item(
        "known-codes",
        "MUST",
        "only known frame codes (strict decoders reject others)",
        unknown is None,
        ""
        if unknown is None
        else f"code {frames[unknown].code!r} in {_where(unknown, frames[unknown])}",
    )
    shapes: dict[str, Callable[[Any], bool]] = {
        "0": lambda v: isinstance(v, str),
        "g": lambda v: isinstance(v, str),
        "3": lambda v: isinstance(v, str),
        "b": lambda v: (
            isinstance(v, dict)
            and isinstance(v.get("toolCallId"), str)
            and isinstance(v.get("toolName"), str)
        ),
        "c": lambda v: (
            isinstance(v, dict)
            and isinstance(v.get("toolCallId"), str)
            and isinstance(v.get("argsTextDelta"), str)
        ),
        "a": lambda v: (
            isinstance(v, dict) and isinstance(v.get("toolCallId"), str) and "result" in v
        ),
        "h": lambda v: (
            isinstance(v, dict) and isinstance(v.get("url"), str) and isinstance(v.get("id"), str)
        ),
        "d": lambda v: isinstance(v, dict) and isinstance(v.get("finishReason"), str),
        "e": lambda v: isinstance(v, dict) and isinstance(v.get("finishReason"), str),
        "2": lambda v: isinstance(v, list),
        "8": lambda v: isinstance(v, list),
        "aui-state": lambda v: isinstance(v, list),
    }
    bad = _first(frames, lambda f: f.code in shapes and not shapes[f.code or ""](f.value))
    c.item(
        "frame-shape",
        "MUST",
        "frame values have their code's shape",
        bad is None,
        "" if bad is None else f"{_where(bad, frames[bad])}: {frames[bad].data!r:.80}",
    )
    begun: set[str] = set()
    closed: set[str] = set()
    problems: list[str] = []
    late_args: list[str] = []
    finishes = 0
    after_finish: int | None = None
    for index, frame in enumerate(frames):
        value = frame.value
        if finishes and after_finish is None:
            after_finish = index
        if frame.code == "b" and isinstance(value, dict):
            if value.get("toolCallId") in begun:
                problems.append(f"{_where(index, frame)}: tool call id used twice")
            begun.add(str(value.get("toolCallId")))
        elif frame.code in ("c", "a") and isinstance(value, dict):
            tool_call_id = str(value.get("toolCallId"))
            if tool_call_id not in begun:
                problems.append(
                    f"{_where(index, frame)}: tool call {tool_call_id!r} was never begun"
                )
            elif frame.code == "c" and tool_call_id in closed:
                late_args.append(_where(index, frame))
            if frame.code == "a" or value.get("isFinal"):
                closed.add(tool_call_id)
        elif frame.code == "d":
            finishes += 1
    c.item(
        "tool-call-order",
        "MUST",
        "tool calls: 'b' before their 'c'/'a' frames, ids unique",
        not problems,
        "; ".join(problems[:3]),
    )
    c.item(
        "no-args-after-close",
        "SHOULD",
        "no argument text after a call's arguments were closed",
        not late_args,
        "; ".join(late_args[:3]),
    )
    errored = any(f.code == "3" for f in frames)
    c.item(
        "termination",
        "SHOULD",
        "a successful stream ends with a message finish ('d')",
        finishes == 1 or (errored and finishes == 0),
        f"{finishes} 'd' frames" + (" after an error" if errored else ""),
    )
    c.item(
        "nothing-after-end",
        "MUST",
        "nothing after the message finish ('d')",
        after_finish is None,
        "" if after_finish is None else _where(after_finish, frames[after_finish]),
    )
    error_then_finish = _first(frames, lambda f: f.code == "d")
    first_error = _first(frames, lambda f: f.code == "3")
    c.item(
        "no-finish-after-error",
        "SHOULD",
        "no message finish after an error",
        first_error is None or error_then_finish is None or error_then_finish < first_error,
    )


def _check_assistant_transport(ex: Exchange, c: Checker) -> None:
    frames = ex.data_frames
    done = _first(frames, lambda f: f.type == "[DONE]")
    c.item(
        "termination",
        "MUST",
        "the stream ends with 'data: [DONE]' (also after an error)",
        done is not None,
        "" if done is not None else "no [DONE] (the strict decoder throws)",
    )
    c.item(
        "nothing-after-end",
        "MUST",
        "nothing after [DONE]",
        done is None or done == len(frames) - 1,
        "" if done is None or done == len(frames) - 1 else _where(done + 1, frames[done + 1]),
    )
    body = frames[:done] if done is not None else frames
    shape_problems: list[str] = []
    order_problems: list[str] = []
    parts: list[dict[str, Any]] = []
    errored = False
    finish_after_error = False
    for index, frame in enumerate(body):
        value = frame.value
        if frame.json_error is not None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            shape_problems.append(f"{_where(index, frame)}: not an object with a string 'type'")
            continue
        kind = value["type"]
        if kind == "part-start":
            if not isinstance(value.get("part"), dict) or value.get("path", []) != []:
                shape_problems.append(
                    f"{_where(index, frame)}: part-start needs 'part' and path []"
                )
            init = value.get("part")
            part_type = init.get("type") if isinstance(init, dict) else None
            parts.append({"type": part_type, "finished": False, "args": True})
        elif kind in ("text-delta", "part-finish", "tool-call-args-text-finish", "result"):
            path = value.get("path")
            if not (isinstance(path, list) and len(path) == 1 and isinstance(path[0], int)):
                shape_problems.append(f"{_where(index, frame)}: '{kind}' needs a path [index]")
                continue
            if not 0 <= path[0] < len(parts):
                order_problems.append(f"{_where(index, frame)}: part {path[0]} was never started")
                continue
            part = parts[path[0]]
            if kind == "text-delta":
                if not isinstance(value.get("textDelta"), str):
                    shape_problems.append(f"{_where(index, frame)}: textDelta must be a string")
                if part["finished"] or (part["type"] == "tool-call" and not part["args"]):
                    order_problems.append(f"{_where(index, frame)}: delta for a closed part")
            elif kind == "part-finish":
                if part["finished"]:
                    order_problems.append(f"{_where(index, frame)}: part finished twice")
                part["finished"] = True
            elif kind == "tool-call-args-text-finish":
                part["args"] = False
            elif part["type"] != "tool-call":
                order_problems.append(f"{_where(index, frame)}: result for a non-tool part")
        elif kind == "error":
            errored = True
            if not isinstance(value.get("error"), str):
                shape_problems.append(f"{_where(index, frame)}: error must be a string")
        elif kind == "message-finish" and errored:
            finish_after_error = True
    c.item(
        "frame-shape",
        "MUST",
        "chunks are objects with a 'type'; part chunks carry a valid path",
        not shape_problems,
        "; ".join(shape_problems[:3]),
    )
    c.item(
        "part-lifecycle",
        "MUST",
        "part chunks address started, still-open parts",
        not order_problems,
        "; ".join(order_problems[:3]),
    )
    open_parts = [str(i) for i, part in enumerate(parts) if not part["finished"]]
    c.item(
        "parts-closed",
        "SHOULD",
        "every part is finished before the end",
        not open_parts,
        f"parts left open: {', '.join(open_parts)}" if open_parts else "",
    )
    c.item(
        "no-finish-after-error",
        "SHOULD",
        "no message-finish after an error",
        not finish_after_error,
    )


def _check_openai(ex: Exchange, c: Checker) -> None:
    frames = ex.data_frames
    done = _first(frames, lambda f: f.type == "[DONE]")
    c.item(
        "termination",
        "MUST",
        "the stream ends with 'data: [DONE]'",
        done is not None,
        "" if done is not None else "no [DONE]",
    )
    c.item(
        "nothing-after-end",
        "MUST",
        "nothing after [DONE]",
        done is None or done == len(frames) - 1,
        "" if done is None or done == len(frames) - 1 else _where(done + 1, frames[done + 1]),
    )
    body = frames[:done] if done is not None else frames
    shape: list[str] = []
    ids: set[str] = set()
    finish_at: int | None = None
    after_finish: list[str] = []
    error_at: int | None = None
    after_error: list[str] = []
    tool_problems: list[str] = []
    seen_tools: set[int] = set()
    for index, frame in enumerate(body):
        value = frame.value
        if frame.json_error is not None:
            continue
        if error_at is not None:
            after_error.append(_where(index, frame))
        if not isinstance(value, dict):
            shape.append(f"{_where(index, frame)}: not an object")
            continue
        if "error" in value:
            error = value["error"]
            if not (isinstance(error, dict) and isinstance(error.get("message"), str)):
                shape.append(f"{_where(index, frame)}: error needs a 'message' string")
            error_at = index if error_at is None else error_at
            continue
        choices = value.get("choices")
        if value.get("object") != "chat.completion.chunk" or not isinstance(choices, list):
            shape.append(f"{_where(index, frame)}: not a chat.completion.chunk with 'choices'")
            continue
        if isinstance(value.get("id"), str):
            ids.add(value["id"])
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                shape.append(f"{_where(index, frame)}: a choice without a 'delta' object")
                continue
            if finish_at is not None and (delta.get("content") or delta.get("tool_calls")):
                after_finish.append(_where(index, frame))
            for call in delta.get("tool_calls") or []:
                call_index = call.get("index") if isinstance(call, dict) else None
                if not isinstance(call_index, int):
                    tool_problems.append(f"{_where(index, frame)}: tool call without an index")
                elif call_index not in seen_tools:
                    seen_tools.add(call_index)
                    function = call.get("function") or {}
                    if not call.get("id") or not function.get("name"):
                        tool_problems.append(
                            f"{_where(index, frame)}: first fragment of call {call_index} "
                            "lacks id or function.name"
                        )
            if choice.get("finish_reason"):
                finish_at = index if finish_at is None else finish_at
    c.item(
        "frame-shape",
        "MUST",
        "chunks are chat.completion.chunk objects or error objects",
        not shape,
        "; ".join(shape[:3]),
    )
    first = body[0].value if body and isinstance(body[0].value, dict) else {}
    first_delta = ((first.get("choices") or [{}])[0] or {}).get("delta") or {}
    c.item(
        "first-role",
        "SHOULD",
        "the first chunk carries delta.role 'assistant'",
        first_delta.get("role") == "assistant" or "error" in first,
    )
    c.item(
        "stable-id",
        "SHOULD",
        "every chunk has the same completion id",
        len(ids) <= 1,
        f"{len(ids)} different ids" if len(ids) > 1 else "",
    )
    c.item(
        "tool-call-fragments",
        "MUST",
        "a tool call's first fragment has its index, id and function name",
        not tool_problems,
        "; ".join(tool_problems[:3]),
    )
    c.item(
        "finish-reason",
        "MUST",
        "a finish_reason ends the choice (unless an error ended the stream)",
        finish_at is not None or error_at is not None,
        "no finish_reason" if finish_at is None else "",
    )
    c.item(
        "nothing-after-finish",
        "MUST",
        "no content after the finish_reason chunk",
        not after_finish,
        "; ".join(after_finish[:3]),
    )
    c.item(
        "nothing-after-error",
        "MUST",
        "only [DONE] after an error",
        not after_error,
        "; ".join(after_error[:3]),
    )


def _check_rais(ex: Exchange, c: Checker) -> None:
    frames = ex.data_frames
    shape: list[str] = []
    for index, frame in enumerate(frames):
        value = frame.value
        if frame.json_error is not None or frame.type == "[DONE]":
            continue
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            shape.append(f"{_where(index, frame)}: not an object with a string 'type'")
        elif value["type"] == "text" and not isinstance(value.get("text"), str):
            shape.append(f"{_where(index, frame)}: 'text' must be a string")
        elif value["type"] == "error" and not isinstance(value.get("error"), str):
            shape.append(f"{_where(index, frame)}: 'error' must be a string")
    c.item(
        "frame-shape",
        "MUST",
        "events are {type, …} objects; text/error carry strings",
        not shape,
        "; ".join(shape[:3]),
    )
    reserved = [f.type for f in frames if f.type in _RAIS_RESERVED]
    c.item(
        "rais-reserved-types",
        "MUST",
        "no reserved v1 types (metadata, tool_call, tool_result, reasoning, partial_tool_result)",
        not reserved,
        ", ".join(sorted(set(reserved))),
    )
    terminals = [i for i, f in enumerate(frames) if f.terminal in ("done", "error")]
    c.item(
        "termination",
        "MUST",
        "exactly one terminal event ('done' or 'error')",
        len(terminals) == 1,
        f"{len(terminals)} terminal events"
        if terminals
        else "the stream ends without 'done' or 'error'",
    )
    end = terminals[0] if terminals else None
    trailing = [f for f in frames[end + 1 :] if f.type != "[DONE]"] if end is not None else []
    c.item(
        "nothing-after-end",
        "MUST",
        "nothing after 'done'/'error' (a '[DONE]' marker aside)",
        not trailing,
        f"{len(trailing)} events after the terminal one" if trailing else "",
    )


# Every UI message chunk type npm `ai` 5, 6 or 7 knows, with its required fields (string-typed
# unless listed in _UI_ANY_FIELDS); `data-*` chunks are checked apart.
_UI_CHUNK_FIELDS: dict[str, tuple[str, ...]] = {
    "start": (),
    "start-step": (),
    "finish-step": (),
    "reset-step": (),
    "text-start": ("id",),
    "text-delta": ("id", "delta"),
    "text-end": ("id",),
    "reasoning-start": ("id",),
    "reasoning-delta": ("id", "delta"),
    "reasoning-end": ("id",),
    "tool-input-start": ("toolCallId", "toolName"),
    "tool-input-delta": ("toolCallId", "inputTextDelta"),
    "tool-input-available": ("toolCallId", "toolName", "input"),
    "tool-input-error": ("toolCallId", "toolName", "input", "errorText"),
    "tool-approval-request": ("approvalId", "toolCallId"),
    "tool-approval-response": ("approvalId", "approved"),
    "tool-output-available": ("toolCallId", "output"),
    "tool-output-error": ("toolCallId", "errorText"),
    "tool-output-denied": ("toolCallId",),
    "source-url": ("sourceId", "url"),
    "source-document": ("sourceId", "mediaType", "title"),
    "file": ("url", "mediaType"),
    "reasoning-file": ("url", "mediaType"),
    "custom": ("kind",),
    "steering-message": ("id", "parts"),
    "message-metadata": ("messageMetadata",),
    "finish": (),
    "abort": (),
    "error": ("errorText",),
}
_UI_ANY_FIELDS = frozenset({"input", "output", "messageMetadata", "approved", "parts"})
_UI_FINISH_REASONS = frozenset({"stop", "length", "content-filter", "tool-calls", "error", "other"})


def _ui_shape_problem(value: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return "not an object with a string 'type'"
    kind = value["type"]
    if kind.startswith("data-"):
        return None if "data" in value else f"{kind} needs 'data'"
    fields = _UI_CHUNK_FIELDS.get(kind)
    if fields is None:
        return f"unknown chunk type {kind!r} (every ai release rejects it)"
    for key in fields:
        if key not in value:
            return f"{kind} needs {key!r}"
        if key not in _UI_ANY_FIELDS and not isinstance(value[key], str):
            return f"{kind}: {key!r} must be a string"
    return None


def _check_ui_message_stream(ex: Exchange, c: Checker) -> None:
    marker = ex.headers.get("x-vercel-ai-ui-message-stream", "").strip()
    c.item(
        "ui-message-stream-header",
        "MUST",
        "x-vercel-ai-ui-message-stream: v1 (the AI SDK docs require it; assistant-ui picks its "
        "decoder by it)",
        marker == "v1",
        marker or "(missing)",
    )
    exposed = ex.headers.get("access-control-expose-headers", "").lower()
    c.item(
        "ui-message-stream-header-exposed",
        "SHOULD",
        "Access-Control-Expose-Headers lists x-vercel-ai-ui-message-stream (cross-origin pages)",
        "x-vercel-ai-ui-message-stream" in exposed or exposed.strip() == "*",
        exposed or "(missing)",
    )
    frames = ex.data_frames
    done = _first(frames, lambda f: f.type == "[DONE]" or f.data == "[DONE]")
    c.item(
        "termination",
        "MUST",
        "the stream ends with 'data: [DONE]' (also after an error)",
        done is not None,
        "" if done is not None else "no [DONE] (assistant-stream's decoder throws)",
    )
    c.item(
        "nothing-after-end",
        "MUST",
        "nothing after [DONE]",
        done is None or done == len(frames) - 1,
        "" if done is None or done == len(frames) - 1 else _where(done + 1, frames[done + 1]),
    )
    body = frames[:done] if done is not None else frames
    shape: list[str] = []
    order: list[str] = []
    unclosed: list[str] = []
    texts: set[str] = set()
    reasoning: set[str] = set()
    used_ids: set[str] = set()
    reused: list[str] = []
    tools: set[str] = set()
    ends: list[int] = []
    after_end: list[str] = []
    bad_reasons: list[str] = []
    in_step = False
    step_problems: list[str] = []
    first_type: str | None = None
    for index, frame in enumerate(body):
        value = frame.value
        if frame.json_error is not None and value is None:
            continue
        problem = _ui_shape_problem(value)
        if problem is not None:
            shape.append(f"{_where(index, frame)}: {problem}")
            continue
        kind = value["type"]
        where = _where(index, frame)
        if first_type is None:
            first_type = kind
        if ends:
            after_end.append(where)
        if kind in ("text-start", "reasoning-start"):
            open_set = texts if kind == "text-start" else reasoning
            if value["id"] in used_ids:
                reused.append(where)
            used_ids.add(value["id"])
            open_set.add(value["id"])
        elif kind in ("text-delta", "text-end", "reasoning-delta", "reasoning-end"):
            open_set = texts if kind.startswith("text") else reasoning
            if value["id"] not in open_set:
                order.append(f"{where}: {kind} for a part that is not open")
            elif kind.endswith("-end"):
                open_set.discard(value["id"])
        elif kind in ("tool-input-start", "tool-input-available", "tool-input-error"):
            tools.add(value["toolCallId"])
        elif kind == "tool-input-delta" and value["toolCallId"] not in tools:
            order.append(f"{where}: tool-input-delta before tool-input-start")
        elif kind.startswith("tool-output-") and value["toolCallId"] not in tools:
            order.append(f"{where}: {kind} for an unknown tool call")
        elif kind == "start-step":
            if in_step:
                step_problems.append(f"{where}: start-step inside an open step")
            in_step = True
        if kind in ("finish-step", "error", "finish", "abort") and (texts or reasoning):
            unclosed.append(f"{where}: {kind} while {len(texts) + len(reasoning)} part(s) open")
        if kind == "finish-step":
            if not in_step:
                step_problems.append(f"{where}: finish-step without start-step")
            in_step = False
        elif kind in ("finish", "abort"):
            ends.append(index)
            reason = value.get("finishReason")
            if reason is not None and reason not in _UI_FINISH_REASONS:
                bad_reasons.append(f"{where}: {reason!r}")
    c.item(
        "frame-shape",
        "MUST",
        "chunks are objects of a type every ai release knows, with their required fields",
        not shape,
        "; ".join(shape[:3]),
    )
    c.item(
        "start-first",
        "SHOULD",
        "the first chunk is 'start'",
        first_type in (None, "start"),
        first_type or "",
    )
    c.item(
        "part-order",
        "MUST",
        "deltas and ends only for open parts; tool chunks only for started calls",
        not order,
        "; ".join(order[:3]),
    )
    c.item(
        "parts-closed",
        "MUST",
        "every text and reasoning part is closed before finish-step, error, finish and abort",
        not unclosed and not texts and not reasoning,
        "; ".join(unclosed[:3]) or (f"{len(texts) + len(reasoning)} part(s) never closed"),
    )
    c.item(
        "unique-part-ids",
        "SHOULD",
        "text and reasoning part ids are not reused within the message",
        not reused,
        "; ".join(reused[:3]),
    )
    c.item(
        "steps-paired",
        "SHOULD",
        "start-step and finish-step alternate",
        not step_problems,
        "; ".join(step_problems[:3]),
    )
    errored = any(isinstance(f.value, dict) and f.value.get("type") == "error" for f in body)
    c.item(
        "finish",
        "MUST",
        "exactly one 'finish' or 'abort' ends a stream that did not fail with an error",
        len(ends) == 1 or (not ends and errored),
        f"{len(ends)} finish/abort chunks",
    )
    c.item(
        "nothing-after-finish",
        "MUST",
        "nothing but [DONE] after 'finish' or 'abort'",
        not after_end,
        "; ".join(after_end[:3]),
    )
    c.item(
        "finish-reason",
        "SHOULD",
        "finishReason is one every ai version accepts (never 'unknown' or 'interrupted')",
        not bad_reasons,
        "; ".join(bad_reasons[:3]),
    )


# AG-UI: fields whose value may legitimately be null (any JSON); every other null is an
# optional field that must be left out.
_AG_UI_ANY_FIELDS = frozenset({"snapshot", "value", "event", "result", "rawEvent"})
_AG_UI_OPENERS = {
    "TEXT_MESSAGE_START": ("text message", "messageId"),
    "REASONING_MESSAGE_START": ("reasoning message", "messageId"),
    "REASONING_START": ("reasoning", "messageId"),
    "TOOL_CALL_START": ("tool call", "toolCallId"),
    "STEP_STARTED": ("step", "stepName"),
}
_AG_UI_CONTINUATIONS = {
    "TEXT_MESSAGE_CONTENT": ("text message", "messageId", False),
    "TEXT_MESSAGE_END": ("text message", "messageId", True),
    "REASONING_MESSAGE_CONTENT": ("reasoning message", "messageId", False),
    "REASONING_MESSAGE_END": ("reasoning message", "messageId", True),
    "REASONING_END": ("reasoning", "messageId", True),
    "TOOL_CALL_ARGS": ("tool call", "toolCallId", False),
    "TOOL_CALL_END": ("tool call", "toolCallId", True),
    "STEP_FINISHED": ("step", "stepName", True),
}


def _patch_shape_problem(delta: Any) -> str | None:
    """What makes ``delta`` not an RFC 6902 patch (None when it is one)."""
    if not isinstance(delta, list):
        return "'delta' is not an array"
    for op in delta:
        if not isinstance(op, dict):
            return "an operation is not an object"
        kind = op.get("op")
        if kind not in ("add", "remove", "replace", "move", "copy", "test"):
            return f"unknown operation {kind!r}"
        try:
            parse_pointer(op.get("path"))
            if kind in ("move", "copy"):
                parse_pointer(op.get("from"))
        except PatchError as exc:
            return str(exc)
        if kind in ("add", "replace", "test") and "value" not in op:
            return f"{kind} without 'value'"
    return None


def _check_ag_ui(ex: Exchange, c: Checker) -> None:
    frames = [f for f in ex.data_frames if f.json_error is None]
    shape: list[str] = []
    nulls: list[str] = []
    for index, frame in enumerate(frames):
        value = frame.value
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            shape.append(f"{_where(index, frame)}: not an object with a string 'type'")
            continue
        null = [k for k, v in value.items() if v is None and k not in _AG_UI_ANY_FIELDS]
        if null:
            nulls.append(f"{_where(index, frame)}: {', '.join(null)}")
    c.item(
        "frame-shape",
        "MUST",
        "events are objects with a string 'type'",
        not shape,
        "; ".join(shape[:3]),
    )
    c.item(
        "no-null-fields",
        "MUST",
        "optional fields are left out, never null (the 1.0 client rejects some nulls)",
        not nulls,
        "; ".join(nulls[:3]),
    )
    events = [(i, f, f.value) for i, f in enumerate(frames) if isinstance(f.value, dict)]
    first = events[0][2] if events else {}
    c.item(
        "run-started-first",
        "MUST",
        "the first event is RUN_STARTED with threadId and runId",
        first.get("type") == "RUN_STARTED"
        and isinstance(first.get("threadId"), str)
        and isinstance(first.get("runId"), str),
        str(first.get("type", "no events")),
    )
    c.item(
        "protocol-version",
        "SHOULD",
        "RUN_STARTED says protocolVersion '1.0' (1.0 producers must)",
        first.get("protocolVersion") == "1.0",
        repr(first.get("protocolVersion")),
    )
    terminals = [i for i, _, v in events if v["type"] in ("RUN_FINISHED", "RUN_ERROR")]
    c.item(
        "termination",
        "MUST",
        "exactly one terminal event (RUN_FINISHED or RUN_ERROR)",
        len(terminals) == 1,
        f"{len(terminals)} terminal events"
        if terminals
        else "the stream ends without RUN_FINISHED or RUN_ERROR",
    )
    end = terminals[0] if terminals else None
    trailing = [i for i, _, _ in events if end is not None and i > end]
    c.item(
        "nothing-after-end",
        "MUST",
        "nothing after the terminal event",
        not trailing,
        f"{len(trailing)} events after it" if trailing else "",
    )
    problems: list[str] = []
    open_items: dict[tuple[str, str], int] = {}
    args_seen: set[str] = set()
    no_args: list[str] = []
    finished_open: list[str] = []
    thinking: list[str] = []
    for index, frame, value in events:
        kind = value["type"]
        if kind.startswith("THINKING_"):
            thinking.append(_where(index, frame))
        if kind in _AG_UI_OPENERS:
            what, key = _AG_UI_OPENERS[kind]
            item = (what, str(value.get(key)))
            if item in open_items:
                problems.append(f"{_where(index, frame)}: {what} {item[1]!r} is already open")
            open_items[item] = index
        elif kind in _AG_UI_CONTINUATIONS:
            what, key, closes = _AG_UI_CONTINUATIONS[kind]
            item = (what, str(value.get(key)))
            if item not in open_items:
                problems.append(f"{_where(index, frame)}: {what} {item[1]!r} is not open")
            if kind == "TOOL_CALL_ARGS":
                args_seen.add(item[1])
            elif kind == "TOOL_CALL_END" and item[1] not in args_seen:
                no_args.append(item[1])
            if closes:
                open_items.pop(item, None)
        elif kind == "RUN_FINISHED" and open_items:
            finished_open.extend(f"{what} {name!r}" for what, name in open_items)
    c.item(
        "lifecycle",
        "MUST",
        "messages, reasoning, tool calls and steps start once and continue only while open",
        not problems,
        "; ".join(problems[:3]),
    )
    c.item(
        "closed-before-finish",
        "MUST",
        "everything is closed before RUN_FINISHED (the client rejects it otherwise)",
        not finished_open,
        ", ".join(finished_open[:5]),
    )
    c.item(
        "tool-call-args",
        "SHOULD",
        "every tool call sends TOOL_CALL_ARGS before TOOL_CALL_END",
        not no_args,
        ", ".join(no_args[:5]),
    )
    c.item(
        "reasoning-events",
        "SHOULD",
        "reasoning uses REASONING_* (1.0 removed THINKING_*)",
        not thinking,
        "; ".join(thinking[:3]),
    )
    bad_patches: list[str] = []
    failed_patches: list[str] = []
    state: Any = {}
    for index, frame, value in events:
        if value["type"] == "STATE_SNAPSHOT":
            state = json.loads(json.dumps(value.get("snapshot")))
        elif value["type"] == "STATE_DELTA":
            delta = value.get("delta")
            problem = _patch_shape_problem(delta)
            if problem is not None:
                bad_patches.append(f"{_where(index, frame)}: {problem}")
                continue
            try:
                state = apply_patch(json.loads(json.dumps(state)), delta)
            except PatchError as exc:
                failed_patches.append(f"{_where(index, frame)}: {exc}")
    c.item(
        "json-patch",
        "MUST",
        "STATE_DELTA carries RFC 6902 JSON Patch operations with RFC 6901 pointers",
        not bad_patches,
        "; ".join(bad_patches[:3]),
    )
    c.item(
        "json-patch-applies",
        "MUST",
        "each STATE_DELTA applies to the state so far (snapshots, else {}) as fast-json-patch "
        "would (a patch that does not apply is dropped by the client)",
        not failed_patches,
        "; ".join(failed_patches[:3]),
    )


_PROTOCOL_CHECKS: dict[str, Callable[[Exchange, Checker], None]] = {
    "data-stream": _check_data_stream,
    "assistant-transport": _check_assistant_transport,
    "openai": _check_openai,
    "rais": _check_rais,
    "ag-ui": _check_ag_ui,
    "ui-message-stream": _check_ui_message_stream,
}


# -- extra requests --------------------------------------------------------------------------


def _check_bad_body(url: str, fmt: str, c: Checker, client: httpx.Client) -> None:
    try:
        response = client.post(
            url, content=b'{"messages": ', headers={"Content-Type": "application/json"}
        )
    except httpx.HTTPError as exc:
        c.item(
            "rejects-bad-body", "SHOULD", "a malformed body gets a 4xx JSON error", False, str(exc)
        )
        return
    try:
        response.json()
        is_json = True
    except ValueError:
        is_json = False
    ok = 400 <= response.status_code < 500 and is_json
    c.item(
        "rejects-bad-body",
        "SHOULD",
        "a malformed body gets a 4xx JSON error before any stream starts",
        ok,
        f"HTTP {response.status_code} {response.headers.get('content-type', '')}".strip(),
    )


def _check_abort(
    url: str, fmt: str, body: Any, c: Checker, client: httpx.Client, limits: dict[str, Any]
) -> None:
    aborted = record(url, fmt, body, stop_after=1, client=client, **limits)
    follow = record(url, fmt, body, client=client, **limits)
    ok = (
        follow.status == 200
        and follow.ending() in ("done", "error")
        and follow.transport_error is None
    )
    how = (
        "closed the connection after the first frame"
        if aborted.aborted
        else "the whole stream arrived before the abort"
    )
    c.item(
        "client-abort",
        "SHOULD" if fmt != "rais" else "MUST",
        "after a client abort the server keeps serving (a new request streams normally)",
        ok,
        f"{how}; follow-up request: HTTP {follow.status}, ended {follow.ending()}"
        + (f" ({follow.transport_error})" if follow.transport_error else "")
        + ". Whether the run was cancelled is not visible from outside.",
    )


def _check_last_event_id(
    url: str, body: Any, ex: Exchange, c: Checker, client: httpx.Client, limits: dict[str, Any]
) -> None:
    last_id = ""
    for frame in ex.data_frames:
        for name, value in frame.fields:
            if name == "id":
                last_id = value
    resumed = record(
        url, "rais", body, headers={"Last-Event-ID": last_id or "1"}, client=client, **limits
    )
    replayed = len(resumed.text_frames)
    ok = resumed.status == 204 or (resumed.status == 200 and replayed == 0)
    c.item(
        "rais-last-event-id",
        "SHOULD",
        "a request with Last-Event-ID is resumed without re-sending tokens, or gets 204",
        ok,
        f"HTTP {resumed.status}" + (f", {replayed} text events re-sent" if replayed else ""),
    )


# -- running ---------------------------------------------------------------------------------


def run_checks(
    url: str, fmt: str | None, body: Any, *, timeout: float = 60.0, **limits: Any
) -> tuple[Exchange, Checker]:
    """Run every check of ``fmt`` (None: detected) against ``url``; the exchange and results."""
    c = Checker()
    headers = {"Origin": "http://check.invalid"}
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0)) as client:
        ex = record(url, fmt, body, headers=headers, client=client, **limits)
        if ex.status is None or not ex.format:
            return ex, c
        fmt = ex.format
        c.item(
            "status", "MUST", "the stream is answered 200", ex.status == 200, f"HTTP {ex.status}"
        )
        if ex.status != 200:
            return ex, c
        _check_headers(ex, c)
        _check_framing(ex, c)
        _check_json(ex, c)
        protocol_checks = _PROTOCOL_CHECKS.get(fmt)
        if protocol_checks is not None:
            protocol_checks(ex, c)
        _check_text_and_errors(ex, c)
        _check_keepalives(ex, c)
        _check_bad_body(url, fmt, c, client)
        _check_abort(url, fmt, body, c, client, limits)
        if fmt == "rais":
            _check_last_event_id(url, body, ex, c, client, limits)
    return ex, c


def run_check(
    url: str,
    fmt: str | None,
    body: Any,
    *,
    as_json: bool = False,
    timeout: float = 60.0,
    out: TextIO | None = None,
    **limits: Any,
) -> int:
    """Run ``check``; exit status 0 (no MUST failed), 1 (a MUST failed), 2 (no answer)."""
    out = out or sys.stdout
    ex, c = run_checks(url, fmt, body, timeout=timeout, **limits)
    if ex.status is None or not ex.format:
        if ex.status is None:
            message = f"could not reach {url}: {ex.transport_error}"
        else:
            message = f"{url}: {ex.detect_error}"
        if as_json:
            print(json.dumps({"url": url, "format": fmt, "error": message}), file=out)
        else:
            print(message, file=out)
        return 2
    counts = {
        status: sum(1 for r in c.results if r.status == status)
        for status in ("pass", "warn", "fail")
    }
    fmt = ex.format
    if as_json:
        report = {
            "url": url,
            "format": fmt,
            "ok": not c.failed,
            "counts": counts,
            "results": [asdict(result) for result in c.results],
        }
        print(json.dumps(report, indent=2, ensure_ascii=False), file=out)
    else:
        print(f"check {url}  ({fmt})", file=out)
        marks = {"pass": "pass", "warn": "WARN", "fail": "FAIL"}
        for result in c.results:
            line = f"  {result.level:<6} {marks[result.status]:<4}  {result.id:<22} {result.title}"
            print(line, file=out)
            if result.detail and result.status != "pass":
                print(f"  {'':<6} {'':<4}  {'':<22} ↳ {result.detail}", file=out)
        print(
            f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed", file=out
        )
    return 1 if c.failed else 0
