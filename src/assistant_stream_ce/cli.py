"""Command line: ``assistant-stream-ce demo | inspect | check``."""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from .serialization import PROTOCOLS

_DEMO_HELP = """\
Serves a chat page on http://HOST:PORT/ and one streaming endpoint per registered protocol:
POST /api/chat/<protocol> (GET /api/formats lists them) with
{"messages": [{"role": "user", "content": "..."}]}. GET /api/runs/last and /api/stats report
recent runs (frames, text deltas, completed / cancelled / failed).

By default the built-in offline model answers (no key, no network). --provider openai or
anthropic uses a real model with the key from OPENAI_API_KEY / ANTHROPIC_API_KEY.

exit status: 0 after a clean shutdown; 2 when the server cannot start (missing uvicorn or
API key)."""

_INSPECT_HELP = """\
Prints a live timeline while the stream runs (seconds since the request, frame type, size),
then a summary (time to headers, first byte and first token, frames, keepalives, bytes,
tokens per second, how it ended) and the message the frames add up to.

definitions: a frame is one SSE event carrying data ("[DONE]" included) or one non-blank
data-stream line; keepalives (SSE comment blocks, blank data-stream lines) are counted
apart; tokens are the frames that carry assistant text (text deltas).

--json prints one report object instead: url, format, status, content_type, headers_ms,
first_byte_ms, first_token_ms, duration_ms, frames, keepalives, bytes, tokens,
tokens_per_second, ended ("done" | "error" | "cut-off"), error, frame_types, message.

exit status: 0 the stream ended normally; 1 it ended with an error or was cut off;
2 no stream (connection failed, or a non-200 answer)."""

_CHECK_HELP = """\
Checks one endpoint against its protocol: headers and content type, framing (line endings,
'data: ' lines, one line per event, no 'event:'/'id:' where clients choke on them), valid
JSON, frame shapes, lifecycle order, termination, nothing after the end, keepalives, a 4xx
JSON answer to a malformed body, and a client abort mid-stream. For rais it covers the RAIS v1
compliance checklist (MUST/SHOULD headers, reserved types, a single terminal event, event ids
and Last-Event-ID, safe error text).

Each item prints as: LEVEL (MUST | SHOULD)  STATUS (pass | WARN | FAIL)  id  description,
with the reason under anything not passed. A SHOULD that is not met is a warning; a MUST
that is not met is a failure. --json prints {url, format, ok, counts, results: [{id, level,
status, title, detail}]}.

exit status: 0 no MUST failed; 1 at least one MUST failed; 2 the endpoint could not be
reached."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant-stream-ce",
        description="Stream an AI assistant's work to any frontend protocol: demo and tools.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    demo = commands.add_parser(
        "demo", help="run the demo chat server", description=_DEMO_HELP, formatter_class=raw
    )
    demo.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    demo.add_argument(
        "--provider",
        choices=("offline", "openai", "anthropic"),
        default="offline",
        help="who answers (default: the offline model)",
    )
    demo.add_argument("--model", help="model name for openai/anthropic")
    demo.add_argument("--base-url", help="API base URL (OpenAI-compatible servers)")
    demo.add_argument("--pace", type=float, help="offline model: seconds between streamed pieces")

    for name, summary, text in (
        ("inspect", "watch a streaming endpoint frame by frame", _INSPECT_HELP),
        ("check", "check an endpoint's conformance to its protocol", _CHECK_HELP),
    ):
        command = commands.add_parser(name, help=summary, description=text, formatter_class=raw)
        command.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8000/api/chat/rais")
        command.add_argument(
            "--format",
            "-f",
            choices=list(PROTOCOLS),
            help="the protocol it speaks (default: detected from the response)",
        )
        command.add_argument(
            "--data",
            "-d",
            help='request body as JSON (default: {"messages": [{"role": "user", "content": '
            '"Hello!"}]})',
        )
        command.add_argument("--json", action="store_true", help="print a JSON report")
        command.add_argument(
            "--timeout",
            type=_seconds,
            default=60.0,
            help="seconds to wait for each read of the stream (60)",
        )
        command.add_argument(
            "--max-time",
            type=_seconds,
            default=300.0,
            help="seconds the whole stream may take before reading stops (300)",
        )
        command.add_argument(
            "--max-bytes",
            type=_byte_count,
            default=64 * 1024 * 1024,
            help="body bytes read before reading stops (64 MiB)",
        )
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _byte_count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {text!r}")
    return int(text)


def _body(data: str | None) -> Any:
    from .serialization.decoding import Malformed, loads
    from .tools._fetch import DEFAULT_BODY

    if data is None:
        return DEFAULT_BODY
    try:
        return loads(data)
    except Malformed as exc:
        raise ValueError(exc.detail) from None


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class _SafeText:
    """A text stream that never lets server-controlled text drive the terminal: control
    characters (escape sequences included) are written as ``\\uXXXX`` (valid in JSON too)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))

    def flush(self) -> None:
        self.stream.flush()


def _demo(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .demo import DemoConfig, create_app
    except ImportError:
        print(
            'the demo needs the server extra: pip install "assistant-stream-ce[server]"',
            file=sys.stderr,
        )
        return 2
    from .errors import ProviderConfigError
    from .providers import check_provider

    try:
        check_provider(args.provider)  # the key comes from the environment
    except ProviderConfigError as exc:
        print(f"cannot start the demo with --provider {args.provider}: {exc}", file=sys.stderr)
        return 2
    config = DemoConfig(
        provider=args.provider, model=args.model, base_url=args.base_url, pace=args.pace
    )
    # The demo's own log lines (runs completed, cancelled, failed) next to uvicorn's.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    library_logger = logging.getLogger("assistant_stream_ce")
    library_logger.addHandler(handler)
    library_logger.setLevel(logging.INFO)
    print(f"assistant-stream-ce demo on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant-stream-ce`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    try:
        body = _body(args.data)
    except ValueError as exc:
        parser.error(f"--data is not valid JSON: {exc}")
    out: Any = _SafeText(sys.stdout)
    options: dict[str, Any] = {
        "as_json": args.json,
        "timeout": args.timeout,
        "out": out,
        "max_time": args.max_time,
        "max_bytes": args.max_bytes,
    }
    try:
        if args.command == "inspect":
            from .tools.inspect import run_inspect

            return run_inspect(args.url, args.format, body, **options)
        from .tools.check import run_check

        return run_check(args.url, args.format, body, **options)
    except ImportError as exc:
        print(f"this command needs httpx: pip install httpx ({exc})", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
