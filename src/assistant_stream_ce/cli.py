"""Command line: ``assistant-stream-ce demo``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant-stream-ce`` command."""
    parser = argparse.ArgumentParser(prog="assistant-stream-ce")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the example chat server (offline, no API key)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.command == "demo":
        try:
            import uvicorn
        except ImportError:
            print(
                'the demo needs uvicorn: pip install "assistant-stream-ce[server]"', file=sys.stderr
            )
            return 2
        from ._demo_app import create_app

        print(f"assistant-stream-ce demo on http://{args.host}:{args.port}/", flush=True)
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
