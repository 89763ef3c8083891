"""``assistant-stream-ce inspect``: watch a streaming endpoint frame by frame.

Prints a live timeline (time since the request, frame type, size) while the stream runs, then a
summary and the message the frames add up to. ``--json`` prints one machine-readable report
instead. Definitions: a *frame* is one SSE event carrying data (``[DONE]`` included) or one
non-blank data-stream line; *keepalives* (SSE comment blocks, blank data-stream lines) are
counted apart; *tokens* are the frames carrying assistant text (text deltas).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from ._fetch import Exchange, accumulated_message, record
from ._wire import Frame

__all__ = ["inspect_report", "run_inspect"]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def inspect_report(exchange: Exchange) -> dict[str, Any]:
    """The ``--json`` report of one exchange."""
    text_frames = exchange.text_frames
    first_token = text_frames[0].at if text_frames else None
    tokens = len(text_frames)
    rate = None
    if tokens > 1 and first_token is not None:
        span = text_frames[-1].at - first_token
        rate = round((tokens - 1) / span, 1) if span > 0 else None
    types: dict[str, int] = {}
    for frame in exchange.data_frames:
        types[frame.type] = types.get(frame.type, 0) + 1
    errors = [frame.error for frame in exchange.data_frames if frame.error is not None]
    return {
        "url": exchange.url,
        "format": exchange.format,
        "status": exchange.status,
        "content_type": exchange.headers.get("content-type"),
        "headers_ms": _ms(exchange.headers_at),
        "first_byte_ms": _ms(exchange.first_byte_at),
        "first_token_ms": _ms(first_token),
        "duration_ms": _ms(exchange.ended_at),
        "frames": len(exchange.data_frames),
        "keepalives": len(exchange.keepalives),
        "bytes": len(exchange.body),
        "tokens": tokens,
        "tokens_per_second": rate,
        "ended": exchange.ending(),
        "error": errors[0] if errors else exchange.transport_error,
        "frame_types": types,
        "message": accumulated_message(exchange) if exchange.status == 200 else None,
        "response_body": None
        if exchange.status == 200
        else exchange.body.decode("utf-8", "replace")[:2000],
    }


def _timeline_line(frame: Frame) -> str:
    kind = "keepalive" if frame.keepalive else frame.type
    extra = ""
    if frame.text:
        extra = "  " + json.dumps(frame.text, ensure_ascii=False)[:48]
    elif frame.error is not None:
        extra = "  " + json.dumps(frame.error, ensure_ascii=False)[:60]
    elif not frame.terminated:
        extra = "  (unterminated)"
    return f"  {frame.at:8.3f}s  {kind:<28} {frame.size:>6} B{extra}"


def run_inspect(
    url: str,
    format_name: str | None,
    body: Any,
    *,
    as_json: bool = False,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
    out: TextIO | None = None,
    **limits: Any,
) -> int:
    """Run ``inspect``; return the exit status (0 done, 1 error or cut off, 2 not a stream).

    ``limits``: ``max_time`` and ``max_bytes`` for the whole exchange (see `record`).
    """
    out = out or sys.stdout
    if not as_json:
        print(
            f"POST {url}  ({format_name or 'protocol detected from the response'})",
            file=out,
            flush=True,
        )

    def show(frame: Frame) -> None:
        print(_timeline_line(frame), file=out, flush=True)

    exchange = record(
        url,
        format_name,
        body,
        headers=headers,
        timeout=timeout,
        on_frame=None if as_json else show,
        **limits,
    )
    if exchange.status is not None and not exchange.format:
        if as_json:
            print(json.dumps({"url": url, "error": exchange.detect_error}), file=out)
        else:
            print(exchange.detect_error, file=out)
        return 2
    report = inspect_report(exchange)
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False), file=out)
    else:
        _print_summary(report, out)
    if exchange.status != 200:
        return 2
    return 0 if report["ended"] == "done" else 1


def _print_summary(report: dict[str, Any], out: TextIO) -> None:
    def fmt_ms(value: float | None) -> str:
        return "—" if value is None else f"{value:,.1f} ms"

    rate = report["tokens_per_second"]
    rows = [
        ("status", f"{report['status']}  {report['content_type'] or ''}".strip()),
        ("headers", fmt_ms(report["headers_ms"])),
        ("first byte", fmt_ms(report["first_byte_ms"])),
        ("first token", fmt_ms(report["first_token_ms"])),
        ("duration", fmt_ms(report["duration_ms"])),
        ("frames", f"{report['frames']} (+{report['keepalives']} keepalives)"),
        ("bytes", f"{report['bytes']:,}"),
        ("tokens", f"{report['tokens']}" + (f"  ({rate}/s)" if rate else "")),
        ("ended", report["ended"] + (f": {report['error']}" if report["error"] else "")),
    ]
    print("── summary", file=out)
    for name, value in rows:
        print(f"  {name:<12} {value}", file=out)
    if report["message"] is not None:
        print("── message", file=out)
        print(json.dumps(report["message"], indent=2, ensure_ascii=False), file=out)
    elif report["response_body"]:
        print("── response body", file=out)
        print(report["response_body"], file=out)
